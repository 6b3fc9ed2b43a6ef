# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the status report: a fake /proc, a real HTTP server, nginx's own log lines, the table."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import time

from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.webops.tornado.plugins.filter.status import status_report, status_table
from ansible_collections.webops.tornado.plugins.module_utils import status


def fake_proc(tmp_path, pid=42, start_ticks=1000, fds=7):
    proc = tmp_path / 'proc'
    base = proc / str(pid)
    (base / 'fd').mkdir(parents=True)
    for n in range(fds):
        (base / 'fd' / str(n)).write_text('')
    (base / 'stat').write_text('%d (python3 x) y) S ' % pid + ' '.join(['0'] * 18) + ' %d 0 0\n' % start_ticks)
    (base / 'status').write_text('Name:\tpython3\nVmRSS:\t   31744 kB\nThreads:\t1\n')
    (base / 'limits').write_text('Limit                     Soft Limit           Hard Limit           Units\n'
                                 'Max open files            16384                16384                files\n')
    (proc / 'uptime').write_text('250.00 100.00\n')
    return str(proc)


def test_a_process_is_read_from_proc(tmp_path):
    proc = fake_proc(tmp_path)
    assert status.process(42, proc, clock_ticks=100) == {
        'uptime_s': 240, 'rss_kb': 31744, 'open_files': 7, 'nofile_limit': 16384}


def test_a_process_that_is_gone_reads_as_unknown(tmp_path):
    assert status.process(43, fake_proc(tmp_path), clock_ticks=100) == {
        'uptime_s': None, 'rss_kb': None, 'open_files': None, 'nofile_limit': None}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == '/health' else 503)
        self.end_headers()
        self.wfile.write(b'ok')

    def log_message(self, *args):
        pass


def test_health_gives_the_status_and_latency_or_no_answer():
    server = HTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        port = server.server_address[1]
        ok = status.health('http://127.0.0.1:%d/health' % port)
        assert ok['status'] == 200 and ok['ms'] >= 0 and ok['error'] is None
        assert status.health('http://127.0.0.1:%d/other' % port)['status'] == 503
    finally:
        server.shutdown()
        server.server_close()
    gone = status.health('http://127.0.0.1:%d/health' % port, timeout=2)
    assert gone['status'] is None and gone['error']


def test_backends_nginx_disabled_within_the_window_are_found():
    now = time.mktime(time.strptime('2026/12/02 12:00:30', '%Y/%m/%d %H:%M:%S'))
    log = '\n'.join([
        '2026/12/02 11:58:00 [warn] 7#7: *1 upstream server temporarily disabled while connecting to upstream, '
        'client: 1.2.3.4, server: _, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:8000/", host: "x"',
        '2026/12/02 12:00:10 [error] 7#7: *9 connect() failed (111: Connection refused) while connecting to upstream, '
        'upstream: "http://127.0.0.1:8001/"',
        '2026/12/02 12:00:20 [warn] 7#7: *9 upstream server temporarily disabled while connecting to upstream, '
        'client: 1.2.3.4, server: _, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:8001/", host: "x"',
        '2026/12/02 12:00:25 [warn] 7#7: *9 upstream server temporarily disabled while reading response header '
        'from upstream, upstream: "http://[::1]:8002/ws", host: "x"',
    ])
    assert status.disabled_backends(log, now, 60) == {'127.0.0.1:8001': 10, '[::1]:8002': 5}


def test_the_report_and_its_table():
    hostvars = {
        'web1': {'app_export': {'name': 'demo', 'process_model': 'ports'},
                 'app_status': {'release': {'id': '20261202T120000Z-ab12', 'source': 'git', 'version': 'v1.2',
                                            'tornado': '6.5.2'},
                                'processes': [{'program': 'demo-8000', 'port': 8000, 'state': 'RUNNING', 'pid': 4242,
                                               'uptime_s': 3725, 'rss_kb': 31744, 'open_files': 14,
                                               'nofile_limit': 16384, 'health_status': 200, 'health_ms': 2.5,
                                               'health_error': None}]}},
        'web2': {'app_export': {'name': 'demo'}},
        'lb1': {'nginx_status': {'backends': [
            {'host': 'web1', 'address': '10.0.0.11', 'port': 8000, 'health_status': 200, 'health_ms': 3.0,
             'health_error': None, 'disabled_s_ago': None},
            {'host': 'web2', 'address': 'fd00::2', 'port': 8000, 'health_status': None, 'health_ms': 5000.0,
             'health_error': 'timed out', 'disabled_s_ago': 4}]}},
    }
    report = status_report(hostvars, ['web1', 'web2'], ['lb1'])
    assert [entry.get('unreachable', False) for entry in report['app_hosts']] == [False, True]
    assert report['app_hosts'][0]['processes'][0]['pid'] == 4242
    assert report['load_balancers'][0]['app'] == 'demo'
    table = status_table(report)
    assert table[0] == 'web1  app demo  model ports  release 20261202T120000Z-ab12 (git v1.2, tornado 6.5.2)'
    assert table[2].split() == ['demo-8000', 'RUNNING', '4242', '1h02m', '31.0M', '14/16384', '200', '2.5ms']
    assert table[3] == 'web2  no status (the host did not answer)'
    assert table[6].split() == ['web1', '10.0.0.11:8000', '200', '3.0ms', 'up']
    assert table[7].split()[:2] == ['web2', '[fd00::2]:8000'] and table[7].endswith('disabled 4s ago')
    assert 'no answer (timed out)' in table[7]


