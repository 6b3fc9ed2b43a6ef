# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart the programs of a supervisord group one at a time, health-checking each before the next.

Kept free of AnsibleModule so the unit tests can drive it with fake supervisorctl and HTTP callables.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import time

from ansible_collections.webops.tornado.plugins.module_utils.links import replace_link

BODY_LIMIT = 500


class Backend(object):
    """One supervisord program and the address its health check answers on."""

    def __init__(self, name, address, port):
        self.name = name
        self.address = address
        self.port = int(port)

    def url(self, path):
        host = "[%s]" % self.address if ":" in self.address else self.address
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return "http://%s:%d%s" % (host, self.port, path)


class RollingRestart(object):
    """Stop, start and health-check each backend in turn; stop at the first one that fails.

    `supervisorctl(args)` runs supervisorctl and returns (rc, stdout, stderr);
    `start(args)`, when given, starts `supervisorctl start` without waiting for it and returns a handle whose
    `poll()` is None while it runs and (rc, stdout, stderr) once it ended, and whose `wait()` returns the same;
    `http_get(url, timeout)` returns (status, body) and raises on connection errors;
    `clock()` and `sleep(seconds)` are injectable for tests.

    Why `start`: `supervisorctl start` returns only once the program has run for its `startsecs` (1 s by
    default), though a Tornado process answers its health check well before that. With `start`, the health
    check alone decides when the next program stops; each start is still waited for, in the background, and a
    program supervisord gave up on (it exited within `startsecs`) fails the rollout at the latest at its end.

    `skip_window` and `max_skipped`: a load balancer may still skip a program for `skip_window` seconds after it
    answered its health check (nginx, after the refused connections of its restart). With both set, the next
    program stops only once fewer than `max_skipped` of the programs restarted so far are inside that window, so
    at most `max_skipped` of them are stopped or skipped at any time. `pause` is waited first, whatever they are.
    """

    def __init__(self, group, backends, supervisorctl, http_get, health_path="/healthz",
                 health_timeout=30.0, health_interval=0.05, expect_status=200, expect_body=None,
                 pause=0.0, clock=time.monotonic, sleep=time.sleep, start=None, skip_window=0.0, max_skipped=0):
        self.group = group
        self.backends = backends
        self.supervisorctl = supervisorctl
        self.http_get = http_get
        self.health_path = health_path
        self.health_timeout = float(health_timeout)
        self.health_interval = float(health_interval)
        self.expect_status = int(expect_status)
        self.expect_body = expect_body
        self.pause = float(pause)
        self.clock = clock
        self.sleep = sleep
        self.start = start
        self.skip_window = float(skip_window)
        self.max_skipped = int(max_skipped)

    def run(self):
        """Return (ok, results): one result dict per backend touched, in order."""
        results = []
        starting = []  # (result, handle) of the starts still running in the background
        healthy_at = []  # when each program restarted so far answered its health check
        ok = True
        for index, backend in enumerate(self.backends):
            if index and self.pause > 0:
                # nginx skips a backend that refused a connection for its upstream fail_timeout, counted in
                # whole seconds: the process just restarted may still be skipped. Stopping the next one now
                # could leave nginx no backend it would try (with two processes: a 502).
                self.sleep(self.pause)
            if index:
                self.wait_for_skip_windows(healthy_at)
            if self.failed_start(starting):
                ok = False
                break
            result, handle = self.restart_one(backend)
            results.append(result)
            if handle is not None:
                starting.append((result, handle))
            if not result["healthy"]:
                ok = False
                break
            healthy_at.append(self.clock())
        # Every start ends before the module does: none is left behind, and one that failed is reported.
        for result, handle in starting:
            self.check_start(result, handle.wait())
        if any(not result["healthy"] for result in results):
            # The failing one goes last: describe_failure and the rollback read results[-1].
            results.sort(key=lambda result: not result["healthy"])
            ok = False
        return ok, results

    def wait_for_skip_windows(self, healthy_at):
        """Wait until fewer than max_skipped of the restarted programs may still be skipped (see the class)."""
        if self.skip_window <= 0 or self.max_skipped <= 0:
            return
        now = self.clock()
        ends = sorted(at + self.skip_window for at in healthy_at if at + self.skip_window > now)
        if len(ends) >= self.max_skipped:
            self.sleep(ends[len(ends) - self.max_skipped] - now)

    def failed_start(self, starting):
        """Whether a start still running in the background has ended with an error (recorded in its result)."""
        for result, handle in starting:
            outcome = handle.poll()
            if outcome is not None and not self.check_start(result, outcome):
                return True
        return False

    def check_start(self, result, outcome):
        rc, out, err = outcome
        if rc == 0:
            return True
        result["healthy"] = False
        result["error"] = "supervisorctl start %s:%s failed: %s" % (self.group, result["name"], (out + err).strip())
        return False

    def restart_one(self, backend):
        started_at = self.clock()
        target = "%s:%s" % (self.group, backend.name)
        result = {"name": backend.name, "port": backend.port, "url": backend.url(self.health_path),
                  "healthy": False, "status": None, "body": "", "error": "", "seconds": 0.0}
        # `stop` returns once supervisord saw the process exit: the launcher has drained by then.
        actions = ("stop",) if self.start else ("stop", "start")
        for action in actions:
            rc, out, err = self.supervisorctl([action, target])
            if rc != 0 and not (action == "stop" and "NOT_RUNNING" in (out + err)):
                result["error"] = "supervisorctl %s %s failed: %s" % (action, target, (out + err).strip())
                result["seconds"] = round(self.clock() - started_at, 2)
                return result, None
        handle = self.start(["start", target]) if self.start else None
        self.wait_healthy(backend, result, handle)
        result["seconds"] = round(self.clock() - started_at, 2)
        return result, handle

    def wait_healthy(self, backend, result, handle=None):
        deadline = self.clock() + self.health_timeout
        url = backend.url(self.health_path)
        while True:
            # A start that ended in an error (supervisord gave up on the program) ends the wait at once.
            outcome = handle.poll() if handle is not None else None
            if outcome is not None and not self.check_start(result, outcome):
                return
            try:
                status, body = self.http_get(url, max(1.0, min(5.0, self.health_timeout)))
                result["status"], result["body"], result["error"] = status, body[:BODY_LIMIT], ""
                if status == self.expect_status and (self.expect_body is None or self.expect_body in body):
                    result["healthy"] = True
                    return
            except Exception as exc:  # connection refused while the process starts; keep trying
                result["error"] = "%s: %s" % (type(exc).__name__, exc)
            if self.clock() >= deadline:
                return
            self.sleep(self.health_interval)


