# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the pause of a rolling restart (plugins/filter/rolling.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible.plugins.loader import filter_loader
from ansible_collections.webops.tornado.plugins.filter import rolling


def export(app, processes, state='present'):
    return {'name': app, 'state': state, 'backends': [{'address': '127.0.0.1', 'port': 8000 + n} for n in range(processes)]}


def hostvars(*layout):
    """layout: (host, app, processes) triples; a host with processes None has no app_export."""
    return {host: ({} if processes is None else {'app_export': export(app, processes)}) for host, app, processes in layout}


def pause_of(*args):
    """rolling_pause of what rolling_spacing returns for these arguments, as tasks/drain.yml has it."""
    return rolling.rolling_pause(rolling.rolling_spacing(*args))


def test_filter_loads_by_fqcn():
    plugin = filter_loader.get('webops.tornado.rolling_pause')
    assert plugin is not None and plugin.j2_function is rolling.rolling_pause


@pytest.mark.parametrize('pause', [0, 2, 7, '5'])
def test_a_given_pause_wins(pause):
    facts = hostvars(('web1', 'shop', 8))
    assert pause_of(facts, ['web1'], 'shop', ['web1'], pause) == int(pause)


@pytest.mark.parametrize('layout, restarting, expected', [
    # One host: 2 or 3 processes leave nginx no backend to spare; 4 spare two, so stops 1 s apart.
    ([('web1', 'shop', 1)], ['web1'], 2),
    ([('web1', 'shop', 2)], ['web1'], 2),
    ([('web1', 'shop', 3)], ['web1'], 2),
    ([('web1', 'shop', 4)], ['web1'], 1),
    ([('web1', 'shop', 8)], ['web1'], 0.34),
    # Two hosts of two processes: one after the other (deploy_serial=1) spare two, together one each.
    ([('web1', 'shop', 2), ('web2', 'shop', 2)], ['web1'], 1),
    ([('web1', 'shop', 2), ('web2', 'shop', 2)], ['web1', 'web2'], 2),
    ([('web1', 'shop', 2), ('web2', 'shop', 2), ('web3', 'shop', 2)], ['web1', 'web2'], 1),
    # Four hosts of two (the bench's fleet): one at a time, or two at a time.
    ([('web%d' % n, 'shop', 2) for n in range(4)], ['web0'], 0.34),
    ([('web%d' % n, 'shop', 2) for n in range(4)], ['web0', 'web1'], 0.67),
    # Another app's backends are another upstream: they do not count.
    ([('web1', 'shop', 2), ('web2', 'blog', 8)], ['web1'], 2),
    # A host without app_export (outside --limit) is not counted: in doubt, wait.
    ([('web1', 'shop', 2), ('web2', 'shop', None)], ['web1'], 2),
])
def test_unset_spaces_the_stops_so_nginx_keeps_two_backends(layout, restarting, expected):
    facts = hostvars(*layout)
    assert pause_of(facts, list(facts), 'shop', restarting, None) == expected
    assert pause_of(facts, list(facts), 'shop', restarting, '') == expected


def test_a_retired_host_does_not_count():
    facts = {'web1': {'app_export': export('shop', 2)}, 'web2': {'app_export': export('shop', 2, state='absent')}}
    assert pause_of(facts, ['web1', 'web2'], 'shop', ['web1'], None) == 2


def test_a_host_listed_twice_counts_once():
    facts = hostvars(('web1', 'shop', 2), ('web2', 'shop', 1))
    assert pause_of(facts, ['web1', 'web2', 'web1'], 'shop', ['web1'], None) == 2


@given(st.lists(st.integers(min_value=1, max_value=16), min_size=1, max_size=8), st.data(),
       st.floats(min_value=0, max_value=5))
def test_two_backends_stay_untouched_however_fast_a_process_restarts(processes, data, restart):
    """Whatever the layout and the time a process takes from its stop to healthy (``restart``): each restarting
    host stops its processes ``restart + pause`` apart, and nginx may skip each one from its stop until 2 s after
    it is healthy. At any stop, at least two of the app's backends are outside every such window."""
    facts = hostvars(*[('web%d' % n, 'shop', count) for n, count in enumerate(processes)])
    restarting = data.draw(st.lists(st.sampled_from(sorted(facts)), min_size=1, unique=True))
    pause = pause_of(facts, sorted(facts), 'shop', restarting, None)
    assert 0 < pause <= 2
    window, spacing = restart + 2, restart + pause
    # The backends a host may have skipped at the moment of a stop (that one included), at most its processes.
    skipped = sum(min(processes[int(host[3:])], int(math.ceil(window / spacing - 1e-9))) for host in restarting)
    assert sum(processes) - skipped >= 2 or pause == 2


