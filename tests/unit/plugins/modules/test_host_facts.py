# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for host_facts: /proc/net/tcp(6) decoding, socket owners, small files, the module's result."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import socket

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.webops.tornado.plugins.modules import host_facts as mod

# As the kernel writes them (each line of tcp, not tcp6, padded with blanks to 149 characters): a sshd on
# every interface, two backends on loopback, a client connection (ESTABLISHED, 01) and a TIME_WAIT line
# (06, shorter, inode 0). The address is the 32-bit word in host (little-endian) order: 127.0.0.1 is
# 0100007F, 10.0.2.15 is 0F02000A.
PROC_NET_TCP = ''.join(line.ljust(149) + '\n' for line in [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18329 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 25001 1 0000000000000000 100 0 0 10 0',
    '   2: 0100007F:1F41 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 25002 1 0000000000000000 100 0 0 10 0',
    '   3: 0F02000A:0016 0202000A:C2D4 01 00000000:00000000 02:000A7D3E 00000000     0        0 19020 4 0000000000000000 20 4 31 10 -1',
    '   4: 0F02000A:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 25003 1 0000000000000000 100 0 0 10 0',
    '   5: 0100007F:1F40 0100007F:D088 06 00000000:00000000 03:000002AB 00000000     0        0 0 3 000000000663c543',
])

# Each address is four 32-bit words, each in host (little-endian) order: ::1 ends in 01000000,
# ::ffff:127.0.0.1 has the words 0000FFFF and 7F000001, so FFFF0000 0100007F; 2001:db8::1 starts B80D0120;
# fe80::a00:27ff:fe4e:66a1 (link-local) is 000080FE 00000000 FF27000A A1664EFE.
PROC_NET_TCP6 = ''.join(line + '\n' for line in [
    '  sl  local_address                         remote_address                       '
    ' st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000'
    ' 0A 00000000:00000000 00:00000000 00000000     0        0 30001 1 0000000000000000 100 0 0 10 0',
    '   1: 00000000000000000000000001000000:1F42 00000000000000000000000000000000:0000'
    ' 0A 00000000:00000000 00:00000000 00000000   998        0 30002 1 0000000000000000 100 0 0 10 0',
    '   2: 0000000000000000FFFF00000100007F:1F43 00000000000000000000000000000000:0000'
    ' 0A 00000000:00000000 00:00000000 00000000   998        0 30003 1 0000000000000000 100 0 0 10 0',
    '   3: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000'
    ' 0A 00000000:00000000 00:00000000 00000000     0        0 30004 1 0000000000000000 100 0 0 10 0',
    '   4: 000080FE00000000FF27000AA1664EFE:0016 00000000000000000000000000000000:0000'
    ' 0A 00000000:00000000 00:00000000 00000000     0        0 30005 1 0000000000000000 100 0 0 10 0',
    '   5: 00000000000000000000000001000000:0050 00000000000000000000000001000000:A3F2'
    ' 01 00000000:00000000 02:00000A8C 00000000    33        0 30006 2 0000000000000000 20 4 30 10 -1',
])


def own(files):
    """The files a test asked for: without those the module always reads."""
    return dict((path, text) for path, text in files.items() if path not in mod.READ_FILES)


# --- parse_proc_net_tcp --------------------------------------------------------------------------


def test_ipv4_listeners_only_in_host_byte_order():
    assert mod.parse_proc_net_tcp(PROC_NET_TCP) == [
        ('0.0.0.0', 22, 0, '18329'),
        ('127.0.0.1', 8000, 998, '25001'),
        ('127.0.0.1', 8001, 998, '25002'),
        ('10.0.2.15', 80, 33, '25003'),
    ]


def test_ipv6_listeners_only_word_by_word():
    assert mod.parse_proc_net_tcp(PROC_NET_TCP6, ipv6=True) == [
        ('::', 80, 0, '30001'),
        ('::1', 8002, 998, '30002'),
        ('::ffff:127.0.0.1', 8003, 998, '30003'),
        ('2001:db8::1', 443, 0, '30004'),
        ('fe80::a00:27ff:fe4e:66a1', 22, 0, '30005'),
    ]


@pytest.mark.parametrize('family, text', [(socket.AF_INET, '10.0.2.15'), (socket.AF_INET, '192.168.1.200'),
                                          (socket.AF_INET6, '2001:db8:85a3::8a2e:370:7334'),
                                          (socket.AF_INET6, '::ffff:192.168.1.200')])
