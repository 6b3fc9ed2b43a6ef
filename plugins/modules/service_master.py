#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_master
short_description: Read what a running service's main process holds that a reload does not change
version_added: 0.6.0
description:
  - Reads the open-file limit of a systemd unit's main process (C(MainPID)) and, with O(variable), whether the
    value of that environment variable the process started with is the one O(environment_file) holds now.
  - A reload keeps both (nginx's and HAProxy's masters re-execute themselves with the limit and environment they
    started with, and cannot raise the limit without C(CAP_SYS_RESOURCE)), so a role reads them to know whether a
    restart is owed, including one a run that stopped early did not make.
  - The variable's value is compared on the host and never returned (it may be a password).
  - Changes nothing on the host.
options:
  service:
    description: The systemd unit.
    type: str
    required: true
  environment_file:
    description: A systemd environment file (C(NAME=value) lines), where O(variable) has the value the service should have.
    type: path
  variable:
    description: The environment variable to compare; requires O(environment_file).
    type: str
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads only.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Read the running HAProxy master's open-file limit and whether its stats credentials are the file's
  webops.tornado.service_master:
    service: haproxy
    environment_file: /etc/haproxy/webops-tornado/environment
    variable: WEBOPS_TORNADO_STATS_AUTH
  register: master

- name: Restart HAProxy when its master has another limit or password
  ansible.builtin.systemd_service:
    name: haproxy
    state: restarted
  when: master.running and (master.nofile != 65536 or not master.environment_same)
"""

RETURN = r"""
running:
  description: Whether the unit has a main process.
  returned: always
  type: bool
pid:
  description: The main process's pid, 0 when none runs.
  returned: always
  type: int
nofile:
  description: The main process's soft open-file limit; null when none runs or its limits cannot be read.
  returned: always
  type: int
nofile_hard:
  description: The main process's hard open-file limit; null as for RV(nofile).
  returned: always
  type: int
environment_same:
  description:
    - Whether O(variable) in the main process's environment has the value O(environment_file) gives it (both unset
      counts as the same); null when none runs or its environment cannot be read.
  returned: when O(variable) is given
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.webops.tornado.plugins.module_utils import procs


def process_variable(pid, name, proc='/proc'):
    """The value of ``name`` in a process's initial environment (bytes), None when unset; raises when unreadable."""
    with open(os.path.join(proc, str(pid), 'environ'), 'rb') as handle:
        entries = handle.read().split(b'\0')
    prefix = name.encode('utf-8') + b'='
    found = [entry[len(prefix):] for entry in entries if entry.startswith(prefix)]
    return found[-1] if found else None


def file_variable(path, name):
    """The value systemd gives ``name`` from an environment file of plain NAME=value lines (bytes), None when unset.

    Only the form the collection writes is read exactly (no quotes, no continuation lines); a quoted value differs
    from what systemd passes, which makes the service look owed a restart, never the other way round.
    """
    prefix = name.encode('utf-8') + b'='
    value = None
    try:
        with open(path, 'rb') as handle:
            for line in handle.read().splitlines():
                if line.startswith(prefix):
                    value = line[len(prefix):]
    except (IOError, OSError):
        return None
    return value


def main():
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type='str', required=True),
            environment_file=dict(type='path'),
            variable=dict(type='str'),
        ),
        required_by=dict(variable='environment_file'),
        supports_check_mode=True,
    )
    params = module.params
    pid = procs.main_pid(module, params['service'])
    soft, hard = procs.nofile_limits(pid) if pid else (None, None)
    result = dict(changed=False, running=bool(pid), pid=pid, nofile=soft, nofile_hard=hard)
    if params['variable']:
        same = None
        if pid:
            try:
                same = process_variable(pid, params['variable']) == file_variable(params['environment_file'],
                                                                                  params['variable'])
            except (IOError, OSError):
                same = None
        result['environment_same'] = same
    module.exit_json(**result)


if __name__ == '__main__':
    main()