def test_a_retired_app_is_said_so_and_no_load_balancer_serves_it():
    hostvars = {
        'web1': {'app_export': {'name': 'shop', 'process_model': 'ports'},
                 'app_status': {'release': {'id': 'r1'}, 'processes': []}},
        'web2': {'app_export': {'name': 'blog', 'process_model': 'ports', 'state': 'absent'},
                 'app_status': {'skipped': True}},
        'lb1': {'nginx_status': {'backends': []}},
    }
    report = status_report(hostvars, ['web1', 'web2'], ['lb1'])
    assert [entry.get('retired', False) for entry in report['app_hosts']] == [False, True]
    assert report['load_balancers'][0]['app'] == 'shop'
    assert 'web2  app blog  retired (app_state absent): nothing runs' in status_table(report)


@pytest.mark.parametrize('apps', ['blog', ['blog'], ' blog,', 'blog,nope'])
def test_the_report_of_one_app_keeps_its_hosts_and_backends(apps):
    hostvars = {
        'web1': {'app_export': {'name': 'shop'}, 'app_status': {'release': {'id': 'r1'}, 'processes': []}},
        'web2': {'app_export': {'name': 'blog'}, 'app_status': {'release': {'id': 'r2'}, 'processes': []}},
        'lb1': {'nginx_status': {'backends': [{'host': 'web1', 'address': '10.0.0.11', 'port': 8000},
                                              {'host': 'web2', 'address': '10.0.0.12', 'port': 9000}]}},
    }
    report = status_report(hostvars, ['web1', 'web2'], ['lb1'], apps)
    assert [entry['host'] for entry in report['app_hosts']] == ['web2']
    assert report['load_balancers'][0]['app'] == 'blog'
    assert [backend['host'] for backend in report['load_balancers'][0]['backends']] == ['web2']
    assert len(status_report(hostvars, ['web1', 'web2'], ['lb1'], [])['load_balancers'][0]['backends']) == 2


def test_behind_haproxy_the_table_shows_its_state_and_the_stats_page():
    hostvars = {
        'web1': {'app_export': {'name': 'demo', 'process_model': 'ports'},
                 'app_status': {'release': {'id': 'r1'}, 'processes': []}},
        'lb1': {'haproxy_stats_url': 'http://127.0.0.1:8404/', 'haproxy_status': {'backends': [
            {'host': 'web1', 'address': '10.0.0.11', 'port': 8000, 'health_status': 200, 'health_ms': 3.0,
             'health_error': None, 'haproxy': {'status': 'UP', 'sessions': 2, 'check': 'L7OK'}},
            {'host': 'web1', 'address': '10.0.0.11', 'port': 8001, 'health_status': 200, 'health_ms': 3.0,
             'health_error': None, 'haproxy': {'status': 'MAINT', 'sessions': 0, 'check': None}},
            {'host': 'web1', 'address': '10.0.0.11', 'port': 8002, 'health_status': 200, 'health_ms': 3.0,
             'health_error': None, 'haproxy': None}]}},
    }
    report = status_report(hostvars, ['web1'], ['lb1'])
    assert report['load_balancers'][0]['stats_url'] == 'http://127.0.0.1:8404/'
    table = status_table(report)
    assert table[2] == 'lb1  load balancer of demo  (HAProxy, stats page http://127.0.0.1:8404/ on that host)'
    assert table[3].split()[-1] == 'haproxy'
    assert table[4].endswith('UP, 2 sessions, check L7OK')
    assert table[5].endswith('MAINT, 0 sessions, check -')
    assert table[6].endswith('not in its config')
