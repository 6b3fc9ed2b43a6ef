# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for webops.tornado.distro_packages: ansible.builtin.apt for a role's packages and, in the same
transaction, what the host's other roles still miss; then the packages fact is brought up to date."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shlex

from ansible.errors import AnsibleActionFail
from ansible.module_utils.six import string_types
from ansible.plugins.action import ActionBase
from ansible_collections.webops.tornado.plugins.plugin_utils.host_checks import apt_batch

# One line per package: what host_facts reads from dpkg's status file.
_QUERY_FORMAT = '${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Status}\\n'


def parse_query(out):
    """dpkg-query's lines (package, version, arch, status) -> {name: [package_facts entry]}, installed ones only."""
    found = {}
    for line in (out or '').splitlines():
        fields = line.split('\t')
        if len(fields) == 4 and fields[0] and fields[3] == 'installed':
            entry = {'name': fields[0], 'version': fields[1], 'arch': fields[2], 'source': 'apt'}
            found.setdefault(fields[0], []).append(entry)
    return found


def names(value, option):
    valid = isinstance(value, (list, tuple)) and all(isinstance(item, string_types) and item for item in value)
    if isinstance(value, string_types) or not valid:
        raise AnsibleActionFail('%s: a list of package names is required' % option)
    return list(value)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('name', 'with', 'update_cache', 'cache_valid_time'))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        own = names(args.get('name'), 'name')
        others = names(args.get('with') or [], 'with')
        facts = task_vars.get('ansible_facts') or {}
        known = dict(facts.get('packages') or {})
        batch = apt_batch(own, others, known)
        result.update(changed=False, installed=batch)
        if not batch:
            return result
        update = bool(args.get('update_cache', True))
        module_args = {'name': batch, 'state': 'present', 'update_cache': update,
                       'cache_valid_time': int(args.get('cache_valid_time', 86400))}
        apt = self._execute_module(module_name='ansible.builtin.apt', task_vars=task_vars, module_args=module_args)
        if update and apt.get('failed') and 'No package matching' in str(apt.get('msg', '')):
            # apt's lists are gone but their directory is recent (an image that ran apt-get update, then removed the
            # lists to be small): apt takes the cache for valid by its date. Update it now, once.
            apt = self._execute_module(module_name='ansible.builtin.apt', task_vars=task_vars,
                                       module_args=dict(module_args, cache_valid_time=0))
        result.update(apt)
        result['installed'] = batch
        # In check mode nothing was installed: the fact stays as read (a later role reports its own again).
        if apt.get('failed') or self._task.check_mode:
            return result
        query = self._low_level_execute_command(
            'dpkg-query -W -f %s %s' % (shlex.quote(_QUERY_FORMAT), ' '.join(shlex.quote(name) for name in batch)),
            sudoable=False)
        known.update(parse_query(query.get('stdout')))
        result['ansible_facts'] = {'packages': known}
        return result
