# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The status playbook's report: one structure for machines, a table for people."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def _duration(seconds):
    if seconds is None:
        return '-'
    seconds = int(seconds)
    if seconds < 60:
        return '%ds' % seconds
    if seconds < 3600:
        return '%dm%02ds' % (seconds // 60, seconds % 60)
    if seconds < 86400:
        return '%dh%02dm' % (seconds // 3600, seconds % 3600 // 60)
    return '%dd%02dh' % (seconds // 86400, seconds % 86400 // 3600)


def _size(kb):
    if kb is None:
        return '-'
    return '%.1fM' % (kb / 1024.0) if kb >= 1024 else '%dK' % kb


def _health(status, ms, error=None):
    if status is None:
        return 'no answer' + (' (%s)' % error if error else '')
    return '%s %.1fms' % (status, ms or 0)


def _names(apps):
    """Names as -e app=NAME,NAME or a list gives them; [] for none."""
    if apps is None:
        return []
    if isinstance(apps, str):
        apps = apps.split(',')
    return [str(name).strip() for name in apps if str(name).strip()]


def status_report(hostvars, app_hosts, lb_hosts, apps=None):
    """{app_hosts: [...], load_balancers: [...]} from what the status entry points registered on each host
    (app_status on the app hosts, nginx_status or haproxy_status and haproxy_stats_url on the load balancers); a
    host that did not answer is listed with unreachable: true, one whose app is being retired (app_export state
    absent) with retired: true.
    ``apps`` (names, or one string of names separated by commas, as -e app= gives it) keeps the app hosts of
    those apps and, on each load balancer, their backends only; none or empty keeps everything."""
    report = {'app_hosts': [], 'load_balancers': []}
    names = _names(apps)
    if names:
        app_hosts = [host for host in app_hosts if host in hostvars
                     and str((hostvars[host].get('app_export') or {}).get('name')) in names]
    for host in app_hosts:
        found = hostvars[host] if host in hostvars else {}
        status, export = found.get('app_status'), found.get('app_export') or {}
        entry = {'host': host, 'app': export.get('name'), 'process_model': export.get('process_model')}
        if export.get('state') == 'absent':
            entry.update(retired=True, release={}, processes=[])
        elif status and not status.get('failed'):
            entry.update(release=status.get('release') or {}, processes=status.get('processes') or [])
        else:
            entry.update(unreachable=True, release={}, processes=[])
        report['app_hosts'].append(entry)
    for host in lb_hosts:
        found = hostvars[host] if host in hostvars else {}
        status = found.get('nginx_status') or found.get('haproxy_status')
        apps = sorted(set(str((hostvars[app].get('app_export') or {}).get('name')) for app in app_hosts
                          if app in hostvars and hostvars[app].get('app_export')
                          and hostvars[app]['app_export'].get('state') != 'absent'))
        entry = {'host': host, 'app': ', '.join(apps)}
        if found.get('haproxy_stats_url'):
            entry['stats_url'] = found['haproxy_stats_url']
        if status and not status.get('failed'):
            entry['backends'] = [backend for backend in status.get('backends') or []
                                 if not names or backend.get('host') in app_hosts]
        else:
            entry.update(unreachable=True, backends=[])
        report['load_balancers'].append(entry)
    return report


def status_table(report):
    """The report as lines of text, one block per app host and per load balancer."""
    lines = []
    for entry in report.get('app_hosts', []):
        if entry.get('unreachable'):
            lines.append('%s  no status (the host did not answer)' % entry.get('host'))
            continue
        if entry.get('retired'):
            lines.append('%s  app %s  retired (app_state absent): nothing runs' % (entry.get('host'), entry.get('app')))
            continue
        release = entry.get('release') or {}
        lines.append('%s  app %s  model %s  release %s (%s%s, tornado %s)' % (
            entry.get('host'), entry.get('app'), entry.get('process_model'), release.get('id') or 'none',
            release.get('source') or '?', (' ' + str(release['version'])) if release.get('version') else '',
            release.get('tornado') or '?'))
        lines.append('  %-24s %-9s %-8s %-9s %-8s %-13s %s' % ('program', 'state', 'pid', 'uptime', 'rss', 'open files', 'health'))
        for process in entry.get('processes', []):
            files = '-' if process.get('open_files') is None else '%s/%s' % (
                process['open_files'], process.get('nofile_limit') or '?')
            lines.append('  %-24s %-9s %-8s %-9s %-8s %-13s %s' % (
                process.get('program'), process.get('state'), process.get('pid') or '-',
                _duration(process.get('uptime_s')), _size(process.get('rss_kb')), files,
                _health(process.get('health_status'), process.get('health_ms'), process.get('health_error'))))
    for entry in report.get('load_balancers', []):
        if entry.get('unreachable'):
            lines.append('%s  no status (the host did not answer)' % entry.get('host'))
            continue
        haproxy = 'stats_url' in entry
        where = '  (HAProxy, stats page %s on that host)' % entry['stats_url'] if haproxy else ''
        lines.append('%s  load balancer of %s%s' % (entry.get('host'), entry.get('app'), where))
        lines.append('  %-32s %-20s %s' % ('backend', 'health from here', 'haproxy' if haproxy else 'nginx'))
        for backend in entry.get('backends', []):
            address = str(backend.get('address'))
            where = '%s %s:%s' % (backend.get('host'), '[%s]' % address if ':' in address else address, backend.get('port'))
            if haproxy:
                state = backend.get('haproxy') or {}
                nginx = ('%s, %s sessions, check %s' % (state.get('status'), state.get('sessions'), state.get('check') or '-')
                         if state else 'not in its config')
            else:
                nginx = 'up' if backend.get('disabled_s_ago') is None else 'disabled %ss ago' % backend['disabled_s_ago']
            lines.append('  %-32s %-20s %s' % (where, _health(backend.get('health_status'), backend.get('health_ms'),
                                                              backend.get('health_error')), nginx))
    return lines


class FilterModule(object):
    """webops.tornado status filters."""

    def filters(self):
        return {'status_report': status_report, 'status_table': status_table}
