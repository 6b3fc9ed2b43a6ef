# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for supervisor_rpc: a real supervisord (the pinned supervisor package) with programs in every state,
asked the same things through supervisor_rpc and through the real supervisorctl; the answers must agree."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.webops.tornado.plugins.module_utils import supervisor_rpc
from ansible_collections.webops.tornado.plugins.modules import host_facts

pytest.importorskip('supervisor')

CONFIG = """\
[unix_http_server]
file={tmp}/supervisor.sock
chmod=0700

[supervisord]
logfile={tmp}/supervisord.log
pidfile={tmp}/supervisord.pid
childlogdir={tmp}
nodaemon=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{tmp}/supervisor.sock

[program:up]
command=sleep 600
startsecs=1
stopwaitsecs=2
process_name=%(program_name)s

[program:down]
command=sleep 600
autostart=false

[program:broken]
command=false
startsecs=1
startretries=0
autorestart=false

[program:quick]
command=sleep 0.2
startsecs=1
startretries=0
autorestart=false

[group:web]
programs=up,down,broken,quick

[program:solo]
command=sleep 600
startsecs=0
"""


def supervisorctl(config, args):
    done = subprocess.run([sys.executable, '-m', 'supervisor.supervisorctl', '-c', config] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return done.returncode, done.stdout, done.stderr


def words(out):
    """Each line as its words, minus what changes by the second (uptime, the exit time)."""
    return [line.split()[:2] if ' uptime ' in line or line.split()[1:2] in (['EXITED'], ['STOPPED']) else line.split()
            for line in out.splitlines()]


@pytest.fixture(scope='module')
def supervisord(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp('supervisord'))
    config = os.path.join(tmp, 'supervisord.conf')
    with open(config, 'w') as handle:
        handle.write(CONFIG.format(tmp=tmp))
    daemon = subprocess.Popen([sys.executable, '-m', 'supervisor.supervisord', '-c', config],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        rc, out, _err = supervisorctl(config, ['status', 'web:*'])
        states = dict(line.split()[:2] for line in out.splitlines() if line.strip())
        if states.get('web:up') == 'RUNNING' and states.get('web:broken') == 'FATAL':
            break
        time.sleep(0.2)
    else:
        daemon.kill()
        pytest.fail('supervisord did not start its programs: %s' % out)
    yield config, tmp
    daemon.terminate()
    daemon.wait(10)


def never_run(argv):
    raise AssertionError('supervisorctl was run: %r' % (argv,))


def test_socket_comes_from_supervisorctls_config(supervisord, tmp_path):
    config, tmp = supervisord
    assert supervisor_rpc.socket_path([str(tmp_path / 'absent.conf'), config]) == tmp + '/supervisor.sock'
    inet = tmp_path / 'inet.conf'
    inet.write_text('[supervisorctl]\nserverurl=http://127.0.0.1:9001\n')
    assert supervisor_rpc.socket_path([str(inet), config]) is None
    auth = tmp_path / 'auth.conf'
    auth.write_text('[supervisorctl]\nserverurl=unix:///run/supervisor.sock\nusername=admin\n')
    assert supervisor_rpc.socket_path([str(auth)]) is None
    assert supervisor_rpc.socket_path([str(tmp_path / 'absent.conf')]) is None


@pytest.mark.parametrize('args', [
    ['status', 'web:*'],        # RUNNING, STOPPED, FATAL and EXITED programs: exits 3
    ['status', 'nosuch:*'],     # no such group: exits 4
    ['stop', 'web:down'],       # not running: an error that exits 0
    ['start', 'web:up'],        # already started: an error that exits 0
    ['stop', 'web:nosuch'],     # no such process: exits 1
    ['start', 'web:nosuch'],
    ['start', 'web:broken'],    # exits at once: spawn error, exits 7
    ['start', 'web:quick'],     # exits before startsecs: exits 7 too
])
def test_answers_as_supervisorctl_does(supervisord, args):
    config, _tmp = supervisord
    ask = supervisor_rpc.runner(never_run, config_paths=[config])
    rc, out, err = ask(args)
    real_rc, real_out, real_err = supervisorctl(config, args)
    if args[1] == 'web:quick':
        # supervisord itself says "spawn error" or "abnormal termination" depending on when it saw the exit.
        dead = ('web:quick: ERROR (spawn error)', 'web:quick: ERROR (abnormal termination)')
        assert (rc, out.strip() in dead, err) == (real_rc, real_out.strip() in dead, real_err) == (7, True, '')
        return
    assert (rc, words(out), err.strip()) == (real_rc, words(real_out), real_err.strip())


def test_stop_then_start_a_running_program(supervisord):
    config, _tmp = supervisord
    ask = supervisor_rpc.runner(never_run, config_paths=[config])
    pid = int(ask(['status', 'web:*'])[1].split('pid ')[1].split(',')[0])
    assert ask(['stop', 'web:up']) == (0, 'web:up: stopped\n', '')
    assert words(ask(['status', 'web:*'])[1])[-1][:2] == ['web:up', 'STOPPED']
    with pytest.raises(OSError):
        os.kill(pid, 0)
    # A start waits for startsecs (1 s): a status asked from another thread meanwhile sees it STARTING.
    outcome = []
    starting = threading.Thread(target=lambda: outcome.append(ask(['start', 'web:up'])))
    starting.start()
    time.sleep(0.3)
    assert ['web:up', 'STARTING'] in words(ask(['status', 'web:*'])[1])
    starting.join(10)
    assert outcome == [(0, 'web:up: started\n', '')]
    assert ['web:up', 'RUNNING'] in words(ask(['status', 'web:*'])[1])


def test_runs_supervisorctl_for_anything_else_or_without_the_socket(supervisord, tmp_path):
    config, _tmp = supervisord
    calls = []

    def run_command(argv):
        calls.append(argv)
        return 0, 'from supervisorctl', ''

    ask = supervisor_rpc.runner(run_command, '/usr/bin/supervisorctl', config_paths=[config])
    assert ask(['tail', '-100', 'web:up']) == (0, 'from supervisorctl', '')
    assert ask(['update', 'web']) == (0, 'from supervisorctl', '')
    gone = tmp_path / 'gone.conf'
    gone.write_text('[supervisorctl]\nserverurl=unix://%s/gone.sock\n' % tmp_path)
    assert supervisor_rpc.runner(run_command, config_paths=[str(gone)])(['status', 'web:*']) == \
        (0, 'from supervisorctl', '')
    assert supervisor_rpc.runner(run_command, config_paths=[str(tmp_path / 'absent.conf')])(['stop', 'web:up']) == \
        (0, 'from supervisorctl', '')
    assert calls == [['/usr/bin/supervisorctl', 'tail', '-100', 'web:up'], ['/usr/bin/supervisorctl', 'update', 'web'],
                     ['supervisorctl', 'status', 'web:*'], ['supervisorctl', 'stop', 'web:up']]


def test_host_facts_names_the_groups_wholly_running(supervisord, tmp_path):
    config, _tmp = supervisord
    # web has a stopped and a failed program; solo (a program of no group is a group of its own) runs.
    assert host_facts.supervisor_groups_running([config]) == ['solo']
    gone = tmp_path / 'gone.conf'
    gone.write_text('[supervisorctl]\nserverurl=unix://%s/gone.sock\n' % tmp_path)
    assert host_facts.supervisor_groups_running([str(gone)]) == []
    assert host_facts.supervisor_groups_running([str(tmp_path / 'absent.conf')]) == []
