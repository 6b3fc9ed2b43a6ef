# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the haproxy_reload module: a fake systemd and master; the previous file kept or put back."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.webops.tornado.plugins.module_utils import haproxy_reload
from ansible_collections.webops.tornado.plugins.modules import haproxy_reload as mod

REFUSED = ('[ALERT]    (270) : Binding [/etc/haproxy/haproxy.cfg:38] for frontend public: cannot bind socket'
           ' (Address already in use) for [0.0.0.0:8405]\n[WARNING]  (270) : Loading failure!\n')


class FakeHaproxy(object):
    """systemctl and journalctl as the module calls them; the master's workers after the reload."""

    def __init__(self, master=270, takes_it=True, start_limited=False):
        self.master, self.takes_it = master, takes_it
        # Debian's unit restarted HAProxy until systemd's start limit: a start is refused until reset-failed.
        self.start_limited = start_limited
        self.workers = {270: [299]} if master else {}
        self.journal = ''
        self.calls = []

    def run_command(self, argv, **kwargs):
        self.calls.append(argv[:2])
        if argv[:2] == ['systemctl', 'show']:
            return 0, '%d\n' % self.master, ''
        if argv[0] == 'journalctl':
            return 0, self.journal, ''
        if argv[:2] == ['systemctl', 'reload']:
            if self.takes_it:
                self.workers[270] = [299, 340]
            else:
                self.journal = REFUSED
            return 0, '', ''
        if argv[:2] == ['systemctl', 'reset-failed']:
            self.start_limited = False
            return 0, '', ''
        if argv[:2] == ['systemctl', 'start'] and self.start_limited:
            self.journal = 'haproxy.service: Start request repeated too quickly.\n'
            return 1, '', 'Job for haproxy.service failed.\n'
        if argv[:2] == ['systemctl', 'daemon-reload']:
            return 0, '', ''
        if argv[:2] == ['systemctl', 'restart'] and not self.takes_it:
            self.master, self.workers, self.journal = 0, {}, REFUSED
            return 1, '', 'Job for haproxy.service failed.\n'
        if argv[:2] in (['systemctl', 'start'], ['systemctl', 'restart']):
            self.master, self.workers = 500, {500: [501]}
            return 0, '', ''
        raise AssertionError(argv)

    def children(self, pid):
        return self.workers.get(pid, [])


@pytest.fixture
def files(tmp_path):
    config, backup = tmp_path / 'haproxy.cfg', tmp_path / 'haproxy.cfg.1.2026~'
    config.write_text(u'new\n')
    backup.write_text(u'previous\n')
    return config, backup


def run(monkeypatch, capsys, fake, **params):
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda _module, argv, **kwargs: fake.run_command(argv))
    monkeypatch.setattr(mod.procs, 'children', fake.children)
    monkeypatch.setattr(mod.haproxy_reload, 'wait_reloaded',
                        functools.partial(haproxy_reload.wait_reloaded, sleep=lambda seconds: None))
    with patch_module_args(dict((k, str(v)) for k, v in params.items())):
        with pytest.raises(SystemExit) as exit_info:
            mod.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def test_a_new_worker_keeps_the_new_file_and_removes_the_previous(monkeypatch, capsys, files):
    config, backup = files
    rc, result = run(monkeypatch, capsys, FakeHaproxy(), config=config, backup=backup)
    assert rc == 0, result.get('msg')
    assert result['action'] == 'reload'
    assert config.read_text() == u'new\n' and not backup.exists()


def test_a_refused_reload_puts_the_previous_file_back_and_says_why(monkeypatch, capsys, files):
    config, backup = files
    rc, result = run(monkeypatch, capsys, FakeHaproxy(takes_it=False), config=config, backup=backup)
    assert rc == 1
    assert result['restored'] is True
    assert config.read_text() == u'previous\n' and not backup.exists()
    assert 'cannot bind socket (Address already in use) for [0.0.0.0:8405]' in result['msg']
    assert result['problems'][-1] == '[WARNING] (270) : Loading failure!'


def test_a_refused_reload_without_a_previous_file(monkeypatch, capsys, files):
    config, dummy = files
    rc, result = run(monkeypatch, capsys, FakeHaproxy(takes_it=False), config=config, timeout=0.5)
    assert rc == 1 and result['restored'] is False
    assert 'not the ones in force' in result['msg']
    assert config.read_text() == u'new\n'


def test_a_stopped_haproxy_is_started(monkeypatch, capsys, files):
    config, backup = files
    fake = FakeHaproxy(master=0)
    rc, result = run(monkeypatch, capsys, fake, config=config, backup=backup)
    assert rc == 0, result.get('msg')
    assert result['action'] == 'start'
    assert ['systemctl', 'start'] in fake.calls and not backup.exists()


def test_a_stopped_haproxy_past_the_start_limit_is_started(monkeypatch, capsys, files):
    config, backup = files
    fake = FakeHaproxy(master=0, start_limited=True)
    rc, result = run(monkeypatch, capsys, fake, config=config, backup=backup)
    assert rc == 0, result.get('msg')
    assert result['action'] == 'start'
    assert fake.calls.index(['systemctl', 'reset-failed']) < fake.calls.index(['systemctl', 'start'])


def test_a_running_haproxy_is_reloaded_without_reset(monkeypatch, capsys, files):
    config, backup = files
    fake = FakeHaproxy()
    rc, dummy = run(monkeypatch, capsys, fake, config=config, backup=backup)
    assert rc == 0 and ['systemctl', 'reset-failed'] not in fake.calls


def test_a_restart_reads_the_units_files_again_and_waits_for_the_new_masters_worker(monkeypatch, capsys, files):
    config, dummy = files
    fake = FakeHaproxy()
    rc, result = run(monkeypatch, capsys, fake, config=config, restart=True)
    assert rc == 0, result.get('msg')
    assert result['action'] == 'restart'
    assert fake.calls.index(['systemctl', 'daemon-reload']) < fake.calls.index(['systemctl', 'restart'])
    assert ['systemctl', 'reload'] not in fake.calls and ['systemctl', 'reset-failed'] not in fake.calls


def test_a_restart_of_a_stopped_haproxy_past_the_start_limit_starts_it(monkeypatch, capsys, files):
    config, dummy = files
    fake = FakeHaproxy(master=0, start_limited=True)
    rc, result = run(monkeypatch, capsys, fake, config=config, restart=True)
    assert rc == 0, result.get('msg')
    assert result['action'] == 'start'
    assert (fake.calls.index(['systemctl', 'daemon-reload']) < fake.calls.index(['systemctl', 'reset-failed'])
            < fake.calls.index(['systemctl', 'start']))


def test_a_failed_restart_says_why(monkeypatch, capsys, files):
    config, dummy = files
    rc, result = run(monkeypatch, capsys, FakeHaproxy(takes_it=False), config=config, restart=True)
    assert rc == 1 and result['action'] == 'restart' and result['restored'] is False
    assert 'systemctl restart haproxy: Job for haproxy.service failed.' in result['msg']
    assert 'cannot bind socket (Address already in use) for [0.0.0.0:8405]' in result['msg']
