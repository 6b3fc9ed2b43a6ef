# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the inputs_digest lookup: the roles skip their checks on its word."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from hypothesis import given, settings, strategies as st

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar, trust_as_template
from ansible_collections.webops.tornado.plugins.lookup import inputs_digest as plugin

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


# Values from inventories and vars files are trusted templates in Ansible 2.19; plain strings here are not.
def run(terms, variables, **kwargs):
    templar = Templar(loader=DataLoader(), variables=variables)
    lookup = lookup_loader.get('webops.tornado.inputs_digest', loader=DataLoader(), templar=templar)
    return lookup.run(terms, variables=variables, **kwargs)[0]


def test_prefixes_select_inputs_never_internal_names():
    names = ['app_name', 'app_ports', '__app_ports', 'app_export', 'apple', 'nginx_x', 'app_']
    assert plugin.select_names(names, ['app_'], exclude=['app_export']) == ['app_', 'app_name', 'app_ports']
    assert plugin.select_names(names, ['nginx_x', 'app_export', 'missing']) == ['app_export', 'nginx_x']


@given(JSON_VALUES)
@settings(max_examples=200, deadline=None)
def test_same_values_same_digest_whatever_the_key_order(value):
    shuffled = json.loads(json.dumps(value))
    if isinstance(shuffled, dict):
        shuffled = dict(reversed(list(shuffled.items())))
    assert plugin.digest({'a': value}) == plugin.digest({'a': shuffled})


@given(JSON_VALUES, JSON_VALUES)
@settings(max_examples=200, deadline=None)
def test_different_values_different_digests(first, second):
    if json.dumps(first, sort_keys=True) != json.dumps(second, sort_keys=True):
        assert plugin.digest({'a': first}) != plugin.digest({'a': second})


def test_values_are_taken_as_the_tasks_see_them():
    base = {'app_a': 1, 'app_b': trust_as_template('{{ app_a + 1 }}'), 'other': 5}
    same = {'app_a': 1, 'app_b': 2, 'other': 6}
    assert run(['app_'], base) == run(['app_'], same)
    assert run(['app_'], base) != run(['app_'], dict(base, app_a=2))


def test_a_value_that_cannot_be_templated_matches_nothing():
    variables = {'app_a': trust_as_template('{{ not_defined_anywhere }}')}
    first, second = run(['app_'], variables), run(['app_'], variables)
    assert first.startswith('unchecked-') and first != second


def test_other_hosts_values_count():
    def variables(export):
        return {'nginx_a': 1, 'hostvars': {'app1': {'app_export': export, 'ansible_host': '10.0.0.2'}}}
    kwargs = {'hosts': ['app1', 'gone'], 'host_vars': ['app_export', 'ansible_host']}
    assert run(['nginx_'], variables({'ports': [8000]}), **kwargs) == run(['nginx_'], variables({'ports': [8000]}), **kwargs)
    assert run(['nginx_'], variables({'ports': [8000]}), **kwargs) != run(['nginx_'], variables({'ports': [8001]}), **kwargs)