def test_addresses_round_trip_through_the_kernel_encoding(family, text):
    # Encode as the kernel does (each 32-bit word in little-endian order) and decode again.
    packed = socket.inet_pton(family, text)
    encoded = ''.join(packed[i:i + 4][::-1].hex().upper() for i in range(0, len(packed), 4))
    header = PROC_NET_TCP6.splitlines()[0] if family == socket.AF_INET6 else PROC_NET_TCP.splitlines()[0]
    line = '   0: %s:1F40 %s:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0' % (
        encoded, '0' * len(encoded))
    assert mod.parse_proc_net_tcp(header + '\n' + line + '\n', ipv6=family == socket.AF_INET6) == [
        (text, 8000, 1000, '4242')]


@pytest.mark.parametrize('text', ['', PROC_NET_TCP.splitlines()[0] + '\n', '\n\n'])
def test_no_listeners(text):
    assert mod.parse_proc_net_tcp(text) == []


def test_the_kernel_agrees():
    """The real /proc/net/tcp and tcp6 of this machine, with sockets of our own."""
    v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    v4.bind(('127.0.0.1', 0))
    v4.listen(1)
    try:
        v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        v6.bind(('::1', 0))
        v6.listen(1)
    except OSError:
        v6 = None
    try:
        with open('/proc/net/tcp') as handle:
            found = mod.parse_proc_net_tcp(handle.read())
        assert ('127.0.0.1', v4.getsockname()[1], os.getuid(), str(os.fstat(v4.fileno()).st_ino)) in found
        if v6 is not None:
            with open('/proc/net/tcp6') as handle:
                found = mod.parse_proc_net_tcp(handle.read(), ipv6=True)
            assert ('::1', v6.getsockname()[1], os.getuid(), str(os.fstat(v6.fileno()).st_ino)) in found
        owners = mod.socket_owners()
        assert any(entry.endswith('[%d]' % os.getpid()) for entry in owners[str(os.fstat(v4.fileno()).st_ino)])
        ports = dict(((s['address'], s['port']), s) for s in mod.listeners())
        assert ports[('127.0.0.1', v4.getsockname()[1])]['uid'] == os.getuid()
    finally:
        v4.close()
        if v6 is not None:
            v6.close()


# --- socket_owners and listeners over a fake /proc -----------------------------------------------

def make_proc(base, processes, tcp=PROC_NET_TCP, tcp6=PROC_NET_TCP6):
    """A /proc with net/tcp, net/tcp6 and, per pid, comm and fd/N -> link target."""
    proc = base / 'proc'
    (proc / 'net').mkdir(parents=True)
    if tcp is not None:
        (proc / 'net' / 'tcp').write_text(tcp)
    if tcp6 is not None:
        (proc / 'net' / 'tcp6').write_text(tcp6)
    (proc / 'self').mkdir()  # not a pid: ignored
    (proc / 'sys').mkdir()
    for pid, (comm, fds) in processes.items():
        pid_dir = proc / str(pid)
        pid_dir.mkdir()
        if comm is not None:
            (pid_dir / 'comm').write_text(comm + '\n')
        if fds is None:
            continue  # fd/ not readable (another user's process, without CAP_SYS_PTRACE)
        (pid_dir / 'fd').mkdir()
        for number, target in enumerate(fds):
            os.symlink(target, str(pid_dir / 'fd' / str(number)))
    return str(proc)


PROCESSES = {
    1: ('systemd', ['/dev/null', 'anon_inode:[eventpoll]']),
    410: ('sshd', ['/dev/null', 'socket:[18329]', 'socket:[30005]']),
    900: ('python3', ['pipe:[777]', 'socket:[25001]', 'socket:[30002]']),
    901: ('python3', ['socket:[25002]', 'socket:[30003]']),
    1200: ('nginx', ['socket:[25003]', 'socket:[30001]', 'socket:[30001]']),
    1201: ('nginx', ['socket:[25003]', 'socket:[30001]']),
    1300: ('secret-daemon', None),
    1400: (None, ['socket:[30004]']),  # exited while being read: no comm
}


def test_socket_owners_maps_inodes_to_processes(tmp_path):
    owners = mod.socket_owners(make_proc(tmp_path, PROCESSES))
    assert owners['18329'] == ['sshd[410]']
    assert owners['25001'] == ['python3[900]']
    assert sorted(owners['30001']) == ['nginx[1200]', 'nginx[1200]', 'nginx[1201]']
    assert '30004' not in owners and '777' not in owners
    assert not [inode for inode in owners if not inode.isdigit()]


