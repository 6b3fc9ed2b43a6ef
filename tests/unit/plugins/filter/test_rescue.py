# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the message a load balancer role fails with after its rescue, and HAProxy's reasons in it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.filter.rescue import haproxy_alerts, rescue_message

FAILED = {'msg': 'Unable to restart service haproxy', 'stderr': ''}
SKIPPED = {'changed': False, 'skipped': True}
RAN = {'changed': True, 'action': 'restart'}
REFUSED = {'failed': True, 'msg': 'HAProxy did not take the new config (start): no worker'}

JOURNAL = [
    'Starting haproxy.service - HAProxy Load Balancer...',
    '[ALERT]    (4711) : Binding [/etc/haproxy/haproxy.cfg:38] for frontend stats: cannot bind socket (Address already'
    ' in use) for [127.0.0.1:8405]',
    '[ALERT]    (4711) : [haproxy.main()] Some protocols failed to start their listeners! Exiting.',
    '[ALERT]    (4712) : Binding [/etc/haproxy/haproxy.cfg:38] for frontend stats: cannot bind socket (Address already'
    ' in use) for [127.0.0.1:8405]',
    '[WARNING]  (4711) : Current worker (4713) exited with code 1 (Exit)',
    '[ALERT]    (4711) : Current worker (4713) exited with code 1 (Exit)',
]


def test_haproxy_alerts_keeps_each_reason_once_without_pid_or_consequences():
    assert haproxy_alerts(JOURNAL) == ['HAProxy: Binding [/etc/haproxy/haproxy.cfg:38] for frontend stats: cannot bind'
                                       ' socket (Address already in use) for [127.0.0.1:8405]']
    assert haproxy_alerts([]) == [] and haproxy_alerts(None) == []


def test_a_failed_restart_with_both_settings_and_the_config_put_back():
    message = rescue_message(FAILED, haproxy_alerts(JOURNAL), ['stats password', 'open-file limit (service drop-in)'],
                             True, RAN, SKIPPED, "The collection's nginx", 'HAProxy')
    assert message == (
        'Unable to restart service haproxy HAProxy: Binding [/etc/haproxy/haproxy.cfg:38] for frontend stats: cannot'
        ' bind socket (Address already in use) for [127.0.0.1:8405] The previous stats password and open-file limit'
        ' (service drop-in) are back in place. The previous config is back in place, and HAProxy runs it.')


def test_one_setting_put_back_is_named_in_the_singular():
    message = rescue_message(FAILED, restored=['stats password'], current='HAProxy')
    assert message == 'Unable to restart service haproxy The previous stats password is back in place.'


@pytest.mark.parametrize('config_restored, rerun, ending', [
    (True, SKIPPED, ' The previous config is back in place.'),
    (True, None, ' The previous config is back in place.'),
    (False, SKIPPED, ''),
    (True, RAN, ' The previous config is back in place, and HAProxy runs it.'),
    (False, RAN, ' HAProxy runs the previous config again.'),
    (True, REFUSED, ' The previous config is back in place; HAProxy could not run it: ' + REFUSED['msg']),
    (False, REFUSED, ' HAProxy could not run the previous config: ' + REFUSED['msg']),
])
def test_whether_the_previous_config_runs_again(config_restored, rerun, ending):
    message = rescue_message(FAILED, config_restored=config_restored, rerun=rerun, current='HAProxy')
    assert message == FAILED['msg'] + ending


@pytest.mark.parametrize('handback, ending', [
    (None, ''),
    (dict(SKIPPED, results=[SKIPPED, SKIPPED]), ''),
    ({'changed': True, 'results': [{'changed': True, 'failed': False}, {'changed': True}]},
     " The collection's HAProxy, which served before this run, is running again; nginx is stopped."),
    ({'changed': True, 'failed': True,
      'results': [{'changed': True}, {'failed': True, 'msg': 'Unable to start haproxy'}, {'failed': True, 'msg': 'and again'}]},
     " The collection's HAProxy, which served before this run, could not be started again: Unable to start haproxy;"
     " and again"),
])
def test_what_serves_after_a_move_that_failed(handback, ending):
    failed = {'msg': 'nginx did not take the new configuration', 'stderr': 'bind() to 0.0.0.0:80 failed'}
    message = rescue_message(failed, handback=handback, previous="The collection's HAProxy", current='nginx')
    assert message == 'nginx did not take the new configuration bind() to 0.0.0.0:80 failed' + ending


def test_a_failed_task_without_msg_or_stderr():
    assert rescue_message({}, config_restored=True) == ' The previous config is back in place.'
    assert rescue_message({'msg': None, 'stderr': None}, ['HAProxy: x']) == 'HAProxy: x'


@given(st.lists(st.text(st.characters(blacklist_categories=('Cs',)), min_size=1), min_size=1, max_size=4))
def test_every_setting_put_back_is_named_with_one_verb(settings):
    message = rescue_message({'msg': 'failed'}, restored=settings)
    assert message == 'failed The previous %s %s back in place.' % (' and '.join(settings),
                                                                    'is' if len(settings) == 1 else 'are')
