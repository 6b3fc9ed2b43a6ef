# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml on the controller: every check of every role, then every template, for every host.

``Site(topology).run(inputs)`` sets ``inputs`` as inventory variables of every host and goes through the
roles as site.yml does: the check play (app's checks and app_export, limits, supervisor, firewall, nginx or
haproxy as each load balancer's tornado_load_balancer says;
any refusal stops the run, as ``any_errors_fatal`` does), then each role's templates on the hosts of its
group. Tasks run through ``role_render`` (ansible-core's own objects). What a task would read on a host is
given here, as a plain Debian 12 host answers it: ``HOST_FACTS`` (webops.tornado.host_facts: a few
addresses, the system accounts, no listener), the open-file ceiling a root host can grant, the nginx
version Debian ships, the cookie secret found on the app hosts, and each load balancer's ``hostname -I``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os

import yaml

from role_render import FILES, Deployment, TaskFailed

TOPOLOGIES = {
    # One host in both groups (the single-host deployment): backends on loopback, no firewall.
    'one_host': {'web1': ['tornado_app', 'tornado_lb']},
    # A load balancer in front of two app hosts: backends on private addresses, the firewall on.
    'split': {'lb1': ['tornado_lb'], 'app1': ['tornado_app'], 'app2': ['tornado_app']},
}

ADDRESSES = {
    'web1': ['10.0.0.5', 'fd00::5'],
    'lb1': ['10.0.0.2', 'fd00::2'],
    'app1': ['10.0.1.11', 'fd00::1:11'],
    'app2': ['10.0.1.12'],
}

SYSTEM_USERS = {
    'root': {'uid': 0, 'gid': 0, 'gecos': 'root', 'home': '/root', 'shell': '/bin/bash'},
    'daemon': {'uid': 1, 'gid': 1, 'gecos': 'daemon', 'home': '/usr/sbin', 'shell': '/usr/sbin/nologin'},
    'www-data': {'uid': 33, 'gid': 33, 'gecos': 'www-data', 'home': '/var/www', 'shell': '/usr/sbin/nologin'},
    'nobody': {'uid': 65534, 'gid': 65534, 'gecos': 'nobody', 'home': '/nonexistent', 'shell': '/usr/sbin/nologin'},
}
SYSTEM_GROUPS = {
    'root': {'gid': 0, 'members': []}, 'daemon': {'gid': 1, 'members': []}, 'adm': {'gid': 4, 'members': []},
    'www-data': {'gid': 33, 'members': []}, 'nogroup': {'gid': 65534, 'members': []},
}

COOKIE_SECRET = 'Q' * 64
NGINX_VERSIONS = {'bookworm': '1.22.1', 'trixie': '1.26.3'}


# The demo's current release, as its release check recorded it (the app's own static_path, inside the release).
CURRENT_RELEASE = json.dumps({'id': 'R1', 'fingerprint': 'f', 'app': {
    'status': 'ok', 'static_path': '/srv/demo/releases/R1/src/static', 'static_url_prefix': '/static/'}})


def host_facts(host):
    """What webops.tornado.host_facts returns on a plain host: a few addresses, system accounts, no listener,
    and the demo's current release."""
    return {'changed': False, 'nproc': 2, 'addresses': list(ADDRESSES[host]), 'listeners': [],
            'users': dict(SYSTEM_USERS), 'groups': dict(SYSTEM_GROUPS),
            'files': {'/srv/demo/current/RELEASE.json': CURRENT_RELEASE}}


NOFILE_CEILING = {'changed': False, 'grantable': True, 'ceiling': None, 'hard_limit': 1073741816, 'can_raise_hard_limit': True,
                  'nr_open': 1073741816, 'file_max': 9223372036854775807, 'nr_open_writable': True,
                  'reason': 'root with CAP_SYS_RESOURCE: any limit up to fs.nr_open can be granted', 'conf_domains': []}

# Where each role runs (playbooks/site.yml) and the order of the check play.
ROLE_GROUPS = [('limits', None), ('app', 'tornado_app'), ('supervisor', 'tornado_app'), ('firewall', 'tornado_app'),
               ('nginx', 'tornado_lb'), ('haproxy', 'tornado_lb')]
# The check play's order after the controller-only checks: app's facts publish app_export first, so limits'
# checks see every app user of the machine (playbooks/site.yml).
CHECK_ORDER = [('app', 'tornado_app'), ('limits', None)] + [entry for entry in ROLE_GROUPS if entry[0] not in ('app', 'limits')]
# A load balancer runs one of these, as its tornado_load_balancer says (site.yml): nginx unless it says haproxy.
LOAD_BALANCERS = ('nginx', 'haproxy')
# The roles a variable of each role can reach: through app_export (app), through limits_export (limits).
DOWNSTREAM = {
    'app': ('app', 'supervisor', 'firewall', 'nginx', 'haproxy'),
    'limits': ('limits', 'supervisor', 'nginx', 'haproxy'),
    'supervisor': ('supervisor',),
    'firewall': ('firewall',),
    'nginx': ('nginx',),
    'haproxy': ('haproxy',),
}


NGINX_TASKS_FROM = ('inputs', 'main', 'validate', 'render', 'validate_site', 'site_prepare', 'tls', 'acme')


def site_binding():
    """The variables tasks/sites.yml binds for each site's tasks (its include's vars), as written there."""
    path = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'nginx', 'tasks', 'sites.yml')
    with open(path) as handle:
        return dict(yaml.safe_load(handle)[0]['vars'])


