# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for webops.tornado.cookie_secret_held: which secret an app's hosts agree on."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64

from ansible_collections.webops.tornado.plugins.filter import secrets as plugin
from ansible_collections.webops.tornado.plugins.filter.secrets import cookie_secret_held


def read(text):
    return {'changed': False, 'content': base64.b64encode(text.encode()).decode(), 'encoding': 'base64'}


MISSING = {'changed': False, 'failed': True, 'msg': 'file not found: /etc/tornado/demo/cookie_secret'}
HOSTS = ['a', 'b', 'c', 'd']


def own(**reads):
    """hostvars in which each named host registered its own read."""
    return dict((host, {'__app_secret_here': result, 'app_name': 'demo'}) for host, result in reads.items())


def test_registered():
    assert plugin.FilterModule().filters() == {'cookie_secret_held': cookie_secret_held}


def test_the_first_host_in_order_wins_whichever_batch_reads():
    files = {'a': MISSING, 'b': read('secret-b\n'), 'c': read('secret-c'), 'd': read('secret-d')}
    for batch in (['a', 'b'], ['c', 'd'], ['d'], ['a', 'b', 'c', 'd'], []):
        elsewhere = [dict(files[host], item=host) for host in HOSTS if host not in batch]
        hostvars = own(**dict((host, files[host]) for host in batch))
        assert cookie_secret_held(HOSTS, hostvars, batch, elsewhere) == 'secret-b', batch


def test_none_held_is_empty():
    assert cookie_secret_held(['a', 'b'], own(a=MISSING), ['a'], [dict(MISSING, item='b')]) == ''
    assert cookie_secret_held(['a'], {}, [], []) == ''
    assert cookie_secret_held([], own(a=read('x')), ['a']) == ''


def test_empty_unreadable_skipped_or_undecodable_files_hold_nothing():
    hostvars = own(a=read('  \n'), b={'content': '!!not base64!!'}, c={'content': base64.b64encode(b'\xff\xfe').decode()},
                   d={'skipped': True, 'skip_reason': 'Conditional result was False'}, e=read('secret-e'))
    hostvars['g'] = {'app_name': 'demo'}  # in the batch, but never read its own file
    unreachable = [{'item': 'f', 'unreachable': True, 'msg': 'Failed to connect'}]
    order = ['a', 'b', 'c', 'd', 'f', 'g', 'e']
    assert cookie_secret_held(order, hostvars, ['a', 'b', 'c', 'd', 'e', 'g'], unreachable) == 'secret-e'


def test_only_the_hosts_asked_are_used():
    hostvars = own(z=read('secret-z'))
    assert cookie_secret_held(['a'], hostvars, ['z', 'a'], [dict(read('secret-y'), item='y')]) == ''


def test_a_batch_host_is_taken_from_its_own_read_not_from_a_loop():
    hostvars = own(a=MISSING)
    assert cookie_secret_held(['a'], hostvars, ['a'], [dict(read('stale'), item='a')]) == ''
    assert cookie_secret_held(['a'], own(a=read('own')), [], [dict(read('looped'), item='a')]) == 'looped'