def describe_failure(group, results):
    """One sentence naming the failing process, its status and body."""
    bad = results[-1]
    moved = ", ".join(r["name"] for r in results)
    if bad["error"].startswith("supervisorctl "):
        return "%s:%s did not start (%s); processes restarted in this run: %s" % (group, bad["name"], bad["error"], moved)
    what = "status %s, body %r" % (bad["status"], bad["body"]) if bad["status"] is not None else bad["error"]
    return ("%s:%s failed its health check at %s (%s); processes restarted in this run: %s"
            % (group, bad["name"], bad["url"], what, moved))


def point_link(path, target, check_mode=False):
    """Make ``path`` a symbolic link to ``target`` (as it holds it), atomically (module_utils/links.py). Returns
    whether it pointed elsewhere (or was missing); in check mode changes nothing. Raises ValueError when ``path``
    exists and is not a symbolic link (a release directory is never replaced)."""
    if os.path.islink(path):
        if os.readlink(path) == target:
            return False
    elif os.path.lexists(path):
        raise ValueError("%s exists and is not a symbolic link" % path)
    if not check_mode:
        replace_link(path, target)
    return True


def group_programs(rc, out, group):
    """The program names ``supervisorctl status GROUP:*`` listed for ``group`` (sorted), or None when supervisord
    does not run that group (the command failed, or listed none of its programs).

    supervisorctl exits 3 when a listed program is not RUNNING (it is still loaded): that counts as running the group.
    """
    if rc not in (0, 3):
        return None
    prefix = group + ':'
    names = sorted(line.split()[0][len(prefix):] for line in out.splitlines()
                   if line.startswith(prefix) and line.split()[0] != prefix)
    return names or None
