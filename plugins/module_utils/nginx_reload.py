# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reload nginx and tell whether the new configuration took effect.

`nginx -t` accepts a configuration whose listen port another process holds; the reload then fails
inside the master (bind() failed, logged as [emerg]), the old configuration keeps running, and
`systemctl reload` still exits 0. So after the reload: new worker processes must have started, every
configured port must be listening, and the error log must have no [emerg] line since the reload.

A port in use is not the end of the reload: the master tries the bind five times, 500 ms apart, before
it logs "still could not bind()" and keeps the old configuration. A reload asked meanwhile (the caller
putting the previous config back) waits behind those tries, and a port freed during them makes the
master take the refused configuration after all, closing the ports only the old one had. So on a bind
failure the wait goes on until the master is done with this reload, either way.

Kept free of AnsibleModule so the unit tests can drive it with fakes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

# EADDRINUSE (98 on Linux): the one bind() failure nginx tries again; any other ends the reload at once.
BIND_IN_USE = re.compile(r'\bbind\(\) to \S+ failed \(98: ')
GAVE_UP = 'still could not bind()'


def emerg_lines(text):
    """The [emerg] (and [alert]) lines of an error-log excerpt."""
    return [line for line in text.splitlines() if '[emerg]' in line or '[alert]' in line]


def missing_ports(listening, ports):
    """Configured ports nothing listens on (``listening``: the set of listening ports)."""
    return sorted(set(int(port) for port in ports) - set(listening))


def still_binding(emerg):
    """Whether the master is still trying to bind a port in use (its [emerg] lines so far)."""
    return any(BIND_IN_USE.search(line) for line in emerg) and not any(GAVE_UP in line for line in emerg)


def wait_reloaded(workers_before, workers_now, read_log, listening_ports, ports, timeout, interval=0.2,
                  clock=time.monotonic, sleep=time.sleep):
    """Poll until the reload took effect or failed. Returns (ok, problems).

    ``workers_now()`` lists the master's worker pids, ``read_log()`` the error log written since the
    reload, ``listening_ports()`` the set of ports listening now. An [emerg] line fails the reload; after
    a port in use, only once the master is done with it: it gave up, or a later try bound the port (fresh
    workers).
    """
    deadline = clock() + timeout
    while True:
        emerg = emerg_lines(read_log())
        fresh = set(workers_now()) - set(workers_before)
        if emerg:
            if fresh or not still_binding(emerg):
                return False, emerg
            if clock() >= deadline:
                return False, emerg + ['nginx was still trying to bind the port %ss after the reload' % timeout]
            sleep(interval)
            continue
        missing = missing_ports(listening_ports(), ports)
        if fresh and not missing:
            return True, []
        if clock() >= deadline:
            problems = []
            if not fresh:
                problems.append('no new worker process started within %ss of the reload' % timeout)
            if missing:
                problems.append('nothing listens on port(s) %s' % ', '.join(str(p) for p in missing))
            return False, problems
        sleep(interval)
