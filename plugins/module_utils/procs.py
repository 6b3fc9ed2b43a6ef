# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes as /proc shows them, for the modules that check a reload started new workers (nginx_reload,
haproxy_reload)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os


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
