# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the deploy lock: taking, re-entry, refusal, replacement, release, and who is gone."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import threading

from ansible_collections.webops.tornado.plugins.action.deploy_lock import playbooks_of
from ansible_collections.webops.tornado.plugins.module_utils import deploy_lock


def holder(run, **extra):
    found = {'run': run, 'controller': run.split(':')[0], 'pid': 1, 'start_ticks': 1, 'user': 'ci',
             'playbook': 'deploy.yml', 'since': '2026-12-02T12:00:00Z'}
    found.update(extra)
    return found


def test_a_free_lock_is_taken_and_names_its_holder(tmp_path):
    path = str(tmp_path / 'locks' / 'demo.lock')
    assert deploy_lock.take(path, holder('a:1:1')) == ('taken', None)
    with open(path) as handle:
        assert json.load(handle)['run'] == 'a:1:1'


def test_the_same_run_takes_it_again_and_another_is_refused(tmp_path):
    path = str(tmp_path / 'demo.lock')
    deploy_lock.take(path, holder('a:1:1'))
    assert deploy_lock.take(path, holder('a:1:1'))[0] == 'held'
    state, previous = deploy_lock.take(path, holder('b:2:2'))
    assert state == 'refused' and previous['run'] == 'a:1:1'


def test_only_the_named_holder_or_a_break_replaces_a_lock(tmp_path):
    path = str(tmp_path / 'demo.lock')
    deploy_lock.take(path, holder('a:1:1'))
    assert deploy_lock.take(path, holder('b:2:2'), replace='c:3:3')[0] == 'refused'
    assert deploy_lock.take(path, holder('b:2:2'), replace='a:1:1')[0] == 'replaced'
    assert deploy_lock.read(path)['run'] == 'b:2:2'
    assert deploy_lock.take(path, holder('c:3:3'), replace='*')[0] == 'replaced'
    assert deploy_lock.read(path)['run'] == 'c:3:3'


def test_check_mode_writes_nothing(tmp_path):
    path = str(tmp_path / 'locks' / 'demo.lock')
    assert deploy_lock.take(path, holder('a:1:1'), check_mode=True) == ('taken', None)
    assert not os.path.exists(path)
    deploy_lock.take(path, holder('a:1:1'))
    assert deploy_lock.take(path, holder('b:2:2'), replace='*', check_mode=True)[0] == 'replaced'
    assert deploy_lock.read(path)['run'] == 'a:1:1'
    assert deploy_lock.release(path, 'a:1:1', check_mode=True)
    assert os.path.exists(path)


def test_release_removes_only_its_own_lock(tmp_path):
    path = str(tmp_path / 'demo.lock')
    deploy_lock.take(path, holder('a:1:1'))
    assert not deploy_lock.release(path, 'b:2:2')
    assert os.path.exists(path)
    assert deploy_lock.release(path, 'a:1:1')
    assert not os.path.exists(path)
    assert not deploy_lock.release(path, 'a:1:1')


def test_an_unreadable_lock_is_held_by_nobody_known_and_refuses(tmp_path):
    path = str(tmp_path / 'demo.lock')
    with open(path, 'w') as handle:
        handle.write('{not json')
    state, previous = deploy_lock.take(path, holder('a:1:1'))
    assert state == 'refused' and previous == {}
    assert deploy_lock.describe(previous) == 'an unreadable lock file'
    assert not deploy_lock.holder_gone(previous, 'a')


def test_of_many_runs_at_once_exactly_one_takes_the_lock(tmp_path):
    path = str(tmp_path / 'demo.lock')
    states = []
    threads = [threading.Thread(target=lambda n=n: states.append(deploy_lock.take(path, holder('r:%d:1' % n))[0]))
               for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(states) == ['refused'] * 15 + ['taken']


def test_a_holder_is_gone_only_when_its_process_on_this_controller_is(tmp_path):
    proc = tmp_path / 'proc'
    (proc / '42').mkdir(parents=True)
    # Field 22 (starttime) is 777; the command name holds spaces and a ')'.
    (proc / '42' / 'stat').write_text('42 (ansible play) b) S ' + ' '.join(['0'] * 18) + ' 777 0 0\n')
    assert deploy_lock.start_ticks(42, str(proc)) == 777
    alive = holder('ctl:42:777', pid=42, start_ticks=777)
    assert not deploy_lock.holder_gone(alive, 'ctl', str(proc))
    assert deploy_lock.holder_gone(dict(alive, start_ticks=778), 'ctl', str(proc))  # the pid was reused
    assert deploy_lock.holder_gone(dict(alive, pid=43), 'ctl', str(proc))  # no such process
    assert not deploy_lock.holder_gone(dict(alive, pid=43), 'other-controller', str(proc))
    assert not deploy_lock.holder_gone(dict(alive, pid='x'), 'ctl', str(proc))


def test_this_process_start_ticks_are_read_from_proc():
    assert isinstance(deploy_lock.start_ticks(os.getpid()), int)


def test_the_playbook_is_recorded_without_any_option_value():
    argv = ['/venv/bin/ansible-playbook', '-i', 'inventory.yml', '-e', 'secret=hunter2', '--limit', 'web1',
            'webops.tornado.deploy', '--check', '-v', '-e@vars.yml']
    assert playbooks_of(argv) == 'webops.tornado.deploy'
    assert playbooks_of(['ansible-playbook', '/srv/ops/site.yml', '-e', 'site2.yml']) == 'site.yml'
    assert playbooks_of(['ansible-playbook']) == '?'


def test_read_current_follows_the_symlink_and_reads_its_release(tmp_path):
    release = tmp_path / 'releases' / '20261205T000000Z-0000abcd'
    release.mkdir(parents=True)
    (release / 'RELEASE.json').write_text('{"id": "20261205T000000Z-0000abcd"}')
    (tmp_path / 'current').symlink_to(release)
    assert deploy_lock.read_current(str(tmp_path / 'current')) == {
        'target': os.path.realpath(str(release)), 'release': '{"id": "20261205T000000Z-0000abcd"}'}


def test_read_current_of_a_release_without_its_record_or_of_no_symlink(tmp_path):
    release = tmp_path / 'releases' / 'r1'
    release.mkdir(parents=True)
    (tmp_path / 'current').symlink_to(release)
    assert deploy_lock.read_current(str(tmp_path / 'current')) == {'target': os.path.realpath(str(release)), 'release': None}
    # Not there at all (a first deploy), or a directory where the symlink should be: nothing current.
    assert deploy_lock.read_current(str(tmp_path / 'missing')) == {'target': '', 'release': None}
    assert deploy_lock.read_current(str(tmp_path / 'releases')) == {'target': '', 'release': None}
    # A dangling symlink (its release was removed by hand) leads somewhere with nothing to read.
    (tmp_path / 'dangling').symlink_to(tmp_path / 'gone')
    assert deploy_lock.read_current(str(tmp_path / 'dangling'))['release'] is None


def test_read_current_refuses_what_is_too_large_to_be_a_release_record(tmp_path):
    release = tmp_path / 'r1'
    release.mkdir()
    (release / 'RELEASE.json').write_bytes(b' ' * (deploy_lock.RELEASE_MAX + 1))
    (tmp_path / 'current').symlink_to(release)
    assert deploy_lock.read_current(str(tmp_path / 'current'))['release'] is None
