# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the rolling restart logic (fake supervisorctl, fake HTTP, fake clock)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.filter import rolling as rolling_filter
from ansible_collections.webops.tornado.plugins.module_utils.rolling import (
    Backend, RollingRestart, describe_failure, group_programs, point_link)


def filter_hostvars(processes):
    """hostvars of hosts web0, web1, ... of the app shop, with processes[n] backends on host n."""
    return {'web%d' % n: {'app_export': {'name': 'shop', 'backends': [{'port': 8000 + p} for p in range(count)]}}
            for n, count in enumerate(processes)}


class FakeClock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeHost(object):
    """supervisorctl and HTTP of a host whose programs answer `answers[port]` once started."""

    def __init__(self, answers, start_fails=()):
        self.answers = answers
        self.start_fails = set(start_fails)
        self.calls = []
        self.running = set()

    def supervisorctl(self, args):
        self.calls.append(tuple(args))
        action, target = args
        name = target.split(":", 1)[1]
        if action == "stop":
            self.running.discard(name)
            return 0, "%s: stopped" % target, ""
        if name in self.start_fails:
            return 7, "", "%s: ERROR (spawn error)" % target
        self.running.add(name)
        return 0, "%s: started" % target, ""

    def http_get(self, url, timeout):
        port = int(url.split(":")[2].split("/")[0])
        name = "app-%d" % port
        self.calls.append(("GET", url))
        if name not in self.running:
            raise OSError("connection refused")
        answer = self.answers[port]
        if callable(answer):
            return answer()
        return answer


def backends(*ports):
    return [Backend("app-%d" % p, "127.0.0.1", p) for p in ports]


def make(host, bes, clock, **kwargs):
    return RollingRestart("app", bes, host.supervisorctl, host.http_get, clock=clock, sleep=clock.sleep, **kwargs)


def test_restarts_one_at_a_time_in_order_and_checks_each_before_the_next():
    clock = FakeClock()
    host = FakeHost({8000: (200, "ok"), 8001: (200, "ok")})
    ok, results = make(host, backends(8000, 8001), clock).run()
    assert ok
    assert [r["name"] for r in results] == ["app-8000", "app-8001"]
    assert host.calls == [
        ("stop", "app:app-8000"), ("start", "app:app-8000"), ("GET", "http://127.0.0.1:8000/healthz"),
        ("stop", "app:app-8001"), ("start", "app:app-8001"), ("GET", "http://127.0.0.1:8001/healthz"),
    ]


def test_stops_at_first_unhealthy_process_and_reports_status_and_body():
    clock = FakeClock()
    host = FakeHost({8000: (200, "ok"), 8001: (503, "broken release"), 8002: (200, "ok")})
    ok, results = make(host, backends(8000, 8001, 8002), clock, health_timeout=3).run()
    assert not ok
    assert [r["name"] for r in results] == ["app-8000", "app-8001"]
    assert results[-1]["status"] == 503 and results[-1]["body"] == "broken release"
    assert ("stop", "app:app-8002") not in host.calls
    message = describe_failure("app", results)
    assert "app:app-8001" in message and "503" in message and "broken release" in message
    assert "app-8000, app-8001" in message


def test_waits_for_a_slow_start_within_the_timeout():
    clock = FakeClock()
    answers = iter([(503, "warming up"), (503, "warming up"), (200, "ok")])
    host = FakeHost({8000: lambda: next(answers)})
    ok, results = make(host, backends(8000), clock, health_timeout=10, health_interval=1).run()
    assert ok
    assert results[0]["status"] == 200


def test_gives_up_after_the_timeout():
    clock = FakeClock()
    host = FakeHost({8000: (500, "error")})
    ok, results = make(host, backends(8000), clock, health_timeout=5, health_interval=1).run()
    assert not ok
    assert 5 <= results[0]["seconds"] <= 6


