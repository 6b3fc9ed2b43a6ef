#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: distro_packages
short_description: Install a role's distro packages with what the host's other roles still miss, in one apt transaction
version_added: 0.6.0
description:
  - An action on the controller around M(ansible.builtin.apt). It installs O(name), and with it every package of
    O(with) that is still missing (C(webops.tornado.apt_batch) chooses), so the first role of a run that has to
    install anything installs what the host's roles need in one transaction instead of one per role.
  - The installed packages come from the C(packages) fact (M(webops.tornado.host_facts) sets it, as
    M(ansible.builtin.package_facts) does). Nothing is sent to the host when O(name) is all there.
  - After installing, it reads the versions of what it installed (C(dpkg-query), in the same connection) and
    updates the C(packages) fact, so a later role of the run finds its packages there and makes no call.
options:
  name:
    description: The role's own packages.
    type: list
    elements: str
    required: true
  with:
    description: Packages the host's other roles need; installed in the same transaction when this call installs anything.
    type: list
    elements: str
    default: []
  update_cache:
    description: As M(ansible.builtin.apt)'s.
    type: bool
    default: true
  cache_valid_time:
    description: As M(ansible.builtin.apt)'s.
    type: int
    default: 86400
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: As M(ansible.builtin.apt) (the C(packages) fact is left as it was).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
seealso:
  - module: ansible.builtin.apt
  - module: webops.tornado.host_facts
"""

EXAMPLES = r"""
- name: Install nftables (and what the host's other roles need, in the same transaction)
  webops.tornado.distro_packages:
    name: [nftables]
    with: "{{ __webops_tornado_packages | default([]) }}"
  when: "'nftables' not in ansible_facts.packages | default({})"
"""

RETURN = r"""
installed:
  description: The packages this call asked apt for (empty when O(name) was all there).
  returned: always
  type: list
  elements: str
"""
