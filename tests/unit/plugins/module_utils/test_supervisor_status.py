# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for supervisor_status: `supervisorctl status` parsing and the wait for RUNNING (fake clock)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.webops.tornado.plugins.module_utils import supervisor_status as ss

PY = '/srv/demo/current/venv/bin/python'
LAUNCHER = '/srv/demo/launcher/webops_tornado_launcher.py --config /etc/tornado/demo/launcher.json'

# `supervisorctl status demo:*` as supervisor 4.2 prints it: the name padded to the longest name + 3,
# the state to 10 characters, then the description (empty while STARTING: trailing blanks).
STATUS = '\n'.join([
    'demo:demo-8000                    RUNNING   pid 4242, uptime 0:00:07',
    'demo:demo-8001                    STARTING  ',
    'demo:demo-8002                    BACKOFF   Exited too quickly (process log may have details)',
    'demo:demo-8003                    FATAL     Exited too quickly (process log may have details)',
    'demo:demo-8004                    EXITED    Dec 01 11:42 PM',
    'demo:demo-8005                    STOPPED   Not started',
    'demo:demo-8006                    STOPPING  ',
    'demo:demo-8007                    FATAL     can\'t find command \'/srv/demo/current/venv/bin/pyhton\'',
    'demo:demo-8008                    RUNNING   pid 4250, uptime 1 day, 2:03:04',
    'demo2:demo2-9000                  RUNNING   pid 5000, uptime 0:10:00',
    'other:demo-8000                   FATAL     Exited too quickly (process log may have details)',
    'demo                              RUNNING   pid 6000, uptime 0:00:01',
]) + '\n'


def test_parse_status_of_every_state():
    assert ss.parse_status(STATUS, 'demo') == {
        'demo-8000': ('RUNNING', 4242, 'pid 4242, uptime 0:00:07'),
        'demo-8001': ('STARTING', None, ''),
        'demo-8002': ('BACKOFF', None, 'Exited too quickly (process log may have details)'),
        'demo-8003': ('FATAL', None, 'Exited too quickly (process log may have details)'),
        'demo-8004': ('EXITED', None, 'Dec 01 11:42 PM'),
        'demo-8005': ('STOPPED', None, 'Not started'),
        'demo-8006': ('STOPPING', None, ''),
        'demo-8007': ('FATAL', None, "can't find command '/srv/demo/current/venv/bin/pyhton'"),
        'demo-8008': ('RUNNING', 4250, 'pid 4250, uptime 1 day, 2:03:04'),
    }


def test_parse_status_only_takes_the_group_asked_for():
    assert ss.parse_status(STATUS, 'demo2') == {'demo2-9000': ('RUNNING', 5000, 'pid 5000, uptime 0:10:00')}
    assert list(ss.parse_status(STATUS, 'other')) == ['demo-8000']
    assert ss.parse_status(STATUS, 'dem') == {}


def test_parse_status_names_with_dots_and_dashes():
    text = ('my.app-v2:my.app-v2-8000            RUNNING   pid 31, uptime 0:00:03\n'
            'my.app-v2:my.app-v2-8001            BACKOFF   Exited too quickly (process log may have details)\n'
            'my-app-v2:my-app-v2-8000            RUNNING   pid 32, uptime 0:00:03\n'
            'myXapp-v2:myXapp-v2-8000            RUNNING   pid 33, uptime 0:00:03\n')
    assert ss.parse_status(text, 'my.app-v2') == {
        'my.app-v2-8000': ('RUNNING', 31, 'pid 31, uptime 0:00:03'),
        'my.app-v2-8001': ('BACKOFF', None, 'Exited too quickly (process log may have details)'),
    }


def test_parse_status_ignores_noise_and_errors():
    text = ('\n   \nunix:///var/run/supervisor.sock no such file\n'
            'error: <class \'ConnectionRefusedError\'>, [Errno 111] Connection refused: file: /usr/lib/python3/x.py\n')
    assert ss.parse_status(text, 'demo') == {}


