#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: haproxy_server
short_description: Drain one server of an HAProxy backend before it restarts, then put it back once HAProxy checks it healthy
version_added: 0.5.0
description:
  - Talks to HAProxy's runtime API (its admin-level stats socket) on the load balancer it runs on.
  - With O(state=drain), sets the server to drain (HAProxy sends it no new request), waits until it has no
    session left or O(timeout) seconds have passed, whichever comes first, then sets it to maintenance. A
    session that never ends by itself (an open WebSocket) only delays the restart by O(timeout), as the process
    closes it when it stops gracefully.
  - With O(state=ready), takes the server out of maintenance and waits until HAProxy's own health check marks
    it up, so the next process is drained only once this one takes traffic again; it fails after O(timeout)
    seconds.
  - A missing socket (HAProxy not installed yet) or a server HAProxy does not know (a backend added by this
    run) is nothing to drain; the module reports it and changes nothing.
  - C(community.general.haproxy) does the same one state at a time, but waits in whole seconds (a rolling
    restart of four processes would wait at least eight), and fails when a session outlives its wait.
options:
  socket:
    description: Path of HAProxy's stats socket, at C(level admin).
    type: path
    default: /run/haproxy/admin.sock
  backend:
    description: Name of the HAProxy backend.
    type: str
    required: true
  server:
    description: Name of the server in that backend.
    type: str
    required: true
  state:
    description: V(drain) before the process stops, V(ready) once it is healthy again.
    type: str
    required: true
    choices: [drain, ready]
  timeout:
    description: Seconds to wait for the sessions to end (V(drain)) or for HAProxy to mark the server up (V(ready)).
    type: float
    default: 10
  interval:
    description: Seconds between two reads of the server's state.
    type: float
    default: 0.1
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the server's state is read, never changed.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
seealso:
  - module: community.general.haproxy
"""

EXAMPLES = r"""
- name: Drain demo's process on port 8000 at the load balancer
  webops.tornado.haproxy_server:
    backend: demo
    server: app1_8000
    state: drain
    timeout: 5
  delegate_to: lb1

- name: Put it back once HAProxy checks it healthy
  webops.tornado.haproxy_server:
    backend: demo
    server: app1_8000
    state: ready
  delegate_to: lb1
"""

RETURN = r"""
found:
  description: Whether HAProxy runs and knows the server.
  returned: always
  type: bool
status:
  description: The server's status as HAProxy reports it at the end (C(MAINT), C(UP), C(DOWN)...).
  returned: when found
  type: str
sessions:
  description: Its current sessions at the end.
  returned: when found
  type: int
seconds:
  description: Time spent waiting.
  returned: always
  type: float
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.webops.tornado.plugins.module_utils.haproxy import command, servers


def server_state(path, backend, server):
    """(status, sessions) of one server, or None when HAProxy does not know it."""
    found = servers(command(path, "show stat")).get((backend, server))
    return None if found is None else (found["status"], found["sessions"])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="path", default="/run/haproxy/admin.sock"),
            backend=dict(type="str", required=True),
            server=dict(type="str", required=True),
            state=dict(type="str", required=True, choices=["drain", "ready"]),
            timeout=dict(type="float", default=10.0),
            interval=dict(type="float", default=0.1),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path, backend, server = params["socket"], params["backend"], params["server"]
    start = time.monotonic()
    if not os.path.exists(path):
        module.exit_json(changed=False, found=False, seconds=0.0, msg="%s does not exist: HAProxy does not run here yet" % path)
    try:
        found = server_state(path, backend, server)
    except (OSError, ValueError) as exc:
        module.fail_json(msg="cannot read the state of %s/%s from %s: %s" % (backend, server, path, exc))
    if found is None:
        module.exit_json(changed=False, found=False, seconds=0.0, msg="HAProxy has no server %s/%s" % (backend, server))
    if module.check_mode:
        module.exit_json(changed=True, found=True, status=found[0], sessions=found[1], seconds=0.0)

    target = "drain" if params["state"] == "drain" else "ready"
    answer = command(path, "set server %s/%s state %s" % (backend, server, target)).strip()
    if answer:
        module.fail_json(msg="HAProxy refused to set %s/%s to %s: %s" % (backend, server, target, answer))
    deadline = start + params["timeout"]
    status, sessions = found
    while True:
        status, sessions = server_state(path, backend, server) or ("", 0)
        if target == "drain" and sessions == 0:
            break
        # "UP 1/2" is a server going down, "DOWN 1/2" one going up: only a plain UP takes traffic.
        if target == "ready" and status in ("UP", "no check"):
            break
        if time.monotonic() >= deadline:
            if target == "ready":
                module.fail_json(msg="HAProxy did not mark %s/%s up within %ss (status %s)" % (backend, server, params["timeout"], status),
                                 changed=True, found=True, status=status, sessions=sessions, seconds=time.monotonic() - start)
            break
        time.sleep(params["interval"])
    if target == "drain":
        answer = command(path, "set server %s/%s state maint" % (backend, server)).strip()
        if answer:
            module.fail_json(msg="HAProxy refused to set %s/%s to maint: %s" % (backend, server, answer))
        status = "MAINT"
    module.exit_json(changed=True, found=True, status=status, sessions=sessions, seconds=round(time.monotonic() - start, 3))


if __name__ == "__main__":
    main()
