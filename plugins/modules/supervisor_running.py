#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: supervisor_running
short_description: Check that supervisord runs every program of a group with its configured command
version_added: 0.2.0
description:
  - After C(supervisorctl update), waits until every program of O(group) is C(RUNNING) and the command line of
    its process is the configured one, and fails, with each program's state and the end of its log, when a
    program ends up C(FATAL), C(EXITED) or missing, or when O(timeout) passes.
  - >-
    webops.tornado.supervisor runs it after every change of a group, and puts the previous group back when it fails:
    a configuration supervisord accepted but cannot run never stays live.
options:
  group:
    description: The supervisord group.
    type: str
    required: true
  programs:
    description: The programs of the group as configured.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Program name inside the group.
        type: str
        required: true
      command:
        description: The C(command=) of the program (split as supervisord splits it).
        type: str
        required: true
      expect_argv:
        description:
          - The command line the running process must show, when it is not the configured command (a launcher that
            executes the app's own program, as for C(app_entry=command)).
        type: list
        elements: str
      directory:
        description: Accepted and ignored (the shape of a program in C(app_export)).
        type: str
      port:
        description: Accepted and ignored (the shape of a program in C(app_export)).
        type: int
  timeout:
    description: Seconds the programs have to be running.
    type: float
    default: 30
  log_lines:
    description: Bytes of each failing program's log to include in the failure message.
    type: int
    default: 1500
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads only; in check mode nothing is waited for.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Check supervisord runs the demo group as configured
  webops.tornado.supervisor_running:
    group: demo
    programs:
      - name: demo-8000
        command: /srv/demo/current/venv/bin/python /srv/demo/launcher/webops_tornado_launcher.py --config /etc/tornado/demo/launcher.json --port 8000
"""

RETURN = r"""
status:
  description: Program name to its last C(supervisorctl status) state.
  returned: always
  type: dict
problems:
  description: What is wrong, one sentence per program.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.webops.tornado.plugins.module_utils import supervisor_status
from ansible_collections.webops.tornado.plugins.module_utils.supervisor_rpc import runner


def main():
    module = AnsibleModule(
        argument_spec=dict(
            group=dict(type='str', required=True),
            programs=dict(type='list', elements='dict', required=True,
                          options=dict(name=dict(type='str', required=True), command=dict(type='str', required=True),
                                       directory=dict(type='str'), port=dict(type='int'),
                                       expect_argv=dict(type='list', elements='str'))),
            timeout=dict(type='float', default=30.0),
            log_lines=dict(type='int', default=1500),
        ),
        supports_check_mode=True,
    )
    group = module.params['group']
    if module.check_mode:
        module.exit_json(changed=False, status={})

    supervisorctl = runner(module.run_command)

    def status_text():
        _rc, out, err = supervisorctl(['status', group + ':*'])
        return supervisor_status.parse_status(out + '\n' + err, group)

    def cmdline_of(pid):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as handle:
                data = handle.read()
        except (IOError, OSError):
            return None
        # Every argument ends with a NUL, so an empty argument ('') is a NUL of its own: keep it.
        if data.endswith(b'\0'):
            data = data[:-1]
        return [arg.decode('utf-8', 'replace') for arg in data.split(b'\0')] if data else []

    ok, problems, status = supervisor_status.wait_running(module.params['programs'], status_text, cmdline_of,
                                                          module.params['timeout'])
    states = dict((name, state) for name, (state, _pid, _rest) in status.items())
    if ok:
        module.exit_json(changed=False, status=states)
    logs = []
    for program in module.params['programs']:
        if states.get(program['name']) != 'RUNNING':
            _rc, out, _err = module.run_command(['supervisorctl', 'tail', '-%d' % module.params['log_lines'],
                                                 '%s:%s' % (group, program['name'])])
            logs.append('--- %s:%s log ---\n%s' % (group, program['name'], out.strip()))
    module.fail_json(msg='supervisord does not run group %s as configured: %s\n%s' % (group, '; '.join(problems), '\n'.join(logs)),
                     status=states, problems=problems)


if __name__ == '__main__':
    main()