class Refusal(object):
    def __init__(self, role, host, task, result):
        self.role = role
        self.host = host
        self.task = task
        self.result = result
        errors = result.get('errors')
        self.messages = list(errors) if isinstance(errors, list) and errors else [str(result.get('msg'))]

    def __repr__(self):
        return 'Refusal(%s on %s, %s: %s)' % (self.role, self.host, self.task, self.messages)


# A failed task of these actions refuses the input; any other failed task is an error of the run.
CHECKS = ('webops.tornado.check_inputs', 'ansible.builtin.assert', 'ansible.builtin.fail', 'ansible.builtin.validate_argument_spec')


class Outcome(object):
    """What a run of site.yml did: the refusal that stopped it, or every file its templates wrote."""

    def __init__(self):
        self.refusal = None
        self.error = None  # a task that failed otherwise (a template that does not render...)
        self.files = []  # (host, role, Rendered)
        self.links = {}  # host -> {link: target}, the symbolic links the nginx role makes

    def by_src(self, suffix):
        return [(host, rendered) for host, _role, rendered in self.files if rendered.src.endswith(suffix)]


class Site(object):
    """The inventory of one topology, with the plays of every role compiled once."""

    def __init__(self, topology='one_host', release='bookworm'):
        self.topology = topology
        self.hosts = TOPOLOGIES[topology]
        self.deployment = Deployment(self.hosts)
        self.nginx_version = NGINX_VERSIONS[release]
        # main.yml includes validate.yml (include_tasks: a pass that already checked the same values skips it),
        # and nginx's main.yml render.yml (with this variable), and for each site (tasks/sites.yml, which binds
        # the site's settings) validate_site.yml, site_prepare.yml, tls.yml and acme.yml:
        # imported here for their tasks, with the same binding (tls.yml's only run where a test runs them;
        # acme.yml's hook is rendered for every site with ACME).
        binding = site_binding()
        staging = {'__nginx_tree': '{{ __nginx_staging_tree }}'}
        self.plays = {
            'limits': self.deployment.play('limits', tasks_from=('inputs', 'main', 'validate', 'apply')),
            'app': self.deployment.play('app', tasks_from=('inputs', 'main', 'validate')),
            'supervisor': self.deployment.play('supervisor', tasks_from=('inputs', 'main', 'validate')),
            'firewall': self.deployment.play('firewall', tasks_from=('inputs', 'main', 'validate')),
            'nginx': self.deployment.play('nginx', tasks_from=NGINX_TASKS_FROM,
                                          task_vars={'render': staging, 'validate_site': binding, 'site_prepare': binding,
                                                     'tls': binding, 'acme': binding}),
            'haproxy': self.deployment.play('haproxy', tasks_from=('inputs', 'main', 'validate')),
        }
        self.inputs = set()

    def hosts_of(self, group):
        return sorted(host for host, groups in self.hosts.items() if group is None or group in groups)

    def _tasks(self, role, *paths):
        play = self.plays[role]
        tasks = []
        for path in paths:
            if path == 'argspec':
                tasks.extend(play.find(action='validate_argument_spec'))
            else:
                tasks.extend(play.find(path=path))
        return tasks

    # --- what the hosts answer -------------------------------------------------------------------

    def _given(self, host):
        lbs = self.hosts_of('tornado_lb')
        secret = base64.b64encode(COOKIE_SECRET.encode()).decode()
        return {
            '__limits_ceiling_found': dict(NOFILE_CEILING),
            '__haproxy_active': {'changed': False, 'name': 'haproxy', 'status': {'ActiveState': 'inactive'}},
            # No nginx of the collection's on the load balancer (tasks/validate.yml).
            '__haproxy_nginx_found': {'changed': False, 'stat': {'exists': False}},
            '__nginx_version_out': {'changed': False, 'rc': 0, 'stdout': '', 'stderr': 'nginx version: nginx/%s' % self.nginx_version},
            '__app_secret_here': {'changed': False, 'content': secret, 'encoding': 'base64'},
            '__app_secrets_found': {'changed': False, 'results': [{'item': h, 'content': secret, 'encoding': 'base64'}
                                                                  for h in self.hosts_of('tornado_app')]},
            # No maintenance flag yet (tasks/site_prepare.yml): maintenance off.
            '__nginx_maintenance_live': {'changed': False, 'failed': False},
            '__firewall_lb_found': {'changed': False, 'results': [{'item': lb, 'rc': 0, 'stdout': ' '.join(ADDRESSES[lb])}
                                                                  for lb in lbs]},
        }

    def _reset(self, inputs, given, host_inputs=None):
        host_inputs = host_inputs or {}
        for host in self.hosts:
            self.deployment.unset_inventory_vars(host, self.inputs)
            self.deployment.set_inventory_vars(host, dict(inputs, **host_inputs.get(host, {})))
            # What the app role's facts entry point reads of the current release (facts.yml, release.yml).
            self.deployment.set_facts(host, {'__webops_tornado_host': host_facts(host),
                                             '__app_release_info': json.loads(CURRENT_RELEASE)})
            self.deployment.set_gathered_facts(host, {'os_family': 'Debian', 'distribution': 'Debian',
                                                      'distribution_release': 'bookworm'})
        self.inputs = set(inputs).union(*[set(more) for more in host_inputs.values()])
        self.given = given
        self.load_balancer = dict((host, str(dict(inputs, **host_inputs.get(host, {})).get('tornado_load_balancer', 'nginx')))
                                  for host in self.hosts)

    def runs(self, role, host):
        """Whether site.yml runs ``role`` on ``host`` (a load balancer runs the one it chose)."""
        return role not in LOAD_BALANCERS or self.load_balancer.get(host, 'nginx') == role

    # --- the run -----------------------------------------------------------------------------------

    def run(self, inputs=None, roles=None, given=None, host_inputs=None):
        """site.yml with ``inputs`` as inventory variables of every host (and ``host_inputs``, {host: variables},
        of some), for ``roles`` (default: all).

        ``given`` replaces results of host-side tasks by register name ({host: {register: result}}).
        Returns an Outcome; a refusal stops the run before any template, as in site.yml.
        """
        roles = roles or [role for role, _group in ROLE_GROUPS]
        self._reset(dict(inputs or {}), given or {}, host_inputs)
        outcome = Outcome()
        try:
            self._check(roles)
            self._render(roles, outcome)
        except TaskFailed as failed:
            stop = Refusal(failed.task._role.get_name().split('.')[-1] if failed.task._role else '?',
                           getattr(failed, 'host', '?'), failed.task.get_name(), failed.result)
            if failed.task.action in CHECKS:
                outcome.refusal = stop
            else:
                outcome.error = stop
        return outcome

    def _steps(self, role, host, tasks):
        given = dict(self._given(host))
        given.update(self.given.get(host, {}))
        try:
            self.plays[role].run_tasks(tasks, host, given=given)
        except TaskFailed as failed:
            failed.host = host
            raise

    def _check(self, roles):
        # site.yml's first task: each role's controller-side checks (inputs.yml), before any argument spec.
        for role, group in ROLE_GROUPS:
            if role in roles:
                for host in self.hosts_of(group):
                    if self.runs(role, host):
                        self._steps(role, host, self._tasks(role, 'inputs.yml'))
        for role, group in CHECK_ORDER:
            # app's facts publish app_export and limits' checks limits_export, which the other roles read.
            if role not in roles and not (role == 'app' and set(roles) & {'supervisor', 'firewall', 'nginx', 'haproxy'}) \
                    and not (role == 'limits' and set(roles) & {'supervisor', 'nginx', 'haproxy'}):
                continue
            for host in self.hosts_of(group):
                if not self.runs(role, host):
                    continue
                if role == 'nginx':
                    # main.yml loads the distro's vars (include_vars) before it includes validate.yml.
                    self._steps(role, host, self.plays[role].find(action='include_vars'))
                self._steps(role, host, self._tasks(role, 'argspec', 'validate.yml'))
                if role == 'nginx':
                    for nginx_site in self.nginx_sites(host):
                        self.deployment.set_facts(host, {'__nginx_site': nginx_site})
                        self._steps(role, host, self._tasks(role, 'validate_site.yml'))
                if role == 'app':
                    # The check play's `facts` entry point publishes app_export after the checks.
                    self._steps(role, host, self._tasks(role, 'export.yml'))

    def _render(self, roles, outcome):
        for role, group in ROLE_GROUPS:
            if role not in roles:
                continue
            play = self.plays[role]
            for host in self.hosts_of(group):
                if not self.runs(role, host):
                    continue
                if role == 'app':
                    # tasks/prepare.yml draws the run's random value before config.yml (one run_once task).
                    self.deployment.set_facts(host, {'__app_secret_seed': 'S' * 64})
                    steps = []
                    for task in self._tasks(role, 'config.yml'):
                        if task.action == FILES:
                            break
                        if task.action in ('ansible.builtin.slurp', 'ansible.builtin.assert', 'ansible.builtin.set_fact'):
                            steps.append(task)
                    self._steps(role, host, steps)
                    templates = play.find(action='template', path='config.yml')
                elif role == 'firewall':
                    before = []
                    for task in self._tasks(role, 'tasks/main.yml'):
                        if task.action in ('ansible.builtin.template', FILES):
                            break
                        if task.action in ('ansible.builtin.command', 'ansible.builtin.assert', 'webops.tornado.check_inputs'):
                            before.append(task)
                    self._steps(role, host, before)
                    templates = play.find(action='template')
                elif role == 'nginx':
                    self._steps(role, host, self._tasks(role, 'install.yml'))
                    templates = play.find(action='template', path='tasks/render.yml') + play.find(action='template', path='service.yml')
                    for nginx_site in self.nginx_sites(host):
                        # tasks/tls.yml reads or makes the site's pair on the host; the files task that writes the
                        # certificate beside the site needs one (its content is not checked here).
                        known = play.template(play.one(action='template', path='tasks/render.yml', name='Render the main config'), host,
                                              '{{ __nginx_site_tls | default({}) }}')
                        pair = {'pair': {'certificate': 'CERTIFICATE', 'key': 'KEY'}}
                        self.deployment.set_facts(host, {'__nginx_site': nginx_site, '__nginx_site_tls': dict(
                            known, **{nginx_site['name']: dict(pair, **known.get(nginx_site['name'], {}))})})
                        self._steps(role, host, self._tasks(role, 'site_prepare.yml'))
                        if nginx_site['acme']:
                            self._render_templates(role, host, play.find(action='template', path='acme.yml'), outcome)
                    # tasks/render.yml renders every site's files (and the links that enable them) in one call.
                    rendering = play.args(play.one(action='template', path='tasks/render.yml', name='Render the main config'), host)
                    for link in rendering['files']:
                        if link.get('state') == 'link':
                            outcome.links.setdefault(host, {})[rendering['root'] + '/' + link['dest']] = link['target']
                elif role == 'haproxy':
                    # validate.yml read the sites (__haproxy_sites); tls.yml writes each pair with copy.
                    templates = play.find(action='template', path='tasks/main.yml')
                else:
                    templates = play.find(action='template')
                self._render_templates(role, host, templates, outcome)

    def _render_templates(self, role, host, templates, outcome):
        play = self.plays[role]
        for task in templates:
            try:
                rendered_files = play.render(task, host)
            except TaskFailed as failed:
                failed.host = host
                raise
            for rendered in rendered_files:
                outcome.files.append((host, role, rendered))

    def nginx_sites(self, host):
        """The sites nginx on ``host`` serves, as its check read them (the fact __nginx_sites)."""
        play = self.plays['nginx']
        return play.template(play.one(action='template', path='tasks/render.yml', name='Render the main config'), host, '{{ __nginx_sites }}')
