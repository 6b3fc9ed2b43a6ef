# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the app_export contract (module_utils/app_export.py) and its filter (app_export_problems)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible.plugins.loader import filter_loader
from ansible_collections.webops.tornado.plugins.filter import contract
from ansible_collections.webops.tornado.plugins.module_utils import app_export

GOOD = {
    'name': 'demo',
    'user': 'demo',
    'group': 'demo',
    'home': '/srv/demo',
    'log_dir': '/var/log/demo',
    'config_dir': '/etc/tornado/demo',
    'process_model': 'ports',
    'backends': [{'port': 8000, 'address': '127.0.0.1'}, {'port': 8001, 'address': '127.0.0.1'}],
    'programs': [
        {'name': 'demo-8000', 'port': 8000, 'command': 'python launcher.py --port 8000', 'directory': '/srv/demo/current/src'},
        {'name': 'demo-8001', 'port': 8001, 'command': 'python launcher.py --port 8001', 'directory': '/srv/demo/current/src',
         'expect_argv': ['serve', '--port', '8001']},
    ],
    'environment': {'PYTHONUNBUFFERED': '1'},
    'stop_grace_seconds': 10,
    'static_path': '/srv/demo/current/src/static',
    'static_url_prefix': '/static/',
    'static_versions_path': '/srv/demo/static-versions',
    'health_path': '/healthz',
    'state': 'present',
}


def changed(**changes):
    export = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is KeyError:
            del export[key]
        else:
            export[key] = value
    return export


def test_a_good_export_fits():
    assert app_export.problems(GOOD) == []


def test_an_app_being_retired_fits():
    assert app_export.problems(changed(state='absent')) == []


def test_static_path_may_be_null():
    assert app_export.problems(changed(static_path=None, static_versions_path=None)) == []


def test_the_spec_has_every_key_export_yml_publishes():
    assert sorted(app_export.ARGUMENT_SPEC) == sorted(GOOD)


@pytest.mark.parametrize('key', sorted(GOOD))
def test_a_missing_key_is_named(key):
    found = app_export.problems(changed(**{key: KeyError}))
    assert found and key in ' '.join(found)


@pytest.mark.parametrize('key, value', [
    ('backends', 'http://127.0.0.1:8000'),
    ('programs', {'name': 'demo-8000'}),
    ('environment', ['PYTHONUNBUFFERED=1']),
    ('stop_grace_seconds', 'ten'),
    ('process_model', 'threads'),
    ('state', 'retired'),
])
def test_a_mistyped_key_is_named(key, value):
    found = app_export.problems(changed(**{key: value}))
    assert found and key in ' '.join(found)


def test_a_mistyped_backend_port_is_named():
    found = ' '.join(app_export.problems(changed(backends=[{'port': 'http', 'address': '127.0.0.1'}])))
    assert "'port'" in found and 'backends' in found


def test_a_backend_without_address_is_named():
    found = ' '.join(app_export.problems(changed(backends=[{'port': 8000}])))
    assert 'address' in found and 'backends' in found


def test_a_program_without_command_is_named():
    programs = [{'name': 'demo-8000', 'port': 8000, 'directory': '/d'}]
    found = ' '.join(app_export.problems(changed(programs=programs)))
    assert 'command' in found and 'programs' in found


def test_an_unknown_key_is_named():
    found = ' '.join(app_export.problems(changed(ports=[8000])))
    assert 'ports' in found


@pytest.mark.parametrize('key, value', [
    ('name', 'my app'),
    ('name', ''),
    ('home', 'srv/demo'),
    ('static_path', 'static'),
    ('static_url_prefix', 'static'),
    ('static_url_prefix', '/static'),
    ('stop_grace_seconds', 0),
    ('backends', []),
    ('programs', []),
])
def test_values_the_spec_cannot_say_are_named(key, value):
    found = app_export.problems(changed(**{key: value}))
    assert found and key in ' '.join(found)


def test_programs_with_the_same_name_are_refused():
    program = dict(GOOD['programs'][0])
    assert 'distinct' in ' '.join(app_export.problems(changed(programs=[program, program])))


def test_not_a_mapping():
    assert 'mapping' in app_export.problems(['demo'])[0]


# --- the filter: where the fact is consumed --------------------------------------------------------

def test_filter_loads_by_fqcn():
    plugin = filter_loader.get('webops.tornado.app_export_problems')
    assert plugin is not None
    assert plugin.j2_function is contract.app_export_problems


def test_every_good_host_passes():
    hostvars = {'app1': {'app_export': GOOD}, 'app2': {'app_export': changed(static_path=None)}}
    assert contract.app_export_problems(['app1', 'app2'], hostvars) == []


def test_a_host_without_the_fact_is_named_with_the_entry_point():
    found = contract.app_export_problems(['app1', 'app2'], {'app1': {'app_export': GOOD}, 'app2': {}}, 'webops.tornado.nginx')
    assert len(found) == 1
    assert found[0].startswith('app2 has no app_export fact')
    assert 'webops.tornado.nginx' in found[0] and 'facts entry point' in found[0]


def test_an_unknown_host_has_no_fact():
    assert contract.app_export_problems(['ghost'], {})[0].startswith('ghost has no app_export fact')


def test_a_bad_export_names_the_host_and_the_key():
    found = contract.app_export_problems(['app1'], {'app1': {'app_export': changed(health_path=KeyError)}})
    assert len(found) == 1
    assert found[0].startswith('app_export of app1 ')
    assert 'health_path' in found[0] and 'facts entry point' in found[0]
