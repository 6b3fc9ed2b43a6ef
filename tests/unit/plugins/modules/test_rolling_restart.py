# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for rolling_restart's only_running: a group supervisord does not run as asked is left alone."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.webops.tornado.plugins.modules import rolling_restart as mod

BACKENDS = [{'name': 'demo-8000', 'port': 8000}, {'name': 'demo-8001', 'port': 8001}]


def run(monkeypatch, capsys, status, args, installed=True):
    calls = []

    def run_command(self, argv, **_kwargs):
        calls.append(argv[1:])
        return status if argv[1] == 'status' else (0, '', '')

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)

    def get_bin_path(self, name, required=False):
        if not installed and required:
            self.fail_json(msg='Failed to find required executable "%s"' % name)
        return '/usr/bin/' + name if installed else None

    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)
    with patch_module_args(dict({'group': 'demo', 'backends': BACKENDS, 'only_running': True}, **args)):
        with pytest.raises(SystemExit) as exit_info:
            mod.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out), calls


@pytest.mark.parametrize('status, loaded, changed_layout', [
    ((4, 'demo: ERROR (no such group)\n', ''), False, False),
    ((0, 'demo:demo-8000   RUNNING   pid 1, uptime 0:00:09\n', ''), True, True),
    ((0, 'demo:demo-8000   RUNNING   pid 1, uptime 0:00:09\ndemo:demo-8001   RUNNING   pid 2, uptime 0:00:09\n'
         'demo:demo-8002   RUNNING   pid 3, uptime 0:00:09\n', ''), True, True),
])
def test_a_group_not_run_as_asked_is_left_alone(monkeypatch, capsys, status, loaded, changed_layout):
    rc, result, calls = run(monkeypatch, capsys, status, {})
    assert rc == 0 and result['changed'] is False and result['moved'] == [] and result['results'] == []
    assert result['group_loaded'] is loaded and result['layout_changed'] is changed_layout
    assert calls == [['status', 'demo:*']]


def test_the_group_as_asked_is_read_then_moved_in_check_mode(monkeypatch, capsys):
    status = (3, 'demo:demo-8001   STARTING\ndemo:demo-8000   RUNNING   pid 1, uptime 0:00:09\n', '')
    rc, result, calls = run(monkeypatch, capsys, status, {'_ansible_check_mode': True})
    assert rc == 0 and result['changed'] is True and result['moved'] == ['demo-8000', 'demo-8001']
    assert result['group_loaded'] is True and result['layout_changed'] is False
    assert calls == [['status', 'demo:*']]


def test_no_supervisorctl_yet_is_no_group_running(monkeypatch, capsys):
    # A first run: the app role activates before the supervisor role installed supervisord.
    rc, result, calls = run(monkeypatch, capsys, None, {}, installed=False)
    assert rc == 0 and result['changed'] is False and result['group_loaded'] is False and calls == []


def test_link_is_pointed_even_when_no_program_restarts(monkeypatch, capsys, tmp_path):
    # A first run: no group loaded yet; webops.tornado.supervisor starts it on the release current points at.
    current = str(tmp_path / 'current')
    rc, result, _calls = run(monkeypatch, capsys, (4, 'demo: ERROR (no such group)\n', ''),
                             {'link': {'path': current, 'target': '/srv/demo/releases/b'}})
    assert rc == 0 and result['changed'] is True and result['link_changed'] is True and result['moved'] == []
    assert os.readlink(current) == '/srv/demo/releases/b'


def test_link_left_alone_in_check_mode(monkeypatch, capsys, tmp_path):
    current = str(tmp_path / 'current')
    os.symlink('/srv/demo/releases/a', current)
    status = (0, 'demo:demo-8000   RUNNING   pid 1\ndemo:demo-8001   RUNNING   pid 2\n', '')
    rc, result, _calls = run(monkeypatch, capsys, status, {'_ansible_check_mode': True,
                                                           'link': {'path': current, 'target': '/srv/demo/releases/b'}})
    assert rc == 0 and result['link_changed'] is True and os.readlink(current) == '/srv/demo/releases/a'


def test_a_directory_in_the_way_fails_before_anything_restarts(monkeypatch, capsys, tmp_path):
    current = tmp_path / 'current'
    current.mkdir()
    rc, result, calls = run(monkeypatch, capsys, (0, '', ''), {'link': {'path': str(current), 'target': '/x'}})
    assert rc == 1 and result['failed'] is True and 'not a symbolic link' in result['msg'] and calls == []
    assert current.is_dir()
