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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.webops.tornado.plugins.module_utils.nofile import nofile_domains, read_host, report


def main():
    module = AnsibleModule(
        argument_spec=dict(requested=dict(type="int", required=True), conf_path=dict(type="path")),
        supports_check_mode=True,
    )
    requested = module.params["requested"]
    if requested < 1:
        module.fail_json(msg="requested must be a positive number of open files, got %d" % requested)
    try:
        host = read_host()
    except (OSError, ValueError) as exc:
        module.fail_json(msg="cannot read this host's open-file limits: %s" % exc)
    extra = {}
    if module.params["conf_path"]:
        try:
            with open(module.params["conf_path"]) as handle:
                extra["conf_domains"] = nofile_domains(handle.read())
        except FileNotFoundError:
            extra["conf_domains"] = []
        except (OSError, UnicodeDecodeError) as exc:
            module.fail_json(msg="cannot read %s: %s" % (module.params["conf_path"], exc))
    module.exit_json(changed=False, **dict(report(requested, host), **extra))


if __name__ == "__main__":
    main()
