# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the check_inputs action: built as ansible-core's own action tests build theirs (a mocked
task and connection, a real Templar over the task's variables). The kinds themselves are tested with
plugin_utils/inputs.py; here, what the action does with them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import action_loader
from ansible.template import Templar, trust_as_template
from ansible_collections.webops.tornado.plugins.action.check_inputs import ActionModule

SECRET = 'p4ss\nword-that-must-never-be-shown'
RULES = {
    'app_name': 'name',
    'app_home': {'kind': 'path', 'roots': ['/srv', '/opt']},
    'app_port_base': {'kind': 'int', 'minimum': 1024, 'maximum': 65535},
    'app_cookie_secret': {'kind': 'secret', 'minimum': 32},
    'app_environment': 'environment',
    'app_token': {'kind': 'text', 'secret': True},
}


def make_action(args, task_vars=None, check_mode=False, via_loader=False):
    task = MagicMock()
    task.action = 'webops.tornado.check_inputs'
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    connection = MagicMock()
    loader = DataLoader()
    templar = Templar(loader=loader, variables=task_vars or {})
    if via_loader:
        action = action_loader.get('webops.tornado.check_inputs', task=task, connection=connection,
                                   play_context=PlayContext(), loader=loader, templar=templar, shared_loader_obj=None)
    else:
        action = ActionModule(task=task, connection=connection, play_context=PlayContext(), loader=loader,
                              templar=templar, shared_loader_obj=None)
    return action, connection


def run(args, task_vars=None, **kwargs):
    action, _connection = make_action(args, task_vars, **kwargs)
    return action.run(task_vars=task_vars)


def good_vars():
    return {
        'app_name': 'demo',
        'app_home': trust_as_template('/srv/{{ app_name }}'),
        'app_port_base': trust_as_template('{{ 8000 + 0 }}'),
        'app_cookie_secret': 'x' * 40,
        'app_environment': {'DATABASE_URL': 'postgres://demo:secret@db/demo'},
        'unrelated': 'not a rule: ignored',
    }


def test_loaded_by_fqcn_needs_no_connection():
    action, connection = make_action({'rules': {'app_name': 'name'}}, {'app_name': 'demo'}, via_loader=True)
    assert type(action).__name__ == 'ActionModule' and action._requires_connection is False
    result = action.run(task_vars={'app_name': 'demo'})
    assert 'failed' not in result and result['checked'] == ['app_name']
    assert connection.mock_calls == []


def test_task_vars_are_templated_as_the_tasks_see_them():
    result = run({'rules': RULES}, good_vars())
    assert 'failed' not in result, result.get('msg')
    assert result['changed'] is False
    assert result['checked'] == ['app_cookie_secret', 'app_environment', 'app_home', 'app_name', 'app_port_base']
    assert result['msg'] == 'All 5 inputs are acceptable.'


def test_a_templated_value_is_checked_after_templating():
    task_vars = good_vars()
    task_vars['app_suffix'] = 'x/../../etc'
    task_vars['app_home'] = trust_as_template('/srv/demo/{{ app_suffix }}')
    result = run({'rules': RULES}, task_vars)
    assert result['failed'] is True
    assert result['errors'] == [result['errors'][0]] and result['errors'][0].startswith('app_home must be an absolute')
    assert '"/srv/demo/x/../../etc"' in result['errors'][0]


def test_undefined_variables_are_skipped():
    result = run({'rules': RULES}, {'app_name': 'demo'})
    assert 'failed' not in result and result['checked'] == ['app_name']
    assert result['msg'] == 'All 1 inputs are acceptable.'


def test_failure_names_every_refused_variable_in_rule_order():
    task_vars = good_vars()
    task_vars.update({'app_name': 'my app', 'app_home': '/srv/demo', 'app_port_base': 80})
    result = run({'rules': RULES}, task_vars)
    assert result['failed'] is True and result['changed'] is False
    assert [error.split(' ')[0] for error in result['errors']] == ['app_name', 'app_port_base']
    assert result['errors'][0].endswith('(got "my app").')
    assert result['errors'][1].endswith('(got 80).')
    assert result['msg'] == ' '.join(result['errors'])
    # RETURN: checked only on success (a failure shows the sentences alone).
    assert 'checked' not in result


