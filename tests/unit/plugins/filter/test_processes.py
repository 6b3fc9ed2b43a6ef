# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the chain app_ports -> app_processes -> programs and backends -> upstream_servers."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.webops.tornado.plugins.filter import vocabulary
from ansible_collections.webops.tornado.plugins.filter.supervisor import group_files, log_dirs

COMMAND = '/srv/demo/current/venv/bin/python /srv/demo/launcher/webops_tornado_launcher.py --port {port}'
SRC = '/srv/demo/current/src'


def processes(ports, model='ports', nproc=2, count=0, address='127.0.0.1', expect_argv=None, base=8000):
    return vocabulary.app_processes(ports, base, nproc, model, count, 'demo', COMMAND, SRC, address, expect_argv)


# --- app_processes -------------------------------------------------------------------------------

def test_auto_ports_are_one_per_vcpu_from_the_base():
    found = processes('auto', nproc=3, base='9000')
    assert found['all_ports'] == [9000, 9001, 9002]
    assert found['ports'] == [9000, 9001, 9002]


def test_given_ports_become_numbers():
    assert processes(['8000', 8001])['all_ports'] == [8000, 8001]


def test_ports_model_one_program_and_one_backend_per_port():
    found = processes([8000, 8001])
    assert found['program_count'] == 2
    assert found['programs'] == [
        {'name': 'demo-8000', 'port': 8000, 'command': COMMAND.replace('{port}', '8000'), 'directory': SRC},
        {'name': 'demo-8001', 'port': 8001, 'command': COMMAND.replace('{port}', '8001'), 'directory': SRC},
    ]
    assert found['backends'] == [{'port': 8000, 'address': '127.0.0.1'}, {'port': 8001, 'address': '127.0.0.1'}]
    assert found['rolling_backends'] == [{'name': 'demo-8000', 'port': 8000, 'address': '127.0.0.1'},
                                         {'name': 'demo-8001', 'port': 8001, 'address': '127.0.0.1'}]


@pytest.mark.parametrize('model', ['fork', 'development'])
def test_single_port_models_listen_on_the_first_port_with_one_program(model):
    found = processes([8000, 8001], model=model, count=4)
    assert found['all_ports'] == [8000, 8001]
    assert found['ports'] == [8000]
    assert found['program_count'] == 1
    assert [program['name'] for program in found['programs']] == ['demo-8000']
    assert found['backends'] == [{'port': 8000, 'address': '127.0.0.1'}]


def test_reuse_port_runs_app_processes_programs_on_one_port_and_one_backend():
    found = processes([8000, 8001], model='reuse_port', count=3)
    assert found['program_count'] == 3
    assert [program['name'] for program in found['programs']] == ['demo-8000-0', 'demo-8000-1', 'demo-8000-2']
    assert set(program['port'] for program in found['programs']) == {8000}
    assert found['backends'] == [{'port': 8000, 'address': '127.0.0.1'}]
    assert [backend['name'] for backend in found['rolling_backends']] == ['demo-8000-0', 'demo-8000-1', 'demo-8000-2']


def test_reuse_port_zero_processes_is_one_per_vcpu():
    found = processes('auto', model='reuse_port', count='0', nproc=4)
    assert found['program_count'] == 4
    assert found['ports'] == [8000]
    assert len(found['programs']) == 4


def test_backends_listen_on_the_address_given():
    found = processes([8000], address='10.0.1.11')
    assert found['backends'] == [{'port': 8000, 'address': '10.0.1.11'}]
    assert found['rolling_backends'][0]['address'] == '10.0.1.11'


def test_expect_argv_gets_the_port():
    found = processes([8000, 8001], expect_argv=['serve', '--port', '{port}'])
    assert [program['expect_argv'] for program in found['programs']] == [['serve', '--port', '8000'],
                                                                         ['serve', '--port', '8001']]


# --- app_exports and upstream_servers ------------------------------------------------------------

def export(*backends):
    return {'name': 'demo', 'backends': [{'address': address, 'port': port} for address, port in backends]}


def test_app_exports_reads_each_host_and_defaults_ansible_host_to_its_name():
    hostvars = {'app1': {'app_export': export(('0.0.0.0', 8000)), 'ansible_host': '10.0.1.11', 'ansible_port': 2222},
                'app2': {'app_export': export(('0.0.0.0', 8000))}}
    assert vocabulary.app_exports(['app1', 'app2'], hostvars) == [
        {'host': 'app1', 'export': hostvars['app1']['app_export'], 'ansible_host': '10.0.1.11', 'machine': '10.0.1.11:2222'},
        {'host': 'app2', 'export': hostvars['app2']['app_export'], 'ansible_host': 'app2', 'machine': 'app2'},
    ]
    # webops.tornado.machines' map gives the same machines (each host is then asked once, for its export).
    machines = {'app1': '10.0.1.11:2222', 'app2': 'app2'}
    assert vocabulary.app_exports(['app1', 'app2'], hostvars, machines) == vocabulary.app_exports(['app1', 'app2'], hostvars)


def test_app_exports_leaves_out_an_app_being_retired():
    absent = dict(export(('0.0.0.0', 8000)), state='absent')
    hostvars = {'app1': {'app_export': dict(export(('0.0.0.0', 8000)), state='present')},
                'app2': {'app_export': absent}}
    assert [entry['host'] for entry in vocabulary.app_exports(['app1', 'app2'], hostvars)] == ['app1']
    assert vocabulary.app_exports(['app2'], hostvars) == []


