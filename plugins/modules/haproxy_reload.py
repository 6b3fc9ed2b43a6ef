#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: haproxy_reload
short_description: Reload or restart HAProxy and check a new worker took the configuration, or put the previous file back
version_added: 0.5.0
description:
  - C(haproxy -c) accepts a configuration whose port another process holds, or whose open-file limit the master
    cannot raise. On a reload (SIGUSR2 to the master, as Debian's unit sends it), the master then logs
    C([ALERT]) and C(Loading failure!), keeps its old workers with the old configuration, and C(systemctl reload)
    has already exited 0; the old workers still hold every old port.
  - This module reloads HAProxy (restarts it with O(restart), starts it when its master is not running) and waits
    until a new worker (a new child of the master) runs. Otherwise it fails with HAProxy's own lines from the unit's
    journal.
  - Before a start, the unit's failed state is reset (C(systemctl reset-failed)). After a restart that failed,
    Debian's unit (C(Restart=always)) starts HAProxy again a few times within a second and then hits systemd's start
    limit, which refuses any C(systemctl start) for ten seconds; the start here is the one meant to bring the previous
    configuration back.
  - When it fails and O(backup) is given (the file the new configuration replaced), that file is put back over
    O(config), so the file on disk is the configuration that runs, and the next run writes and reloads the new
    one again. On success O(backup) is removed.
options:
  service:
    description: The systemd unit of HAProxy (master-worker mode, C(-Ws)).
    type: str
    default: haproxy
  config:
    description: HAProxy's configuration file, where O(backup) goes back when the reload fails.
    type: path
    default: /etc/haproxy/haproxy.cfg
  backup:
    description: The previous configuration file (as M(ansible.builtin.template) with C(backup) leaves it), or none.
    type: path
  timeout:
    description: Seconds a new worker has to appear (HAProxy retries a busy port for about two seconds).
    type: float
    default: 10
  restart:
    description:
      - Restart a running HAProxy instead of reloading it, after C(systemctl daemon-reload), with the same check. A
        reload keeps the environment the master started with (the stats password of webops.tornado.haproxy) and its
        open-file limit; a unit drop-in or environment file put back takes effect only through a new master.
      - A master that is not running is started either way; with O(restart), after C(systemctl daemon-reload) too.
    type: bool
    default: false
    version_added: 0.6.0
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode nothing is reloaded; the module reports a change.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Write the config, keeping the previous one
  ansible.builtin.template:
    src: haproxy.cfg.j2
    dest: /etc/haproxy/haproxy.cfg
    validate: haproxy -c -f %s
    backup: true
  register: config

- name: Reload HAProxy and check it took the new config (the previous file goes back otherwise)
  webops.tornado.haproxy_reload:
    backup: "{{ config.backup_file | default(omit) }}"
  when: config is changed
"""

RETURN = r"""
action:
  description: C(reload) (C(restart) with O(restart)), or C(start) when the master was not running.
  returned: always
  type: str
restored:
  description: Whether O(backup) was put back over O(config) (the reload failed).
  returned: failure
  type: bool
problems:
  description: HAProxy's C([ALERT]) and failure lines since the reload, or what did not happen in time.
  returned: failure
  type: list
  elements: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.webops.tornado.plugins.module_utils import haproxy_reload, procs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type='str', default='haproxy'),
            config=dict(type='path', default='/etc/haproxy/haproxy.cfg'),
            backup=dict(type='path'),
            timeout=dict(type='float', default=10.0),
            restart=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    service, backup = params['service'], params['backup']
    master = procs.main_pid(module, service)
    action = ('restart' if params['restart'] else 'reload') if master else 'start'
    if module.check_mode:
        module.exit_json(changed=True, action=action)
    before = procs.children(master)
    since = time.time()

    def read_journal():
        dummy, out, dummy = module.run_command(['journalctl', '--unit', service, '--output', 'cat', '--no-pager',
                                               '--since', '@%.6f' % since])
        return out

    def give_up(problems):
        restored = bool(backup) and os.path.exists(backup)
        if restored:
            os.rename(backup, params['config'])
        module.fail_json(
            msg='HAProxy did not take the new config (%s), so %s: %s' % (
                action, 'the previous config file is back in place, as the one still in force' if restored
                else 'the files on disk are not the ones in force', ' / '.join(problems)),
            problems=problems, action=action, restored=restored)

    if params['restart']:
        rc, out, err = module.run_command(['systemctl', 'daemon-reload'])
        if rc != 0:
            give_up(['systemctl daemon-reload: %s' % (out + err).strip()])
    if action == 'start':
        # A unit that is not failed resets to what it is; its own rc says nothing the start below does not.
        module.run_command(['systemctl', 'reset-failed', service])
    rc, out, err = module.run_command(['systemctl', action, service])
    if rc != 0:
        give_up(['systemctl %s %s: %s' % (action, service, (out + err).strip())]
                + haproxy_reload.problems(read_journal()))
    ok, problems = haproxy_reload.wait_reloaded(before, lambda: procs.children(procs.main_pid(module, service)),
                                                read_journal, params['timeout'])
    if not ok:
        give_up(problems)
    if backup and os.path.exists(backup):
        os.remove(backup)
    module.exit_json(changed=True, action=action)


if __name__ == '__main__':
    main()