def test_spawn_error_fails_without_health_check():
    clock = FakeClock()
    host = FakeHost({8000: (200, "ok")}, start_fails=["app-8000"])
    ok, results = make(host, backends(8000), clock).run()
    assert not ok
    assert "spawn error" in results[0]["error"]
    assert not any(call[0] == "GET" for call in host.calls)
    assert "spawn error" in describe_failure("app", results)


def test_expected_body_must_appear():
    clock = FakeClock()
    host = FakeHost({8000: (200, '{"version": "1"}')})
    ok, _results = make(host, backends(8000), clock, expect_body='"version": "2"', health_timeout=2).run()
    assert not ok


def test_wildcard_and_ipv6_addresses_are_checked_locally():
    assert Backend("a", "0.0.0.0", 80).url("/h") == "http://127.0.0.1:80/h"
    assert Backend("a", "::1", 80).url("/h") == "http://[::1]:80/h"


def test_pause_comes_between_processes_never_before_the_first_or_after_the_last():
    clock = FakeClock()
    slept = []

    def sleep(seconds):
        slept.append((seconds, [c for c in host.calls if c[0] == "stop"][-1:]))
        clock.sleep(seconds)

    host = FakeHost({8000: (200, "ok"), 8001: (200, "ok"), 8002: (200, "ok")})
    rollout = RollingRestart("app", backends(8000, 8001, 8002), host.supervisorctl, host.http_get, pause=2,
                             clock=clock, sleep=sleep)
    ok, results = rollout.run()
    assert ok and len(results) == 3
    # Each pause follows a healthy process and precedes the next stop: after 8000's, after 8001's.
    assert [(s, stops) for s, stops in slept if s == 2] == [
        (2, [("stop", "app:app-8000")]), (2, [("stop", "app:app-8001")])]


def test_no_pause_after_a_process_that_failed():
    clock = FakeClock()
    slept = []
    host = FakeHost({8000: (500, "error"), 8001: (200, "ok")})
    rollout = RollingRestart("app", backends(8000, 8001), host.supervisorctl, host.http_get, pause=2,
                             health_timeout=1, health_interval=1, clock=clock,
                             sleep=lambda s: (slept.append(s), clock.sleep(s)))
    ok, results = rollout.run()
    assert not ok and [r["name"] for r in results] == ["app-8000"]
    assert 2 not in slept


class FakeStart(object):
    """A background `supervisorctl start` that ends after `polls` polls with `outcome`."""

    def __init__(self, host, name, outcome, polls):
        self.host, self.name, self.outcome, self.polls = host, name, outcome, polls
        self.waited = False

    def poll(self):
        if self.polls > 0:
            self.polls -= 1
            return None
        return self.finish()

    def wait(self):
        self.waited = True
        return self.finish()

    def finish(self):
        if self.outcome[0] != 0:
            self.host.running.discard(self.name)
        return self.outcome


class BackgroundHost(FakeHost):
    """The program runs (answers its health check) as soon as its start began; the start itself ends later."""

    def __init__(self, answers, outcomes=None, polls=3):
        super(BackgroundHost, self).__init__(answers)
        self.outcomes = outcomes or {}
        self.polls = polls
        self.starts = []

    def start(self, args):
        action, target = args
        name = target.split(":", 1)[1]
        self.calls.append(("start in the background", target))
        self.running.add(name)
        handle = FakeStart(self, name, self.outcomes.get(name, (0, "%s: started" % target, "")), self.polls)
        self.starts.append(handle)
        return handle


def background(host, bes, clock, **kwargs):
    return RollingRestart("app", bes, host.supervisorctl, host.http_get, clock=clock, sleep=clock.sleep,
                          start=host.start, **kwargs)


