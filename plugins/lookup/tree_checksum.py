# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
name: tree_checksum
short_description: SHA-256 of a directory tree on the controller, by content
version_added: 0.1.0
description:
  - Returns one SHA-256 per given directory, computed over every file's relative path, mode (executable
    or not) and content, in sorted order. File times are ignored, so the same tree always gives the same
    checksum wherever and whenever it was copied.
  - Version-control folders, Python byte code and editor droppings are skipped (see O(exclude)).
  - webops.tornado.app uses it to tell whether a local source directory is already deployed.
options:
  _terms:
    description: Directories on the controller.
    required: true
    type: list
    elements: path
  exclude:
    description: Names (files or folders, at any depth) to skip.
    type: list
    elements: str
    default: ['.git', '.hg', '.svn', '__pycache__', '.pytest_cache', '.mypy_cache', '.tox', '.venv', '.DS_Store']
author:
  - webops.tornado contributors (@webops)
"""

EXAMPLES = r"""
- name: Fingerprint the app's source directory
  ansible.builtin.debug:
    msg: "{{ lookup('webops.tornado.tree_checksum', '/home/me/src/myapp') }}"
"""

RETURN = r"""
_raw:
  description: One hex SHA-256 digest per directory.
  type: list
  elements: str
"""

import hashlib
import os
import stat

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.webops.tornado.plugins.plugin_utils.source_tree import DEFAULT_EXCLUDE, left_out


def tree_checksum(top, exclude=None):
    """Hash relative paths, executable bits and contents of every file below `top`, sorted."""
    skip = set(DEFAULT_EXCLUDE if exclude is None else exclude)
    if not os.path.isdir(top):
        raise ValueError("%s is not a directory" % top)
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(top, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not left_out(d, skip, is_dir=True))
        for name in sorted(files):
            if left_out(name, skip):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, top).replace(os.sep, '/')
            executable = bool(os.stat(path).st_mode & stat.S_IXUSR)
            digest.update(("%s\0%d\0" % (rel, executable)).encode('utf-8'))
            with open(path, 'rb') as handle:
                for block in iter(lambda: handle.read(65536), b''):
                    digest.update(block)
            digest.update(b'\0')
    return digest.hexdigest()


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        exclude = self.get_option('exclude')
        results = []
        for term in terms:
            try:
                results.append(tree_checksum(term, exclude))
            except (OSError, ValueError) as exc:
                raise AnsibleLookupError("tree_checksum: cannot read %s: %s" % (term, exc))
        return results
