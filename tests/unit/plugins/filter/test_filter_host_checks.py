# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the host and input check filters, and the documentation of every filter.

The checks themselves are tested in tests/unit/plugins/plugin_utils; here, that each filter hands its
arguments over in the order the roles use them, and that ansible-doc finds a sidecar per filter.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import inspect
import os

import pytest
import yaml

from ansible.plugins.loader import filter_loader
from ansible_collections.webops.tornado.plugins.filter import host_checks as plugin
from ansible_collections.webops.tornado.plugins.filter import vocabulary
from ansible_collections.webops.tornado.plugins.plugin_utils import host_checks

FILTER_DIR = os.path.dirname(plugin.__file__)
ALL_FILTERS = dict(plugin.FilterModule().filters())
ALL_FILTERS.update(vocabulary.FilterModule().filters())

HOST = {
    'users': {'alice': {'uid': 1000, 'gid': 1000, 'gecos': 'Alice', 'home': '/home/alice', 'shell': '/bin/bash'}},
    'groups': {'alice': {'gid': 1000, 'members': []}},
}
LISTENERS = [
    {'address': '0.0.0.0', 'port': 80, 'uid': 0, 'user': 'root', 'processes': ['nginx[10]', 'nginx[11]']},
    {'address': '127.0.0.1', 'port': 8000, 'uid': 1001, 'user': 'bob', 'processes': []},
]


def test_filters_are_registered():
    assert sorted(plugin.FilterModule().filters()) == ['account_problems', 'input_errors', 'nofile_ceiling', 'port_conflicts', 'unit_state']


@pytest.mark.parametrize('name', sorted(ALL_FILTERS))
def test_filters_load_by_fqcn(name):
    loaded = filter_loader.get('webops.tornado.' + name)
    assert loaded is not None and loaded.j2_function is ALL_FILTERS[name]


def test_account_problems_passes_its_arguments_through():
    assert plugin.account_problems(HOST, 'alice', 'alice', '/srv/demo') == host_checks.account_problems(
        HOST, 'alice', 'alice', '/srv/demo')
    assert len(plugin.account_problems(HOST, 'alice', 'alice', '/srv/demo')) == 2
    assert plugin.account_problems(HOST, 'demo', 'demo', '/srv/demo') == []


def test_port_conflicts_passes_owners_and_processes():
    assert plugin.port_conflicts(LISTENERS, [80, 8000], 'ports') == host_checks.port_conflicts(LISTENERS, [80, 8000], 'ports')
    assert len(plugin.port_conflicts(LISTENERS, [80, 8000], 'ports')) == 2
    assert len(plugin.port_conflicts(LISTENERS, [80, 8000], 'ports', owners=['bob'])) == 1
    assert plugin.port_conflicts(LISTENERS, [80, 8000], 'ports', owners=['bob'], processes=['nginx']) == []


def test_unit_state_passes_its_arguments_through():
    read = {'units': {'nginx.service': {'enabled': True, 'active': True, 'nofile': 20000}}}
    assert plugin.unit_state(read, 'nginx.service') == host_checks.unit_state(read, 'nginx.service')
    assert plugin.unit_state(read, 'nginx.service')['running'] is True


def test_input_errors_takes_values_first_then_rules():
    # As used in a template: {{ values | webops.tornado.input_errors(rules, prefix=...) }}
    rules = {'name': 'name', 'port': {'kind': 'int', 'minimum': 1024, 'maximum': 65535}}
    assert plugin.input_errors({'name': 'demo', 'port': 8000}, rules) == []
    errors = plugin.input_errors({'name': 'demo', 'port': 80}, rules, prefix='programs[0].')
    assert len(errors) == 1 and errors[0].startswith('programs[0].port must be ')


def test_input_errors_never_shows_a_secret():
    errors = plugin.input_errors({'token': 'hunter2\n'}, {'token': 'secret'})
    assert len(errors) == 1 and 'hunter2' not in errors[0] and 'token' in errors[0]


# --- documentation ------------------------------------------------------------------------------

def _doc(name):
    with open(os.path.join(FILTER_DIR, name + '.yml')) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize('name', sorted(ALL_FILTERS))
def test_every_filter_has_a_documentation_sidecar(name):
    doc = _doc(name)
    assert sorted(doc) == ['DOCUMENTATION', 'EXAMPLES', 'RETURN']
    assert doc['DOCUMENTATION']['name'] == name
    assert doc['DOCUMENTATION']['short_description']
    assert '_value' in doc['RETURN']
    assert 'webops.tornado.' + name in doc['EXAMPLES']


@pytest.mark.parametrize('name', sorted(ALL_FILTERS))
def test_documented_options_are_the_filter_arguments(name):
    doc = _doc(name)['DOCUMENTATION']
    params = list(inspect.signature(ALL_FILTERS[name]).parameters.values())
    assert sorted(doc['options']) == sorted(['_input'] + [p.name for p in params[1:]])
    for param in params[1:]:
        option = doc['options'][param.name]
        if param.default is inspect.Parameter.empty:
            assert option.get('required') is True, param.name
        else:
            assert not option.get('required'), param.name
    if 'positional' in doc:
        required = [p.name for p in params[1:] if p.default is inspect.Parameter.empty]
        positional = [word.strip() for word in doc['positional'].split(',')]
        assert positional[0] == '_input' and positional[1:len(required) + 1] == required