def test_listeners_sorted_by_port_with_users_and_processes(tmp_path, monkeypatch):
    names = {0: 'root', 33: 'www-data', 998: 'demo'}
    monkeypatch.setattr(mod, 'user_name', lambda uid: names.get(uid, str(uid)))
    found = mod.listeners(make_proc(tmp_path, PROCESSES))
    assert [(s['port'], s['address'], s['user'], s['processes']) for s in found] == [
        (22, '0.0.0.0', 'root', ['sshd[410]']),
        (22, 'fe80::a00:27ff:fe4e:66a1', 'root', ['sshd[410]']),
        (80, '10.0.2.15', 'www-data', ['nginx[1200]', 'nginx[1201]']),
        (80, '::', 'root', ['nginx[1200]', 'nginx[1201]']),
        (443, '2001:db8::1', 'root', []),
        (8000, '127.0.0.1', 'demo', ['python3[900]']),
        (8001, '127.0.0.1', 'demo', ['python3[901]']),
        (8002, '::1', 'demo', ['python3[900]']),
        (8003, '::ffff:127.0.0.1', 'demo', ['python3[901]']),
    ]
    assert found[0]['uid'] == 0 and found[-1]['uid'] == 998


def test_listeners_without_ipv6(tmp_path):
    found = mod.listeners(make_proc(tmp_path, {}, tcp6=None))
    assert [s['port'] for s in found] == [22, 80, 8000, 8001]
    assert all(s['processes'] == [] for s in found)


def test_listeners_without_any_table(tmp_path, monkeypatch):
    monkeypatch.setattr(mod, 'socket_owners', lambda proc: pytest.fail('no listener, no /proc walk'))
    assert mod.listeners(make_proc(tmp_path, {}, tcp=None, tcp6=None)) == []


def test_user_name_falls_back_to_the_uid():
    assert mod.user_name(0) == 'root'
    assert mod.user_name(4242424) == '4242424'


# --- read_small ------------------------------------------------------------------------------------

def test_read_small_reads_text(tmp_path):
    path = tmp_path / 'RELEASE.json'
    path.write_bytes(b'{"id": "20261201T120000Z"}\n')
    assert mod.read_small(str(path)) == '{"id": "20261201T120000Z"}\n'


def test_read_small_replaces_bad_utf8(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'caf\xe9 \xc3\xa9')
    assert mod.read_small(str(path)) == u'caf\ufffd \xe9'


def test_read_small_limit(tmp_path):
    exact = tmp_path / 'exact'
    exact.write_bytes(b'x' * mod.MAX_FILE)
    assert len(mod.read_small(str(exact))) == mod.MAX_FILE
    over = tmp_path / 'over'
    over.write_bytes(b'x' * (mod.MAX_FILE + 1))
    assert mod.read_small(str(over)) is None


def test_read_small_missing_unreadable_or_directory(tmp_path):
    assert mod.read_small(str(tmp_path / 'missing')) is None
    assert mod.read_small(str(tmp_path)) is None


def test_read_small_empty(tmp_path):
    path = tmp_path / 'empty'
    path.write_bytes(b'')
    assert mod.read_small(str(path)) == ''


# --- the module ------------------------------------------------------------------------------------

def run_module(monkeypatch, capsys, args, hostname=(0, '10.0.2.15 fd00::15 \n', ''), systemctl=(1, '', 'no systemd'),
               net_admin=False):
    calls = []

    def run_command(self, argv, **_kwargs):
        calls.append(argv)
        return {'hostname': hostname, 'systemctl': systemctl}.get(argv[0], (0, 'table inet webops_tornado_demo\n', ''))

    monkeypatch.setattr(mod, 'has_capability', lambda _bit: net_admin)
    monkeypatch.setattr(mod.os, 'access', lambda path, _mode: path == mod.NFT)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(mod, 'listeners', lambda: [{'address': '0.0.0.0', 'port': 22, 'uid': 0, 'user': 'root',
                                                    'processes': []}])
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            mod.main()
    result = json.loads(capsys.readouterr().out)
    return exit_info.value.code, result, calls


