# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for nginx_reload: [emerg] detection and the wait for fresh workers and every port (fake clock)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.webops.tornado.plugins.module_utils import nginx_reload as nr

# nginx's error log around a reload that could not bind a port (level error and above is logged).
BIND_FAILED = (
    '2026/12/01 23:42:38 [emerg] 1042#1042: bind() to 0.0.0.0:8080 failed (98: Address already in use)\n'
    '2026/12/01 23:42:38 [emerg] 1042#1042: bind() to [::]:8080 failed (98: Address already in use)\n'
)
# What the master logs when it gives up the bind (it tries five times, 500 ms apart; error level and above).
GAVE_UP = '2026/12/01 23:42:38 [emerg] 1042#1042: still could not bind()\n'
# An [emerg] after which nginx tries nothing again: the reload is over at once.
NO_RETRY = '2026/12/01 23:42:38 [emerg] 1042#1042: bind() to 10.9.9.9:80 failed (99: Cannot assign requested address)\n'
OTHER_LINES = (
    '2026/12/01 23:40:01 [error] 1100#1100: *7 connect() failed (111: Connection refused) while connecting to '
    'upstream, client: 10.0.2.2, server: demo.example.com, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:8000/"\n'
    '2026/12/01 23:40:02 [warn] 1100#1100: *8 an upstream response is buffered to a temporary file\n'
    '2026/12/01 23:40:03 [crit] 1100#1100: *9 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share)\n'
    '2026/12/01 23:40:04 [notice] 1042#1042: signal process started\n'
)


def test_emerg_lines_picks_emerg_and_alert_only():
    alert = '2026/12/01 23:42:39 [alert] 1042#1042: could not open error log file\n'
    assert nr.emerg_lines(OTHER_LINES + BIND_FAILED + alert) == BIND_FAILED.splitlines() + [alert.strip()]


@pytest.mark.parametrize('text', ['', '\n', OTHER_LINES, 'emerg without brackets\n'])
def test_emerg_lines_none(text):
    assert nr.emerg_lines(text) == []


def test_missing_ports():
    assert nr.missing_ports({22, 80, 443}, [80, 443]) == []
    assert nr.missing_ports({22, 80}, [443, 80, 8443]) == [443, 8443]
    assert nr.missing_ports(set(), ['80', '443']) == [80, 443]
    assert nr.missing_ports({80}, []) == []


# --- wait_reloaded with a fake nginx and a fake clock --------------------------------------------------

class FakeClock(object):
    def __init__(self):
        self.now = 50.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeNginx(object):
    """What the module reads after the reload, changing at given times of the fake clock."""

    def __init__(self, clock, workers=((0, [101, 102]),), ports=((0, {80, 443}),), log=((0, ''),)):
        self.clock = clock
        self.start = clock.now
        self.timeline = {'workers': list(workers), 'ports': list(ports), 'log': list(log)}
        self.reads = []

    def _at(self, what):
        self.reads.append(what)
        value = None
        for when, item in self.timeline[what]:
            if self.clock.now - self.start >= when:
                value = item
        return value

    def workers_now(self):
        return list(self._at('workers'))

    def listening_ports(self):
        return set(self._at('ports'))

    def read_log(self):
        return self._at('log')


BEFORE = [101, 102]


def wait(nginx, clock, ports=(80, 443), timeout=10):
    return nr.wait_reloaded(BEFORE, nginx.workers_now, nginx.read_log, nginx.listening_ports, list(ports), timeout,
                            interval=0.2, clock=clock, sleep=clock.sleep)


def test_success_needs_fresh_workers_and_every_port():
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [101, 102]), (0.4, [101, 102, 201, 202]), (1.0, [201, 202])],
                      ports=[(0, {80}), (0.8, {80, 443})])
    assert wait(nginx, clock) == (True, [])
    assert clock.now - 50 == pytest.approx(0.8)


def test_fresh_workers_without_every_port_is_not_success():
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [201, 202])], ports=[(0, {80})])
    ok, problems = wait(nginx, clock, timeout=2)
    assert not ok and problems == ['nothing listens on port(s) 443']
    assert clock.now >= 52 and clock.now < 52.2


