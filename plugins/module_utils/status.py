# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the status playbook reports: each Tornado process as the kernel, supervisord and its own health
path see it, and each backend as a load balancer sees it. Kept free of AnsibleModule so the unit tests
can drive it with a fake /proc, fake HTTP and a fake clock.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

# nginx logs it when a backend fails max_fails times within fail_timeout: it is then skipped for
# fail_timeout. 2026/12/02 12:00:00 [warn] 7#7: *9 upstream server temporarily disabled while
# connecting to upstream, client: ..., upstream: "http://127.0.0.1:8001/", host: ...
_DISABLED = re.compile(r'^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[\w+\] .*upstream server temporarily disabled'
                       r'.*upstream: "https?://([^/"]+)')


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def process(pid, proc='/proc', now=None, clock_ticks=None):
    """{uptime_s, rss_kb, open_files, nofile_limit} of a process; values it cannot read are None."""
    base = os.path.join(proc, str(pid))
    info = {'uptime_s': None, 'rss_kb': None, 'open_files': None, 'nofile_limit': None}
    stat = _read(os.path.join(base, 'stat'))
    uptime = _read(os.path.join(proc, 'uptime'))
    if stat and uptime:
        ticks = clock_ticks or os.sysconf('SC_CLK_TCK')
        started = int(stat[stat.rindex(')') + 2:].split()[19]) / float(ticks)
        info['uptime_s'] = int((now if now is not None else float(uptime.split()[0])) - started)
    status = _read(os.path.join(base, 'status')) or ''
    match = re.search(r'^VmRSS:\s+(\d+) kB', status, re.M)
    if match:
        info['rss_kb'] = int(match.group(1))
    try:
        info['open_files'] = len(os.listdir(os.path.join(base, 'fd')))
    except OSError:
        pass
    limits = _read(os.path.join(base, 'limits')) or ''
    match = re.search(r'^Max open files\s+(\d+|unlimited)', limits, re.M)
    if match and match.group(1) != 'unlimited':
        info['nofile_limit'] = int(match.group(1))
    return info


def health(url, timeout=5.0, opener=open_url, clock=time.monotonic):
    """{status, ms, error}: the HTTP status of GET url (None if there was no answer) and how long it took."""
    start = clock()
    try:
        response = opener(url, timeout=timeout, follow_redirects='none')
        status = response.getcode()
        response.read()
        error = None
    except HTTPError as exc:
        status, error = exc.code, None
    except (URLError, OSError, ValueError) as exc:
        status, error = None, str(getattr(exc, 'reason', exc))
    return {'status': status, 'ms': round((clock() - start) * 1000.0, 1), 'error': error}


def disabled_backends(error_log, now, window):
    """{"address:port": seconds ago} for backends nginx logged as temporarily disabled in the last ``window``
    seconds of ``error_log`` (its text); ``now`` is the time in the log's clock (seconds since the epoch)."""
    found = {}
    for line in error_log.splitlines():
        match = _DISABLED.match(line)
        if not match:
            continue
        when = time.mktime(time.strptime(match.group(1), '%Y/%m/%d %H:%M:%S'))
        if now - window <= when <= now + 1:
            found[match.group(2)] = int(now - when)
    return found


def url_host(address):
    """An address as the host part of a URL (IPv6 in brackets)."""
    return '[%s]' % address if ':' in address and not address.startswith('[') else address


def tail(path, size=262144):
    """The last ``size`` bytes of a file as text ('' if it cannot be read)."""
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return ''
