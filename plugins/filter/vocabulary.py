# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that reshape the app's variables into what the launcher and the other roles consume."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath
import re
import shlex

from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.webops.tornado.plugins.plugin_utils import inputs
from ansible_collections.webops.tornado.plugins.plugin_utils.machine import machine


def shell_split(command, replacements=None):
    """Split a command line like a shell (no shell runs it), then replace placeholders in each word.

    The launcher executes the resulting argv itself, so no word is ever parsed again by supervisord or
    a shell: quotes, '%' and ';' in a word stay part of that word.
    """
    words = shlex.split(command)
    for placeholder, value in (replacements or {}).items():
        words = [word.replace(placeholder, str(value)) for word in words]
    return words


def environment(variables):
    """Environment variables as the launcher sets them: names to strings (numbers become text)."""
    return dict((str(name), str(value)) for name, value in (variables or {}).items())


def served_static(release_info, app_home, allow_outside=False):
    """Where nginx serves the app's static files from, and under which URL prefix: {path, prefix}.

    ``release_info`` is the current release's RELEASE.json; its ``app`` holds what the launcher's
    release check read from the built Application (the app's own static_path, inside the release that
    was checked, and static_url_prefix). The path is moved from releases/<id>/ to current/, so nginx
    follows the release that is current. None for the path when the app has no static_path, or one
    nginx should not serve (outside app_home, unless allowed, or not a safe path): then nginx sends
    static URLs to Tornado, which serves what the app said.
    """
    app = (release_info or {}).get('app') or {}
    prefix = app.get('static_url_prefix') or '/static/'
    if inputs.check({'kind': 'url_path', 'prefix': True}, prefix):
        prefix = None
    path = app.get('static_path')
    release = posixpath.join(app_home, 'releases', str((release_info or {}).get('id', '')))
    if not path or not (release_info or {}).get('id'):
        return {'path': None, 'prefix': prefix}
    path = posixpath.normpath(path)
    if path == release or path.startswith(release + '/'):
        path = posixpath.join(app_home, 'current') + path[len(release):]
    rule = {'kind': 'path', 'roots': [app_home], 'anywhere': bool(allow_outside)}
    if inputs.check(rule, path):
        path = None
    return {'path': path, 'prefix': prefix}


def app_programs(ports, name, process_model, program_count, command, directory, expect_argv=None):
    """The supervisord programs of an app: one per port (ports, fork, development listen on one port,
    so one program), or ``program_count`` programs sharing each port (reuse_port), named
    <name>-<port>[-<n>]. ``{port}`` in the command (and in ``expect_argv``) becomes the program's port."""
    copies = int(program_count) if process_model == 'reuse_port' else 1
    programs = []
    for port in ports:
        for index in range(copies):
            program = {
                'name': '%s-%s%s' % (name, port, ('-%d' % index) if process_model == 'reuse_port' else ''),
                'port': int(port),
                'command': command.replace('{port}', str(port)),
                'directory': directory,
            }
            if expect_argv:
                program['expect_argv'] = [word.replace('{port}', str(port)) for word in expect_argv]
            programs.append(program)
    return programs


def app_processes(ports, port_base, nproc, process_model, processes, name, command, directory, address,
                  expect_argv=None):
    """What the process model makes of the app's ports: the one place app_ports becomes supervisord
    programs and nginx backends.

    ``ports`` is app_ports as given: a list, or ``auto`` for one port per vCPU from ``port_base``.
    Returns {all_ports, ports, program_count, programs, backends, rolling_backends}: ``ports`` are the
    listening ports (all of them for ``ports``; the first only for fork, reuse_port and development),
    ``programs`` what supervisord runs (app_programs), ``backends`` what nginx proxies to (one per
    listening port, {port, address}), ``rolling_backends`` what webops.tornado.rolling_restart
    restarts (one per program, {name, port, address}).
    """
    if ports == 'auto':
        all_ports = list(range(int(port_base), int(port_base) + int(nproc)))
    else:
        all_ports = [int(port) for port in ports]
    listening = all_ports if process_model == 'ports' else all_ports[:1]
    if process_model == 'ports':
        program_count = len(all_ports)
    elif process_model == 'reuse_port':
        program_count = int(processes) or int(nproc)
    else:
        program_count = 1
    programs = app_programs(listening, name, process_model, program_count, command, directory, expect_argv)
    return {
        'all_ports': all_ports,
        'ports': listening,
        'program_count': program_count,
        'programs': programs,
        'backends': [{'port': port, 'address': address} for port in listening],
        'rolling_backends': [{'name': program['name'], 'port': program['port'], 'address': address}
                             for program in programs],
    }


