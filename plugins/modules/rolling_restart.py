#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: rolling_restart
short_description: Restart a supervisord group one program at a time, health-checking each
version_added: 0.1.0
description:
  - For each program of a supervisord process group, in order, runs C(supervisorctl stop) (the process drains
    gracefully, as supervisord sends its C(stopsignal) and waits C(stopwaitsecs)), C(supervisorctl start), then polls
    the program's own health URL until it answers O(expect_status) (and contains O(expect_body), when given).
  - C(supervisorctl start) runs in the background while the health check is polled, since it returns only once the
    program has run for its C(startsecs) and a Tornado process answers well before that. The health check decides
    when the next program stops; every start is still waited for, and one supervisord gave up on fails the module.
  - Only then is the next program touched, so with one process per port behind nginx the other processes keep
    serving. The first program that fails stops the rollout; the module fails, naming it with the status and body
    it answered, and returns the per-process results (which programs were already moved) so the caller can roll back.
  - This is the zero-downtime restart that Tornado's deployment guide says separate ports make possible.
  - The status, stops and starts are asked of supervisord over the unix socket of supervisorctl's config, with
    supervisorctl's own answers (a stop or start costs milliseconds instead of starting supervisorctl, about 0.12 s);
    the C(supervisorctl) command is run instead when that socket cannot be reached.