def test_values_replace_the_task_vars():
    result = run({'rules': {'name': 'name', 'port': 'port'}, 'values': {'name': 'demo-8000', 'port': 8000}},
                 {'name': 'bad name', 'port': 1})
    assert 'failed' not in result and result['checked'] == ['name', 'port']


def test_values_with_prefix_name_the_entry():
    result = run({'rules': {'name': 'name', 'command': 'argv', 'directory': 'path'},
                  'values': {'name': 'demo 8000', 'command': 'serve "unbalanced', 'directory': '/srv/demo'},
                  'prefix': 'supervisor_groups[demo].programs[0].'}, {})
    assert result['failed'] is True
    assert [error.split(' ')[0] for error in result['errors']] == [
        'supervisor_groups[demo].programs[0].name', 'supervisor_groups[demo].programs[0].command']


def test_empty_values_check_nothing():
    result = run({'rules': RULES, 'values': {}}, good_vars())
    assert 'failed' not in result and result['checked'] == [] and result['msg'] == 'All 0 inputs are acceptable.'


@pytest.mark.parametrize('name, value', [
    ('app_cookie_secret', SECRET),
    ('app_cookie_secret', 'short-' + SECRET.replace('\n', '')[:10]),
    ('app_environment', {'DATABASE_URL': SECRET + '\x00'}),
    ('app_environment', {'bad name': SECRET}),
    ('app_token', SECRET),
])
def test_secrets_are_never_in_the_result(name, value):
    task_vars = good_vars()
    task_vars[name] = value
    result = run({'rules': RULES}, task_vars)
    assert result['failed'] is True and len(result['errors']) == 1
    assert result['errors'][0].startswith(name + ' must be ') and result['errors'][0].endswith('(got (value hidden)).')
    text = json.dumps(result)
    for piece in ('p4ss', 'word-that-must-never-be-shown', 'short-'):
        assert piece not in text


def test_secrets_given_as_values_are_never_in_the_result():
    result = run({'rules': RULES, 'values': {'app_cookie_secret': SECRET, 'app_name': 'demo'}}, {})
    assert result['failed'] is True and 'p4ss' not in json.dumps(result)


def test_secrets_are_not_echoed_on_success():
    result = run({'rules': RULES}, good_vars())
    text = json.dumps(result)
    assert 'x' * 40 not in text and 'postgres://' not in text


@pytest.mark.parametrize('rules', [
    {'app_name': 'nosuchkind'},
    {'app_name': {'kind': 'nosuchkind'}},
    {'app_name': {'roots': ['/srv']}},
    {'app_name': 42},
])
def test_unknown_kind_is_a_bug_in_the_role(rules):
    with pytest.raises(AnsibleActionFail) as error:
        run({'rules': rules}, {'app_name': 'demo'})
    assert str(error.value).startswith('check_inputs: unknown input rule')


def test_unknown_kind_fails_even_when_the_variable_is_not_defined():
    with pytest.raises(AnsibleActionFail):
        run({'rules': {'app_name': 'name', 'app_other': 'nosuchkind'}}, {'app_name': 'demo'})


@pytest.mark.parametrize('rules', [None, {}, [], 'name', ['app_name']])
def test_rules_must_be_a_non_empty_mapping(rules):
    args = {} if rules is None else {'rules': rules}
    with pytest.raises(AnsibleActionFail) as error:
        run(args, {'app_name': 'demo'})
    assert 'rules must be a non-empty mapping' in str(error.value)


@pytest.mark.parametrize('values', [['app_name'], 'demo', 42])
def test_values_must_be_a_mapping(values):
    with pytest.raises(AnsibleActionFail) as error:
        run({'rules': {'app_name': 'name'}, 'values': values}, {})
    assert 'values must be a mapping' in str(error.value)


def test_unknown_option_is_refused():
    with pytest.raises(AnsibleActionFail) as error:
        run({'rules': {'app_name': 'name'}, 'value': {'app_name': 'demo'}}, {})
    assert 'Invalid options' in str(error.value) and 'value' in str(error.value)


