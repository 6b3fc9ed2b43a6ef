# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the host checks (account takeover, port holders), with made-up hosts."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.module_utils import nofile
from ansible_collections.webops.tornado.plugins.plugin_utils import host_checks

HOME = '/srv/demo'


def account(uid, gid, gecos='', home='/home/someone', shell='/bin/bash'):
    return {'uid': uid, 'gid': gid, 'gecos': gecos, 'home': home, 'shell': shell}


# What webops.tornado.host_facts returns for a Debian host, reduced to what the checks read.
BASE_USERS = {
    'root': account(0, 0, 'root', '/root'),
    'www-data': account(33, 33, 'www-data', '/var/www', '/usr/sbin/nologin'),
    'nobody': account(65534, 65534, 'nobody', '/nonexistent', '/usr/sbin/nologin'),
    'alice': account(1000, 1000, 'Alice,,,', '/home/alice'),
}
BASE_GROUPS = {
    'root': {'gid': 0, 'members': []},
    'adm': {'gid': 4, 'members': ['alice']},
    'www-data': {'gid': 33, 'members': []},
    'nogroup': {'gid': 65534, 'members': []},
    'alice': {'gid': 1000, 'members': []},
}


def host(users=None, groups=None):
    all_users = dict(BASE_USERS)
    all_users.update(users or {})
    all_groups = dict(BASE_GROUPS)
    all_groups.update(groups or {})
    return {'users': all_users, 'groups': all_groups}


# --- account_problems ----------------------------------------------------------------------------

def test_fresh_host_has_no_problem():
    assert host_checks.account_problems(host(), 'demo', 'demo', HOME) == []


def test_empty_or_missing_facts_have_no_problem():
    assert host_checks.account_problems({}, 'demo', 'demo', HOME) == []
    assert host_checks.account_problems({'users': None, 'groups': None}, 'demo', 'demo', HOME) == []


def test_account_the_role_created_is_accepted():
    users = {'demo': account(998, 997, 'webops.tornado app demo', HOME, '/usr/sbin/nologin')}
    groups = {'demo': {'gid': 997, 'members': []}}
    assert host_checks.account_problems(host(users, groups), 'demo', 'demo', HOME) == []


def test_marked_account_is_accepted_whatever_its_home_and_shell():
    # The marker is what counts: an admin may have moved the home or changed the shell since.
    users = {'demo': account(998, 997, 'webops.tornado app demo', '/opt/demo', '/bin/sh')}
    groups = {'demo': {'gid': 997, 'members': []}}
    assert host_checks.account_problems(host(users, groups), 'demo', 'demo', HOME) == []


@pytest.mark.parametrize('shell', host_checks.NOLOGIN_SHELLS)
def test_account_created_before_the_marker_is_recognised(shell):
    users = {'demo': account(998, 997, '', HOME, shell)}
    groups = {'demo': {'gid': 997, 'members': []}}
    assert host_checks.account_problems(host(users, groups), 'demo', 'demo', HOME) == []


@pytest.mark.parametrize('entry, why', [
    (account(1001, 1001, 'Demo User,,,', HOME, '/bin/bash'), 'login shell'),
    (account(998, 997, '', '/home/demo', '/usr/sbin/nologin'), 'other home'),
    (account(1001, 997, '', HOME, '/usr/sbin/nologin'), 'not a system uid'),
    (account(998, 997, 'tornado app demo', HOME, '/bin/bash'), 'marker not at the start'),
])
def test_account_the_role_did_not_create_is_refused(entry, why):
    problems = host_checks.account_problems(host({'demo': entry}, {'demo': {'gid': 997, 'members': []}}),
                                            'demo', 'demo', HOME)
    assert problems, why
    assert problems[0].startswith('app_user: demo is an existing account this role did not create')
    assert 'uid %d' % entry['uid'] in problems[0]
    assert entry['shell'] in problems[0] and entry['home'] in problems[0]


def test_taking_over_a_login_user_names_both_the_user_and_its_group():
    problems = host_checks.account_problems(host(), 'alice', 'alice', HOME)
    assert len(problems) == 2
    assert problems[0].startswith('app_user: alice is an existing account')
    assert problems[1].startswith('app_group: alice is an existing group (gid 1000)')