# A listen address nginx cannot dial: it is replaced by one it can (see upstream_servers).
_WILDCARDS = ('0.0.0.0', '::', '*', '')
_LOOPBACK = re.compile(r'^(127\.|::1$|localhost$)')


def app_exports(hosts, hostvars, machines=None):
    """The app_export of each of ``hosts`` as upstream_servers reads it: [{host, export, ansible_host, machine}],
    ansible_host being the host's inventory name when it has none, machine the machine it reaches
    (webops.tornado.machine, answered by ``machines``, webops.tornado.machines' map, for the names it holds).
    An export whose state is absent (an app being retired from its host, app_state) is left out: the load
    balancers no longer send it anything."""
    found = []
    for host in hosts:
        facts = hostvars[host]
        if facts['app_export'].get('state', 'present') == 'absent':
            continue
        found.append({'host': host, 'export': facts['app_export'],
                      'ansible_host': facts['ansible_host'] if 'ansible_host' in facts else host,
                      'machine': machine(host, hostvars, machines)})
    return found


def _local(entry, inventory_hostname, machine_key):
    """Whether the app host of an app_exports entry is nginx's own machine (its own name, or another name of the
    machine ``machine_key``)."""
    return entry['host'] == inventory_hostname or (machine_key is not None and entry.get('machine') == machine_key)


def upstream_servers(exports, inventory_hostname, machine_key=None):
    """What nginx on ``inventory_hostname`` (the machine ``machine_key``) proxies to, from the exports of the
    app hosts (app_exports).

    Returns {backends, unreachable, servers}: ``backends`` every backend of every app host as
    {host, address, port}, a wildcard listen address replaced by one nginx can dial (loopback when the
    app runs on this machine, else the app host's ansible_host); ``unreachable`` the backends listening on
    loopback of another machine; ``servers`` the upstream block's ``server`` entries, ADDRESS:PORT with
    IPv6 addresses in brackets, without duplicates, in order.
    """
    backends = []
    unreachable = []
    for entry in exports:
        host = entry['host']
        local = _local(entry, inventory_hostname, machine_key)
        for backend in entry['export']['backends']:
            address = str(backend['address'])
            if address in _WILDCARDS:
                address = '127.0.0.1' if local else str(entry.get('ansible_host', host))
            backends.append({'host': host, 'address': address, 'port': int(backend['port'])})
            if not local and _LOOPBACK.match(address):
                unreachable.append(backends[-1])
    servers = []
    for backend in backends:
        address = '[%s]' % backend['address'] if ':' in backend['address'] else backend['address']
        server = '%s:%d' % (address, backend['port'])
        if server not in servers:
            servers.append(server)
    return {'backends': backends, 'unreachable': unreachable, 'servers': servers}


def _flag(value):
    """A bool setting as Ansible reads it; a value no rule accepted yet (checked later) counts as off."""
    try:
        return boolean(value, strict=False)
    except TypeError:
        return False


def _site_id(name):
    """The app's name as part of an nginx variable: letters, digits and '_', lower case (nginx's variable
    and upstream names are case-insensitive)."""
    return re.sub(r'[^a-z0-9_]', '_', str(name).lower())


