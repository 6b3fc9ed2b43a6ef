# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes as /proc and systemd show them: a master's workers (nginx_reload, haproxy_reload check a reload
started new ones), a unit's main process and its open-file limits (haproxy_reload, service_master, host_facts)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.webops.tornado.plugins.module_utils.nofile import parse_nofile_limits


def children(pid, proc='/proc'):
    """The pids whose parent is ``pid`` (a master's workers); none for no pid."""
    found = []
    if not pid:
        return found
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, 'stat')) as handle:
                # The command name, in parentheses, may hold spaces and parentheses: the fields follow the last ')'.
                fields = handle.read().rsplit(')', 1)[1].split()
        except (IOError, OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == int(pid):
            found.append(int(entry))
    return found


def main_pid(module, service):
    """The pid of a systemd unit's main process (``MainPID``), 0 when none runs or systemctl cannot say."""
    rc, out, dummy = module.run_command(['systemctl', 'show', '--property', 'MainPID', '--value', '--', service])
    try:
        return int(out.strip()) if rc == 0 else 0
    except ValueError:
        return 0


def nofile_limits(pid, proc='/proc'):
    """A process's (soft, hard) open-file limits, None for unlimited; (None, None) when they cannot be read."""
    try:
        with open(os.path.join(proc, str(pid), 'limits')) as handle:
            return parse_nofile_limits(handle.read())
    except (IOError, OSError, ValueError):
        return None, None
