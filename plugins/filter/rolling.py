# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a rolling restart spaces the stops of a host's processes (rolling_spacing, rolling_pause)."""

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


def rolling_spacing(hostvars, hosts, name, restarting, pause=None, fail_timeouts=('1s',)):
    """How the rolling restart of app ``name`` spaces its stops: ``pause``, ``skip_window`` and ``max_skipped``
    as webops.tornado.rolling_restart takes them.

    ``pause`` (app_rolling_pause) wins when it is given: that many seconds after each healthy process, nothing
    else. ``fail_timeouts``: nginx_upstream_fail_timeout as the load balancers of the app have it; the longest one
    counts. A process nginx saw refuse a connection (the one stopping) may be skipped until ``marked`` seconds
    after it answers again (the timeout rounded up, plus one: nginx counts in whole seconds), however fast it
    restarts. Up to 1s, a host may have ``max_skipped`` processes stopped or inside that window at a time: what
    the app's upstream (the backends of every host of ``hosts`` whose app_export names the app) can spare while
    keeping two backends nginx tries, shared by the hosts of ``restarting`` (the hosts that restart at the same
    time, Ansible's batch). With none to spare, or a longer timeout (it also counts the failures), the restart
    waits ``marked`` after each process. A host without an app_export (outside --limit) is not counted: the
    count can only be lower than the real one, so the restart waits longer when in doubt.
    """
    if pause is not None and str(pause) != '':
        return {'pause': int(pause), 'skip_window': 0, 'max_skipped': 0}
    longest = max([nginx_seconds(value) for value in fail_timeouts] or [1])
    marked = int(math.ceil(longest)) + 1
    waited = {'pause': marked, 'skip_window': 0, 'max_skipped': 0}
    if longest > 1:
        return waited
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
        return waited
    return {'pause': 0, 'skip_window': marked, 'max_skipped': spare}


def rolling_pause(spacing):
    """What ``spacing`` (rolling_spacing's value) keeps, as one fixed pause between two processes, for a restart
    that cannot follow the skip windows (one process per call, behind HAProxy with nginx load balancers beside
    it): the skip window shared out among the processes that may be skipped at a time, rounded up to a hundredth."""
    if not spacing['max_skipped']:
        return spacing['pause']
    return math.ceil(spacing['skip_window'] * 100.0 / spacing['max_skipped']) / 100.0


class FilterModule(object):
    def filters(self):
        return {'rolling_pause': rolling_pause, 'rolling_spacing': rolling_spacing}