def test_module_result(monkeypatch, capsys, tmp_path):
    release = tmp_path / 'RELEASE.json'
    release.write_text('{"id": "r1"}')
    rc, result, calls = run_module(monkeypatch, capsys, {'files': [str(release), str(tmp_path / 'nope')]})
    assert rc == 0 and result['changed'] is False
    assert calls[0] == ['hostname', '-I']
    assert calls[1][:2] == ['systemctl', 'show'] and calls[1][-4:] == list(mod.UNITS)
    assert result['units'] == {} and result['nft_tables'] is None and result['net_admin'] is False
    assert result['addresses'] == ['10.0.2.15', 'fd00::15']
    assert result['nproc'] >= 1
    assert result['listeners'][0]['port'] == 22
    assert result['users']['root']['uid'] == 0 and result['users']['root']['home'] == '/root'
    assert set(result['users']['root']) == {'uid', 'gid', 'gecos', 'home', 'shell'}
    assert result['groups']['root'] == {'gid': 0, 'members': result['groups']['root']['members']}
    assert own(result['files']) == {str(release): '{"id": "r1"}', str(tmp_path / 'nope'): None}
    # The limits role's file is always read, and what binds the open-file limits (this machine's /proc).
    assert set(mod.READ_FILES) <= set(result['files'])
    assert set(result['nofile']) == {'hard_limit', 'can_raise_hard_limit', 'nr_open', 'file_max', 'nr_open_writable'}


def test_module_reads_units_and_tables(monkeypatch, capsys):
    rc, result, calls = run_module(monkeypatch, capsys, {'units': ['supervisor.service']}, net_admin=True,
                                   systemctl=(0, 'MainPID=0\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n', ''))
    assert rc == 0 and calls[-1] == [mod.NFT, 'list', 'tables']
    assert result['units'] == {'supervisor.service': {'enabled': True, 'active': True, 'nofile': None}}
    assert result['nft_tables'] == ['inet webops_tornado_demo']


def test_module_without_files(monkeypatch, capsys):
    rc, result, _calls = run_module(monkeypatch, capsys, {})
    assert rc == 0 and own(result['files']) == {}


def test_module_check_mode_reads_too(monkeypatch, capsys):
    rc, result, calls = run_module(monkeypatch, capsys, {'_ansible_check_mode': True})
    assert rc == 0 and calls and 'listeners' in result


def test_module_fails_when_hostname_fails(monkeypatch, capsys):
    rc, result, _calls = run_module(monkeypatch, capsys, {}, hostname=(1, '', 'hostname: invalid option -- I\n'))
    assert rc == 1 and result['failed'] is True
    assert result['msg'] == 'hostname -I failed: hostname: invalid option -- I'


@pytest.mark.parametrize('text, family', [
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n', 'Debian'),
    ('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n', 'Debian'),
    ("ID='linuxmint'\nID_LIKE='ubuntu debian'\n", 'Debian'),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', None),
    ('NAME=debian-ish\nID=debianlike\n', None),
    ('', None),
])
def test_os_family_from_os_release(tmp_path, text, family):
    path = tmp_path / 'os-release'
    path.write_text(text)
    assert mod.os_family(str(path)) == family


def test_os_family_without_os_release(tmp_path):
    assert mod.os_family(str(tmp_path / 'missing')) is None


def test_installed_packages_in_package_facts_shape(tmp_path):
    status = tmp_path / "status"
    status.write_text(
        "Package: nginx\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n"
        "Version: 1.22.1-9+deb12u1\nDescription: small, powerful\n more text: with a colon\n\n"
        "Package: removed\nStatus: deinstall ok config-files\nVersion: 1.0\n\n"
        "Package: broken\nStatus: install reinstreq half-installed\nVersion: 2.0\n\n"
        "Package: supervisor\nStatus: install ok installed\nArchitecture: all\nVersion: 4.2.5-1\n")
    assert mod.installed_packages(str(status)) == {
        "nginx": [{"name": "nginx", "version": "1.22.1-9+deb12u1", "arch": "amd64", "source": "apt"}],
        "supervisor": [{"name": "supervisor", "version": "4.2.5-1", "arch": "all", "source": "apt"}]}
    assert mod.installed_packages(str(tmp_path / "missing")) == {}


# As systemd 252 prints `systemctl show --property=LoadState,UnitFileState,ActiveState,MainPID` for four units:
# in its own property order, a blank line between units, an unknown unit still printed (not-found).
SYSTEMCTL_SHOW = (
    "MainPID=474\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\n"
    "MainPID=0\nLoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\n\n"
    "MainPID=0\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\n\n"
    "MainPID=0\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n")


