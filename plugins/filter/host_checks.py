# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over webops.tornado.host_facts: what the input would collide with on the host."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.webops.tornado.plugins.plugin_utils import host_checks
from ansible_collections.webops.tornado.plugins.plugin_utils import inputs


def account_problems(host, user, group, home, name=None):
    return host_checks.account_problems(host, user, group, home, name=name)


def port_conflicts(listeners, ports, variable, owners=(), processes=()):
    return host_checks.port_conflicts(listeners, ports, variable, owners=owners, processes=processes)


def unit_state(host, unit):
    return host_checks.unit_state(host, unit)


def nofile_ceiling(host, requested, conf_path):
    return host_checks.nofile_ceiling(host, requested, conf_path)


def input_errors(values, rules, prefix=''):
    return inputs.errors(rules, values, prefix=prefix)


class FilterModule(object):
    """webops.tornado host and input checks."""

    def filters(self):
        return {
            'account_problems': account_problems,
            'port_conflicts': port_conflicts,
            'input_errors': input_errors,
            'unit_state': unit_state,
            'nofile_ceiling': nofile_ceiling,
        }