def test_system_account_with_another_home_is_refused():
    problems = host_checks.account_problems(host(), 'www-data', 'www-data', HOME)
    assert [p.split(':')[0] for p in problems] == ['app_user', 'app_group']


@pytest.mark.parametrize('user, group', [('root', 'demo'), ('demo', 'root'), ('root', 'root')])
def test_root_is_refused_alone(user, group):
    problems = host_checks.account_problems(host(), user, group, HOME)
    assert problems == ['app_user and app_group must not be root (got %s/%s): app processes never run as root.'
                        % (user, group)]


def test_existing_shared_group_is_refused_for_a_new_user():
    problems = host_checks.account_problems(host(), 'demo', 'adm', HOME)
    assert len(problems) == 1
    assert problems[0].startswith('app_group: adm is an existing group (gid 4)')


def test_existing_group_is_refused_when_it_is_not_the_users_primary_group():
    users = {'demo': account(998, 997, 'webops.tornado app demo', HOME, '/usr/sbin/nologin')}
    groups = {'demo': {'gid': 997, 'members': []}, 'shared': {'gid': 996, 'members': ['demo']}}
    problems = host_checks.account_problems(host(users, groups), 'demo', 'shared', HOME)
    assert len(problems) == 1 and problems[0].startswith('app_group: shared is an existing group (gid 996)')


def test_group_of_a_foreign_account_is_refused_even_with_matching_gid():
    users = {'demo': account(1001, 1001, 'Demo', '/home/demo')}
    groups = {'demo': {'gid': 1001, 'members': []}}
    problems = host_checks.account_problems(host(users, groups), 'demo', 'demo', HOME)
    assert [p.split(':')[0] for p in problems] == ['app_user', 'app_group']


def test_user_and_group_of_different_names_created_by_the_role():
    users = {'demo': account(998, 990, 'webops.tornado app demo', HOME, '/usr/sbin/nologin')}
    groups = {'webapps': {'gid': 990, 'members': []}}
    assert host_checks.account_problems(host(users, groups), 'demo', 'webapps', HOME) == []


def test_new_group_for_an_existing_role_account_is_accepted():
    # app_group changed to a name that does not exist yet: the role creates it.
    users = {'demo': account(998, 997, 'webops.tornado app demo', HOME, '/usr/sbin/nologin')}
    assert host_checks.account_problems(host(users, {'demo': {'gid': 997, 'members': []}}),
                                        'demo', 'demo-new', HOME) == []


# --- port_conflicts ------------------------------------------------------------------------------

def sock(port, user, address='0.0.0.0', processes=None):
    return {'address': address, 'port': port, 'uid': 0, 'user': user, 'processes': processes or []}


def test_no_listeners_no_conflict():
    assert host_checks.port_conflicts([], [8000, 8001], 'app_ports') == []
    assert host_checks.port_conflicts(None, [8000], 'app_ports') == []


def test_other_ports_are_ignored():
    listeners = [sock(22, 'root', processes=['sshd[1]']), sock(5432, 'postgres', '127.0.0.1')]
    assert host_checks.port_conflicts(listeners, [8000, 8001], 'app_ports') == []


def test_port_held_by_another_user_names_user_processes_and_address():
    listeners = [sock(8001, 'postgres', '127.0.0.1', ['postgres[812]'])]
    assert host_checks.port_conflicts(listeners, [8000, 8001], 'app_ports', owners=['demo']) == [
        'app_ports: port 8001 is already held on 127.0.0.1 by user postgres (postgres[812]); a backend or '
        'nginx could not bind it. Choose another port, or stop that program.']


def test_port_held_without_visible_processes_names_the_user_only():
    problems = host_checks.port_conflicts([sock(8000, '1234', '::')], [8000], 'app_ports', owners=['demo'])
    assert problems == ['app_ports: port 8000 is already held on :: by user 1234; a backend or nginx could '
                        'not bind it. Choose another port, or stop that program.']