def test_unit_states_by_unit_with_the_main_process_limit(tmp_path):
    (tmp_path / '474').mkdir()
    (tmp_path / '474' / 'limits').write_text(
        'Limit                     Soft Limit           Hard Limit           Units     \n'
        'Max open files            16384                16384                files     \n')
    units = ['supervisor.service', 'nginx.service', 'haproxy.service', 'webops-tornado-firewall.service']
    assert mod.parse_unit_states(SYSTEMCTL_SHOW, units, proc=str(tmp_path)) == {
        'supervisor.service': {'enabled': True, 'active': True, 'nofile': 16384},
        'nginx.service': {'enabled': False, 'active': False, 'nofile': None},
        'webops-tornado-firewall.service': {'enabled': True, 'active': True, 'nofile': None}}


def test_unit_states_not_trusted_when_the_blocks_do_not_match_the_units():
    # A block fewer than units asked (systemctl changed its output): no unit is named rather than the wrong one.
    assert mod.parse_unit_states(SYSTEMCTL_SHOW, ['a.service', 'b.service']) == {}


def test_open_file_limit_of_a_process_gone(tmp_path):
    assert mod.procs.nofile_limits(999999, proc=str(tmp_path)) == (None, None)


def test_groups_running_needs_every_program_running():
    infos = [{'group': 'a', 'statename': 'RUNNING'}, {'group': 'a', 'statename': 'RUNNING'},
             {'group': 'b', 'statename': 'RUNNING'}, {'group': 'b', 'statename': 'STARTING'},
             {'group': 'c', 'statename': 'STOPPED'}, {'group': 'd', 'statename': 'RUNNING'}]
    assert mod.groups_running(infos) == ['a', 'd']
    assert mod.groups_running([]) == []


def test_globbed_lists_regular_files_sorted(tmp_path):
    (tmp_path / 'b.conf').write_text('b')
    (tmp_path / 'a.conf').write_text('a')
    (tmp_path / 'dir.conf').mkdir()
    (tmp_path / 'link.conf').symlink_to(tmp_path / 'a.conf')
    (tmp_path / 'other.txt').write_text('x')
    missing = str(tmp_path / 'nowhere' / '*.conf')
    assert mod.globbed([str(tmp_path / '*.conf'), missing]) == {
        str(tmp_path / '*.conf'): [str(tmp_path / 'a.conf'), str(tmp_path / 'b.conf')], missing: []}


def test_globbed_caps_the_files_of_a_pattern(tmp_path, monkeypatch):
    monkeypatch.setattr(mod, 'MAX_GLOBBED', 2)
    for name in 'cab':
        (tmp_path / (name + '.conf')).write_text(name)
    assert mod.globbed([str(tmp_path / '*.conf')])[str(tmp_path / '*.conf')] == [
        str(tmp_path / 'a.conf'), str(tmp_path / 'b.conf')]


def test_module_lists_globs_and_reads_read_globs(monkeypatch, capsys, tmp_path):
    (tmp_path / 'groups').mkdir()
    (tmp_path / 'groups' / 'webops-tornado-demo.conf').write_text('[group:demo]\nenvironment=SECRET="x"\n')
    (tmp_path / 'flags').mkdir()
    (tmp_path / 'flags' / 'demo.conf').write_text('geo $m { default 1; }\n')
    listed, read = str(tmp_path / 'groups' / '*.conf'), str(tmp_path / 'flags' / '*.conf')
    rc, result, _calls = run_module(monkeypatch, capsys, {'globs': [listed], 'read_globs': [read]})
    assert rc == 0
    assert {listed: [str(tmp_path / 'groups' / 'webops-tornado-demo.conf')],
            read: [str(tmp_path / 'flags' / 'demo.conf')]}.items() <= result['globbed'].items()
    assert sorted(result['globbed']) == sorted(mod.GLOBS + mod.READ_GLOBS + mod.READ_FILES + (listed, read))
    # Listed files are never read (a group file may hold an app's secrets); read_globs' files are.
    assert own(result['files']) == {str(tmp_path / 'flags' / 'demo.conf'): 'geo $m { default 1; }\n'}


def test_globbed_lists_directories_for_a_final_slash(tmp_path):
    (tmp_path / 'r2').mkdir()
    (tmp_path / 'r1').mkdir()
    (tmp_path / 'file').write_text('x')
    (tmp_path / 'link').symlink_to(tmp_path / 'r1')
    pattern = str(tmp_path / '*') + '/'
    assert mod.globbed([pattern]) == {pattern: [str(tmp_path / 'r1'), str(tmp_path / 'r2')]}


def test_module_default_globs_are_the_roles_paths(monkeypatch, capsys):
    rc, result, _calls = run_module(monkeypatch, capsys, {})
    assert rc == 0 and sorted(result['globbed']) == sorted(mod.GLOBS + mod.READ_GLOBS + mod.READ_FILES)
