# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for haproxy_reload: the master's workers, its failure lines, and the wait for a new worker (fake clock)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.webops.tornado.plugins.module_utils import haproxy_reload as hr

# The unit's journal (-o cat) around a reload whose new config could not bind a port (HAProxy 2.6, Debian 12).
BIND_FAILED = (
    'Reloading haproxy.service - HAProxy Load Balancer...\n'
    '[NOTICE]   (270) : Reloading HAProxy\n'
    '[WARNING]  (299) : Paused frontend public.\n'
    '[NOTICE]   (270) : haproxy version is 2.6.12-1+deb12u3\n'
    '[ALERT]    (270) : Binding [/etc/haproxy/haproxy.cfg:38] for frontend f: cannot bind socket (Address already in use)'
    ' for [0.0.0.0:8405]\n'
    '[ALERT]    (270) : [/usr/sbin/haproxy.main()] Some protocols failed to start their listeners! Exiting.\n'
    '[WARNING]  (270) : Loading failure!\n'
    '[WARNING]  (299) : Resumed frontend public.\n'
    'Reloaded haproxy.service - HAProxy Load Balancer.\n'
)
RELOADED = (
    'Reloading haproxy.service - HAProxy Load Balancer...\n'
    '[NOTICE]   (270) : Reloading HAProxy\n'
    '[NOTICE]   (270) : New worker (340) forked\n'
    '[NOTICE]   (270) : Loading success.\n'
    'Reloaded haproxy.service - HAProxy Load Balancer.\n'
)


def test_failed_and_problems_of_a_refused_reload():
    assert hr.failed(BIND_FAILED)
    assert hr.problems(BIND_FAILED) == [
        '[ALERT] (270) : Binding [/etc/haproxy/haproxy.cfg:38] for frontend f: cannot bind socket (Address already in use)'
        ' for [0.0.0.0:8405]',
        '[ALERT] (270) : [/usr/sbin/haproxy.main()] Some protocols failed to start their listeners! Exiting.',
        '[WARNING] (270) : Loading failure!',
    ]


@pytest.mark.parametrize('text', ['', RELOADED, 'Loading success.\n'])
def test_nothing_failed(text):
    assert not hr.failed(text)
    assert hr.problems(text) == []


class FakeClock(object):
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def wait(workers, journal, timeout=10):
    """wait_reloaded against a master whose workers and journal change at given times (seconds after start)."""
    clock = FakeClock()
    start = clock.now

    def at(timeline):
        return [value for when, value in timeline if clock.now - start >= when][-1]

    return hr.wait_reloaded([299], lambda: at(workers), lambda: at(journal), timeout, clock=clock, sleep=clock.sleep)


def test_a_new_worker_is_success():
    assert wait([(0, [299]), (0.5, [299, 340])], [(0, '')]) == (True, [])


def test_the_old_worker_gone_and_a_new_one_is_success():
    assert wait([(0, [299]), (1, [340])], [(0, '')]) == (True, [])


def test_loading_failure_fails_without_waiting_for_the_timeout():
    ok, problems = wait([(0, [299])], [(0, ''), (2, BIND_FAILED)], timeout=60)
    assert not ok
    assert problems[-1] == '[WARNING] (270) : Loading failure!'
    assert 'cannot bind socket' in problems[0]


def test_no_new_worker_in_time():
    ok, problems = wait([(0, [299])], [(0, '[ALERT]    (270) : something\n')], timeout=3)
    assert not ok
    assert problems == ['[ALERT] (270) : something', 'no new HAProxy worker started within 3s of the reload']