def test_the_health_check_not_startsecs_decides_when_the_next_process_stops():
    clock = FakeClock()
    host = BackgroundHost({8000: (200, "ok"), 8001: (200, "ok")})
    ok, results = background(host, backends(8000, 8001), clock).run()
    assert ok and [r["name"] for r in results] == ["app-8000", "app-8001"]
    assert host.calls == [
        ("stop", "app:app-8000"), ("start in the background", "app:app-8000"), ("GET", "http://127.0.0.1:8000/healthz"),
        ("stop", "app:app-8001"), ("start in the background", "app:app-8001"), ("GET", "http://127.0.0.1:8001/healthz"),
    ]
    # Healthy at once: no time went by waiting, and every start was still waited for before the end.
    assert clock.now == 0
    assert all(handle.waited or handle.outcome for handle in host.starts)


def test_a_start_that_fails_after_the_health_check_passed_fails_the_rollout_before_the_next_stop():
    clock = FakeClock()
    host = BackgroundHost({8000: (200, "ok"), 8001: (200, "ok"), 8002: (200, "ok")},
                          outcomes={"app-8000": (7, "", "app:app-8000: ERROR (abnormal termination)")}, polls=0)
    ok, results = background(host, backends(8000, 8001, 8002), clock).run()
    assert not ok
    assert ("stop", "app:app-8001") not in host.calls
    assert results[-1]["name"] == "app-8000" and not results[-1]["healthy"]
    message = describe_failure("app", results)
    assert "app:app-8000 did not start" in message and "abnormal termination" in message


def test_a_start_that_fails_late_is_still_reported_at_the_end():
    clock = FakeClock()
    host = BackgroundHost({8000: (200, "ok"), 8001: (200, "ok")},
                          outcomes={"app-8001": (7, "", "app:app-8001: ERROR (spawn error)")}, polls=100)
    ok, results = background(host, backends(8000, 8001), clock).run()
    assert not ok
    assert [r["name"] for r in results] == ["app-8000", "app-8001"]
    assert "app:app-8001 did not start" in describe_failure("app", results)


def test_a_start_that_failed_ends_the_health_wait_at_once():
    clock = FakeClock()
    host = BackgroundHost({8000: (503, "never healthy")},
                          outcomes={"app-8000": (7, "", "app:app-8000: ERROR (spawn error)")}, polls=2)
    ok, results = background(host, backends(8000), clock, health_timeout=30).run()
    assert not ok
    assert clock.now < 1
    assert "spawn error" in results[0]["error"]


class TimedHost(object):
    """A host whose program n answers its health check `restarts[n]` seconds after its stop, on the fake clock;
    records when each program stopped and when it was first seen healthy."""

    def __init__(self, clock, restarts):
        self.clock = clock
        self.restarts = restarts
        self.stopped_at = {}
        self.healthy_at = {}

    def supervisorctl(self, args):
        action, target = args
        port = int(target.rsplit("-", 1)[1])
        if action == "stop":
            self.stopped_at[port] = self.clock.now
        return 0, "", ""

    def http_get(self, url, timeout):
        port = int(url.split(":")[2].split("/")[0])
        if self.clock.now < self.stopped_at[port] + self.restarts[port - 8000]:
            raise OSError("connection refused")
        self.healthy_at.setdefault(port, self.clock.now)
        return 200, "ok"


@settings(deadline=None, max_examples=300)
@given(st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=6), st.data())
def test_nginx_keeps_two_backends_to_try_at_every_stop_whatever_the_restart_times(processes, data):
    """The real restart loop, driven by rolling_spacing's values, for any layout, any hosts restarting together
    (starting at the same instant: the worst case) and any time each process takes to restart: at every stop,
    at least two of the app's backends are neither stopped nor inside nginx's skip window (2 s after healthy)."""
    facts = filter_hostvars(processes)
    restarting = data.draw(st.lists(st.sampled_from(sorted(facts)), min_size=1, unique=True))
    spacing = rolling_filter.rolling_spacing(facts, sorted(facts), 'shop', restarting, None)
    windows, stops = [], []
    for host in restarting:
        count = processes[int(host[3:])]
        restarts = data.draw(st.lists(st.floats(min_value=0, max_value=3), min_size=count, max_size=count))
        clock = FakeClock()
        timed = TimedHost(clock, restarts)
        ok, _results = RollingRestart("shop", backends(*range(8000, 8000 + count)), timed.supervisorctl,
                                      timed.http_get, clock=clock, sleep=clock.sleep, **spacing).run()
        assert ok
        for port, stopped in timed.stopped_at.items():
            windows.append((stopped, timed.healthy_at[port] + 2))
            stops.append(stopped)
    if spacing['max_skipped'] == 0:
        assert spacing['pause'] == 2  # nothing to spare: the fixed wait, the best there is
        return
    for at in stops:
        skipped = sum(1 for start, end in windows if start <= at < end)
        assert sum(processes) - skipped >= 2


