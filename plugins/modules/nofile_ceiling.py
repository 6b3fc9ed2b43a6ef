#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: nofile_ceiling
short_description: Find the highest open-file limit this host can grant to its services
version_added: 0.1.0
description:
  - Reads the limits that bind services started on this host (the hard C(RLIMIT_NOFILE) of PID 1,
    which every systemd service inherits as its ceiling, and the kernel's C(fs.nr_open)) and whether
    they can be raised (C(CAP_SYS_RESOURCE) in PID 1's effective capabilities, a writable C(/proc/sys/fs)).
  - Answers whether a requested limit can really take effect, so that a role can refuse an impossible
    value before it changes anything. Inside an unprivileged container, for example, systemd silently
    clamps C(LimitNOFILE) and supervisord with C(minfds) above the ceiling exits at start-up.
  - With O(conf_path), also reads which domains that limits.conf file gives an open-file limit today,
    so the role that owns the file can rewrite it whole without dropping a domain another play added.
  - Changes nothing on the host.
options:
  requested:
    description:
      - The open-file limit (soft and hard) that services should get.
    type: int
    required: true
  conf_path:
    description:
      - A limits.conf file (see C(limits.conf(5))) to read the C(nofile) domains of; a missing file has none.
    type: path
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
- name: Find out whether 50000 open files can be granted
  webops.tornado.nofile_ceiling:
    requested: 50000
  register: ceiling

- name: Refuse a limit the host cannot grant
  ansible.builtin.assert:
    that: ceiling.grantable
    fail_msg: "{{ ceiling.reason }}"
"""

RETURN = r"""
grantable:
  description: Whether services on this host can get O(requested) open files.
  returned: always
  type: bool
  sample: true
ceiling:
  description: The highest limit this host can grant; V(null) when no practical ceiling applies.
  returned: always
  type: int
  sample: 16384
hard_limit:
  description: The hard open-file limit of PID 1 (inherited by every service).
  returned: always
  type: int
  sample: 16384
can_raise_hard_limit:
  description: Whether PID 1 has C(CAP_SYS_RESOURCE), so services may get a hard limit above RV(hard_limit).
  returned: always
  type: bool
  sample: false
nr_open:
  description: The kernel's C(fs.nr_open), the largest hard limit any process may have.
  returned: always
  type: int
  sample: 1048576
file_max:
  description: The kernel's C(fs.file-max), the system-wide limit of open files.
  returned: always
  type: int
  sample: 9223372036854775807
nr_open_writable:
  description: Whether C(fs.nr_open) can be raised from here.
  returned: always
  type: bool
  sample: false
reason:
  description: A sentence that explains the answer and, when O(requested) cannot be granted, how to fix it.
  returned: always
  type: str
conf_domains:
  description: The domains with a C(nofile) entry in O(conf_path), in file order, each once.
  returned: when O(conf_path) is given
  type: list
  elements: str
  sample: [root, demo]
"""

import os

from ansible.module_utils.basic import AnsibleModule

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


def read(path):
    with open(path) as handle:
        return handle.read()


def main():
    module = AnsibleModule(
        argument_spec=dict(requested=dict(type="int", required=True), conf_path=dict(type="path")),
        supports_check_mode=True,
    )
    requested = module.params["requested"]
    if requested < 1:
        module.fail_json(msg="requested must be a positive number of open files, got %d" % requested)
    try:
        hard_limit = parse_nofile_limits(read("/proc/1/limits"))[1]
        can_raise = bool(parse_effective_caps(read("/proc/1/status")) & (1 << CAP_SYS_RESOURCE))
        nr_open = int(read("/proc/sys/fs/nr_open").strip())
        file_max = int(read("/proc/sys/fs/file-max").strip())
    except (OSError, ValueError) as exc:
        module.fail_json(msg="cannot read this host's open-file limits: %s" % exc)
    nr_open_writable = os.access("/proc/sys/fs/nr_open", os.W_OK)
    grantable, ceiling, reason = decide(requested, hard_limit, can_raise, nr_open, nr_open_writable)
    extra = {}
    if module.params["conf_path"]:
        try:
            extra["conf_domains"] = nofile_domains(read(module.params["conf_path"]))
        except FileNotFoundError:
            extra["conf_domains"] = []
        except (OSError, UnicodeDecodeError) as exc:
            module.fail_json(msg="cannot read %s: %s" % (module.params["conf_path"], exc))
    module.exit_json(
        changed=False,
        grantable=grantable,
        ceiling=ceiling,
        hard_limit=hard_limit,
        can_raise_hard_limit=can_raise,
        nr_open=nr_open,
        file_max=file_max,
        nr_open_writable=nr_open_writable,
        reason=reason,
        **extra
    )


if __name__ == "__main__":
    main()
