# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several apps on one machine: the inventory lists the machine once per app (an inventory name per app, each
with its own app_name and the machine's ansible_host). These filters tell which inventory names are one
machine, and what two apps of one machine must not share."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.webops.tornado.plugins.plugin_utils.machine import machine, machines

# What two apps of one machine must each have of their own: app_export's key, the variable that sets it.
_OWN = (('name', 'app_name'), ('user', 'app_user'), ('group', 'app_group'), ('home', 'app_home'),
        ('config_dir', 'app_config_dir'), ('log_dir', 'app_log_dir'))


def same_machine(hosts, hostvars, host, machines=None):
    """The names among ``hosts`` that reach the machine ``host`` reaches (``host`` too, when listed), in order.
    ``machines``: webops.tornado.machines' map, which answers for the names it holds without hostvars."""
    key = machine(host, hostvars, machines)
    return [name for name in hosts if machine(name, hostvars, machines) == key]


def machine_exports(hosts, hostvars, host, machines=None):
    """The app_export of every name among ``hosts`` on ``host``'s machine that published one, in order."""
    found = []
    for name in same_machine(hosts, hostvars, host, machines):
        facts = hostvars[name]
        if 'app_export' in facts:
            found.append(facts['app_export'])
    return found


def _ports(export):
    return set(int(item['port']) for key in ('backends', 'programs') for item in export.get(key) or [])


def _value(facts, name):
    return facts[name] if name in facts else None


def machine_problems(hosts, hostvars, host, shared=None, machines=None):
    """Why ``host``'s app cannot run beside the other apps of its machine, as sentences naming the variables;
    [] when it can. Each app of one machine has its own name, user, group, home, config and log directories and
    ports (app_export); the machine's own settings (``shared``: variable names such as limits_nofile) are the same
    for each of its names, as one file or one supervisord holds them."""
    own = hostvars[host]  # once: each hostvars[name] computes that host's whole variable set
    if 'app_export' not in own:
        return []
    mine = own['app_export']
    key = machine(host, hostvars, machines)
    found = []
    for other in same_machine(hosts, hostvars, host, machines):
        if other == host:
            continue
        facts = hostvars[other]
        if 'app_export' not in facts:
            continue
        theirs = facts['app_export']
        clash = ['%s %s' % (variable, mine.get(field)) for field, variable in _OWN
                 if mine.get(field) is not None and mine.get(field) == theirs.get(field)]
        ports = sorted(_ports(mine) & _ports(theirs))
        if ports:
            clash.append('app_ports %s' % ', '.join(str(port) for port in ports))
        if clash:
            found.append('%s and %s are one machine (%s): their apps %s and %s must not share %s.'
                         % (host, other, key, mine.get('name'), theirs.get('name'), '; '.join(clash)))
        differ = [name for name in shared or [] if _value(own, name) != _value(facts, name)]
        if differ:
            found.append('%s and %s are one machine (%s), so they must give it the same %s (set them for the machine, '
                         'e.g. on a group of both, not on one name).' % (host, other, key, ', '.join(differ)))
    return found


class FilterModule(object):
    """webops.tornado filters of several apps on one machine."""

    def filters(self):
        return {'machine': machine, 'machines': machines, 'same_machine': same_machine, 'machine_exports': machine_exports,
                'machine_problems': machine_problems}
