# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the tree_checksum lookup."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from ansible_collections.webops.tornado.plugins.lookup import tree_checksum as plugin


def make_tree(base, files):
    for rel, content in files.items():
        path = os.path.join(str(base), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as handle:
            handle.write(content)
    return str(base)


def test_same_content_same_checksum_regardless_of_mtime(tmp_path):
    a = make_tree(tmp_path / 'a', {'app.py': 'print(1)\n', 'static/x.css': 'body{}'})
    b = make_tree(tmp_path / 'b', {'static/x.css': 'body{}', 'app.py': 'print(1)\n'})
    os.utime(os.path.join(b, 'app.py'), (0, 0))
    assert plugin.tree_checksum(a) == plugin.tree_checksum(b)


def test_content_change_changes_checksum(tmp_path):
    a = make_tree(tmp_path / 'a', {'app.py': 'print(1)\n'})
    before = plugin.tree_checksum(a)
    make_tree(tmp_path / 'a', {'app.py': 'print(2)\n'})
    assert plugin.tree_checksum(a) != before


def test_rename_changes_checksum(tmp_path):
    a = make_tree(tmp_path / 'a', {'one.py': 'x'})
    b = make_tree(tmp_path / 'b', {'two.py': 'x'})
    assert plugin.tree_checksum(a) != plugin.tree_checksum(b)


def test_executable_bit_counts(tmp_path):
    a = make_tree(tmp_path / 'a', {'run.sh': 'echo'})
    before = plugin.tree_checksum(a)
    os.chmod(os.path.join(a, 'run.sh'), 0o755)
    assert plugin.tree_checksum(a) != before


def test_excluded_names_are_ignored(tmp_path):
    a = make_tree(tmp_path / 'a', {'app.py': 'x'})
    before = plugin.tree_checksum(a)
    make_tree(tmp_path / 'a', {'.git/HEAD': 'ref', '__pycache__/app.cpython-311.pyc': 'bytes', 'mod.pyc': 'b'})
    assert plugin.tree_checksum(a) == before


def test_lookup_runs_and_reports_missing_dir(tmp_path):
    a = make_tree(tmp_path / 'a', {'app.py': 'x'})
    lookup = lookup_loader.get('webops.tornado.tree_checksum')
    assert lookup.run([a]) == [plugin.tree_checksum(a)]
    with pytest.raises(AnsibleLookupError, match='cannot read'):
        lookup.run([str(tmp_path / 'missing')])