def test_single_host_loopback_backends():
    exports = [{'host': 'web', 'export': export(('127.0.0.1', 8000), ('127.0.0.1', 8001)), 'ansible_host': 'web'}]
    found = vocabulary.upstream_servers(exports, 'web')
    assert found['backends'] == [{'host': 'web', 'address': '127.0.0.1', 'port': 8000},
                                 {'host': 'web', 'address': '127.0.0.1', 'port': 8001}]
    assert found['unreachable'] == []
    assert found['servers'] == ['127.0.0.1:8000', '127.0.0.1:8001']


def test_remote_backends_on_private_addresses():
    exports = [{'host': 'app1', 'export': export(('10.0.1.11', '8000')), 'ansible_host': 'app1.example.com'},
               {'host': 'app2', 'export': export(('10.0.1.12', 8000)), 'ansible_host': 'app2'}]
    found = vocabulary.upstream_servers(exports, 'lb')
    assert found['servers'] == ['10.0.1.11:8000', '10.0.1.12:8000']
    assert found['unreachable'] == []


@pytest.mark.parametrize('wildcard', ['0.0.0.0', '::', '*', ''])
def test_wildcard_becomes_loopback_here_and_ansible_host_elsewhere(wildcard):
    exports = [{'host': 'lb', 'export': export((wildcard, 8000)), 'ansible_host': '192.0.2.1'},
               {'host': 'app2', 'export': export((wildcard, 8000)), 'ansible_host': '10.0.1.12'}]
    found = vocabulary.upstream_servers(exports, 'lb')
    assert [backend['address'] for backend in found['backends']] == ['127.0.0.1', '10.0.1.12']
    assert found['servers'] == ['127.0.0.1:8000', '10.0.1.12:8000']


def test_wildcard_without_ansible_host_dials_the_inventory_name():
    found = vocabulary.upstream_servers([{'host': 'app2', 'export': export(('0.0.0.0', 8000))}], 'lb')
    assert found['servers'] == ['app2:8000']


@pytest.mark.parametrize('address', ['127.0.0.1', '127.0.1.1', '::1', 'localhost'])
def test_loopback_of_another_host_is_unreachable(address):
    exports = [{'host': 'app1', 'export': export((address, 8000)), 'ansible_host': 'app1'}]
    assert vocabulary.upstream_servers(exports, 'lb')['unreachable'] == [{'host': 'app1', 'address': address, 'port': 8000}]
    assert vocabulary.upstream_servers(exports, 'app1')['unreachable'] == []


@pytest.mark.parametrize('address', ['127.0.0.1', '0.0.0.0'])
def test_another_name_of_nginx_machine_is_dialled_on_loopback(address):
    # web1-blog is a second inventory name of web1 (the machine nginx runs on): its loopback is nginx's.
    exports = [{'host': 'web1-blog', 'export': export((address, 8100)), 'ansible_host': 'web1', 'machine': 'web1'},
               {'host': 'web2', 'export': export((address, 8100)), 'ansible_host': 'web2', 'machine': 'web2'}]
    found = vocabulary.upstream_servers(exports, 'web1', 'web1')
    assert found['backends'][0] == {'host': 'web1-blog', 'address': '127.0.0.1', 'port': 8100}
    assert [backend['host'] for backend in found['unreachable']] == (['web2'] if address == '127.0.0.1' else [])
    # Without the machine, only the name counts: the other name's loopback is another host's.
    if address == '127.0.0.1':
        assert 'web1-blog' in [backend['host'] for backend in vocabulary.upstream_servers(exports, 'web1')['unreachable']]


def test_ipv6_in_brackets_and_duplicates_once_in_order():
    exports = [{'host': 'app1', 'export': export(('fd00::11', 8001), ('fd00::11', 8000)), 'ansible_host': 'app1'},
               {'host': 'app1b', 'export': export(('fd00::11', 8001)), 'ansible_host': 'app1b'}]
    found = vocabulary.upstream_servers(exports, 'lb')
    assert found['servers'] == ['[fd00::11]:8001', '[fd00::11]:8000']
    assert len(found['backends']) == 3


def test_the_chain_from_app_ports_to_server_lines():
    # app_ports -> app_processes -> app_export.backends -> upstream_servers -> `server` lines.
    backends = processes([8000, 8001], address='0.0.0.0')['backends']
    exports = [{'host': 'app1', 'export': {'backends': backends}, 'ansible_host': '10.0.1.11'}]
    assert vocabulary.upstream_servers(exports, 'lb')['servers'] == ['10.0.1.11:8000', '10.0.1.11:8001']


def test_log_dirs_one_entry_per_group_with_its_own_group():
    groups = [{'name': 'a', 'user': 'a', 'log_dir': '/var/log/a'},
              {'name': 'b', 'user': 'b', 'group': 'web', 'log_dir': '/var/log/b'}]
    assert log_dirs(groups) == [{'dest': '/var/log/a', 'state': 'directory', 'owner': 'root', 'group': 'a', 'mode': '0750'},
                                {'dest': '/var/log/b', 'state': 'directory', 'owner': 'root', 'group': 'web', 'mode': '0750'}]
    assert log_dirs([]) == []


def test_group_files_one_root_file_per_group_rendered_with_the_group():
    groups = [{'name': 'a', 'user': 'a'}, {'name': 'b-2', 'user': 'b'}]
    entries = group_files(groups, 'group.conf.j2', conf_dir='/etc/supervisor/conf.d/')
    assert [e['dest'] for e in entries] == [
        '/etc/supervisor/conf.d/webops-tornado-a.conf', '/etc/supervisor/conf.d/webops-tornado-b-2.conf']
    assert [e['vars'] for e in entries] == [{'group': groups[0]}, {'group': groups[1]}]
    assert all(e['src'] == 'group.conf.j2' and e['owner'] == e['group'] == 'root' and e['mode'] == '0644' and e['backup']
               for e in entries)
    assert group_files([], 'group.conf.j2') == []
