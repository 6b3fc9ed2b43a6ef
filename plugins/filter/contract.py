# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app_export contract (module_utils/app_export.py), checked where the fact is consumed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.webops.tornado.plugins.module_utils import app_export


def app_export_problems(hosts, hostvars, consumer='this role'):
    """One sentence per problem with the app_export fact of each of ``hosts``, naming the host and the
    key; [] when every host published one that fits the contract."""
    found = []
    for host in hosts:
        facts = hostvars[host] if host in hostvars else {}
        if 'app_export' not in facts:
            found.append('%s has no app_export fact: run webops.tornado.app on %s in the same play run before %s '
                         '(its facts entry point publishes it without changing the host).' % (host, host, consumer))
            continue
        problems = app_export.problems(facts['app_export'])
        if problems:
            found.append('app_export of %s does not fit the contract (docs/architecture.md; webops.tornado.app and its '
                         'facts entry point publish it): %s.' % (host, '; '.join(problems)))
    return found


class FilterModule(object):
    """webops.tornado contract filters."""

    def filters(self):
        return {'app_export_problems': app_export_problems}