def nginx_sites(exports, apps, defaults, inventory_hostname, layout=None, machine_key=None, prefix='nginx_'):
    """The sites nginx on ``inventory_hostname`` serves: one per app the app hosts export (app_exports).

    ``apps`` is the list of apps (``tornado_apps``: each a mapping with ``app_name`` and any of the
    site's settings); ``defaults`` the site's settings as this host's variables give them (the keys of
    ``__nginx_site_keys``). Each site: ``name``, ``id`` (the name as nginx variables take it),
    ``export`` (the first app host's), ``exports`` (every one), ``local`` (the export of the app on this machine,
    ``machine_key``: this host's or another name's of it; or None),
    ``upstream`` (upstream_servers of the app's hosts only, each backend with the app's ``health_path``), ``settings`` (the defaults, overridden by
    the app's entry), ``tls`` and ``acme`` (whether the settings turn them on; ``prefix``: the settings'
    role, nginx_ or haproxy_), ``default_server``
    (the first site: the apps' order, then the order of the app hosts) and ``files`` (``layout``, a
    mapping of paths with ``{name}``, for this app).
    """
    entries = {}
    for entry in apps or []:
        if isinstance(entry, dict) and isinstance(entry.get('app_name'), str):
            entries.setdefault(entry['app_name'], entry)
    groups = {}
    for found in exports:
        groups.setdefault(str(found['export']['name']), []).append(found)
    listed = [name for name in entries if name in groups]
    order = listed + [name for name in groups if name not in listed]
    sites = []
    for index, name in enumerate(order):
        entry = entries.get(name, {})
        settings = dict((key, entry.get(key, value)) for key, value in defaults.items())
        group = groups[name]
        upstream = upstream_servers(group, inventory_hostname, machine_key)
        for backend in upstream['backends'] + upstream['unreachable']:
            backend['health_path'] = group[0]['export'].get('health_path')
        tls = (len(str(settings.get(prefix + 'tls_certificate') or '')) > 0
               or len(str(settings.get(prefix + 'tls_certificate_file') or '')) > 0
               or _flag(settings.get(prefix + 'tls_self_signed')) or _flag(settings.get(prefix + 'tls_acme')))
        sites.append({
            'name': name,
            'id': _site_id(name),
            'export': group[0]['export'],
            'exports': [found['export'] for found in group],
            'local': next((found['export'] for found in group if _local(found, inventory_hostname, machine_key)), None),
            'upstream': upstream,
            'settings': settings,
            'tls': tls,
            'acme': _flag(settings.get(prefix + 'tls_acme')),
            'default_server': index == 0,
            'files': dict((key, path.format(name=name)) for key, path in (layout or {}).items()),
        })
    return sites


_APP_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]{0,63}')


def nginx_retired_files(found, sites, layout):
    """The files of the sites nginx no longer serves: ``found`` are the names of the site files in the role's
    staging tree (each an app it served), ``sites`` those it serves now (nginx_sites); each retired
    name's files by ``layout``, relative to a tree, in order."""
    current = set(site['name'] for site in sites)
    # Only names an app may have (app_name's kind): a stray file never names a path outside the site's own.
    retired = sorted(set(str(name) for name in found if _APP_NAME.fullmatch(str(name))) - current)
    return [path.format(name=name) for name in retired for path in layout.values()]


NGINX_SITE_TEMPLATE = 'etc/nginx/sites-available/app.conf.j2'
NGINX_FLAG_TEMPLATE = 'etc/nginx/maintenance.conf.j2'


