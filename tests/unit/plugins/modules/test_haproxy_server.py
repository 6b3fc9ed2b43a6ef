# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the haproxy_server module and module_utils.haproxy: a Unix socket served by a thread that
answers as HAProxy's runtime API does (one command per connection, `show stat` as CSV)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import socket
import tempfile
import threading

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.webops.tornado.plugins.module_utils import haproxy
from ansible_collections.webops.tornado.plugins.modules import haproxy_server as mod

HEADER = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,check_status,check_desc\n'


class FakeHAProxy(object):
    """One backend with servers; ``sessions`` per server go down by one at each `show stat`; a server set ready
    reports ``UP`` after ``checks_until_up`` reads (HAProxy's own check)."""

    def __init__(self, path, sessions, checks_until_up=2, refuse=None):
        self.path = path
        self.state = dict((name, 'UP') for name in sessions)
        self.sessions = dict(sessions)
        self.checks_until_up = checks_until_up
        self.pending = {}
        self.refuse = refuse
        self.commands = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(8)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _addr = self.server.accept()
            except OSError:
                return
            with conn:
                line = conn.makefile().readline().strip()
                self.commands.append(line)
                conn.sendall(self.answer(line).encode())

    def answer(self, line):
        if line == 'show stat':
            rows = ['public,FRONTEND,,,3,,,,,,,,,,,,,OPEN,,']
            for name, state in self.state.items():
                if name in self.pending:
                    self.pending[name] -= 1
                    if self.pending[name] <= 0:
                        state = self.state[name] = 'UP'
                        del self.pending[name]
                rows.append('app-demo,%s,0,0,%d,,,,,,,,,,,,,%s,L7OK,Layer7 check passed' % (name, self.sessions[name], state))
                self.sessions[name] = max(0, self.sessions[name] - 1)
            rows.append('app-demo,BACKEND,0,0,0,,,,,,,,,,,,,UP,,')
            return HEADER + '\n'.join(rows) + '\n\n'
        words = line.split()
        if words[:2] == ['set', 'server'] and words[3] == 'state':
            if self.refuse:
                return self.refuse + '\n'
            name = words[2].split('/', 1)[1]
            self.state[name] = {'drain': 'DRAIN', 'maint': 'MAINT', 'ready': 'DOWN 1/2'}[words[4]]
            if words[4] == 'ready':
                self.pending[name] = self.checks_until_up
            return '\n'
        return 'Unknown command.\n'

    def close(self):
        self.server.close()


@pytest.fixture
def socket_path():
    folder = tempfile.mkdtemp()
    yield os.path.join(folder, 'admin.sock')


def run(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            mod.main()
    return json.loads(capsys.readouterr().out)


def test_servers_reads_show_stat(socket_path):
    fake = FakeHAProxy(socket_path, {'web1_8000': 3, 'web1_8001': 0})
    try:
        found = haproxy.servers(haproxy.command(socket_path, 'show stat'))
    finally:
        fake.close()
    assert found == {('app-demo', 'web1_8000'): {'status': 'UP', 'sessions': 3, 'check': 'L7OK Layer7 check passed'},
                     ('app-demo', 'web1_8001'): {'status': 'UP', 'sessions': 0, 'check': 'L7OK Layer7 check passed'}}


def test_drain_waits_for_the_sessions_then_sets_maintenance(socket_path, capsys):
    fake = FakeHAProxy(socket_path, {'web1_8000': 3})
    try:
        result = run(capsys, {'socket': socket_path, 'backend': 'app-demo', 'server': 'web1_8000', 'state': 'drain',
                              'timeout': 5, 'interval': 0.01})
    finally:
        fake.close()
    assert result['changed'] and result['found'] and result['status'] == 'MAINT' and result['sessions'] == 0
    sets = [c for c in fake.commands if c.startswith('set ')]
    assert sets == ['set server app-demo/web1_8000 state drain', 'set server app-demo/web1_8000 state maint']
    # drained before maintenance: the sessions were read down to 0 in between
    assert fake.commands.index(sets[1]) - fake.commands.index(sets[0]) >= 3


def test_drain_gives_up_waiting_after_the_timeout_and_still_goes_on(socket_path, capsys):
    """An open WebSocket never ends by itself: the restart goes on after the timeout (the graceful stop closes it)."""
    fake = FakeHAProxy(socket_path, {'web1_8000': 10 ** 6})
    try:
        result = run(capsys, {'socket': socket_path, 'backend': 'app-demo', 'server': 'web1_8000', 'state': 'drain',
                              'timeout': 0.2, 'interval': 0.01})
    finally:
        fake.close()
    assert result['changed'] and not result.get('failed') and result['status'] == 'MAINT' and result['sessions'] > 0


def test_ready_waits_until_haproxy_checks_the_server_up(socket_path, capsys):
    fake = FakeHAProxy(socket_path, {'web1_8000': 0}, checks_until_up=3)
    fake.state['web1_8000'] = 'MAINT'
    try:
        result = run(capsys, {'socket': socket_path, 'backend': 'app-demo', 'server': 'web1_8000', 'state': 'ready',
                              'timeout': 5, 'interval': 0.01})
    finally:
        fake.close()
    assert result['changed'] and result['status'] == 'UP'


def test_ready_fails_when_haproxy_never_marks_it_up(socket_path, capsys):
    fake = FakeHAProxy(socket_path, {'web1_8000': 0}, checks_until_up=10 ** 6)
    try:
        result = run(capsys, {'socket': socket_path, 'backend': 'app-demo', 'server': 'web1_8000', 'state': 'ready',
                              'timeout': 0.2, 'interval': 0.01})
    finally:
        fake.close()
    assert result['failed'] and 'did not mark app-demo/web1_8000 up' in result['msg']


def test_an_unknown_server_or_no_haproxy_changes_nothing(socket_path, capsys):
    result = run(capsys, {'socket': socket_path, 'backend': 'app-demo', 'server': 'web1_8000', 'state': 'drain'})
    assert not result['changed'] and not result['found'] and 'does not exist' in result['msg']
    fake = FakeHAProxy(socket_path, {'web1_8000': 0})
    try:
        result = run(capsys, {'socket': socket_path, 'backend': 'app-demo', 'server': 'web2_8000', 'state': 'drain'})
    finally:
        fake.close()
    assert not result['changed'] and not result['found']
    assert [c for c in fake.commands if c.startswith('set ')] == []


def test_a_refused_command_fails_with_haproxys_answer(socket_path, capsys):
    fake = FakeHAProxy(socket_path, {'web1_8000': 0}, refuse='Permission denied')
    try:
        result = run(capsys, {'socket': socket_path, 'backend': 'app-demo', 'server': 'web1_8000', 'state': 'drain'})
    finally:
        fake.close()
    assert result['failed'] and 'Permission denied' in result['msg']


def test_check_mode_reads_and_changes_nothing(socket_path, capsys):
    fake = FakeHAProxy(socket_path, {'web1_8000': 2})
    try:
        result = run(capsys, {'socket': socket_path, 'backend': 'app-demo', 'server': 'web1_8000', 'state': 'drain',
                              '_ansible_check_mode': True})
    finally:
        fake.close()
    assert result['changed'] and result['status'] == 'UP'
    assert [c for c in fake.commands if c.startswith('set ')] == []
