# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reshaping for webops.tornado.supervisor: process groups into what its modules take."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def log_dirs(groups, mode='0750'):
    """One webops.tornado.files directory item per group's log directory: owned by root, readable by the group's own
    group."""
    return [{'dest': group['log_dir'], 'state': 'directory', 'owner': 'root', 'group': group.get('group') or group['user'],
             'mode': mode}
            for group in groups]


def group_files(groups, src, conf_dir='/etc/supervisor/conf.d'):
    """One webops.tornado.files entry per process group: its file in conf_dir rendered from the template src with
    the group as ``group`` (root's, 0644, a copy kept of the file it replaces)."""
    return [{'src': src, 'vars': {'group': group},
             'dest': '%s/webops-tornado-%s.conf' % (conf_dir.rstrip('/'), group['name']),
             'owner': 'root', 'group': 'root', 'mode': '0644', 'backup': True}
            for group in groups]


class FilterModule(object):
    """webops.tornado supervisor filters."""

    def filters(self):
        return {'log_dirs': log_dirs, 'group_files': group_files}