def test_parse_status_of_a_group_supervisord_does_not_know():
    # What `supervisorctl status nosuch:*` prints: no program of the group is found.
    parsed = ss.parse_status('nosuch: ERROR (no such group)\n', 'nosuch')
    assert 'nosuch-8000' not in parsed


def test_parse_status_long_names_without_padding():
    name = 'a' * 40
    text = '%s:%s-8000   RUNNING   pid 7, uptime 0:00:01\n' % (name, name)
    assert ss.parse_status(text, name) == {name + '-8000': ('RUNNING', 7, 'pid 7, uptime 0:00:01')}


@pytest.mark.parametrize('command, argv', [
    ('%s %s --port 8000' % (PY, LAUNCHER), [PY] + LAUNCHER.split() + ['--port', '8000']),
    ('/usr/bin/env NAME="my app" %s -m demo --title \'it\'"\'"\'s\'' % PY,
     ['/usr/bin/env', 'NAME=my app', PY, '-m', 'demo', '--title', "it's"]),
    ('serve --format "%(asctime)s %(message)s" --sep \\;', ['serve', '--format', '%(asctime)s %(message)s', '--sep', ';']),
    ('serve --prefix ""', ['serve', '--prefix', '']),
])
def test_expected_argv_splits_like_supervisord(command, argv):
    assert ss.expected_argv(command) == argv


# --- check_once ---------------------------------------------------------------------------------------

PROGRAMS = [{'name': 'demo-8000', 'command': '%s %s --port 8000' % (PY, LAUNCHER)},
            {'name': 'demo-8001', 'command': '%s %s --port 8001' % (PY, LAUNCHER)}]
CMDLINES = {4242: ss.expected_argv(PROGRAMS[0]['command']), 4243: ss.expected_argv(PROGRAMS[1]['command'])}


def running(pid):
    return ('RUNNING', pid, 'pid %d, uptime 0:00:02' % pid)


def test_check_once_done_when_every_program_runs_its_command():
    status = {'demo-8000': running(4242), 'demo-8001': running(4243)}
    assert ss.check_once(status, PROGRAMS, CMDLINES.get) == (True, [])


@pytest.mark.parametrize('state', ['STARTING', 'BACKOFF', 'STOPPING', 'EXITED', 'STOPPED', 'UNKNOWN'])
def test_check_once_waits_for_states_supervisord_leaves_by_itself(state):
    status = {'demo-8000': running(4242), 'demo-8001': (state, None, '')}
    assert ss.check_once(status, PROGRAMS, CMDLINES.get) == (False, [])


@pytest.mark.parametrize('state, rest', [
    ('FATAL', 'Exited too quickly (process log may have details)'),
])
def test_check_once_fails_for_good_on_final_states(state, rest):
    status = {'demo-8000': running(4242), 'demo-8001': (state, None, rest)}
    done, problems = ss.check_once(status, PROGRAMS, CMDLINES.get)
    assert not done and problems == ['demo-8001 is %s %s' % (state, rest)]


def test_check_once_waits_for_a_program_missing_from_supervisord():
    done, problems = ss.check_once({'demo-8000': running(4242)}, PROGRAMS, CMDLINES.get)
    assert not done and problems == []


def test_check_once_old_command_line_is_a_problem():
    old = ss.expected_argv(PROGRAMS[1]['command'].replace('--port 8001', '--port 8001 --old'))
    status = {'demo-8000': running(4242), 'demo-8001': running(4243)}
    done, problems = ss.check_once(status, PROGRAMS, {4242: CMDLINES[4242], 4243: old}.get)
    assert not done
    assert problems == ["demo-8001 runs %r, not the configured %r" % (' '.join(old), ' '.join(CMDLINES[4243]))]


def test_check_once_quoted_words_compare_as_words():
    program = {'name': 'demo-8000', 'command': 'serve --name "my app" --port 8000'}
    cmdlines = {1: ['serve', '--name', 'my app', '--port', '8000'], 2: ['serve', '--name', 'my', 'app', '--port', '8000']}
    assert ss.check_once({'demo-8000': running(1)}, [program], cmdlines.get) == (True, [])
    done, problems = ss.check_once({'demo-8000': running(2)}, [program], cmdlines.get)
    assert not done and len(problems) == 1


