# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for releases_to_prune: pruning keeps the good releases a rollback needs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible.plugins.loader import filter_loader
from ansible_collections.webops.tornado.plugins.filter import releases

ROOT = '/srv/demo/releases'


def rid(number):
    return '202612%02dT000000Z-%08x' % (number, number)


def path(number):
    return '%s/%s' % (ROOT, rid(number))


def found(good=(), failed=(), unfinished=(), failed_unchecked=()):
    """What ansible.builtin.find returns (file_type any, depth 2) for releases numbered by age:
    good ones (RELEASE.json), failed after their check (RELEASE.json + FAILED, activate.yml's rescue),
    failed before it (FAILED only, release.yml's rescue), and never finished (no marker)."""
    entries = []
    for number in sorted(set(good) | set(failed) | set(unfinished) | set(failed_unchecked)):
        entries.append({'path': path(number), 'isdir': True})
        entries.append({'path': path(number) + '/src', 'isdir': True})
        entries.append({'path': path(number) + '/venv', 'isdir': True})
        if number in good or number in failed:
            entries.append({'path': path(number) + '/RELEASE.json', 'isdir': False})
        if number in failed or number in failed_unchecked:
            entries.append({'path': path(number) + '/FAILED', 'isdir': False})
    return entries


def test_filter_is_registered_and_loads_by_fqcn():
    assert releases.FilterModule().filters() == {'releases_to_prune': releases.releases_to_prune}
    plugin = filter_loader.get('webops.tornado.releases_to_prune')
    assert plugin is not None
    assert plugin.j2_function is releases.releases_to_prune


def test_failed_deploys_in_a_row_never_push_good_releases_off_the_disk():
    # capistrano#1907: good 1, 2, then failures 3, 4, 5, then good 6 with keep 2. Counting every
    # directory would keep 5 and 6 only, and rollback would have nowhere to go.
    entries = found(good=[1, 2, 6], failed=[4], failed_unchecked=[3, 5])
    assert releases.releases_to_prune(entries, ROOT, path(6), 2, 3) == [path(1)]
    assert releases.releases_to_prune(entries, ROOT, path(6), 2, 1) == [path(1), path(3), path(4)]
    assert releases.releases_to_prune(entries, ROOT, path(6), 2, 0) == [path(1), path(3), path(4), path(5)]


def test_oldest_good_releases_go_first_by_sorted_id():
    entries = found(good=[1, 2, 3, 4, 5])
    assert releases.releases_to_prune(entries, ROOT, path(5), 3, 3) == [path(1), path(2)]
    assert releases.releases_to_prune(entries, ROOT, path(5), 5, 3) == []
    assert releases.releases_to_prune(entries, ROOT, path(5), 1, 3) == [path(1), path(2), path(3), path(4)]


def test_unfinished_releases_count_as_failed():
    entries = found(good=[1, 3], unfinished=[2, 4])
    assert releases.releases_to_prune(entries, ROOT, path(3), 5, 1) == [path(2)]
    assert releases.releases_to_prune(entries, ROOT, path(3), 5, 0) == [path(2), path(4)]


@pytest.mark.parametrize('keep, keep_failed', [(1, 0), (2, 0), (1, 5)])
def test_current_always_stays_even_when_older_than_the_kept_ones(keep, keep_failed):
    # after a rollback to 2 (then app_rollback_to again), the current release is not among the newest
    entries = found(good=[1, 2, 3, 4])
    pruned = releases.releases_to_prune(entries, ROOT, path(2), keep, keep_failed)
    assert path(2) not in pruned
    assert set(pruned) == set(path(n) for n in [1, 2, 3, 4]) - set(path(n) for n in [2] + list(range(5 - keep, 5)))


def test_current_stays_even_if_marked_failed():
    entries = found(good=[1], failed=[2])
    assert releases.releases_to_prune(entries, ROOT, path(2), 1, 0) == []


def test_current_may_be_a_list_and_is_compared_by_id():
    entries = found(good=[1, 2, 3])
    assert releases.releases_to_prune(entries, ROOT, ['', '/data/srv/demo/releases/' + rid(1)], 1, 0) == [path(2)]
    assert releases.releases_to_prune(entries, ROOT, path(2) + '/', 1, 0) == [path(1)]
    assert releases.releases_to_prune(entries, ROOT, '', 1, 0) == [path(1), path(2)]
    assert releases.releases_to_prune(entries, ROOT, None, 1, 0) == [path(1), path(2)]


def test_plain_paths_of_markers_are_enough():
    entries = [path(1) + '/RELEASE.json', path(2) + '/FAILED', path(3) + '/RELEASE.json', path(3) + '/FAILED',
               path(4) + '/RELEASE.json']
    assert releases.releases_to_prune(entries, ROOT, path(4), 1, 1) == [path(1), path(2)]


def test_only_release_directories_are_ever_removed():
    entries = found(good=[1, 2]) + [
        {'path': ROOT + '/notes.txt', 'isdir': False},
        {'path': path(1) + '/demo-1.0-py3-none-any.whl', 'isdir': False},
        {'path': path(1) + '/src/RELEASE.json', 'isdir': False},
        {'path': '/elsewhere/' + rid(9) + '/RELEASE.json', 'isdir': False},
    ]
    assert releases.releases_to_prune(entries, ROOT + '/', path(2), 1, 0) == [path(1)]


def test_nothing_found_nothing_removed():
    assert releases.releases_to_prune([], ROOT, '', 5, 3) == []
    assert releases.releases_to_prune(None, ROOT, '', 5, 3) == []


def test_counts_given_as_text_from_jinja():
    assert releases.releases_to_prune(found(good=[1, 2, 3]), ROOT, path(3), '2', '0') == [path(1)]


@given(st.sets(st.integers(min_value=1, max_value=28), max_size=12), st.sets(st.integers(min_value=1, max_value=28), max_size=6),
       st.integers(min_value=0, max_value=15), st.integers(min_value=0, max_value=15), st.data())
def test_exactly_the_newest_keep_good_and_keep_failed_failed_stay_whatever_is_on_disk(good, failed, keep, keep_failed, data):
    """Fewer releases on disk than app_keep_releases must keep them all (2 of 3 with 5 to keep, a bug that
    reached a host: a slice that starts below 0 counts from the end)."""
    failed = failed - good
    on_disk = sorted(good | failed)
    current = data.draw(st.sampled_from(on_disk)) if on_disk else None
    removed = releases.releases_to_prune(found(good=good, failed_unchecked=failed), ROOT, path(current) if current else '', keep, keep_failed)
    kept_good = set(sorted(good)[-keep:]) if keep else set()
    kept_failed = set(sorted(failed)[-keep_failed:]) if keep_failed else set()
    expected = [path(number) for number in on_disk if number not in kept_good | kept_failed and number != current]
    assert removed == expected
    assert len(good) - len([p for p in removed if int(p[-8:], 16) in good]) >= min(keep, len(good))