def nginx_site_files(sites, maintenance, pairs=None, keys=False):
    """The items of webops.tornado.files that render every site into a tree (paths relative to it), in the order
    of the sites: its certificate (a site with TLS; ``pairs``: the site's name to ``{'pair': {'certificate',
    'key'}}``), its site file and maintenance flag (templates that see the site as ``__nginx_site``, its settings
    as the plain variables and its mode as ``__nginx_maintenance_on``, as the role's per-site steps do), and the
    link that enables it. ``maintenance``: the site's name to ``{'on', 'text'}``, the flag in force; its ``text``
    is written as it is, or the flag template rendered where it is None (missing, or an earlier version's).
    The private keys are never among them: with ``keys``, only the keys (0600), for a call that hides its
    arguments."""
    items = []
    owned = {'owner': 'root', 'group': 'root'}
    for site in sites:
        name, files = site['name'], site['files']
        if keys:
            if site['tls']:
                items.append(dict(owned, content=pairs[name]['pair']['key'].strip() + '\n', dest=files['key'], mode='0600'))
            continue
        flag = maintenance[name]
        site_vars = dict(site['settings'], __nginx_site=site, __nginx_maintenance_on=flag['on'])
        if site['tls']:
            items.append(dict(owned, content=pairs[name]['pair']['certificate'].strip() + '\n', dest=files['certificate'],
                              mode='0644'))
        items.append(dict(owned, src=NGINX_SITE_TEMPLATE, vars=site_vars, dest=files['site'], mode='0644'))
        written = {'src': NGINX_FLAG_TEMPLATE, 'vars': site_vars} if flag['text'] is None else {'content': flag['text']}
        items.append(dict(owned, dest=files['maintenance'], mode='0644', **written))
        items.append(dict(owned, dest=files['link'], state='link', target='../' + files['site']))
    return items


def nginx_site_problems(apps, site_keys, exported_names, variable='tornado_apps', sites=None, prefix='nginx_'):
    """What is wrong with the list of apps as nginx reads it, one sentence each, naming ``variable``.

    Each entry must be a mapping with a string ``app_name`` given once; a key of ``prefix`` (nginx_, or
    haproxy_ as the haproxy role reads them) must be a
    setting of one site (``site_keys``), not of the whole load balancer; two exported apps must not
    share an nginx name (``id``: the upstream and the maintenance variables), nor two ``sites``
    (nginx_sites) a server name: nginx would send every request for it to the first and only warn.
    """
    problems = []
    if not is_sequence(apps):
        return ['%s must be a list of apps (mappings with app_name), got %s.' % (variable, type(apps).__name__)]
    seen = set()
    for index, entry in enumerate(apps):
        where = '%s[%d]' % (variable, index)
        if not isinstance(entry, dict) or not isinstance(entry.get('app_name'), str):
            problems.append('%s must be a mapping with app_name (a string).' % where)
            continue
        name = entry['app_name']
        where = '%s[%d] (%s)' % (variable, index, name)
        if name in seen:
            problems.append('%s: app_name %s is given twice.' % (where, name))
        seen.add(name)
        for key in sorted(entry):
            if isinstance(key, str) and key.startswith(prefix) and key not in site_keys:
                problems.append('%s: %s is a setting of the whole load balancer, not of one app: set it '
                                'as a variable of the load-balancer hosts.' % (where, key))
    ids = {}
    for name in exported_names:
        ids.setdefault(_site_id(name), []).append(str(name))
    for names in ids.values():
        if len(set(names)) > 1:
            problems.append('The apps %s share one nginx name (%s): give them names that differ in more '
                            'than case and punctuation.' % (' and '.join(sorted(set(names))), _site_id(names[0])))
    owners = {}
    for site in sites or []:
        for server_name in str(site['settings'].get(prefix + 'server_name', '')).lower().split():
            owners.setdefault(server_name, []).append(str(site['name']))
    for server_name, names in sorted(owners.items()):
        if len(names) > 1:
            problems.append('The apps %s both answer to the server name %s (%sserver_name): %s would send '
                            'all of its requests to %s. Give each app its own names in %s.'
                            % (' and '.join(names), server_name, prefix, prefix.rstrip('_'), names[0], variable))
    return problems


# The settings of an app's site at its load balancers (nginx_site_problems checks them), by role.
LB_PREFIXES = ('nginx_', 'haproxy_')

# What HAProxy does not take in a server's name (letters, digits and "_.:-" only).
_HAPROXY_NAME_UNSAFE = re.compile(r'[^A-Za-z0-9_.:-]')


def haproxy_server_name(host, port):
    """The name of one backend (an app host's process) in HAProxy's configuration, stats page and runtime
    API: the host's inventory name and the port, as the haproxy role writes it and the app role drains it."""
    return '%s_%d' % (_HAPROXY_NAME_UNSAFE.sub('_', str(host)), int(port))


