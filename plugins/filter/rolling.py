# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long a rolling restart waits between two processes of a host (rolling_pause)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# nginx skips a backend that refused a connection for its upstream fail_timeout (1s by default), counted
# in whole seconds: a process just restarted may be skipped for up to 2 s after it answers its health check.
MARKED_SECONDS = 2


def rolling_pause(hostvars, hosts, name, restarting, pause=None):
    """Seconds the rolling restart of app ``name`` waits after a process is healthy before it stops the next one.

    ``pause`` (app_rolling_pause) wins when it is given. Otherwise: each host of ``restarting`` (the hosts
    that restart at the same time, Ansible's batch) has at most two backends nginx may be skipping at a
    time, the one it stops and the one it restarted just before. When the app's upstream (the backends of
    every host of ``hosts`` whose app_export names the app) keeps two more than that, nginx always has a
    backend to try and the restart need not wait; otherwise it waits MARKED_SECONDS. A host without an
    app_export (outside --limit) is not counted: the count can only be lower than the real one, so the
    restart waits when in doubt.
    """
    if pause is not None and str(pause) != '':
        return int(pause)
    backends = 0
    restarting_hosts = 0
    for host in dict.fromkeys(hosts):
        facts = hostvars[host] if host in hostvars else {}
        export = facts['app_export'] if 'app_export' in facts else None
        if not export or export.get('name') != name or export.get('state', 'present') == 'absent':
            continue
        backends += len(export.get('backends') or [])
        restarting_hosts += host in restarting
    skipped = 2 * max(restarting_hosts, 1)
    return 0 if backends - skipped >= 2 else MARKED_SECONDS


class FilterModule(object):
    def filters(self):
        return {'rolling_pause': rolling_pause}