def test_the_next_stop_waits_only_for_the_skip_windows_it_needs():
    """4 processes that restart in 0.5 s, 2 of them allowed stopped or skipped at a time: the second stops as the
    first is healthy, the third once the first's window ended, the fourth once the second's did."""
    clock = FakeClock()
    timed = TimedHost(clock, [0.5] * 4)
    ok, _results = RollingRestart("shop", backends(8000, 8001, 8002, 8003), timed.supervisorctl, timed.http_get,
                                  clock=clock, sleep=clock.sleep, health_interval=0.25, skip_window=2, max_skipped=2).run()
    assert ok
    assert [round(timed.stopped_at[port], 2) for port in range(8000, 8004)] == [0, 0.5, 2.5, 3.0]


# --- group_programs: which programs supervisord runs for a group -----------------------------------------------

@pytest.mark.parametrize('rc, out, programs', [
    (0, 'demo:demo-8000                   RUNNING   pid 474, uptime 0:01:02\n'
        'demo:demo-8001                   RUNNING   pid 475, uptime 0:01:02\n', ['demo-8000', 'demo-8001']),
    # exit 3: a program of the group is not RUNNING, the group is still loaded
    (3, 'demo:demo-8001                   STARTING  \ndemo:demo-8000                   FATAL     Exited too quickly\n',
     ['demo-8000', 'demo-8001']),
    # another group whose name starts with this one's is not this group
    (0, 'demo2:demo2-8000                 RUNNING   pid 9, uptime 0:00:01\n', None),
    (4, 'demo: ERROR (no such group)\n', None),
    (0, '', None),
    (7, 'unix:///run/supervisor.sock no such file\n', None),
])
def test_group_programs(rc, out, programs):
    assert group_programs(rc, out, 'demo') == programs


# --- point_link: current moves to the new release atomically, in the restart's own call ---------------------


def test_point_link_creates_moves_and_keeps(tmp_path):
    current = str(tmp_path / 'current')
    assert point_link(current, '/srv/demo/releases/a') is True
    assert os.readlink(current) == '/srv/demo/releases/a'
    assert point_link(current, '/srv/demo/releases/a') is False
    assert point_link(current, '/srv/demo/releases/b') is True
    assert os.readlink(current) == '/srv/demo/releases/b'
    # nothing but the link is left beside it
    assert sorted(os.listdir(str(tmp_path))) == ['current']


def test_point_link_in_check_mode_changes_nothing(tmp_path):
    current = str(tmp_path / 'current')
    os.symlink('/srv/demo/releases/a', current)
    assert point_link(current, '/srv/demo/releases/b', check_mode=True) is True
    assert os.readlink(current) == '/srv/demo/releases/a'
    assert point_link(str(tmp_path / 'missing'), '/x', check_mode=True) is True
    assert not os.path.lexists(str(tmp_path / 'missing'))


def test_point_link_never_replaces_a_directory_or_file(tmp_path):
    for make in (os.mkdir, lambda path: open(path, 'w').close()):
        path = str(tmp_path / ('thing-%d' % len(os.listdir(str(tmp_path)))))
        make(path)
        with pytest.raises(ValueError):
            point_link(path, '/srv/demo/releases/a')
        assert not os.path.islink(path)
