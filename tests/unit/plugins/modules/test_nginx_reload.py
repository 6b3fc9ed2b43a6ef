# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the nginx_reload module over a fake /proc, a fake systemctl and a fake clock."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import builtins
import functools
import json
import os

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.webops.tornado.plugins.module_utils import nginx_reload, procs
from ansible_collections.webops.tornado.plugins.modules import nginx_reload as mod

TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'
TCP6_HEADER = ('  sl  local_address                         remote_address                        st tx_queue rx_queue'
               ' tr tm->when retrnsmt   uid  timeout inode')
EMERG = '2026/12/01 23:42:38 [emerg] 1000#1000: bind() to 0.0.0.0:8080 failed (98: Address already in use)\n'
GAVE_UP = '2026/12/01 23:42:38 [emerg] 1000#1000: still could not bind()\n'


def tcp_line(address, port, state='0A'):
    remote = '0' * len(address) + ':0000'
    return '   0: %s:%04X %s %s 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0' % (
        address, port, remote, state)


class FakeProc(object):
    """A /proc under tmp_path: processes (pid -> (comm, ppid)) and the TCP tables."""

    def __init__(self, base):
        self.root = str(base / 'proc')
        os.makedirs(os.path.join(self.root, 'net'))
        os.makedirs(os.path.join(self.root, 'self'))
        self.processes = {}
        self.listening = set()
        self.write_net()

    def spawn(self, pid, ppid, comm='nginx'):
        self.processes[pid] = (comm, ppid)
        os.makedirs(os.path.join(self.root, str(pid)))
        with builtins.open(os.path.join(self.root, str(pid), 'stat'), 'w') as handle:
            handle.write('%d (%s) S %d %d %d 0 -1 4194624 100 0 0 0 1 2 0 0 20 0 1 0 300 10000000 500\n'
                         % (pid, comm, ppid, pid, pid))

    def kill(self, pid):
        del self.processes[pid]
        os.remove(os.path.join(self.root, str(pid), 'stat'))
        os.rmdir(os.path.join(self.root, str(pid)))

    def write_net(self, v6=True):
        v4 = [tcp_line('00000000', 22)] + [tcp_line('00000000', port) for port in sorted(self.listening)]
        v4.append(tcp_line('0100007F', 9999, state='01'))  # ESTABLISHED: not listening
        with builtins.open(os.path.join(self.root, 'net', 'tcp'), 'w') as handle:
            handle.write('\n'.join([TCP_HEADER] + v4) + '\n')
        path6 = os.path.join(self.root, 'net', 'tcp6')
        if v6:
            with builtins.open(path6, 'w') as handle:
                handle.write('\n'.join([TCP6_HEADER] + [tcp_line('0' * 32, port) for port in sorted(self.listening)]) + '\n')
        elif os.path.exists(path6):
            os.remove(path6)

    def path(self, path):
        return self.root + path[len('/proc'):] if path == '/proc' or path.startswith('/proc/') else path

    def install(self, monkeypatch):
        fake_os = type('FakeOs', (), {})()
        fake_os.path = os.path
        fake_os.listdir = lambda path: os.listdir(self.path(path))

        def kill(pid, signal):
            assert signal == 0
            if pid not in self.processes:
                raise OSError(3, 'No such process')

        fake_os.kill = kill
        monkeypatch.setattr(mod, 'os', fake_os)
        monkeypatch.setattr(mod, 'open', lambda path, *args, **kwargs: builtins.open(self.path(path), *args, **kwargs),
                            raising=False)
        # The workers are read by module_utils/procs.py, which takes the /proc to read.
        monkeypatch.setattr(mod.procs, 'children', functools.partial(procs.children, proc=self.root))


@pytest.fixture
def proc(tmp_path, monkeypatch):
    fake = FakeProc(tmp_path)
    fake.install(monkeypatch)
    return fake


# --- helpers ---------------------------------------------------------------------------------------

def test_read_pid(tmp_path, proc):
    pid_file = tmp_path / 'nginx.pid'
    assert mod.read_pid(str(pid_file)) is None
    pid_file.write_text('1000\n')
    assert mod.read_pid(str(pid_file)) is None  # stale: no such process
    proc.spawn(1000, 1)
    assert mod.read_pid(str(pid_file)) == 1000
    pid_file.write_text('')
    assert mod.read_pid(str(pid_file)) is None
    pid_file.write_text('nginx\n')
    assert mod.read_pid(str(pid_file)) is None


