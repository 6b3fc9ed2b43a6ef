# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which machine an inventory name reaches: several apps on one machine are one inventory name per app with the
machine's ansible_host (webops.tornado.machine and the filters beside it; nginx_sites for loopback)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def machine(host, hostvars, machines=None):
    """The machine the inventory name ``host`` reaches: its ``ansible_host`` (the name itself without one),
    with ``:ansible_port`` when that is set (two machines behind one address answer on different ports).

    ``machines`` ({name: machine}, webops.tornado.machines) answers for the names it holds without hostvars."""
    if machines and host in machines:
        return machines[host]
    facts = hostvars[host]
    address = str(facts['ansible_host']) if 'ansible_host' in facts else str(host)
    port = facts['ansible_port'] if 'ansible_port' in facts else None
    return address if port in (None, '') else '%s:%s' % (address, port)


def machines(hosts, hostvars):
    """{name: machine} for each of ``hosts``: what machine() answers, computed once."""
    return dict((host, machine(host, hostvars)) for host in hosts)
