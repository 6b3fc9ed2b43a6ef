# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What of an app's source directory makes a release: the one rule the fingerprint (webops.tornado.tree_checksum)
and the copy (webops.tornado.copy_tree) share, so a release holds exactly what its fingerprint covers."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Version control, caches and virtualenvs of a developer's checkout: never part of a release.
DEFAULT_EXCLUDE = ['.git', '.hg', '.svn', '__pycache__', '.pytest_cache', '.mypy_cache', '.tox', '.venv', '.DS_Store']
# Compiled Python, at any depth, whatever is excluded by name.
COMPILED = ('.pyc', '.pyo')


def left_out(name, exclude, is_dir=False):
    """Whether the file or directory called ``name`` (its own name) is left out of a release."""
    return name in exclude or (not is_dir and name.endswith(COMPILED))