def test_every_port_without_fresh_workers_is_not_success():
    # A failed reload leaves the old workers and the old ports: nothing new happened.
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [101, 102])], ports=[(0, {80, 443})])
    ok, problems = wait(nginx, clock, timeout=2)
    assert not ok and problems == ['no new worker process started within 2s of the reload']


def test_timeout_names_both_missing_things():
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [])], ports=[(0, set())])
    ok, problems = wait(nginx, clock, ports=[443, 80, 8443], timeout=1.5)
    assert not ok and problems == ['no new worker process started within 1.5s of the reload',
                                   'nothing listens on port(s) 80, 443, 8443']


def test_emerg_fails_at_once_even_with_fresh_workers():
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [201])], log=[(0, OTHER_LINES + BIND_FAILED)])
    assert wait(nginx, clock) == (False, BIND_FAILED.splitlines())
    assert clock.sleeps == []


def test_emerg_written_while_waiting_ends_the_wait():
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [101, 102])], log=[(0, ''), (0.6, NO_RETRY)])
    ok, problems = wait(nginx, clock)
    assert not ok and problems == NO_RETRY.splitlines()
    assert clock.now - 50 == pytest.approx(0.6)


def test_still_binding():
    assert nr.still_binding(BIND_FAILED.splitlines())
    assert not nr.still_binding((BIND_FAILED + GAVE_UP).splitlines())
    assert not nr.still_binding(NO_RETRY.splitlines())
    assert not nr.still_binding([])


def test_a_port_in_use_fails_only_once_the_master_gave_up():
    # The master's tries: the first failure 0.2 s after the reload, "still could not bind()" 2.5 s later. A
    # failure returned at the first line would let the caller's next reload queue behind the tries.
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [101, 102])],
                      log=[(0, ''), (0.2, BIND_FAILED), (1.2, BIND_FAILED * 3), (2.8, BIND_FAILED * 5 + GAVE_UP)])
    ok, problems = wait(nginx, clock)
    assert not ok and problems == (BIND_FAILED * 5 + GAVE_UP).splitlines()
    assert clock.now - 50 == pytest.approx(2.8)


def test_a_port_freed_during_the_tries_still_fails_once_the_master_took_it():
    # A later try bound the port: the refused config is live (fresh workers). Reported once it is, so that
    # the caller's reload of the previous config comes after it, not before.
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [101, 102]), (1.4, [101, 102, 201, 202])],
                      log=[(0, ''), (0.2, BIND_FAILED), (0.8, BIND_FAILED * 2)])
    ok, problems = wait(nginx, clock)
    assert not ok and problems == (BIND_FAILED * 2).splitlines()
    assert clock.now - 50 == pytest.approx(1.4)


def test_a_master_still_binding_at_the_timeout_is_named():
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [101, 102])], log=[(0, BIND_FAILED)])
    ok, problems = wait(nginx, clock, timeout=3)
    assert not ok and problems == BIND_FAILED.splitlines() + ['nginx was still trying to bind the port 3s after the reload']
    assert clock.now - 50 == pytest.approx(3)


def test_only_a_new_pid_counts_as_fresh():
    # The old workers plus one that is shutting down: no new pid, whatever the count.
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [102])])
    ok, _problems = wait(nginx, clock, timeout=0.4)
    assert not ok


def test_start_has_no_worker_before():
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, []), (0.2, [300, 301])])
    ok, problems = nr.wait_reloaded([], nginx.workers_now, nginx.read_log, nginx.listening_ports, [80], 5,
                                    interval=0.2, clock=clock, sleep=clock.sleep)
    assert ok and problems == []


def test_zero_timeout_checks_once():
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [101])])
    ok, problems = wait(nginx, clock, timeout=0)
    assert not ok and clock.sleeps == [] and problems == ['no new worker process started within 0s of the reload']


def test_no_ports_needs_only_fresh_workers():
    clock = FakeClock()
    nginx = FakeNginx(clock, workers=[(0, [201])], ports=[(0, set())])
    assert wait(nginx, clock, ports=[]) == (True, [])