def test_check_mode_checks_too():
    result = run({'rules': {'app_name': 'name'}}, {'app_name': 'bad name'}, check_mode=True)
    assert result['failed'] is True and result['errors'][0].startswith('app_name must be')


def test_no_task_vars():
    action, _connection = make_action({'rules': {'app_name': 'name'}})
    result = action.run()
    assert 'failed' not in result and result['checked'] == []


def test_defer_undefined_checks_what_it_can_and_names_what_it_left_out():
    task_vars = dict(good_vars(), app_home=trust_as_template('/srv/{{ read_on_the_host_later }}'), app_name='bad name')
    result = run({'rules': RULES, 'defer_undefined': True}, task_vars)
    assert result['failed'] is True and 'app_name' in result['msg']
    assert result['deferred'] == ['app_home'] and 'app_home' not in result['msg']


def test_defer_undefined_passes_when_everything_it_could_template_is_good():
    task_vars = dict(good_vars(), app_home=trust_as_template('/srv/{{ read_on_the_host_later }}'))
    result = run({'rules': RULES, 'defer_undefined': True}, task_vars)
    assert 'failed' not in result, result.get('msg')
    assert result['deferred'] == ['app_home'] and 'app_home' not in result['checked']


def test_without_defer_an_undefined_value_is_an_error():
    task_vars = dict(good_vars(), app_home=trust_as_template('/srv/{{ read_on_the_host_later }}'))
    with pytest.raises(Exception, match='read_on_the_host_later'):
        run({'rules': RULES}, task_vars)


def test_defer_undefined_leaves_host_read_rules_to_the_full_check():
    # A default built from the host's reads that a `default` filter turns into "" before the read.
    rules = {'app_name': 'name', 'app_listen_address': {'kind': 'address', 'host_read': True}}
    task_vars = {'app_name': 'demo', 'app_listen_address': trust_as_template('{{ host_addresses | default("", true) }}')}
    result = run({'rules': rules, 'defer_undefined': True}, task_vars)
    assert 'failed' not in result, result.get('msg')
    assert result['deferred'] == ['app_listen_address'] and result['checked'] == ['app_name']
    # Without the option the rule is checked as usual.
    result = run({'rules': rules}, task_vars)
    assert result['failed'] is True and 'app_listen_address' in result['msg']


# --- checks: what assert would say, in the same task -----------------------------------------------------------
# In a run, the conditions and messages come from a task file, so they are trusted templates.

def check(that, msg):
    that = [trust_as_template(t) for t in that] if isinstance(that, list) else trust_as_template(that)
    return {'that': that, 'msg': trust_as_template(msg)}


def test_checks_that_hold_pass():
    checks = [check("app_name == 'demo'", 'never shown'), check('app_port_base | int > 1024', 'never shown')]
    result = run({'rules': RULES, 'checks': checks}, good_vars())
    assert 'failed' not in result, result.get('msg')
    assert result['msg'] == 'All 5 inputs are acceptable. All 2 checks hold.'


def test_the_first_failing_check_wins_and_its_message_is_templated():
    checks = [
        check("app_name == 'demo'", 'never shown'),
        check("app_name == 'other'", 'app_name is {{ app_name }}, not other.'),
        check("app_name == 'third'", 'the third check fails too'),
    ]
    result = run({'rules': RULES, 'checks': checks}, good_vars())
    assert result['failed'] is True and result['changed'] is False
    assert result['errors'] == ['app_name is demo, not other.'] and result['msg'] == 'app_name is demo, not other.'
    assert 'checked' not in result


def test_a_message_is_templated_only_when_its_check_fails():
    # Neither the message of a check that holds nor that of a check after the failing one is templated: an
    # undefined variable in them raises nothing.
    checks = [
        check("app_name == 'demo'", '{{ only_defined_when_it_fails }}'),
        check('app_port_base | int == 1', 'app_port_base is {{ app_port_base }}.'),
        check('false', '{{ never_templated }}'),
    ]
    result = run({'rules': RULES, 'checks': checks}, good_vars())
    assert result['errors'] == ['app_port_base is 8000.']


