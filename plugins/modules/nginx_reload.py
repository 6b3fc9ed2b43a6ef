#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: nginx_reload
short_description: Reload nginx (start it when it is not running) and check the new configuration took effect
version_added: 0.2.0
description:
  - C(nginx -t) accepts a configuration whose listen port another process holds. On a reload, the master then
    fails to bind, logs C([emerg]), keeps the old configuration, and C(systemctl reload) still exits 0; the next
    restart takes the site down. This module reloads nginx (or starts it when its master is not running) and then
    waits until new worker processes run, every port of O(ports) is listening, and the error log has no
    C([emerg]) line since the reload. Otherwise it fails with nginx's own lines.
  - A port in use fails the reload only once the master is done with it. It tries the bind five times, 500 ms apart,
    then logs C(still could not bind()). A reload asked right after the failure, such as the one that puts the
    previous configuration back, is then not overtaken by a later try that binds a port freed meanwhile.
  - webops.tornado.nginx puts the previous configuration back and reloads again, with this module, when this fails.
options:
  service:
    description: The systemd unit of nginx.
    type: str
    default: nginx
  pid_file:
    description: nginx's pid file (the master's pid).
    type: path
    default: /run/nginx.pid
  error_log:
    description: nginx's error log, read from its size before the reload.
    type: path
    default: /var/log/nginx/error.log
  ports:
    description: Ports nginx must listen on once the reload took effect.
    type: list
    elements: int
    required: true
  timeout:
    description: Seconds the reload has to take effect.
    type: float
    default: 10
  restart:
    description:
      - Restart a running nginx instead of reloading it (after C(systemctl daemon-reload)), with the same checks. A
        worker cannot raise its open-file limit above its master's without C(CAP_SYS_RESOURCE) (as in a container),
        so a new C(worker_rlimit_nofile) above the running master's limit takes effect only through a new master.
      - A master that is not running is started either way, after C(systemctl daemon-reload), so that a unit drop-in
        written before it takes effect, and C(systemctl reset-failed), so that systemd's start limit (a unit that
        failed to start a few times within ten seconds) does not refuse the start.
    type: bool
    default: false
    version_added: 0.5.0
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
- name: Reload nginx and check it listens on 80 and 443 with the new configuration
  webops.tornado.nginx_reload:
    ports: [80, 443]
"""

RETURN = r"""
action:
  description: C(reload), C(restart) when O(restart) was set, or C(start) when the master was not running.
  returned: success
  type: str
problems:
  description: nginx's [emerg] lines, or what did not happen in time.
  returned: failure
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.webops.tornado.plugins.module_utils import nginx_reload, procs

TCP_LISTEN = '0A'


def read_pid(path):
    try:
        with open(path) as handle:
            pid = int(handle.read().strip())
        os.kill(pid, 0)
        return pid
    except (IOError, OSError, ValueError):
        return None


def listening_ports():
    ports = set()
    for name in ('tcp', 'tcp6'):
        try:
            with open('/proc/net/' + name) as handle:
                lines = handle.read().splitlines()[1:]
        except (IOError, OSError):
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == TCP_LISTEN:
                ports.add(int(fields[1].split(':')[1], 16))
    return ports


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def main():
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type='str', default='nginx'),
            pid_file=dict(type='path', default='/run/nginx.pid'),
            error_log=dict(type='path', default='/var/log/nginx/error.log'),
            ports=dict(type='list', elements='int', required=True),
            timeout=dict(type='float', default=10.0),
            restart=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if module.check_mode:
        module.exit_json(changed=True, action='restart' if params['restart'] else 'reload')
    master = read_pid(params['pid_file'])
    action = ('restart' if params['restart'] else 'reload') if master else 'start'
    before = procs.children(master)
    offset = log_size(params['error_log'])
    if action != 'reload':
        rc, out, err = module.run_command(['systemctl', 'daemon-reload'])
        if rc != 0:
            module.fail_json(msg='systemctl daemon-reload failed: %s' % (out + err).strip(), problems=[(out + err).strip()])
    if action == 'start':
        # A unit that is not failed resets to what it is; its own rc says nothing the start below does not.
        module.run_command(['systemctl', 'reset-failed', params['service']])
    rc, out, err = module.run_command(['systemctl', action, params['service']])
    if rc != 0:
        module.fail_json(msg='systemctl %s %s failed: %s' % (action, params['service'], (out + err).strip()),
                         problems=[(out + err).strip()])

    def read_log():
        try:
            with open(params['error_log'], 'rb') as handle:
                handle.seek(offset)
                return handle.read().decode('utf-8', 'replace')
        except (IOError, OSError):
            return ''

    def workers_now():
        return procs.children(read_pid(params['pid_file']))

    ok, problems = nginx_reload.wait_reloaded(before, workers_now, read_log, listening_ports, params['ports'],
                                              params['timeout'])
    if not ok:
        module.fail_json(msg='nginx did not take the new configuration (%s): %s' % (action, ' '.join(problems)),
                         problems=problems, action=action)
    module.exit_json(changed=True, action=action)


if __name__ == '__main__':
    main()
