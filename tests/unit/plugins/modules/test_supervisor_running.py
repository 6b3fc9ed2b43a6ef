# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the supervisor_running module: fake supervisorctl, fake /proc/PID/cmdline, fake clock."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import io
import json
import subprocess
import sys

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.webops.tornado.plugins.module_utils import supervisor_status
from ansible_collections.webops.tornado.plugins.modules import supervisor_running as mod

PY = '/srv/demo/current/venv/bin/python'
COMMAND = PY + ' /srv/demo/launcher/webops_tornado_launcher.py --config /etc/tornado/demo/launcher.json --port %d'
PROGRAMS = [{'name': 'demo-8000', 'command': COMMAND % 8000, 'directory': '/srv/demo/current/src', 'port': 8000},
            {'name': 'demo-8001', 'command': COMMAND % 8001, 'directory': '/srv/demo/current/src', 'port': 8001}]


def line(name, state, rest=''):
    return '%-34s%-10s%s' % (name, state, rest)


class FakeClock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeHost(object):
    """supervisorctl answering from a script of status outputs, and /proc/PID/cmdline files."""

    def __init__(self, statuses, cmdlines, logs=None):
        self.statuses = list(statuses)
        self.cmdlines = cmdlines
        self.logs = logs or {}
        self.calls = []

    def run_command(self, argv, **_kwargs):
        self.calls.append(list(argv))
        if argv[:2] == ['supervisorctl', 'status']:
            text = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return 3, text, ''
        if argv[:2] == ['supervisorctl', 'tail']:
            return 0, self.logs.get(argv[3], '') + '\n', ''
        raise AssertionError('unexpected command %r' % (argv,))

    def open(self, path, mode='r', *_args, **_kwargs):
        assert mode == 'rb', mode
        pid = int(path.split('/')[2])
        assert path == '/proc/%d/cmdline' % pid
        if pid not in self.cmdlines:
            raise IOError(2, 'No such file or directory', path)
        return io.BytesIO(self.cmdlines[pid])


def cmdline(argv):
    return b''.join(word.encode('utf-8') + b'\0' for word in argv)


def run(monkeypatch, capsys, fake, args):
    clock = FakeClock()
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda _module, argv, **kwargs: fake.run_command(argv, **kwargs))
    monkeypatch.setattr(mod, 'open', fake.open, raising=False)
    monkeypatch.setattr(mod.supervisor_status, 'wait_running',
                        functools.partial(supervisor_status.wait_running, clock=clock, sleep=clock.sleep))
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            mod.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out), clock


def running_text(*pids):
    return '\n'.join(line('demo:demo-%d' % (8000 + i), 'RUNNING', 'pid %d, uptime 0:00:03' % pid)
                     for i, pid in enumerate(pids)) + '\n'


def test_every_program_running_as_configured(monkeypatch, capsys):
    fake = FakeHost([running_text(41, 42)], {41: cmdline(mod_argv(8000)), 42: cmdline(mod_argv(8001))})
    rc, result, _clock = run(monkeypatch, capsys, fake, {'group': 'demo', 'programs': PROGRAMS})
    assert rc == 0 and result['changed'] is False
    assert result['status'] == {'demo-8000': 'RUNNING', 'demo-8001': 'RUNNING'}
    assert fake.calls == [['supervisorctl', 'status', 'demo:*']]


def mod_argv(port):
    return supervisor_status.expected_argv(COMMAND % port)


def test_waits_through_starting(monkeypatch, capsys):
    starting = line('demo:demo-8000', 'STARTING') + '\n' + line('demo:demo-8001', 'STARTING') + '\n'
    fake = FakeHost([starting, starting, running_text(41, 42)], {41: cmdline(mod_argv(8000)), 42: cmdline(mod_argv(8001))})
    rc, result, clock = run(monkeypatch, capsys, fake, {'group': 'demo', 'programs': PROGRAMS})
    assert rc == 0 and result['status'] == {'demo-8000': 'RUNNING', 'demo-8001': 'RUNNING'}
    assert len(fake.calls) == 3 and clock.now == 1.0


def test_fatal_program_fails_with_its_log(monkeypatch, capsys):
    text = (line('demo:demo-8000', 'RUNNING', 'pid 41, uptime 0:00:03') + '\n'
            + line('demo:demo-8001', 'FATAL', 'Exited too quickly (process log may have details)') + '\n')
    logs = {'demo:demo-8001': 'Traceback (most recent call last):\nOSError: [Errno 98] Address already in use'}
    fake = FakeHost([text], {41: cmdline(mod_argv(8000))}, logs)
    rc, result, clock = run(monkeypatch, capsys, fake, {'group': 'demo', 'programs': PROGRAMS, 'log_lines': 300})
    assert rc == 1 and result['failed'] is True
    assert result['problems'] == ['demo-8001 is FATAL Exited too quickly (process log may have details)']
    assert result['status'] == {'demo-8000': 'RUNNING', 'demo-8001': 'FATAL'}
    assert result['msg'].startswith('supervisord does not run group demo as configured: demo-8001 is FATAL')
    assert '--- demo:demo-8001 log ---\nTraceback' in result['msg'] and 'Address already in use' in result['msg']
    assert '--- demo:demo-8000 log' not in result['msg']
    assert ['supervisorctl', 'tail', '-300', 'demo:demo-8001'] in fake.calls
    assert clock.now == 0


