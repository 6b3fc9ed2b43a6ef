#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_status
short_description: Report each Tornado process of an app on this host
version_added: 0.2.0
description:
  - For each supervisord program of the app, what supervisord says (state, pid), what the kernel says
    (uptime, resident memory, open files against the process's own limit) and what its health path
    answers (status and latency), plus the release that is current (id, source, version).
  - Changes nothing. Used by the playbook webops.tornado.status (through the app role's C(status) entry point).
options:
  group:
    description: The app's supervisord group (its name).
    type: str
    required: true
  programs:
    description: The group's programs, each with C(name) and C(port) (app_export.programs).
    type: list
    elements: dict
    required: true
  address:
    description: The address the processes listen on (a wildcard is asked on loopback).
    type: str
    default: 127.0.0.1
  health_path:
    description: The path every process answers 200 on.
    type: str
    required: true
  current:
    description: The app's current release symlink.
    type: path
    required: true
  timeout:
    description: Seconds a health request may take.
    type: float
    default: 5
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Report the app's processes
  webops.tornado.app_status:
    group: "{{ app_export.name }}"
    programs: "{{ app_export.programs }}"
    health_path: "{{ app_export.health_path }}"
    current: "{{ app_export.home }}/current"
  register: status
"""

RETURN = r"""
release:
  description: The current release (RELEASE.json's id, source, version, tornado, created); empty when there is none.
  returned: always
  type: dict
processes:
  description: One entry per program, with program, port, state, pid, uptime_s, rss_kb, open_files, nofile_limit,
    health_status, health_ms and health_error.
  returned: always
  type: list
  elements: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.webops.tornado.plugins.module_utils import status as app_status
from ansible_collections.webops.tornado.plugins.module_utils.supervisor_status import parse_status
from ansible_collections.webops.tornado.plugins.module_utils.supervisor_rpc import runner


def main():
    module = AnsibleModule(
        argument_spec=dict(
            group=dict(type='str', required=True),
            programs=dict(type='list', elements='dict', required=True),
            address=dict(type='str', default='127.0.0.1'),
            health_path=dict(type='str', required=True),
            current=dict(type='path', required=True),
            timeout=dict(type='float', default=5.0),
        ),
        supports_check_mode=True,
    )
    group = module.params['group']
    rc, out, err = runner(module.run_command)(['status', group + ':*'])
    supervised = parse_status(out, group)
    release = {}
    try:
        with open(os.path.join(module.params['current'], 'RELEASE.json')) as handle:
            found = json.load(handle)
        release = dict((key, found.get(key)) for key in ('id', 'source', 'version', 'tornado', 'created', 'entry'))
    except (IOError, OSError, ValueError):
        pass
    processes = []
    for program in module.params['programs']:
        state, pid, _rest = supervised.get(program['name'], ('MISSING', None, ''))
        entry = {'program': program['name'], 'port': program.get('port'), 'state': state, 'pid': pid}
        entry.update(app_status.process(pid) if pid else
                     {'uptime_s': None, 'rss_kb': None, 'open_files': None, 'nofile_limit': None})
        address = module.params['address']
        if address in ('0.0.0.0', '::', '*', ''):
            address = '127.0.0.1'
        answer = app_status.health('http://%s:%s%s' % (app_status.url_host(address), program.get('port'),
                                                       module.params['health_path']), module.params['timeout'])
        entry.update(health_status=answer['status'], health_ms=answer['ms'], health_error=answer['error'])
        processes.append(entry)
    module.exit_json(changed=False, release=release, processes=processes,
                     supervisorctl_error=err.strip() if rc not in (0, 3) else '')


if __name__ == '__main__':
    main()
