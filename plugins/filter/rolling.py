# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long a rolling restart waits between two processes of a host (rolling_pause)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import re

# nginx skips a backend that refused a connection for its upstream fail_timeout, counted in whole seconds: a
# process just restarted may be skipped for up to that timeout plus one second after it answers its health check.
# The units of an nginx time, in seconds (nginx's own; an empty value is nginx's default, 10s).
_UNITS = {'ms': 0.001, 's': 1, '': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800, 'M': 2592000, 'y': 31536000}
_NGINX_DEFAULT_FAIL_TIMEOUT = 10.0


def nginx_seconds(value):
    """Seconds of an nginx time such as 1s, 500ms or 1m30s (the kind nginx_time accepts); None or '' is nginx's
    default fail_timeout."""
    text = '' if value is None else str(value)
    if not text:
        return _NGINX_DEFAULT_FAIL_TIMEOUT
    parts = re.findall(r'([0-9]+)(ms|s|m|h|d|w|M|y)?', text)
    if not parts or ''.join(number + unit for number, unit in parts) != text:
        raise ValueError('not an nginx time: %r' % (value,))
    return sum(int(number) * _UNITS[unit] for number, unit in parts)


def rolling_pause(hostvars, hosts, name, restarting, pause=None, fail_timeouts=('1s',)):
    """Seconds the rolling restart of app ``name`` waits after a process is healthy before it stops the next one.

    ``pause`` (app_rolling_pause) wins when it is given. ``fail_timeouts``: nginx_upstream_fail_timeout as the
    load balancers of the app have it; the longest one counts. Above 1s, the restart waits that timeout plus one
    second (rounded up), as a restarted process may be skipped that long. Otherwise a process nginx saw refuse
    a connection (the one stopping) may be skipped until ``marked`` seconds after it answers again, however fast
    it restarts: stops spaced ``marked / k`` seconds apart leave at most ``k`` backends of a host skipped at a
    time. ``k`` is what the app's upstream (the backends of every host of ``hosts`` whose app_export names the
    app) can spare while keeping two backends nginx tries, shared by the hosts of ``restarting`` (the hosts that
    restart at the same time, Ansible's batch); with none to spare the restart waits ``marked``. A host without
    an app_export (outside --limit) is not counted: the count can only be lower than the real one, so the
    restart waits longer when in doubt.
    """
    if pause is not None and str(pause) != '':
        return int(pause)
    longest = max([nginx_seconds(value) for value in fail_timeouts] or [1])
    marked = int(math.ceil(longest)) + 1
    if longest > 1:
        return marked
    backends = 0
    restarting_hosts = 0
    for host in dict.fromkeys(hosts):
        facts = hostvars[host] if host in hostvars else {}
        export = facts['app_export'] if 'app_export' in facts else None
        if not export or export.get('name') != name or export.get('state', 'present') == 'absent':
            continue
        backends += len(export.get('backends') or [])
        restarting_hosts += host in restarting
    spare = (backends - 2) // max(restarting_hosts, 1)
    if spare < 1:
        return marked
    # Rounded up to a hundredth: never shorter than the spacing that keeps two backends untouched.
    return math.ceil(marked * 100.0 / spare) / 100.0


class FilterModule(object):
    def filters(self):
        return {'rolling_pause': rolling_pause}