def test_read_pid_of_a_real_process(tmp_path):
    pid_file = tmp_path / 'pid'
    pid_file.write_text('%d\n' % os.getpid())
    assert mod.read_pid(str(pid_file)) == os.getpid()


def test_listening_ports(proc):
    proc.listening = {80, 443, 8080}
    proc.write_net()
    assert mod.listening_ports() == {22, 80, 443, 8080}
    proc.write_net(v6=False)
    assert mod.listening_ports() == {22, 80, 443, 8080}


def test_log_size(tmp_path):
    log = tmp_path / 'error.log'
    assert mod.log_size(str(log)) == 0
    log.write_text(EMERG)
    assert mod.log_size(str(log)) == len(EMERG)


# --- the module ------------------------------------------------------------------------------------

class FakeClock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeSystemd(object):
    """systemctl reload/start of nginx: what the master does to /proc, the log and the ports."""

    def __init__(self, proc, tmp_path, outcome='ok', ports=(80, 443)):
        self.proc = proc
        self.outcome = outcome
        self.ports = set(ports)
        self.pid_file = tmp_path / 'nginx.pid'
        self.error_log = tmp_path / 'error.log'
        self.calls = []
        self.next_pid = 3000
        self.start_limited = False  # systemd refuses a start until reset-failed (or ten seconds)

    def run_nginx(self, workers=2):
        self.proc.spawn(1000, 1)
        self.pid_file.write_text('1000\n')
        for pid in range(1001, 1001 + workers):
            self.proc.spawn(pid, 1000)
        self.proc.listening = set(self.ports)
        self.proc.write_net()

    def log(self, text):
        with builtins.open(str(self.error_log), 'a') as handle:
            handle.write(text)

    def run_command(self, argv, **_kwargs):
        self.calls.append(list(argv))
        if argv == ['systemctl', 'daemon-reload']:
            return 0, '', ''
        assert argv[0] == 'systemctl' and argv[1] in ('reload', 'start', 'restart', 'reset-failed') and len(argv) == 3
        if argv[1] == 'reset-failed':
            self.start_limited = False
            return 0, '', ''
        if argv[1] == 'start' and self.start_limited:
            return 1, '', 'Job for nginx.service failed.\n'
        if self.outcome == 'systemctl fails':
            return 1, '', 'Job for nginx.service failed because the control process exited with error code.\n'
        if self.outcome == 'emerg':
            self.log(EMERG * 5 + GAVE_UP)  # the master gave up its tries: the old workers keep running, no new ones
            return 0, '', ''
        if argv[1] == 'start':
            self.run_nginx(workers=0)
        if argv[1] == 'restart':
            # A new master: the old one and its workers are gone.
            for pid in [pid for pid, (_comm, ppid) in self.proc.processes.items() if ppid == 1000] + [1000]:
                self.proc.kill(pid)
            self.proc.spawn(2000, 1)
            self.pid_file.write_text('2000\n')
            for _worker in range(2):
                self.proc.spawn(self.next_pid, 2000)
                self.next_pid += 1
            self.proc.write_net()
            return 0, '', ''
        if self.outcome != 'no workers':
            for _worker in range(2):
                self.proc.spawn(self.next_pid, 1000)
                self.next_pid += 1
        if self.outcome == 'port missing':
            self.proc.listening = set(sorted(self.ports)[:1])
        else:
            self.proc.listening = set(self.ports)
        self.proc.write_net()
        return 0, '', ''


@pytest.fixture
def systemd(proc, tmp_path):
    return FakeSystemd(proc, tmp_path)


def run(monkeypatch, capsys, systemd, **args):
    clock = FakeClock()
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda _module, argv, **kwargs: systemd.run_command(argv, **kwargs))
    monkeypatch.setattr(mod.nginx_reload, 'wait_reloaded',
                        functools.partial(nginx_reload.wait_reloaded, clock=clock, sleep=clock.sleep))
    params = {'pid_file': str(systemd.pid_file), 'error_log': str(systemd.error_log), 'ports': [80, 443]}
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit) as exit_info:
            mod.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out), clock


def test_reload_with_new_workers_and_every_port(monkeypatch, capsys, systemd):
    systemd.run_nginx()
    systemd.log('2026/12/01 23:00:00 [emerg] 900#900: an old failure, before this reload\n')
    rc, result, clock = run(monkeypatch, capsys, systemd)
    assert rc == 0, result.get('msg')
    assert result['changed'] is True and result['action'] == 'reload'
    assert systemd.calls == [['systemctl', 'reload', 'nginx']]
    assert clock.now == 0


