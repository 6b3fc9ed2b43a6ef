# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
name: inputs_digest
short_description: One SHA-256 over a role's input values, as its tasks would see them
version_added: 0.5.0
description:
  - Templates every variable named by O(_terms) (and, for each host of O(hosts), the variables named by
    O(host_vars)) and returns one SHA-256 digest of the result.
  - The roles keep the digest of the inputs their C(validate) tasks accepted in a fact. A later pass of
    the same role in the same run (C(playbooks/site.yml) checks every role in its first play, then runs the
    roles) skips those tasks when the digest is the same, and checks again when any value differs.
  - A value that cannot be templated gives a digest that matches nothing, so the checks run and report it.
  - The digest lives in the run's memory only (a fact that is never cached), and is taken over all the
    role's values together; it does not hold any value.
options:
  _terms:
    description:
      - Variable names. A name that ends in C(_) stands for every variable that begins with it (C(app_)
        is every input of webops.tornado.app); internal names (C(__app_...)) never match a prefix.
    required: true
    type: list
    elements: str
  exclude:
    description: Names left out (an output of the role that shares its prefix, such as C(app_export)).
    type: list
    elements: str
    default: []
  hosts:
    description: Other hosts whose O(host_vars) the checks also read (the app hosts behind a load balancer).
    type: list
    elements: str
    default: []
  host_vars:
    description: The variables read from each of O(hosts).
    type: list
    elements: str
    default: []
author:
  - webops.tornado contributors (@webops)
"""

EXAMPLES = r"""
- name: Check the input unless this run already checked the same values
  ansible.builtin.include_tasks: validate.yml
  when: __app_checked | default('') != lookup('webops.tornado.inputs_digest', 'app_', exclude=['app_export'])
"""

RETURN = r"""
_raw:
  description: One hex SHA-256 digest (or a value that matches no digest, when something could not be templated).
  type: list
  elements: str
"""

import hashlib
import json
import uuid

from ansible.plugins.lookup import LookupBase


def select_names(available, terms, exclude=()):
    """The variable names the terms stand for, sorted: exact names, and every name a `prefix_` term begins."""
    skip = set(exclude)
    chosen = set()
    for term in terms:
        if term.endswith('_'):
            chosen.update(name for name in available if name.startswith(term))
        elif term in available:
            chosen.add(term)
    return sorted(name for name in chosen if name not in skip)


def digest(values):
    """SHA-256 of a canonical JSON form: the same values give the same digest, in any order of keys."""
    text = json.dumps(values, sort_keys=True, separators=(',', ':'), default=repr)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def unmatched():
    """A value no stored digest equals: whoever compares it runs the checks again."""
    return 'unchecked-%s' % uuid.uuid4().hex


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        # Anything that fails to template is exactly what the checks are for: they run and say it.
        try:
            self.set_options(var_options=variables, direct=kwargs)
            names = select_names(variables, terms, self.get_option('exclude'))
            host_vars = self.get_option('host_vars')
            values = {'vars': dict((name, self._templar.template(variables[name])) for name in names)}
            if host_vars:
                hostvars = variables.get('hostvars', {})
                values['hosts'] = {}
                for host in self.get_option('hosts'):
                    found = hostvars[host] if host in hostvars else {}
                    values['hosts'][host] = dict(
                        (name, self._templar.template(found[name]) if name in found else None) for name in host_vars)
            return [digest(values)]
        except Exception:  # pylint: disable=broad-except
            return [unmatched()]