def test_check_once_unreadable_command_line_is_trusted():
    # /proc/PID/cmdline of another user may be unreadable: the RUNNING state is all there is.
    status = {'demo-8000': running(4242), 'demo-8001': running(4243)}
    assert ss.check_once(status, PROGRAMS, lambda pid: None) == (True, [])


def test_check_once_running_without_pid_is_not_done():
    status = {'demo-8000': running(4242), 'demo-8001': ('RUNNING', None, '')}
    assert ss.check_once(status, PROGRAMS, CMDLINES.get) == (False, [])


def test_check_once_reports_every_failed_program():
    status = {'demo-8000': ('FATAL', None, 'x'), 'demo-8001': ('FATAL', None, 'y')}
    assert ss.check_once(status, PROGRAMS, CMDLINES.get) == (False, ['demo-8000 is FATAL x', 'demo-8001 is FATAL y'])


# --- wait_running with a fake clock ----------------------------------------------------------------

class FakeClock(object):
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class Script(object):
    """`supervisorctl status` answers, one per call; the last one repeats."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def wait(script, clock, timeout=30, cmdlines=CMDLINES.get):
    return ss.wait_running(PROGRAMS, script, cmdlines, timeout, interval=0.5, clock=clock, sleep=clock.sleep)


def test_wait_running_at_once():
    clock = FakeClock()
    status = {'demo-8000': running(4242), 'demo-8001': running(4243)}
    assert wait(Script(status), clock) == (True, [], status)
    assert clock.sleeps == []


def test_wait_running_through_starting_and_backoff():
    clock = FakeClock()
    script = Script({'demo-8000': ('STARTING', None, ''), 'demo-8001': ('STARTING', None, '')},
                    {'demo-8000': running(4242), 'demo-8001': ('BACKOFF', None, 'Exited too quickly')},
                    {'demo-8000': running(4242), 'demo-8001': ('STARTING', None, '')},
                    {'demo-8000': running(4242), 'demo-8001': running(4243)})
    ok, problems, status = wait(script, clock)
    assert ok and problems == [] and status['demo-8001'] == running(4243)
    assert script.calls == 4 and clock.sleeps == [0.5, 0.5, 0.5]


def test_wait_running_stops_early_on_fatal():
    clock = FakeClock()
    script = Script({'demo-8000': ('STARTING', None, ''), 'demo-8001': ('BACKOFF', None, 'Exited too quickly')},
                    {'demo-8000': running(4242), 'demo-8001': ('FATAL', None, 'Exited too quickly')})
    ok, problems, status = wait(script, clock)
    assert not ok and problems == ['demo-8001 is FATAL Exited too quickly']
    assert status['demo-8001'][0] == 'FATAL'
    assert script.calls == 2 and clock.now == 100.5


def test_wait_running_stops_early_on_a_wrong_command_line():
    clock = FakeClock()
    status = {'demo-8000': running(4242), 'demo-8001': running(4243)}
    ok, problems, _status = wait(Script(status), clock, cmdlines={4242: CMDLINES[4242], 4243: ['old']}.get)
    assert not ok and problems[0].startswith("demo-8001 runs 'old'") and clock.sleeps == []


def test_wait_running_times_out_naming_what_is_not_running():
    clock = FakeClock()
    script = Script({'demo-8000': running(4242), 'demo-8001': ('BACKOFF', None, 'Exited too quickly')})
    ok, problems, status = wait(script, clock, timeout=3)
    assert not ok
    assert problems == ['not every program was RUNNING after 3s', 'demo-8001 is BACKOFF Exited too quickly']
    assert status['demo-8001'][0] == 'BACKOFF'
    assert clock.now >= 103 and clock.now - 0.5 < 103
    assert script.calls == len(clock.sleeps) + 1 == 7


def test_wait_running_times_out_on_a_running_program_without_pid():
    clock = FakeClock()
    script = Script({'demo-8000': running(4242), 'demo-8001': ('RUNNING', None, '')})
    ok, problems, _status = wait(script, clock, timeout=1)
    assert not ok and problems == ['not every program was RUNNING after 1s']


def test_wait_running_zero_timeout_polls_once():
    clock = FakeClock()
    script = Script({'demo-8000': ('STARTING', None, ''), 'demo-8001': ('STARTING', None, '')})
    ok, problems, _status = wait(script, clock, timeout=0)
    assert not ok and script.calls == 1 and clock.sleeps == []
    assert problems == ['not every program was RUNNING after 0s', 'demo-8000 is STARTING ', 'demo-8001 is STARTING ']


def test_wait_running_group_gone_fails_when_the_time_is_up():
    clock = FakeClock()
    ok, problems, status = wait(Script({}), clock, timeout=2)
    assert not ok and status == {}
    assert problems == ['not every program was RUNNING after 2s', 'demo-8000 is MISSING ', 'demo-8001 is MISSING ']


# A command entry: supervisord runs the launcher, which executes the app's own command (expect_argv).
COMMAND = [{'name': 'cmd-8000', 'command': '%s %s --port 8000' % (PY, LAUNCHER),
            'expect_argv': ['/srv/cmd/current/venv/bin/python', 'server.py', '--port', '8000']}]


def test_wait_running_waits_for_the_launcher_to_execute_the_command():
    # RUNNING once startsecs passed, which a loaded host may reach before the launcher's exec: wait, then done.
    clock = FakeClock()
    launcher = ss.expected_argv(COMMAND[0]['command'])
    cmdlines = iter([launcher, launcher, COMMAND[0]['expect_argv']])
    ok, problems, _status = ss.wait_running(COMMAND, Script({'cmd-8000': running(7)}), lambda pid: next(cmdlines), 30,
                                            interval=0.5, clock=clock, sleep=clock.sleep)
    assert (ok, problems, clock.sleeps) == (True, [], [0.5, 0.5])


def test_wait_running_names_a_launcher_that_never_executes_the_command():
    clock = FakeClock()
    launcher = ss.expected_argv(COMMAND[0]['command'])
    ok, problems, _status = ss.wait_running(COMMAND, Script({'cmd-8000': running(7)}), lambda pid: launcher, 2,
                                            interval=0.5, clock=clock, sleep=clock.sleep)
    assert not ok and problems == ["cmd-8000 runs %r, not the configured %r"
                                   % (' '.join(launcher), ' '.join(COMMAND[0]['expect_argv']))]
    assert clock.now >= 102


def test_wait_running_another_command_than_launcher_or_app_fails_at_once():
    clock = FakeClock()
    ok, problems, _status = ss.wait_running(COMMAND, Script({'cmd-8000': running(7)}), lambda pid: ['old'], 30,
                                            interval=0.5, clock=clock, sleep=clock.sleep)
    assert not ok and problems[0].startswith("cmd-8000 runs 'old'") and clock.sleeps == []


@pytest.mark.parametrize('empty', [[''], []])
def test_check_once_waits_while_a_process_has_no_command_line(empty):
    # Inside execve (a launcher becoming the app), or exited and not reaped yet: /proc/PID/cmdline is empty.
    status = {'demo-8000': running(4242), 'demo-8001': running(4243)}
    cmdlines = {4242: CMDLINES[4242], 4243: empty}.get
    assert ss.check_once(status, PROGRAMS, cmdlines) == (False, [])
    done, problems = ss.check_once(status, PROGRAMS, cmdlines, final=True)
    assert not done and problems == ["demo-8001 runs '', not the configured %r" % ' '.join(CMDLINES[4243])]


def test_wait_running_looks_again_at_a_process_without_a_command_line():
    clock = FakeClock()
    status = {'demo-8000': running(4242), 'demo-8001': running(4243)}
    seen = []

    def cmdlines(pid):
        # The first look at 4243 finds it between two programs, the next one running its command.
        seen.append(pid)
        return [''] if seen.count(4243) == 1 and pid == 4243 else CMDLINES[pid]

    assert wait(Script(status), clock, cmdlines=cmdlines) == (True, [], status)
    assert clock.sleeps == [0.5]
