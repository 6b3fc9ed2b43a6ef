#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_facts
short_description: Read what the collection's checks need from a host, in one call, changing nothing
version_added: 0.2.0
description:
  - Returns the host's vCPU count, its addresses, every listening TCP socket with the user (and, where
    visible, the processes) that holds it, its user and group accounts, and the content of a few small files.
  - The roles read it once per host and run, before anything changes, to refuse a port another process
    holds (naming its owner), an existing account the role did not create, and to find the current release.
  - Also sets the fact C(packages) as M(ansible.builtin.package_facts) does on Debian (name to a list of
    C(name), C(version), C(arch), C(source)), read from dpkg's status file, so the roles skip their C(apt) call
    for packages already installed without a call of their own.
  - Listening sockets come from C(/proc/net/tcp) and C(/proc/net/tcp6); a socket's processes are found
    through C(/proc/PID/fd) where the reader may look (root without C(CAP_SYS_PTRACE), as in a container,
    sees only its own users' processes; the owning user is always known).
options:
  files:
    description:
      - Small files to read (at most 64 KiB each); a missing or unreadable file gives null.
      - Besides these, the file of the limits role at its default path (C(/etc/security/limits.d/60-webops-tornado.conf))
        is always read, so that role can skip its own read (RV(nofile) has the rest of what it needs).
    type: list
    elements: path
    default: []
  units:
    description:
      - systemd units whose state to read (RV(units)). The default is every service the collection's roles keep
        running, so each role can skip its own call to keep its service enabled and running, and the nginx role
        its read of the running master's open-file limit, when this read saw them so.
    type: list
    elements: str
    default: [supervisor.service, nginx.service, haproxy.service, webops-tornado-firewall.service]
    version_added: 0.5.0
  globs:
    description:
      - Shell patterns (C(glob)) of files to list (RV(globbed)), never read; a pattern ending in C(/) lists directories
        instead. Besides these, the files the collection's roles keep a set of are always listed (supervisord's group
        files C(/etc/supervisor/conf.d/webops-tornado-*.conf), the nginx role's staging sites
        C(/etc/nginx/webops-tornado.staging/sites-available/*.conf)), so each role can skip its own C(find) when this
        read listed them, and the directory of the collection's HAProxy (C(/etc/haproxy/webops-tornado/)), so the
        nginx role knows the HAProxy it takes the ports from is the collection's.
    type: list
    elements: str
    default: []
    version_added: 0.5.0
  read_globs:
    description:
      - Shell patterns of files to list (RV(globbed)) and read, as O(files) are (RV(files)). Besides these, the live
        maintenance flags of the nginx role's sites (C(/etc/nginx/webops-tornado-maintenance/*.conf)) are always
        read, so the role reads none of them itself.
    type: list
    elements: str
    default: []
    version_added: 0.5.0
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads only.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Read the host once for every check
  webops.tornado.host_facts:
    files: [/srv/demo/current/RELEASE.json]
  register: host
"""

RETURN = r"""
nproc:
  description: Number of vCPUs this process may run on.
  returned: always
  type: int
addresses:
  description: The host's addresses, as C(hostname -I) lists them (no loopback, no link-local).
  returned: always
  type: list
  elements: str
listeners:
  description: Listening TCP sockets.
  returned: always
  type: list
  elements: dict
  contains:
    address: {description: Local address (C(0.0.0.0) or C(::) for every interface)., type: str}
    port: {description: Local port., type: int}
    uid: {description: Owner of the socket., type: int}
    user: {description: Name of the owner (or the uid as text)., type: str}
    processes: {description: "C(name[pid]) of the processes holding it, where visible.", type: list, elements: str}
users:
  description: Every account, by name.
  returned: always
  type: dict
groups:
  description: Every group, by name, with its gid and members.
  returned: always
  type: dict
files:
  description: Path to content (text), or null, for O(files) and the files matching O(read_globs).
  returned: always
  type: dict
globbed:
  description:
    - Each pattern of O(globs) and O(read_globs), and the collection's own, to the sorted paths of the regular files
      (directories, without the final C(/), for a pattern ending in C(/)) that match it, at most 256, none where its
      directory is missing. A pattern listed here was read; one missing was not asked.
  returned: always
  type: dict
  version_added: 0.5.0
net_admin:
  description: Whether this (root) process has CAP_NET_ADMIN, which nftables needs (a container may lack it).
  returned: always
  type: bool
os_family:
  description:
    - C(Debian) when C(/etc/os-release) names Debian or a distribution like it (C(ID) or C(ID_LIKE)), as
      C(ansible_facts['os_family']) would; null otherwise, so a role gathers the facts itself.
    - Saves the nginx role a fact-gathering call on every run.
  returned: always
  type: str
  version_added: 0.5.0
units:
  description:
    - Each unit of O(units) systemd knows (loaded), by name; empty where systemctl is missing or failed.
  returned: always
  type: dict
  version_added: 0.5.0
  contains:
    enabled: {description: Whether the unit is enabled (C(UnitFileState) C(enabled))., type: bool}
    active: {description: Whether the unit is active (C(ActiveState) C(active))., type: bool}
    nofile:
      description: The soft open-file limit of its main process (C(/proc/PID/limits)), or null when it has none.
      type: int
nft_tables:
  description:
    - The nftables tables loaded in the kernel, as C(nft list tables) names them (C(inet NAME)); null where nft is
      missing or this process lacks CAP_NET_ADMIN (the firewall role then asks the kernel itself).
  returned: always
  type: list
  elements: str
  version_added: 0.5.0
supervisor_groups_running:
  description:
    - The supervisord process groups every program of which is C(RUNNING), asked of supervisord over the unix
      socket of supervisorctl's config (sorted); empty where it is not running or cannot be asked that way.
    - Saves the supervisor role its C(supervisorctl) call for groups that run already.
  returned: always
  type: list
  elements: str
  version_added: 0.5.0
nofile:
  description:
    - What binds the open-file limits of the host's services, as M(webops.tornado.nofile_ceiling) reads it, so the
      limits role can decide on the controller (the C(webops.tornado.nofile_ceiling) filter) without its own call.
    - Null when it cannot be read.
  returned: always
  type: dict
  version_added: 0.6.0
  contains:
    hard_limit: {description: The hard open-file limit of PID 1 (null for unlimited)., type: int}
    can_raise_hard_limit: {description: Whether PID 1 has C(CAP_SYS_RESOURCE)., type: bool}
    nr_open: {description: The kernel's C(fs.nr_open)., type: int}
    file_max: {description: The kernel's C(fs.file-max)., type: int}
    nr_open_writable: {description: Whether C(fs.nr_open) can be raised from here., type: bool}
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: dict
  contains:
    packages:
      description:
        - The installed packages (dpkg's status C(install ok installed)), by name, in M(ansible.builtin.package_facts)'s
          shape; empty where dpkg's status file is missing.
      type: dict
      version_added: 0.5.0
"""

import glob
import grp
import os
import pwd
import socket
import struct

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.webops.tornado.plugins.module_utils import procs, supervisor_rpc
from ansible_collections.webops.tornado.plugins.module_utils.nofile import read_host

MAX_FILE = 65536
NFT = '/usr/sbin/nft'
DPKG_STATUS = '/var/lib/dpkg/status'
CAP_NET_ADMIN = 12
TCP_LISTEN = '0A'
# The services the collection's roles keep running (the default of the option `units`).
UNITS = ('supervisor.service', 'nginx.service', 'haproxy.service', 'webops-tornado-firewall.service')
# The collection's own directory of webops.tornado.haproxy: the nginx role accepts that HAProxy on its ports and
# stops it (a load balancer moving from HAProxy back to nginx).
GLOBS = ('/etc/supervisor/conf.d/webops-tornado-*.conf', '/etc/nginx/webops-tornado.staging/sites-available/*.conf',
         '/etc/haproxy/webops-tornado/')
READ_GLOBS = ('/etc/nginx/webops-tornado-maintenance/*.conf',)
# The limits role's file at its default limits_conf_path (roles/limits/defaults/main.yml).
READ_FILES = ('/etc/security/limits.d/60-webops-tornado.conf',)
MAX_GLOBBED = 256


def parse_proc_net_tcp(text, ipv6=False):
    """[(address, port, uid, inode)] of the LISTEN sockets in the text of /proc/net/tcp or tcp6."""
    sockets = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != TCP_LISTEN:
            continue
        address_hex, port_hex = fields[1].split(':')
        raw = bytes.fromhex(address_hex)
        if ipv6:
            # four little-endian 32-bit words
            raw = b''.join(struct.pack('>I', struct.unpack('<I', raw[i:i + 4])[0]) for i in range(0, 16, 4))
            address = socket.inet_ntop(socket.AF_INET6, raw)
        else:
            address = socket.inet_ntop(socket.AF_INET, struct.pack('>I', struct.unpack('<I', raw)[0]))
        sockets.append((address, int(port_hex, 16), int(fields[7]), fields[9]))
    return sockets


def socket_owners(proc='/proc'):
    """inode -> ['name[pid]', ...] for the sockets this reader may see in /proc/PID/fd."""
    owners = {}
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(proc, pid, 'fd')
        try:
            fds = os.listdir(fd_dir)
            with open(os.path.join(proc, pid, 'comm')) as handle:
                name = handle.read().strip()
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith('socket:['):
                owners.setdefault(target[8:-1], []).append('%s[%s]' % (name, pid))
    return owners


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def listeners(proc='/proc'):
    found = []
    for name, ipv6 in (('tcp', False), ('tcp6', True)):
        try:
            with open(os.path.join(proc, 'net', name)) as handle:
                found.extend(parse_proc_net_tcp(handle.read(), ipv6=ipv6))
        except OSError:
            continue
    owners = socket_owners(proc) if found else {}
    return [{'address': address, 'port': port, 'uid': uid, 'user': user_name(uid),
             'processes': sorted(set(owners.get(inode, [])))}
            for address, port, uid, inode in sorted(found, key=lambda s: (s[1], s[0]))]


def nofile():
    try:
        return read_host()
    except (OSError, ValueError):
        return None


def read_small(path):
    try:
        with open(path, 'rb') as handle:
            data = handle.read(MAX_FILE + 1)
    except (OSError, IOError):
        return None
    if len(data) > MAX_FILE:
        return None
    return data.decode('utf-8', 'replace')


def globbed(patterns):
    """Each pattern to the sorted regular files (directories for a pattern ending in "/"; never a symbolic link)
    that match it, at most MAX_GLOBBED of them."""
    found = {}
    for pattern in patterns:
        wanted = os.path.isdir if pattern.endswith('/') else os.path.isfile
        paths = (path.rstrip('/') for path in glob.glob(pattern))
        found[pattern] = sorted(path for path in paths if wanted(path) and not os.path.islink(path))[:MAX_GLOBBED]
    return found


def has_capability(bit, status_path='/proc/self/status'):
    """Whether the effective capability set of this process holds ``bit``."""
    try:
        with open(status_path) as handle:
            for line in handle:
                if line.startswith('CapEff:'):
                    return bool(int(line.split()[1], 16) & (1 << bit))
    except (IOError, OSError, ValueError):
        pass
    return False


def os_family(path='/etc/os-release'):
    """'Debian' when os-release's ID or ID_LIKE says Debian (Ubuntu and others like it too), else None."""
    text = read_small(path) or ''
    words = []
    for line in text.splitlines():
        key, sep, value = line.partition('=')
        if sep and key.strip() in ('ID', 'ID_LIKE'):
            words.extend(value.strip().strip('"\'').lower().split())
    return 'Debian' if 'debian' in words else None


def parse_unit_states(text, units, proc='/proc'):
    """`systemctl show` blocks (one per unit asked, in order, blank-line separated) to {unit: state}.

    Only units systemd loaded are named; each gets enabled, active and its main process's soft open-file limit.
    """
    states = {}
    blocks = text.strip().split('\n\n')
    if len(blocks) != len(units):
        return states
    for unit, block in zip(units, blocks):
        fields = dict(line.partition('=')[::2] for line in block.splitlines())
        if fields.get('LoadState') != 'loaded':
            continue
        try:
            pid = int(fields.get('MainPID') or 0)
        except ValueError:
            pid = 0
        states[unit] = {'enabled': fields.get('UnitFileState') == 'enabled',
                        'active': fields.get('ActiveState') == 'active',
                        'nofile': procs.nofile_limits(pid, proc)[0] if pid > 0 else None}
    return states


def unit_states(module, units):
    if not units:
        return {}
    # One systemctl for every unit; --property keeps the blocks small and in a known shape.
    rc, out, _err = module.run_command(['systemctl', 'show', '--property=LoadState,UnitFileState,ActiveState,MainPID',
                                        '--'] + list(units))
    return parse_unit_states(out, units) if rc == 0 else {}


def nft_tables(module, net_admin):
    if not net_admin or not os.access(NFT, os.X_OK):
        return None
    rc, out, _err = module.run_command([NFT, 'list', 'tables'])
    if rc != 0:
        return None
    return [' '.join(line.split()[1:]) for line in out.splitlines() if line.startswith('table ')]


def installed_packages(path=DPKG_STATUS):
    """package_facts' shape from dpkg's status file: {name: [{name, version, arch, source}]}, installed ones only."""
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            text = handle.read()
    except OSError:
        return {}
    packages = {}
    for stanza in text.split('\n\n'):
        fields = {}
        for line in stanza.splitlines():
            if line and not line[0].isspace():
                key, sep, value = line.partition(':')
                if sep:
                    fields[key] = value.strip()
        if fields.get('Package') and fields.get('Status', '').endswith(' installed'):
            packages.setdefault(fields['Package'], []).append({
                'name': fields['Package'], 'version': fields.get('Version', ''), 'arch': fields.get('Architecture', ''),
                'source': 'apt'})
    return packages


def groups_running(infos):
    """The groups of supervisord's getAllProcessInfo() every process of which is RUNNING (sorted)."""
    states = {}
    for info in infos:
        states.setdefault(info['group'], set()).add(info['statename'])
    return sorted(group for group, seen in states.items() if seen == {'RUNNING'})


def supervisor_groups_running(config_paths=supervisor_rpc.CONFIG_PATHS):
    path = supervisor_rpc.socket_path(config_paths)
    if not path:
        return []
    try:
        return groups_running(supervisor_rpc.SupervisorRPC(path, timeout=10).call('getAllProcessInfo'))
    except Exception:  # not running, starting up, shutting down: the role asks supervisorctl itself
        return []


def main():
    module = AnsibleModule(argument_spec=dict(files=dict(type='list', elements='path', default=[]),
                                              units=dict(type='list', elements='str', default=list(UNITS)),
                                              globs=dict(type='list', elements='str', default=[]),
                                              read_globs=dict(type='list', elements='str', default=[])),
                           supports_check_mode=True)
    rc, out, err = module.run_command(['hostname', '-I'])
    if rc != 0:
        module.fail_json(msg='hostname -I failed: %s' % err.strip())
    net_admin = has_capability(CAP_NET_ADMIN)
    # The files read always are listed too: null content with the file listed means there but not readable.
    listed = globbed(list(GLOBS) + list(READ_FILES) + module.params['globs'])
    read = globbed(list(READ_GLOBS) + module.params['read_globs'])
    files = dict((path, read_small(path)) for path in list(READ_FILES) + module.params['files'])
    files.update((path, read_small(path)) for paths in read.values() for path in paths)
    listed.update(read)
    module.exit_json(
        changed=False,
        nproc=len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1),
        addresses=out.split(),
        listeners=listeners(),
        users=dict((u.pw_name, {'uid': u.pw_uid, 'gid': u.pw_gid, 'gecos': u.pw_gecos, 'home': u.pw_dir,
                                'shell': u.pw_shell}) for u in pwd.getpwall()),
        groups=dict((g.gr_name, {'gid': g.gr_gid, 'members': list(g.gr_mem)}) for g in grp.getgrall()),
        files=files,
        globbed=listed,
        net_admin=net_admin,
        units=unit_states(module, module.params['units']),
        nft_tables=nft_tables(module, net_admin),
        os_family=os_family(),
        supervisor_groups_running=supervisor_groups_running(),
        nofile=nofile(),
        ansible_facts=dict(packages=installed_packages()),
    )


if __name__ == '__main__':
    main()
