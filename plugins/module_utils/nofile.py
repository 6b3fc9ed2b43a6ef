# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The open-file limits a host can grant its services: read on the host (webops.tornado.nofile_ceiling, and
webops.tornado.host_facts with the rest of the host's one read), decided the same way on the host or on the
controller (the webops.tornado.nofile_ceiling filter, from what host_facts read)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

CAP_SYS_RESOURCE = 24
# The kernel's own upper bound for fs.nr_open (sysctl_nr_open_max on 64-bit).
NR_OPEN_MAX = 1073741816


def parse_nofile_limits(text):
    """Return (soft, hard) from the text of /proc/PID/limits; 'unlimited' becomes None."""
    for line in text.splitlines():
        if line.startswith("Max open files"):
            fields = line[len("Max open files"):].split()
            values = [None if v == "unlimited" else int(v) for v in fields[:2]]
            return values[0], values[1]
    raise ValueError("no 'Max open files' line in limits")


def parse_effective_caps(text):
    """Return the CapEff bitmask from the text of /proc/PID/status."""
    for line in text.splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    raise ValueError("no CapEff line in status")


def nofile_domains(text):
    """The domains of the nofile entries of a limits.conf text, in order, each once."""
    domains = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) == 4 and fields[2] == "nofile" and fields[0] not in domains:
            domains.append(fields[0])
    return domains


def decide(requested, hard_limit, can_raise, nr_open, nr_open_writable):
    """Work out whether `requested` open files can be granted, and explain the answer."""
    if can_raise:
        # With CAP_SYS_RESOURCE a service's hard limit may go up to fs.nr_open, which we may raise too.
        ceiling = NR_OPEN_MAX if nr_open_writable else nr_open
    else:
        ceiling = hard_limit
    if ceiling is None or requested <= ceiling:
        return True, ceiling, "%d open files can be granted (ceiling %s)." % (requested, ceiling)
    if not can_raise:
        reason = (
            "%d open files cannot be granted on this host: its hard open-file limit is %d and cannot be "
            "raised (PID 1 lacks CAP_SYS_RESOURCE, as in an unprivileged container). Set the limit to at "
            "most %d, or give the host a higher hard limit first (for a container: "
            "'docker run --ulimit nofile=%d:%d' or the runtime's LimitNOFILE)."
            % (requested, hard_limit, hard_limit, requested, requested)
        )
    else:
        reason = (
            "%d open files cannot be granted on this host: the kernel's fs.nr_open is %d and /proc/sys/fs "
            "is read-only here. Set the limit to at most %d, or raise fs.nr_open on the host that owns the "
            "kernel." % (requested, nr_open, nr_open)
        )
    return False, ceiling, reason


def _read(path):
    with open(path) as handle:
        return handle.read()


def read_host():
    """What binds the services of this host: PID 1's hard limit and whether it may raise it, fs.nr_open (and
    whether it is writable from here), fs.file-max. Raises OSError or ValueError when they cannot be read."""
    return {
        "hard_limit": parse_nofile_limits(_read("/proc/1/limits"))[1],
        "can_raise_hard_limit": bool(parse_effective_caps(_read("/proc/1/status")) & (1 << CAP_SYS_RESOURCE)),
        "nr_open": int(_read("/proc/sys/fs/nr_open").strip()),
        "file_max": int(_read("/proc/sys/fs/file-max").strip()),
        "nr_open_writable": os.access("/proc/sys/fs/nr_open", os.W_OK),
    }


def report(requested, host):
    """The module's answer for ``requested`` open files, from what read_host() returned."""
    grantable, ceiling, reason = decide(requested, host["hard_limit"], host["can_raise_hard_limit"], host["nr_open"],
                                        host["nr_open_writable"])
    return dict(host, grantable=grantable, ceiling=ceiling, reason=reason)
