# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reload HAProxy (master-worker mode) and tell whether the new configuration took effect.

Debian's unit reloads with ``haproxy -c`` and then SIGUSR2 to the master, which re-executes itself with the
new configuration and starts new workers. When that fails after the check (a port it cannot bind, an
open-file limit it cannot raise), the master logs ``[ALERT]`` lines and ``Loading failure!``, keeps the
old workers with the old configuration, and ``systemctl reload`` has already reported success. So after
the reload, a new worker (a new child of the master) must appear; the master's own lines in the journal
say why it did not.

Kept free of AnsibleModule so the unit tests can drive it with fakes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

# What HAProxy's master logs when its re-execution could not load the new configuration (2.6 to 3.x).
FAILURE_MARKERS = ('Loading failure', 'Failed to load the new configuration')


def failed(journal):
    """Whether the master said it could not load the new configuration."""
    return any(marker in line for line in journal.splitlines() for marker in FAILURE_MARKERS)


def problems(journal):
    """HAProxy's own reasons in a journal excerpt: its [ALERT] lines and its failure line, in order (spaces squeezed)."""
    return [' '.join(line.split()) for line in journal.splitlines()
            if '[ALERT]' in line or any(marker in line for marker in FAILURE_MARKERS)]


def wait_reloaded(workers_before, workers_now, read_journal, timeout, interval=0.25,
                  clock=time.monotonic, sleep=time.sleep):
    """Poll until a new worker runs (ok) or the master said it failed, or ``timeout`` seconds passed.

    Returns (ok, problems). ``workers_now()`` lists the master's worker pids now, ``read_journal()`` the
    unit's journal since the reload.
    """
    deadline = clock() + timeout
    while True:
        if set(workers_now()) - set(workers_before):
            return True, []
        journal = read_journal()
        if failed(journal) or clock() >= deadline:
            found = problems(journal)
            if not failed(journal):
                found.append('no new HAProxy worker started within %ss of the reload' % timeout)
            return False, found
        sleep(interval)