def test_timeout_names_the_programs_and_tails_their_logs(monkeypatch, capsys):
    text = (line('demo:demo-8000', 'RUNNING', 'pid 41, uptime 0:00:03') + '\n'
            + line('demo:demo-8001', 'BACKOFF', 'Exited too quickly (process log may have details)') + '\n')
    fake = FakeHost([text], {41: cmdline(mod_argv(8000))}, {'demo:demo-8001': 'ImportError: no module named demo'})
    rc, result, clock = run(monkeypatch, capsys, fake, {'group': 'demo', 'programs': PROGRAMS, 'timeout': 2})
    assert rc == 1
    assert result['problems'][0] == 'not every program was RUNNING after 2.0s'
    assert result['problems'][1].startswith('demo-8001 is BACKOFF')
    assert 'ImportError' in result['msg']
    assert ['supervisorctl', 'tail', '-1500', 'demo:demo-8001'] in fake.calls
    assert clock.now >= 2


def test_old_command_line_fails(monkeypatch, capsys):
    fake = FakeHost([running_text(41, 42)], {41: cmdline(mod_argv(8000)), 42: cmdline(mod_argv(8001)[:-1] + ['8009'])})
    rc, result, _clock = run(monkeypatch, capsys, fake, {'group': 'demo', 'programs': PROGRAMS})
    assert rc == 1 and len(result['problems']) == 1 and result['problems'][0].startswith('demo-8001 runs ')
    assert result['problems'][0].endswith("--port 8009', not the configured '%s'" % (COMMAND % 8001))


def test_quoted_and_empty_words_match_the_process(monkeypatch, capsys):
    program = {'name': 'web', 'command': '/usr/bin/env NAME="my app" %s serve.py --prefix "" --title \'a "b"\'' % PY}
    argv = ['/usr/bin/env', 'NAME=my app', PY, 'serve.py', '--prefix', '', '--title', 'a "b"']
    fake = FakeHost([line('site:web', 'RUNNING', 'pid 77, uptime 0:00:01') + '\n'], {77: cmdline(argv)})
    rc, result, _clock = run(monkeypatch, capsys, fake, {'group': 'site', 'programs': [program]})
    assert rc == 0, result.get('msg')
    assert result['status'] == {'web': 'RUNNING'}


def test_unreadable_cmdline_is_not_a_problem(monkeypatch, capsys):
    fake = FakeHost([running_text(41, 42)], {})
    rc, result, _clock = run(monkeypatch, capsys, fake, {'group': 'demo', 'programs': PROGRAMS})
    assert rc == 0 and result['status'] == {'demo-8000': 'RUNNING', 'demo-8001': 'RUNNING'}


def test_missing_group(monkeypatch, capsys):
    fake = FakeHost(['demo: ERROR (no such group)\n'], {})
    rc, result, _clock = run(monkeypatch, capsys, fake, {'group': 'demo', 'programs': PROGRAMS})
    assert rc == 1
    assert result['problems'][0].startswith('not every program was RUNNING after')
    assert [p.split(' is ')[1].strip() for p in result['problems'][1:]] == ['MISSING', 'MISSING']


def test_check_mode_runs_nothing(monkeypatch, capsys):
    fake = FakeHost([''], {})
    rc, result, _clock = run(monkeypatch, capsys, fake,
                             {'group': 'demo', 'programs': PROGRAMS, '_ansible_check_mode': True})
    assert rc == 0 and result == {'changed': False, 'status': {}, 'invocation': result['invocation']}
    assert fake.calls == []


def test_program_without_command_is_refused(monkeypatch, capsys):
    fake = FakeHost([''], {})
    rc, result, _clock = run(monkeypatch, capsys, fake, {'group': 'demo', 'programs': [{'name': 'demo-8000'}]})
    assert rc == 1 and 'command' in result['msg'] and fake.calls == []


def test_real_process_with_an_empty_argument(monkeypatch, capsys):
    """The kernel's own /proc/PID/cmdline of a process started with an empty word."""
    code = 'import sys; print("ready", flush=True); sys.stdin.read()'
    child = subprocess.Popen([sys.executable, '-c', code, '', 'my app'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        # Running Python code: the exec is complete and the kernel has set the arguments (right after
        # fork and exec, as supervisord's STARTING, /proc/PID/cmdline may still be empty).
        assert child.stdout.readline() == b'ready\n'
        program = {'name': 'web', 'command': "%s -c '%s' '' 'my app'" % (sys.executable, code)}
        fake = FakeHost([line('site:web', 'RUNNING', 'pid %d, uptime 0:00:01' % child.pid) + '\n'], {})
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda _module, args, **kwargs: fake.run_command(args, **kwargs))
        with patch_module_args({'group': 'site', 'programs': [program], 'timeout': 5}):
            with pytest.raises(SystemExit) as exit_info:
                mod.main()
        result = json.loads(capsys.readouterr().out)
        assert exit_info.value.code == 0, result.get('msg')
    finally:
        child.communicate(b'')