def haproxy_backend_name(app_name):
    """The HAProxy backend of one app (its frontends have names that never start with app-)."""
    return 'app-%s' % app_name


def haproxy_backends(sites):
    """One HAProxy backend per site (nginx_sites): ``name`` (haproxy_backend_name), ``site`` (the app's name),
    ``health_path``, and ``servers``, one per process of every app host, without duplicates, in the sites' order.
    A server: ``name`` (haproxy_server_name), ``endpoint`` (ADDRESS:PORT as the config writes it, IPv6 in
    brackets), the ``host``, ``address`` and ``port`` HAProxy dials, and for webops.tornado.lb_status its
    ``health_path``, ``haproxy_backend`` and ``haproxy_server``."""
    blocks = []
    for site in sites:
        servers = []
        seen = set()
        name = haproxy_backend_name(site['name'])
        health_path = site['export'].get('health_path') or '/'
        for backend in site['upstream']['backends']:
            key = (backend['host'], int(backend['port']))
            if key in seen:
                continue
            seen.add(key)
            address = str(backend['address'])
            server = haproxy_server_name(backend['host'], backend['port'])
            servers.append({'name': server, 'endpoint': '%s:%d' % ('[%s]' % address if ':' in address else address, int(backend['port'])),
                            'host': backend['host'], 'address': address, 'port': int(backend['port']),
                            'health_path': health_path, 'haproxy_backend': name, 'haproxy_server': server})
        blocks.append({'name': name, 'site': site['name'], 'health_path': health_path, 'servers': servers})
    return blocks


# Options of one run of a playbook (-e), never of an app: an entry of tornado_apps may not set them.
RUN_OPTIONS = ('app_select', 'app_rollback_to', 'app_lock_break')


def app_entry(apps, name):
    """What the entry of the app ``name`` in ``apps`` (tornado_apps) sets for its hosts: its ``app_*`` keys,
    app_name aside; {} when no entry names it. The nginx_* keys are the load balancers' (nginx_sites)."""
    if not is_sequence(apps):
        return {}
    for entry in apps:
        if isinstance(entry, dict) and entry.get('app_name') == name:
            return dict((key, value) for key, value in entry.items()
                        if isinstance(key, str) and key.startswith('app_') and key != 'app_name')
    return {}


def app_entry_problems(apps, app_keys, variable='tornado_apps'):
    """One sentence per key of an entry of ``apps`` that is neither app_name, a variable of the app role
    (``app_keys``) other than a run's option, nor an nginx_* setting (nginx_site_problems checks those);
    entries that are not mappings with app_name are nginx_site_problems' to name."""
    problems = []
    if not is_sequence(apps):
        return problems
    for index, entry in enumerate(apps):
        if not isinstance(entry, dict) or not isinstance(entry.get('app_name'), str):
            continue
        where = '%s[%d] (%s)' % (variable, index, entry['app_name'])
        for key in sorted(entry, key=str):
            if key == 'app_name' or (isinstance(key, str) and key.startswith(LB_PREFIXES)):
                continue
            if key in RUN_OPTIONS:
                problems.append('%s: %s is an option of one run (-e %s=...), not a setting of an app.' % (where, key, key))
            elif key not in app_keys:
                problems.append('%s: %s is not a variable of webops.tornado.app; an entry takes app_name, the app_* '
                                'variables and the nginx_* or haproxy_* settings of its site.' % (where, key))
    return problems


class FilterModule(object):
    """webops.tornado vocabulary filters."""

    def filters(self):
        return {'shell_split': shell_split, 'environment': environment, 'served_static': served_static,
                'app_programs': app_programs, 'app_processes': app_processes, 'app_exports': app_exports,
                'upstream_servers': upstream_servers, 'nginx_sites': nginx_sites,
                'nginx_site_problems': nginx_site_problems, 'nginx_retired_files': nginx_retired_files,
                'nginx_site_files': nginx_site_files,
                'app_entry': app_entry, 'app_entry_problems': app_entry_problems,
                'haproxy_server_name': haproxy_server_name, 'haproxy_backend_name': haproxy_backend_name,
                'haproxy_backends': haproxy_backends}
