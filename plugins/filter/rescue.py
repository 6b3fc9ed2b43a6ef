# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The message a load balancer role fails with after its rescue: why, what was put back, and what serves now."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# HAProxy's reasons (a port it cannot bind, say), not what follows from them (workers stopped, exits).
_ALERT = re.compile(r'\[ALERT\]\s*(\(\d+\)\s*:\s*)?')
_CONSEQUENCE = re.compile(r'exited with code|Exiting')


def haproxy_alerts(lines):
    """HAProxy's [ALERT] lines from its journal, each once, as 'HAProxy: <reason>'."""
    found = []
    for line in lines or []:
        match = _ALERT.search(line)
        if match and not _CONSEQUENCE.search(line):
            alert = 'HAProxy: ' + line[match.end():]
            if alert not in found:
                found.append(alert)
    return found


def _skipped(result):
    return not result or bool(result.get('skipped'))


def rescue_message(failed_result, reasons=None, restored=None, config_restored=False, rerun=None, handback=None,
                   previous='', current=''):
    """Why the run failed, then what the rescue put back and whether it runs, then what serves now.

    ``failed_result`` is the failed task's result (its msg and stderr), ``reasons`` more lines saying why (HAProxy's
    alerts), ``restored`` the settings put back (names), ``config_restored`` whether the previous config file went
    back, ``rerun`` the registered result of the task that ran the previous config again, ``handback`` the
    registered result of the loop that stopped ``current`` and started ``previous`` again (what served before).
    """
    failed_result = failed_result or {}
    text = ' '.join(part for part in [failed_result.get('msg') or '', failed_result.get('stderr') or '']
                    + list(reasons or []) if part)
    restored = list(restored or [])
    if restored:
        text += ' The previous %s %s back in place.' % (' and '.join(restored), 'are' if len(restored) > 1 else 'is')
    if config_restored:
        text += ' The previous config is back in place'
    if _skipped(rerun):
        text += '.' if config_restored else ''
    elif not rerun.get('failed'):
        text += ', and %s runs it.' % current if config_restored else ' %s runs the previous config again.' % current
    elif config_restored:
        text += '; %s could not run it: %s' % (current, rerun.get('msg', ''))
    else:
        text += ' %s could not run the previous config: %s' % (current, rerun.get('msg', ''))
    if not _skipped(handback):
        errors = [item.get('msg', '') for item in handback.get('results', []) if item.get('failed')]
        if errors:
            text += ' %s, which served before this run, could not be started again: %s' % (previous, '; '.join(errors))
        else:
            text += ' %s, which served before this run, is running again; %s is stopped.' % (previous, current)
    return text


class FilterModule(object):
    def filters(self):
        return {'haproxy_alerts': haproxy_alerts, 'rescue_message': rescue_message}
