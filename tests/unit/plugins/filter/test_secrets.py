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


# As slurp answers a missing file under failed_when: false (ansible-core 2.19 writes "File", earlier "file").
MISSING = {'changed': False, 'failed': False, 'failed_when_result': False, 'msg': 'File not found: /etc/tornado/demo/cookie_secret'}
HOSTS = ['a', 'b', 'c', 'd']


def own(**reads):
    """hostvars in which each named host registered its own read."""
    return dict((host, {'__app_secret_here': result, 'app_name': 'demo'}) for host, result in reads.items())


def test_registered():
    assert sorted(plugin.FilterModule().filters()) == ['cookie_secret_held', 'cookie_secret_unread']


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


def test_unread_hosts_are_the_unreachable_and_the_failed_reads_other_than_a_missing_file():
    from ansible_collections.webops.tornado.plugins.filter.secrets import cookie_secret_unread
    hostvars = own(a=MISSING, b={'failed': True, 'msg': 'File is not readable: /etc/tornado/demo/cookie_secret'},
                   c=read('secret-c'), d={'skipped': True}, e={'failed': True, 'msg': 'file not found: /x'})
    elsewhere = [{'item': 'f', 'unreachable': True, 'msg': 'Failed to connect to the host via ssh'},
                 # as a docker connection to a container that is gone answers, under failed_when: false
                 {'item': 'g', 'failed': False, 'failed_when_result': False, 'rc': 1,
                  'module_stderr': 'Error response from daemon: No such container: g\n',
                  'msg': 'Module result deserialization failed: No start of json char found'},
                 dict(MISSING, item='h'), dict(read('secret-i'), item='i')]
    order = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']
    assert cookie_secret_unread(order, hostvars, ['a', 'b', 'c', 'd', 'e'], elsewhere) == ['b', 'f', 'g']
    # a host of the batch that never read (another include) is not unread, nor one nobody asked for
    assert cookie_secret_unread(['j'], {'j': {'app_name': 'demo'}}, ['j'], elsewhere) == []
    assert cookie_secret_unread(['a'], hostvars, ['a'], elsewhere) == []