def test_own_backends_are_not_a_conflict_on_a_rerun():
    listeners = [sock(8000, 'demo', '127.0.0.1', ['python3[900]']), sock(8001, 'demo', '127.0.0.1')]
    assert host_checks.port_conflicts(listeners, [8000, 8001], 'app_ports', owners=['demo']) == []


def test_owner_is_matched_by_whole_name():
    listeners = [sock(8000, 'demo2', '127.0.0.1')]
    assert len(host_checks.port_conflicts(listeners, [8000], 'app_ports', owners=['demo'])) == 1


def test_nginx_own_ports_by_process_name():
    listeners = [sock(80, 'root', '0.0.0.0', ['nginx[100]', 'nginx[101]', 'nginx[102]']),
                 sock(80, 'root', '::', ['nginx[100]', 'nginx[101]'])]
    assert host_checks.port_conflicts(listeners, [80, 443], 'nginx_listen_port', processes=['nginx']) == []


def test_socket_shared_with_another_program_is_a_conflict():
    listeners = [sock(80, 'root', '0.0.0.0', ['apache2[50]', 'nginx[100]'])]
    problems = host_checks.port_conflicts(listeners, [80], 'nginx_listen_port', processes=['nginx'])
    assert len(problems) == 1 and 'apache2[50], nginx[100]' in problems[0]


def test_root_socket_without_visible_processes_is_not_nginx():
    problems = host_checks.port_conflicts([sock(80, 'root')], [80], 'nginx_listen_port', processes=['nginx'])
    assert len(problems) == 1 and 'by user root;' in problems[0]


def test_one_sentence_per_port_sorted_by_port():
    listeners = [sock(9000, 'x', '0.0.0.0'), sock(9000, 'x', '::'), sock(8000, 'y', '127.0.0.1')]
    problems = host_checks.port_conflicts(listeners, ['9000', '8000'], 'app_ports')
    assert [p.split(' is already')[0] for p in problems] == ['app_ports: port 8000', 'app_ports: port 9000']


def test_first_foreign_socket_of_a_port_is_named():
    listeners = [sock(8000, 'demo', '127.0.0.1'), sock(8000, 'mallory', '::', ['nc[7]'])]
    problems = host_checks.port_conflicts(listeners, [8000], 'app_ports', owners=['demo'])
    assert len(problems) == 1 and 'user mallory (nc[7])' in problems[0] and 'on ::' in problems[0]


def test_ports_and_listener_ports_may_be_text():
    listeners = [{'address': '0.0.0.0', 'port': '8000', 'user': 'x', 'processes': []}]
    assert len(host_checks.port_conflicts(listeners, ['8000'], 'app_ports')) == 1


def test_an_account_marked_for_another_app_is_refused_when_the_name_is_given():
    users = {'shop': {'uid': 990, 'gid': 990, 'gecos': 'webops.tornado app shop', 'home': '/srv/shop', 'shell': '/usr/sbin/nologin'}}
    groups = {'shop': {'gid': 990, 'members': []}}
    assert host_checks.account_problems(host(users, groups), 'shop', 'shop', '/srv/shop', name='shop') == []
    problems = host_checks.account_problems(host(users, groups), 'shop', 'shop', '/srv/admin', name='admin')
    assert [p.split(':')[0] for p in problems] == ['app_user', 'app_group']


def test_a_packaged_system_account_with_a_comment_is_not_taken_for_an_old_one_of_ours():
    users = {'redis': {'uid': 105, 'gid': 110, 'gecos': 'redis', 'home': '/var/lib/redis', 'shell': '/usr/sbin/nologin'}}
    problems = host_checks.account_problems(host(users, {}), 'redis', 'redis-app', '/var/lib/redis', name='redis')
    assert problems and problems[0].startswith('app_user: redis')


# --- unit_state ---------------------------------------------------------------------------------

@pytest.mark.parametrize('host', [None, {}, {'units': None}, {'units': {}}, {'units': {'other.service': {'enabled': True}}}])
def test_a_unit_not_read_is_not_running(host):
    assert host_checks.unit_state(host, 'nginx.service') == {
        'enabled': False, 'active': False, 'running': False, 'nofile': None}


@pytest.mark.parametrize('enabled, active, running', [
    (True, True, True), (True, False, False), (False, True, False), (False, False, False)])
