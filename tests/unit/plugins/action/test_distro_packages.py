# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the distro_packages action: no call when the role's packages are in the packages fact; otherwise
one apt call for them and what the host's other roles still miss, then the fact brought up to date from dpkg-query
(never in check mode, never after a failure). The host side is tested for real by every Molecule scenario's first
converge (the roles install their packages with it)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shlex
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.template import Templar
from ansible_collections.webops.tornado.plugins.action.distro_packages import ActionModule, parse_query


def make(args, packages, check_mode=False, apt_result=None, query_out=''):
    task = MagicMock()
    task.action = 'webops.tornado.distro_packages'
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    loader = DataLoader()
    task_vars = {'ansible_facts': {'packages': packages}}
    action = ActionModule(task=task, connection=MagicMock(), play_context=PlayContext(), loader=loader,
                          templar=Templar(loader=loader, variables=task_vars), shared_loader_obj=None)
    action._execute_module = MagicMock(return_value=dict(apt_result or {'changed': True}))
    action._low_level_execute_command = MagicMock(return_value={'rc': 0, 'stdout': query_out, 'stderr': ''})
    return action, task_vars


def entry(name, version='1.0-1'):
    return [{'name': name, 'version': version, 'arch': 'amd64', 'source': 'apt'}]


def test_nothing_is_sent_when_the_role_packages_are_there():
    action, task_vars = make({'name': ['nftables'], 'with': ['nginx']}, {'nftables': entry('nftables')})
    result = action.run(task_vars=task_vars)
    assert result['changed'] is False and result['installed'] == []
    action._execute_module.assert_not_called()
    action._low_level_execute_command.assert_not_called()


def test_one_apt_call_takes_what_the_other_roles_miss_and_the_fact_gets_their_versions():
    query = 'nftables\t1.0.6-2\tamd64\tinstalled\nnginx\t1.22.1-9\tamd64\tinstalled\nsupervisor\t4.2.5-1\tall\tinstalled\n'
    action, task_vars = make({'name': ['nftables'], 'with': ['nginx', 'supervisor', 'python3-venv']},
                             {'python3-venv': entry('python3-venv')}, query_out=query)
    result = action.run(task_vars=task_vars)
    module_args = action._execute_module.call_args.kwargs['module_args']
    assert action._execute_module.call_args.kwargs['module_name'] == 'ansible.builtin.apt'
    assert module_args['name'] == ['nftables', 'nginx', 'supervisor'] and module_args['state'] == 'present'
    packages = result['ansible_facts']['packages']
    assert packages['nginx'][0]['version'] == '1.22.1-9' and packages['python3-venv'] == entry('python3-venv')
    # The names reach dpkg-query as single words, whatever they hold.
    command = action._low_level_execute_command.call_args.args[0]
    assert shlex.split(command)[-3:] == ['nftables', 'nginx', 'supervisor']


@pytest.mark.parametrize('check_mode, apt_result', [(True, {'changed': True}), (False, {'failed': True, 'msg': 'E: x'})])
def test_the_fact_is_left_alone_in_check_mode_and_after_a_failure(check_mode, apt_result):
    action, task_vars = make({'name': ['nginx']}, {}, check_mode=check_mode, apt_result=apt_result)
    result = action.run(task_vars=task_vars)
    assert 'ansible_facts' not in result and result['installed'] == ['nginx']
    action._low_level_execute_command.assert_not_called()


@pytest.mark.parametrize('value', ['nginx', None, [''], [1], {'nginx': 1}])
def test_names_must_be_a_list_of_package_names(value):
    action, task_vars = make({'name': value}, {})
    with pytest.raises(AnsibleActionFail, match='name: a list of package names'):
        action.run(task_vars=task_vars)


def test_parse_query_keeps_installed_packages_only():
    out = 'a\t1\tamd64\tinstalled\nb\t2\tall\tconfig-files\nbroken line\n\nc\t3\tamd64\tinstalled\n'
    assert sorted(parse_query(out)) == ['a', 'c']
    assert parse_query(None) == {}


def test_lists_removed_yet_recent_are_updated_once():
    action, task_vars = make({'name': ['certbot']}, {'nginx': entry('nginx')},
                             query_out='certbot\t2.1.0-4\tall\tinstalled\n')
    action._execute_module.side_effect = [{'failed': True, 'msg': "No package matching 'certbot' is available"},
                                          {'changed': True, 'cache_updated': True}]
    result = action.run(task_vars=task_vars)
    first, second = (call.kwargs['module_args'] for call in action._execute_module.call_args_list)
    assert first['cache_valid_time'] == 86400 and second['cache_valid_time'] == 0 and second['update_cache'] is True
    assert not result.get('failed') and result['ansible_facts']['packages']['certbot'][0]['version'] == '2.1.0-4'


def test_another_failure_is_not_retried():
    action, task_vars = make({'name': ['nginx']}, {}, apt_result={'failed': True, 'msg': 'E: dpkg was interrupted'})
    result = action.run(task_vars=task_vars)
    assert result['failed'] and action._execute_module.call_count == 1
