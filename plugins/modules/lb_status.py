#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: lb_status
short_description: Report every backend as this load balancer sees it
version_added: 0.2.0
description:
  - For each backend nginx proxies to, the health path's answer from this host (the address nginx dials,
    through any firewall in between) and whether nginx logged it as temporarily disabled (a passive
    health check failed, so nginx skips it for fail_timeout) within the last O(window) seconds of its error log.
  - Open-source nginx has no API for its upstreams' state; its own log line is what it says about them.
  - Behind HAProxy (O(haproxy_socket)), each backend's state, sessions and last check as HAProxy reports them
    through its runtime API instead.
  - Changes nothing. Used by the playbook webops.tornado.status (through the nginx role's C(status) entry point).
options:
  backends:
    description:
      - The backends, each with C(host), C(address) (the one nginx dials) and C(port), and optionally C(health_path),
        which replaces O(health_path) for that backend (several apps behind one load balancer).
    type: list
    elements: dict
    required: true
  health_path:
    description: The path every backend answers 200 on, unless the backend names its own.
    type: str
    required: true
  error_log:
    description: nginx's error log.
    type: path
    default: /var/log/nginx/error.log
  haproxy_socket:
    description:
      - HAProxy's admin socket. Given, each backend's C(haproxy_backend) and C(haproxy_server) name the server whose
        state, current sessions and last check result are reported (C(show stat)); the error log is not read.
    type: path
    version_added: 0.5.0
  window:
    description: Seconds of the error log to read for disabled backends.
    type: int
    default: 60
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
- name: Report the backends as nginx sees them
  webops.tornado.lb_status:
    backends: [{host: web1, address: 10.0.0.11, port: 8000}]
    health_path: /health
  register: status
"""

RETURN = r"""
backends:
  description: One entry per backend, with host, address, port, health_status, health_ms, health_error and
    disabled_s_ago (seconds since nginx last disabled it within the window, or null); behind HAProxy, haproxy
    (status, sessions, check, or null when HAProxy does not know the server) instead of disabled_s_ago.
  returned: always
  type: list
  elements: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.webops.tornado.plugins.module_utils import haproxy
from ansible_collections.webops.tornado.plugins.module_utils import status as lb_status


def main():
    module = AnsibleModule(
        argument_spec=dict(
            backends=dict(type='list', elements='dict', required=True),
            health_path=dict(type='str', required=True),
            error_log=dict(type='path', default='/var/log/nginx/error.log'),
            haproxy_socket=dict(type='path'),
            window=dict(type='int', default=60),
            timeout=dict(type='float', default=5.0),
        ),
        supports_check_mode=True,
    )
    servers = None
    if module.params['haproxy_socket']:
        try:
            servers = haproxy.servers(haproxy.command(module.params['haproxy_socket'], 'show stat'))
        except OSError as exc:
            module.fail_json(msg='cannot read HAProxy\'s state from %s: %s' % (module.params['haproxy_socket'], exc))
        disabled = {}
    else:
        disabled = lb_status.disabled_backends(lb_status.tail(module.params['error_log']), time.time(),
                                               module.params['window'])
    backends = []
    for backend in module.params['backends']:
        hostport = '%s:%s' % (lb_status.url_host(str(backend['address'])), backend['port'])
        path = backend.get('health_path') or module.params['health_path']
        answer = lb_status.health('http://%s%s' % (hostport, path), module.params['timeout'])
        found = {'host': backend.get('host'), 'address': backend['address'], 'port': backend['port'],
                 'health_status': answer['status'], 'health_ms': answer['ms'], 'health_error': answer['error']}
        if servers is None:
            found['disabled_s_ago'] = disabled.get(hostport)
        else:
            found['haproxy'] = servers.get((backend.get('haproxy_backend'), backend.get('haproxy_server')))
        backends.append(found)
    module.exit_json(changed=False, backends=backends)


if __name__ == '__main__':
    main()
