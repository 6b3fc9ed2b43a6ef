# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every variable of every role has an input rule, every rule names a known kind, and docs/inputs.md
lists each variable with the kind its role declares (so the page cannot drift from the code)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

import pytest
import yaml

from ansible_collections.webops.tornado.plugins.plugin_utils import inputs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(os.listdir(os.path.join(REPO, 'roles')))
DOC = os.path.join(REPO, 'docs', 'inputs.md')


def load(role, *path):
    with open(os.path.join(REPO, 'roles', role, *path)) as handle:
        return yaml.safe_load(handle) or {}


def rules_of(role):
    return load(role, 'vars', 'main.yml')['__%s_input_rules' % role]


def options_of(role):
    options = {}
    for entry in load(role, 'meta', 'argument_specs.yml')['argument_specs'].values():
        options.update(entry['options'])
    return options


@pytest.mark.parametrize('role', ROLES)
def test_every_variable_has_a_rule(role):
    assert set(options_of(role)) - {'supervisor_groups'} == set(rules_of(role)), (
        'roles/%s: argument_specs options and __%s_input_rules differ' % (role, role))


@pytest.mark.parametrize('role', ROLES)
def test_every_rule_names_a_known_kind(role):
    for name, rule in rules_of(role).items():
        inputs.normalise_rule(rule)
        assert name.startswith(role + '_')


def test_the_inputs_page_lists_every_variable_with_its_kind():
    with open(DOC) as handle:
        page = handle.read()
    rows = dict(re.findall(r'^\| `([a-z0-9_]+)` \| `([a-z_]+)` \|', page, flags=re.M))
    for role in ROLES:
        for name, rule in rules_of(role).items():
            assert rows.get(name) == inputs.normalise_rule(rule)['kind'], '%s: docs/inputs.md says %r' % (name, rows.get(name))