def test_a_unit_runs_only_when_enabled_and_active(enabled, active, running):
    host = {'units': {'supervisor.service': {'enabled': enabled, 'active': active, 'nofile': 20000}}}
    state = host_checks.unit_state(host, 'supervisor.service')
    assert state == {'enabled': enabled, 'active': active, 'running': running, 'nofile': 20000}


# --- apt_batch ----------------------------------------------------------------------------------

PACKAGES = st.lists(st.sampled_from(['nginx', 'supervisor', 'nftables', 'python3-venv', 'git', 'certbot', 'haproxy',
                                     'socat', 'openssl']), max_size=6, unique=True)


@settings(max_examples=300, deadline=None)
@given(own=PACKAGES, wanted=PACKAGES, installed=PACKAGES)
def test_apt_batch_calls_apt_only_for_a_missing_own_package_and_then_takes_every_missing_one(own, wanted, installed):
    batch = host_checks.apt_batch(own, wanted, {name: [{'version': '1'}] for name in installed})
    if set(own) <= set(installed):
        assert batch == []
    else:
        # Every missing package of the role itself and of the host's other roles, nothing installed already, once.
        assert set(batch) == (set(own) | set(wanted)) - set(installed)
        assert batch == sorted(set(batch))


def test_apt_batch_of_a_role_that_is_first_on_a_fresh_host():
    wanted = ['nftables', 'python3-venv', 'supervisor', 'nginx']
    assert host_checks.apt_batch(['nftables'], wanted, {}) == ['nftables', 'nginx', 'python3-venv', 'supervisor']
    # A role whose package was removed by hand since (the read saw the others) installs its own.
    assert host_checks.apt_batch(['nginx'], wanted, {'nftables': [], 'python3-venv': [], 'supervisor': []}) == ['nginx']


# --- nofile_ceiling -------------------------------------------------------------------------------

CONF = '/etc/security/limits.d/60-webops-tornado.conf'
NOFILE = {'hard_limit': 16384, 'can_raise_hard_limit': False, 'nr_open': 1048576, 'file_max': 9223372036854775807,
          'nr_open_writable': False}


@settings(max_examples=200, deadline=None)
@given(requested=st.integers(min_value=1, max_value=1073741816), hard=st.one_of(st.none(), st.integers(1024, 1 << 30)),
       can_raise=st.booleans(), nr_open=st.integers(1024, 1073741816), writable=st.booleans())
def test_nofile_ceiling_from_the_read_is_the_module_answer(requested, hard, can_raise, nr_open, writable):
    found = dict(NOFILE, hard_limit=hard, can_raise_hard_limit=can_raise, nr_open=nr_open, nr_open_writable=writable)
    answer = host_checks.nofile_ceiling({'nofile': found, 'files': {CONF: None}, 'globbed': {CONF: []}}, requested, CONF)
    grantable, ceiling, reason = nofile.decide(requested, hard, can_raise, nr_open, writable)
    assert (answer['grantable'], answer['ceiling'], answer['reason']) == (grantable, ceiling, reason)
    assert answer['conf_domains'] == [] and answer['nr_open'] == nr_open and answer['file_max'] == NOFILE['file_max']


def test_nofile_ceiling_reads_the_domains_of_the_file_the_read_holds():
    text = '# managed\nroot soft nofile 16384\nroot hard nofile 16384\ndemo soft nofile 16384\n'
    answer = host_checks.nofile_ceiling({'nofile': NOFILE, 'files': {CONF: text}}, 16384, CONF)
    assert answer['grantable'] and answer['conf_domains'] == ['root', 'demo']


@pytest.mark.parametrize('host', [
    None, {}, {'files': {CONF: ''}},                                    # no read, or one without nofile
    {'nofile': NOFILE, 'files': {}},                                    # another limits_conf_path: not read
    {'nofile': NOFILE, 'files': {CONF: None}, 'globbed': {CONF: [CONF]}},  # there, but not readable
])
def test_nofile_ceiling_leaves_it_to_the_module_when_the_read_cannot_say(host):
    assert host_checks.nofile_ceiling(host, 16384, CONF) is None
