# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the input against what a host already has (webops.tornado.host_facts), before any change.

Pure functions of the host's facts, so the unit tests drive them with made-up hosts.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.webops.tornado.plugins.module_utils import nofile

# Accounts created by webops.tornado.app carry this comment (GECOS), followed by the app's name.
ACCOUNT_MARKER = 'webops.tornado app'
NOLOGIN_SHELLS = ('/usr/sbin/nologin', '/sbin/nologin', '/bin/false')


def _ours(entry, home, name=None):
    """An account this role created for this app: marked with the app's name (any app's when ``name`` is
    None), or, created before the marker existed, a no-login system account with no comment whose home
    is the app's home (packaged system accounts carry a comment)."""
    gecos = entry.get('gecos', '')
    if gecos == '%s %s' % (ACCOUNT_MARKER, name) if name else gecos.startswith(ACCOUNT_MARKER + ' '):
        return True
    return (gecos == '' and entry.get('home') == home and entry.get('shell') in NOLOGIN_SHELLS
            and entry.get('uid', 0) < 1000)


def account_problems(host, user, group, home, name=None):
    """Sentences about app_user/app_group taking over an account the role did not create (for the app
    ``name``, when given: one app never runs as another's account)."""
    users = host.get('users') or {}
    groups = host.get('groups') or {}
    problems = []
    if user == 'root' or group == 'root':
        problems.append('app_user and app_group must not be root (got %s/%s): app processes never run as root.' % (user, group))
        return problems
    entry = users.get(user)
    if entry is not None and not _ours(entry, home, name):
        problems.append(
            'app_user: %s is an existing account this role did not create (uid %s, home %s, shell %s); running the app '
            'as it would hand it the app\'s secrets and files. Choose a name of its own (the default is app_name).'
            % (user, entry.get('uid'), entry.get('home'), entry.get('shell')))
    found = groups.get(group)
    if found is not None:
        owner = users.get(user)
        primary = owner is not None and _ours(owner, home, name) and owner.get('gid') == found.get('gid')
        if not primary:
            problems.append(
                'app_group: %s is an existing group (gid %s) that is not the primary group of an account this role '
                'created; its members would read the app\'s secrets. Choose a group of its own (the default is app_user).'
                % (group, found.get('gid')))
    return problems


def port_conflicts(listeners, ports, variable, owners=(), processes=()):
    """Sentences about ``ports`` that another user's (or another program's) socket already holds.

    A socket is ours when its owner is in ``owners`` (user names), or when ``processes`` is given and
    every process holding it has one of those names (e.g. nginx for nginx's own listen ports).
    """
    problems = []
    wanted = set(int(port) for port in ports)
    held = {}
    for sock in listeners or []:
        if int(sock['port']) in wanted:
            held.setdefault(int(sock['port']), []).append(sock)
    for port in sorted(held):
        for sock in held[port]:
            names = set(p.split('[')[0] for p in sock.get('processes') or [])
            if sock.get('user') in owners or (processes and names and names <= set(processes)):
                continue
            who = 'user %s' % sock.get('user')
            if sock.get('processes'):
                who += ' (%s)' % ', '.join(sock['processes'])
            problems.append('%s: port %d is already held on %s by %s; a backend or nginx could not bind it. Choose '
                            'another port, or stop that program.' % (variable, port, sock.get('address'), who))
            break
    return problems


def unit_state(host, unit):
    """What the host's one read (webops.tornado.host_facts) saw of a systemd unit.

    ``enabled`` and ``active`` as read (false when the unit was not read: no read, systemctl missing, or a
    unit systemd does not know), ``running`` when both, and ``nofile``, its main process's soft open-file
    limit (None when not read). A role skips its call that keeps the unit enabled and running only when
    ``running`` is true and no file of the unit changed.
    """
    state = ((host or {}).get('units') or {}).get(unit) or {}
    enabled, active = bool(state.get('enabled')), bool(state.get('active'))
    return {'enabled': enabled, 'active': active, 'running': enabled and active, 'nofile': state.get('nofile')}


def apt_batch(own, wanted=(), installed=None):
    """The distro packages one role's apt call installs (webops.tornado.distro_packages), sorted: none when its own
    packages are all on the host (``installed``: the ``packages`` fact, which that action keeps current); otherwise
    its own and every other package the host's roles declared (``wanted``) that is still missing, so the first role
    that has to call apt installs what the host needs in one transaction.
    """
    have = set(installed or {})
    missing = set(own or ()) - have
    if not missing:
        return []
    return sorted(missing | (set(wanted or ()) - have))


def nofile_ceiling(host, requested, conf_path):
    """webops.tornado.nofile_ceiling's answer for ``requested`` open files and the limits.conf ``conf_path``, from
    what the host's one read (webops.tornado.host_facts) saw; None when the read lacks any of it (no read, an older
    read without ``nofile``, a conf_path it did not read, or one it saw but could not read), and the role asks the
    host itself."""
    host = host or {}
    found = host.get('nofile')
    files = host.get('files') or {}
    if not found or conf_path not in files:
        return None
    text = files[conf_path]
    if text is None and conf_path in ((host.get('globbed') or {}).get(conf_path) or []):
        return None
    answer = nofile.report(int(requested), found)
    answer['conf_domains'] = nofile.nofile_domains(text or '')
    return answer
