# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`ansible-doc -t role webops.tornado.<role>` is complete for every role.

Every entry point of meta/argument_specs.yml has a short description, a description, an author and
options; every option has a description and a type (lists their elements); every variable of
defaults/main.yml is an option, with the same default when it is a plain value, and a description
that says what it defaults to when the default is computed (a template) or unset.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import subprocess

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(name for name in os.listdir(os.path.join(REPO, 'roles'))
               if os.path.isfile(os.path.join(REPO, 'roles', name, 'meta', 'argument_specs.yml')))
TYPES = {'str', 'int', 'bool', 'list', 'dict', 'path', 'raw', 'float'}


def load(role, *path):
    full = os.path.join(REPO, 'roles', role, *path)
    if not os.path.exists(full):
        return {}
    with open(full) as handle:
        return yaml.safe_load(handle) or {}


def text(description):
    return ' '.join(description) if isinstance(description, list) else str(description or '')


def test_every_role_has_argument_specs():
    assert set(os.listdir(os.path.join(REPO, 'roles'))) == set(ROLES)


@pytest.mark.parametrize('role', ROLES)
def test_entry_points_are_documented(role):
    specs = load(role, 'meta', 'argument_specs.yml')['argument_specs']
    assert 'main' in specs
    for name, entry in specs.items():
        for key in ('short_description', 'description', 'author'):
            assert entry.get(key), '%s entry point %s lacks %s' % (role, name, key)
        assert entry.get('options'), '%s entry point %s has no options' % (role, name)
        for option, spec in entry['options'].items():
            assert text(spec.get('description')).strip(), '%s: %s has no description' % (role, option)
            assert spec.get('type') in TYPES, '%s: %s has no known type' % (role, option)
            if spec['type'] == 'list':
                assert spec.get('elements'), '%s: list %s does not say its elements' % (role, option)


@pytest.mark.parametrize('role', ROLES)
def test_defaults_match_the_argument_specs(role):
    defaults = load(role, 'defaults', 'main.yml')
    options = {}
    for entry in load(role, 'meta', 'argument_specs.yml')['argument_specs'].values():
        options.update(entry['options'])
    for name, value in defaults.items():
        assert name in options, '%s: %s (defaults/main.yml) is not in meta/argument_specs.yml' % (role, name)
        spec = options[name]
        if value is None or (isinstance(value, str) and '{{' in value):
            assert spec.get('default') is None, '%s: %s is computed; the spec must not claim a fixed default' % (role, name)
            words = text(spec['description']).lower()
            assert 'default' in words or 'unset' in words, '%s: %s does not say what it defaults to' % (role, name)
        else:
            assert spec.get('default') == value, '%s: %s defaults to %r, the spec says %r' % (role, name, value, spec.get('default'))


@pytest.mark.skipif(shutil.which('ansible-doc') is None, reason='ansible-doc is not on PATH')
@pytest.mark.parametrize('role', ROLES)
def test_ansible_doc_renders_every_option(role, tmp_path):
    link = tmp_path / 'ansible_collections' / 'webops' / 'tornado'
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path), ANSIBLE_NOCOLOR='1')
    out = subprocess.run(['ansible-doc', '-t', 'role', '-j', 'webops.tornado.' + role],
                         env=env, capture_output=True, text=True, check=True).stdout
    rendered = json.loads(out)['webops.tornado.' + role]['entry_points']
    specs = load(role, 'meta', 'argument_specs.yml')['argument_specs']
    assert set(rendered) == set(specs)
    for name, entry in specs.items():
        assert set(rendered[name]['options']) == set(entry['options'])
        for option, doc in rendered[name]['options'].items():
            assert doc.get('description') and doc.get('type'), '%s %s: %s renders incomplete' % (role, name, option)
