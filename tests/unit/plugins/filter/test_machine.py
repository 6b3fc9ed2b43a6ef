# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the filters of several apps on one machine (plugins/filter/machine.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible.plugins.loader import filter_loader
from ansible_collections.webops.tornado.plugins.filter import machine


def export(app, ports, **keys):
    found = {'name': app, 'user': app, 'group': app, 'home': '/srv/' + app, 'config_dir': '/etc/tornado/' + app,
             'log_dir': '/var/log/' + app, 'state': 'present',
             'backends': [{'address': '127.0.0.1', 'port': port} for port in ports],
             'programs': [{'name': '%s-%d' % (app, port), 'port': port} for port in ports]}
    found.update(keys)
    return found


# web1 runs shop and (as web1-blog) blog; web2 runs blog; vagrant1/2 are two machines behind one address.
HOSTVARS = {
    'web1': {'app_export': export('shop', [8000, 8001])},
    'web1-blog': {'ansible_host': 'web1', 'app_export': export('blog', [8100, 8101])},
    'web2': {'ansible_host': '10.0.0.2', 'app_export': export('blog', [8100, 8101])},
    'vagrant1': {'ansible_host': '127.0.0.1', 'ansible_port': 2222, 'app_export': export('shop', [8000])},
    'vagrant2': {'ansible_host': '127.0.0.1', 'ansible_port': 2200, 'app_export': export('shop', [8000])},
    'lb-only': {'ansible_host': '10.0.0.9'},
}
HOSTS = list(HOSTVARS)


def test_filters_load_by_fqcn():
    for name in ('machine', 'machines', 'same_machine', 'machine_exports', 'machine_problems'):
        plugin = filter_loader.get('webops.tornado.' + name)
        assert plugin is not None and plugin.j2_function is getattr(machine, name)


@pytest.mark.parametrize('host, key', [('web1', 'web1'), ('web1-blog', 'web1'), ('web2', '10.0.0.2'),
                                       ('vagrant1', '127.0.0.1:2222'), ('vagrant2', '127.0.0.1:2200')])
def test_machine_is_ansible_host_and_port(host, key):
    assert machine.machine(host, HOSTVARS) == key


class CountingHostvars(dict):
    """hostvars that counts the names asked: each one is a whole variable set computed in a real run."""

    def __init__(self, *args, **kwargs):
        super(CountingHostvars, self).__init__(*args, **kwargs)
        self.asked = []

    def __getitem__(self, name):
        self.asked.append(name)
        return super(CountingHostvars, self).__getitem__(name)


def test_machines_maps_each_name_to_its_machine():
    assert machine.machines(HOSTS, HOSTVARS) == dict((host, machine.machine(host, HOSTVARS)) for host in HOSTS)
    assert machine.machines([], HOSTVARS) == {}


@pytest.mark.parametrize('mapped', [HOSTS, HOSTS[:3], []])
def test_the_map_gives_the_answers_hostvars_gives(mapped):
    # Names the map lacks are asked through hostvars: a partial map answers the same.
    machines = machine.machines(mapped, HOSTVARS)
    for host in HOSTS:
        assert machine.machine(host, HOSTVARS, machines) == machine.machine(host, HOSTVARS)
        assert machine.same_machine(HOSTS, HOSTVARS, host, machines) == machine.same_machine(HOSTS, HOSTVARS, host)
        assert machine.machine_exports(HOSTS, HOSTVARS, host, machines) == machine.machine_exports(HOSTS, HOSTVARS, host)
        assert (machine.machine_problems(HOSTS, HOSTVARS, host, ['limits_nofile'], machines)
                == machine.machine_problems(HOSTS, HOSTVARS, host, ['limits_nofile']))


def test_with_the_map_only_the_apps_of_the_machine_are_asked():
    machines = machine.machines(HOSTS, HOSTVARS)
    hostvars = CountingHostvars(HOSTVARS)
    assert machine.same_machine(HOSTS, hostvars, 'web1', machines) == ['web1', 'web1-blog']
    assert hostvars.asked == []
    machine.machine_problems(HOSTS, hostvars, 'web1', ['limits_nofile'], machines)
    assert sorted(hostvars.asked) == ['web1', 'web1-blog']
    # Without it, every name is asked (twice for the host itself: its machine, then as one of the names).
    hostvars.asked = []
    machine.same_machine(HOSTS, hostvars, 'web1')
    assert len(hostvars.asked) == len(HOSTS) + 1