def test_a_later_check_is_not_evaluated():
    checks = [check('false', 'first'), check('not_defined_anywhere | bool', 'second')]
    result = run({'rules': RULES, 'checks': checks}, good_vars())
    assert result['errors'] == ['first']


def test_rule_errors_stop_before_any_check():
    task_vars = dict(good_vars(), app_name='bad name')
    checks = [check('not_defined_anywhere | bool', '{{ not_defined_either }}'), check('false', 'a check')]
    result = run({'rules': RULES, 'checks': checks}, task_vars)
    # The rules' sentences, as without checks (app_home is made of app_name).
    assert result['failed'] is True and [error.split(' ')[0] for error in result['errors']] == ['app_name', 'app_home']
    assert result['msg'] == ' '.join(result['errors']) and 'a check' not in result['msg']


def test_a_list_that_must_all_hold():
    checks = [check(["app_name == 'demo'", 'app_port_base | int > 1024'], 'never shown')]
    assert 'failed' not in run({'rules': RULES, 'checks': checks}, good_vars())
    checks = [check(["app_name == 'demo'", 'app_port_base | int < 1024', 'not_defined_anywhere | bool'], 'model {{ app_name }}')]
    result = run({'rules': RULES, 'checks': checks}, good_vars())
    # The list stops at its first false condition, as assert's `that` does.
    assert result['errors'] == ['model demo']


def test_a_when_made_part_of_the_condition():
    checks = [check("not app_autoreload | bool or app_process_model != 'reuse_port'", 'autoreload with reuse_port')]
    task_vars = {'app_autoreload': False, 'app_process_model': 'reuse_port'}
    assert 'failed' not in run({'checks': checks}, task_vars)
    task_vars['app_autoreload'] = True
    assert run({'checks': checks}, task_vars)['errors'] == ['autoreload with reuse_port']


def test_a_check_sees_the_task_vars_lazily():
    task_vars = dict(good_vars(), problems=trust_as_template("{{ [app_name ~ ' is taken'] if app_name == 'demo' else [] }}"))
    result = run({'rules': RULES, 'checks': [check('problems | length == 0', "{{ problems | join(' ') }}")]}, task_vars)
    assert result['errors'] == ['demo is taken']


def test_checks_without_rules():
    result = run({'checks': [check('true', 'never shown')]}, {})
    assert 'failed' not in result and result['checked'] == [] and result['msg'] == 'All 0 inputs are acceptable. All 1 checks hold.'
    assert run({'checks': [check('1 > 2', 'no')]}, {})['errors'] == ['no']


def test_no_rules_and_no_checks_is_refused():
    with pytest.raises(AnsibleActionFail, match='rules must be a non-empty mapping'):
        run({'checks': []}, {})


@pytest.mark.parametrize('checks', [
    'app_name == "demo"',
    {'that': 'true', 'msg': 'x'},
    [{'that': 'true'}],
    [{'msg': 'x'}],
    [{'that': 'true', 'msg': 'x', 'when': 'true'}],
    [{'that': [], 'msg': 'x'}],
    [{'that': [{'nested': 1}], 'msg': 'x'}],
    [{'that': 'true', 'msg': ['x']}],
    ['true'],
])
def test_ill_formed_checks_are_a_bug_in_the_role(checks):
    with pytest.raises(AnsibleActionFail, match='checks must be a list of mappings with that'):
        run({'rules': {'app_name': 'name'}, 'checks': checks}, {'app_name': 'demo'})


def test_checks_are_left_as_written_until_the_action_runs():
    # What Task.post_validate does with each argument (ansible-core 2.19): `checks` is not templated there, the
    # other arguments are.
    from ansible._internal._templating._engine import TemplateEngine
    engine = TemplateEngine(loader=DataLoader(), variables={'rules_var': {'app_name': 'name'}})
    checks = [check('false', '{{ not_defined_anywhere }}')]
    assert ActionModule.finalize_task_arg('checks', checks, engine, None) is checks
    assert ActionModule.finalize_task_arg('rules', trust_as_template('{{ rules_var }}'), engine, None) == {'app_name': 'name'}