@pytest.mark.parametrize('value, seconds', [
    ('1s', 1), ('1', 1), ('500ms', 0.5), ('1m30s', 90), ('2h', 7200), ('', 10), (None, 10)])
def test_nginx_times_in_seconds(value, seconds):
    assert rolling.nginx_seconds(value) == seconds


@pytest.mark.parametrize('value', ['1 s', '1x', 's', '1s;', '-1s', '1s\n'])
def test_what_is_not_an_nginx_time_is_refused(value):
    with pytest.raises(ValueError):
        rolling.nginx_seconds(value)


@pytest.mark.parametrize('fail_timeouts, expected', [
    (['1s'], 0.34), (['500ms', '1s'], 0.34), ([], 0.34),
    # A longer timeout anywhere: wait that long plus one second, however many backends there are.
    (['1s', '5s'], 6), (['1500ms'], 3), ([''], 11), (['1m'], 61)])
def test_a_longer_fail_timeout_is_waited_out(fail_timeouts, expected):
    facts = hostvars(('web1', 'shop', 8))
    assert pause_of(facts, ['web1'], 'shop', ['web1'], None, fail_timeouts) == expected
    # A pause set by hand still wins.
    assert pause_of(facts, ['web1'], 'shop', ['web1'], 1, fail_timeouts) == 1


@given(st.lists(st.tuples(st.integers(min_value=0, max_value=999), st.sampled_from(['ms', 's', 'm', 'h', ''])),
                min_size=1, max_size=3))
def test_never_shorter_than_what_nginx_skips(parts):
    """Whatever the timeout: the pause is shared out among the spare backends only for 1s or less, and otherwise
    at least the timeout plus one second."""
    value = ''.join('%d%s' % part for part in parts)
    seconds = rolling.nginx_seconds(value)
    pause = pause_of(hostvars(('web1', 'shop', 8)), ['web1'], 'shop', ['web1'], None, [value])
    # 8 backends of one host spare 6: the skip window (the timeout rounded up, plus one second) over 6.
    assert pause == math.ceil((math.ceil(seconds) + 1) * 100.0 / 6) / 100.0 if seconds <= 1 else pause >= seconds + 1


def test_spacing_filter_loads_by_fqcn():
    plugin = filter_loader.get('webops.tornado.rolling_spacing')
    assert plugin is not None and plugin.j2_function is rolling.rolling_spacing


@pytest.mark.parametrize('layout, restarting, expected', [
    # Nothing to spare: 2 s after each process. 3 on one host: one stopped or skipped at a time; 4: two.
    ([('web1', 'shop', 2)], ['web1'], {'pause': 2, 'skip_window': 0, 'max_skipped': 0}),
    ([('web1', 'shop', 3)], ['web1'], {'pause': 0, 'skip_window': 2, 'max_skipped': 1}),
    ([('web1', 'shop', 4)], ['web1'], {'pause': 0, 'skip_window': 2, 'max_skipped': 2}),
    ([('web%d' % n, 'shop', 2) for n in range(4)], ['web0', 'web1'], {'pause': 0, 'skip_window': 2, 'max_skipped': 3}),
])
def test_spacing_follows_the_skip_windows_when_the_upstream_can_spare_backends(layout, restarting, expected):
    facts = hostvars(*layout)
    assert rolling.rolling_spacing(facts, list(facts), 'shop', restarting, None) == expected


def test_spacing_with_a_given_pause_or_a_long_timeout_is_a_fixed_pause():
    facts = hostvars(('web1', 'shop', 8))
    assert rolling.rolling_spacing(facts, ['web1'], 'shop', ['web1'], 3) == {'pause': 3, 'skip_window': 0, 'max_skipped': 0}
    assert rolling.rolling_spacing(facts, ['web1'], 'shop', ['web1'], None, ['5s']) == {
        'pause': 6, 'skip_window': 0, 'max_skipped': 0}