def test_same_machine_in_order_itself_included():
    assert machine.same_machine(HOSTS, HOSTVARS, 'web1-blog') == ['web1', 'web1-blog']
    assert machine.same_machine(HOSTS, HOSTVARS, 'web2') == ['web2']
    assert machine.same_machine(HOSTS, HOSTVARS, 'vagrant1') == ['vagrant1']
    assert machine.same_machine(['web2'], HOSTVARS, 'web1') == []


def test_machine_exports_of_names_that_published_one():
    assert [found['name'] for found in machine.machine_exports(HOSTS, HOSTVARS, 'web1')] == ['shop', 'blog']
    assert machine.machine_exports(HOSTS, HOSTVARS, 'lb-only') == []


def test_apps_of_one_machine_that_share_nothing_fit():
    for host in HOSTS:
        assert machine.machine_problems(HOSTS, HOSTVARS, host) == []


@pytest.mark.parametrize('field, variable, value', [
    ('name', 'app_name', 'shop'), ('user', 'app_user', 'www'), ('group', 'app_group', 'www'), ('home', 'app_home', '/srv/x'),
    ('config_dir', 'app_config_dir', '/etc/x'), ('log_dir', 'app_log_dir', '/var/log/x')])
def test_a_shared_account_or_directory_is_refused_naming_the_variable(field, variable, value):
    hostvars = dict(HOSTVARS, **{'web1': {'app_export': export('shop', [8000], **{field: value})},
                                 'web1-blog': {'ansible_host': 'web1', 'app_export': export('blog', [8100], **{field: value})}})
    found = machine.machine_problems(HOSTS, hostvars, 'web1-blog')
    assert len(found) == 1
    assert 'web1-blog and web1 are one machine (web1)' in found[0]
    assert '%s %s' % (variable, value) in found[0]
    # The same app on another machine is no one's business here.
    assert machine.machine_problems(HOSTS, hostvars, 'web2') == []


def test_a_shared_port_is_refused_whether_listened_on_or_only_run():
    # reuse_port and fork: one backend port, programs on it; a clash with any of them is a clash.
    hostvars = dict(HOSTVARS, **{'web1-blog': {'ansible_host': 'web1', 'app_export': export('blog', [8101, 8001])}})
    found = machine.machine_problems(HOSTS, hostvars, 'web1')
    assert len(found) == 1 and found[0].endswith('must not share app_ports 8001.')
    assert 'their apps shop and blog' in found[0]


def test_machine_wide_settings_must_agree():
    hostvars = dict(HOSTVARS)
    hostvars['web1'] = dict(HOSTVARS['web1'], limits_nofile=16384)
    hostvars['web1-blog'] = dict(HOSTVARS['web1-blog'], limits_nofile=16384)
    assert machine.machine_problems(HOSTS, hostvars, 'web1', ['limits_nofile']) == []
    hostvars['web1-blog'] = dict(HOSTVARS['web1-blog'], limits_nofile=50000)
    found = machine.machine_problems(HOSTS, hostvars, 'web1', ['limits_nofile', 'supervisor_minfds'])
    assert len(found) == 1 and 'give it the same limits_nofile ' in found[0]
    # Set on one name only: still two values for one machine.
    hostvars['web1-blog'] = HOSTVARS['web1-blog']
    assert len(machine.machine_problems(HOSTS, hostvars, 'web1-blog', ['limits_nofile'])) == 1


def test_a_name_without_export_is_not_checked():
    assert machine.machine_problems(HOSTS, HOSTVARS, 'lb-only', ['limits_nofile']) == []


# Any two apps on one machine: refused exactly when they share a name, account, directory or port, and each
# sentence names every shared variable.
_FIELD = st.sampled_from(['a', 'b', 'c'])
_APP = st.fixed_dictionaries({'fields': st.lists(_FIELD, min_size=6, max_size=6), 'ports': st.sets(st.integers(8000, 8005), min_size=1)})


@settings(max_examples=200, deadline=None)
@given(mine=_APP, theirs=_APP)
def test_refused_exactly_when_something_is_shared(mine, theirs):
    def build(drawn):
        found = export('x', sorted(drawn['ports']))
        for (field, _variable), value in zip(machine._OWN, drawn['fields']):
            found[field] = value
        return found
    hostvars = {'one': {'app_export': build(mine)}, 'two': {'ansible_host': 'one', 'app_export': build(theirs)}}
    found = machine.machine_problems(['one', 'two'], hostvars, 'one')
    shared = [variable for (field, variable), a, b in zip(machine._OWN, mine['fields'], theirs['fields']) if a == b]
    ports = mine['ports'] & theirs['ports']
    assert bool(found) == bool(shared or ports)
    for variable in shared + (['app_ports'] if ports else []):
        assert variable + ' ' in found[0]