def test_start_when_the_master_is_not_running(monkeypatch, capsys, systemd):
    systemd.pid_file.write_text('1000\n')  # stale pid file
    rc, result, _clock = run(monkeypatch, capsys, systemd, service='nginx')
    assert rc == 0, result.get('msg')
    assert result['action'] == 'start'
    assert systemd.calls == [['systemctl', 'daemon-reload'], ['systemctl', 'reset-failed', 'nginx'],
                             ['systemctl', 'start', 'nginx']]


def test_start_after_the_start_limit_was_hit(monkeypatch, capsys, systemd):
    # A unit that failed to start a few times within ten seconds: systemd refuses a start until reset-failed.
    systemd.start_limited = True
    rc, result, _clock = run(monkeypatch, capsys, systemd)
    assert rc == 0, result.get('msg')
    assert result['action'] == 'start' and not systemd.start_limited


def test_restart_makes_a_new_master_after_daemon_reload(monkeypatch, capsys, systemd):
    systemd.run_nginx()
    rc, result, _clock = run(monkeypatch, capsys, systemd, restart=True)
    assert rc == 0, result.get('msg')
    assert result['changed'] is True and result['action'] == 'restart'
    assert systemd.calls == [['systemctl', 'daemon-reload'], ['systemctl', 'restart', 'nginx']]
    assert 1000 not in systemd.proc.processes and systemd.pid_file.read_text() == '2000\n'


def test_restart_of_a_master_not_running_starts_it(monkeypatch, capsys, systemd):
    rc, result, _clock = run(monkeypatch, capsys, systemd, restart=True)
    assert rc == 0, result.get('msg')
    assert result['action'] == 'start'
    assert systemd.calls == [['systemctl', 'daemon-reload'], ['systemctl', 'reset-failed', 'nginx'],
                             ['systemctl', 'start', 'nginx']]


def test_emerg_since_the_reload_fails_with_nginx_lines(monkeypatch, capsys, systemd):
    systemd.outcome = 'emerg'
    systemd.run_nginx()
    rc, result, clock = run(monkeypatch, capsys, systemd)
    assert rc == 1 and result['failed'] is True
    assert result['problems'] == (EMERG * 5 + GAVE_UP).splitlines()
    assert result['action'] == 'reload'
    assert result['msg'] == 'nginx did not take the new configuration (reload): ' + ' '.join((EMERG * 5 + GAVE_UP).splitlines())
    assert clock.now == 0


def test_no_new_worker_fails_after_the_timeout(monkeypatch, capsys, systemd):
    systemd.outcome = 'no workers'
    systemd.run_nginx()
    rc, result, clock = run(monkeypatch, capsys, systemd, timeout=3)
    assert rc == 1 and result['problems'] == ['no new worker process started within 3.0s of the reload']
    assert clock.now >= 3


def test_a_port_not_listening_fails_after_the_timeout(monkeypatch, capsys, systemd):
    systemd.outcome = 'port missing'
    systemd.run_nginx()
    rc, result, _clock = run(monkeypatch, capsys, systemd, timeout=1)
    assert rc == 1 and result['problems'] == ['nothing listens on port(s) 443']


def test_systemctl_failure(monkeypatch, capsys, systemd):
    systemd.outcome = 'systemctl fails'
    systemd.run_nginx()
    rc, result, _clock = run(monkeypatch, capsys, systemd, service='nginx-custom')
    assert rc == 1
    assert result['msg'].startswith('systemctl reload nginx-custom failed: Job for nginx.service failed')
    assert result['problems'] == ['Job for nginx.service failed because the control process exited with error code.']


def test_check_mode_reloads_nothing(monkeypatch, capsys, systemd):
    rc, result, _clock = run(monkeypatch, capsys, systemd, _ansible_check_mode=True)
    assert rc == 0 and result['changed'] is True and result['action'] == 'reload'
    assert systemd.calls == []


def test_ports_are_required(monkeypatch, capsys, systemd):
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda *_a, **_k: pytest.fail('nothing may run'))
    with patch_module_args({}):
        with pytest.raises(SystemExit):
            mod.main()
    result = json.loads(capsys.readouterr().out)
    assert result['failed'] is True and 'ports' in result['msg']