options:
  group:
    description: The supervisord group name.
    type: str
    required: true
  backends:
    description: The programs to restart, in order, with the address and port their health check answers on.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Program name inside the group.
        type: str
        required: true
      address:
        description: Address the program listens on (V(0.0.0.0) is checked on V(127.0.0.1)).
        type: str
        default: 127.0.0.1
      port:
        description: Port the program listens on.
        type: int
        required: true
  health_path:
    description: Path of the health check on each program's own port.
    type: str
    default: /healthz
  health_timeout:
    description: Seconds a started program has to pass its health check.
    type: float
    default: 30
  health_interval:
    description: Seconds between health-check attempts (a refused connection costs next to nothing).
    type: float
    default: 0.05
  pause:
    description:
      - >-
        Seconds to wait after a program passed its health check before stopping the next one. nginx skips a
        backend that refused a connection for its upstream C(fail_timeout), counted in whole seconds, so a
        program just restarted may still be skipped for up to C(fail_timeout) + 1 s after it is healthy; with
        two programs, stopping the other one then leaves nginx no backend to try (a 502).
      - Not waited before the first program, nor after the last.
    type: float
    default: 0
    version_added: 0.5.0
  skip_window:
    description:
      - >-
        Seconds a load balancer may still skip a program after it passed its health check (nginx: its upstream
        C(fail_timeout) rounded up to whole seconds, plus one). With O(max_skipped), the next program stops only
        once fewer than O(max_skipped) of the programs restarted so far are inside that window, so the spacing
        follows how fast the programs really restart instead of a fixed O(pause).
      - V(0) (the default) leaves the spacing to O(pause) alone.
    type: float
    default: 0
    version_added: 0.5.0
  max_skipped:
    description:
      - >-
        How many of these programs may be stopped or inside their O(skip_window) at the same time: what the
        upstream can spare while keeping two backends the load balancer tries, shared among the hosts that
        restart at the same time (the C(webops.tornado.rolling_spacing) filter works it out).
      - V(0) (the default) leaves the spacing to O(pause) alone.
    type: int
    default: 0
    version_added: 0.5.0
  expect_status:
    description: HTTP status a healthy program answers.
    type: int
    default: 200
  expect_body:
    description: Text the health response must contain (for example the new release's id).
    type: str
  link:
    description:
      - >-
        A symbolic link to point at a new target before anything else (the app's C(current) at the new release),
        atomically (a new link renamed over the old one), in the same call as the restart it is for, so a deploy
        costs one remote call fewer per host.
      - Nothing is restarted when it cannot be pointed (a path that exists and is not a symbolic link). With
        O(only_running), it is pointed even when no program restarts (the group C(webops.tornado.supervisor) then
        starts runs the new target).
    type: dict
    suboptions:
      path:
        description: The link.
        type: path
        required: true
      target:
        description: What it points to, as the link holds it.
        type: str
        required: true
    version_added: 0.5.0
  only_running:
    description:
      - Restart only when supervisord runs the group with exactly the programs of O(backends) (C(supervisorctl status
        GROUP:*), read first, in the same call); otherwise restart nothing and say why (RV(group_loaded),
        RV(layout_changed)). A group not loaded yet is started by the C(webops.tornado.supervisor) role, and one whose
        programs change is replaced by its C(supervisorctl update), not restarted program by program.
    type: bool
    default: false
    version_added: 0.5.0
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode nothing is restarted; every program is reported as one that would be.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
seealso:
  - module: community.general.supervisorctl
"""

EXAMPLES = r"""
- name: Roll the demo app's processes onto the current release
  webops.tornado.rolling_restart:
    group: demo
    backends:
      - {name: demo-8000, port: 8000}
      - {name: demo-8001, port: 8001}
    health_path: /healthz
  register: rollout

- name: Show how long each process took
  ansible.builtin.debug:
    msg: "{{ rollout.results | map(attribute='seconds') }}"
"""

RETURN = r"""
results:
  description: One entry per program touched, in order; on failure the last one is the failing program.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Program name.
      type: str
    port:
      description: Its port.
      type: int
    healthy:
      description: Whether it passed its health check.
      type: bool
    status:
      description: The last HTTP status its health check answered (null if it never answered).
      type: int
    body:
      description: The start of the last health-check body.
      type: str
    error:
      description: The supervisorctl or connection error, if any.
      type: str
    seconds:
      description: Time from stop to healthy (or to giving up).
      type: float
link_changed:
  description: Whether O(link) pointed elsewhere (or was missing) and was pointed at its target.
  returned: with O(link)
  type: bool
  version_added: 0.5.0
moved:
  description: Names of the programs restarted in this run (the ones to move back on rollback).
  returned: always
  type: list
  elements: str
group_loaded:
  description: Whether supervisord ran the group when the call began.
  returned: with O(only_running)
  type: bool
  version_added: 0.5.0
layout_changed:
  description: Whether the group supervisord ran had other programs than O(backends) (nothing was restarted).
  returned: with O(only_running)
  type: bool
  version_added: 0.5.0
"""

import threading

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible_collections.webops.tornado.plugins.module_utils.rolling import (
    Backend, RollingRestart, describe_failure, group_programs, point_link)
from ansible_collections.webops.tornado.plugins.module_utils.supervisor_rpc import runner


def http_get(url, timeout):
    try:
        response = open_url(url, method="GET", timeout=timeout, follow_redirects="none", validate_certs=False)
        return response.getcode(), response.read().decode("utf-8", "replace")
    except HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


class Start(object):
    """A start (what `supervisorctl start` does) running in a thread of its own: poll() is None until it ended, then (rc, out, err)."""

    def __init__(self, run_command, argv):
        self.outcome = None
        self.thread = threading.Thread(target=self.run, args=(run_command, argv))
        self.thread.daemon = True
        self.thread.start()

    def run(self, run_command, argv):
        try:
            self.outcome = run_command(argv)
        except Exception as exc:  # reported as a failed start, never lost with the thread
            self.outcome = (1, "", "%s: %s" % (type(exc).__name__, exc))

    def poll(self):
        return None if self.thread.is_alive() else self.wait()

    def wait(self):
        self.thread.join()
        return self.outcome


def main():
    module = AnsibleModule(
        argument_spec=dict(
            group=dict(type="str", required=True),
            backends=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                address=dict(type="str", default="127.0.0.1"),
                port=dict(type="int", required=True),
            )),
            health_path=dict(type="str", default="/healthz"),
            health_timeout=dict(type="float", default=30),
            health_interval=dict(type="float", default=0.05),
            pause=dict(type="float", default=0.0),
            skip_window=dict(type="float", default=0.0),
            max_skipped=dict(type="int", default=0),
            expect_status=dict(type="int", default=200),
            expect_body=dict(type="str"),
            only_running=dict(type="bool", default=False),
            link=dict(type="dict", options=dict(path=dict(type="path", required=True),
                                                target=dict(type="str", required=True))),
        ),
        supports_check_mode=True,
    )
    params = module.params
    backends = [Backend(b["name"], b["address"], b["port"]) for b in params["backends"]]
    # Not there yet (a first run, before the supervisor role installs it): no group runs, for only_running.
    supervisorctl_bin = module.get_bin_path("supervisorctl", required=not (module.check_mode or params["only_running"]))

    supervisorctl = runner(module.run_command, supervisorctl_bin)

    found = {}
    if params["link"]:
        try:
            found["link_changed"] = point_link(params["link"]["path"], params["link"]["target"], module.check_mode)
        except (OSError, ValueError) as exc:
            module.fail_json(msg="cannot point %s at %s: %s" % (params["link"]["path"], params["link"]["target"], exc),
                             changed=False, results=[], moved=[])
    if params["only_running"]:
        # Read-only, so asked in check mode too (when supervisorctl is there).
        running = group_programs(*supervisorctl(["status", params["group"] + ":*"])[:2], group=params["group"]) \
            if supervisorctl_bin else None
        found.update(group_loaded=running is not None,
                     layout_changed=running is not None and running != sorted(b.name for b in backends))
        if not found["group_loaded"] or found["layout_changed"]:
            module.exit_json(changed=bool(found.get("link_changed")), results=[], moved=[], **found)
    if module.check_mode:
        module.exit_json(changed=bool(backends), moved=[b.name for b in backends],
                         results=[{"name": b.name, "port": b.port, "healthy": None, "status": None,
                                   "body": "", "error": "", "seconds": 0.0} for b in backends], **found)

    rollout = RollingRestart(params["group"], backends, supervisorctl, http_get,
                             health_path=params["health_path"], health_timeout=params["health_timeout"],
                             health_interval=params["health_interval"], expect_status=params["expect_status"],
                             expect_body=params["expect_body"], pause=params["pause"],
                             skip_window=params["skip_window"], max_skipped=params["max_skipped"],
                             start=lambda args: Start(supervisorctl, args))
    ok, results = rollout.run()
    moved = [r["name"] for r in results]
    if not ok:
        module.fail_json(msg=describe_failure(params["group"], results), changed=True, results=results, moved=moved,
                         **found)
    module.exit_json(changed=bool(results) or bool(found.get("link_changed")), results=results, moved=moved, **found)


if __name__ == "__main__":
    main()
