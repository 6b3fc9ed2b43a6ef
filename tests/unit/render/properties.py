# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The property of the hostile-input tests, and the inputs it is checked over.

For a set of hostile inputs given together, ``check`` runs site.yml (``stack.Site``):

1. Refused inputs are taken out, one refusal at a time, until the checks pass: every refusal must name
   an input of the set, or a variable made of one (``app_user`` when ``app_name`` was hostile: its default
   is ``app_name``); a refusal that names none is a failure (it would leave the user guessing).
2. What is left was accepted. Every file is rendered with it, read by its program (``formats``) and by
   the benign twins of the accepted inputs (``hostile.twin``). The structures must be equal, no non-JSON
   file may hold a control character (tabs only where the twin's render has them), nginx must raise no
   context or argument error, and the values that reach a program must arrive as given: supervisord's
   ``user``, ``directory`` and ``command`` words, nginx's ``server_name``, the launcher's environment,
   arguments and settings.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import re
import shlex

from hypothesis import strategies as st

import formats
import hostile


class Input(object):
    """A value the roles read: an inventory variable by default."""

    def __init__(self, name, rule, default):
        self.name = name
        self.rule = rule
        self.default = default

    def strategy(self):
        return hostile.values(self.rule, self.default)

    def twin(self, value):
        if self.name == 'nginx_app_hosts':
            return value  # accepted only when every name is an app host of the inventory (validate.yml)
        return hostile.twin(self.name, self.rule, value, self.default)

    def apply(self, value, inputs, given):
        inputs[self.name] = value

    def names(self):
        """The variables a refusal of this input may name."""
        return [self.name]

    def named_in(self, text, named, made_of):
        """Whether a refusal whose text is ``text`` (naming the variables ``named``) is about this input."""
        mine = self.names()
        return any(name in named for name in mine) or any(mine[0] in made_of.get(var, ()) for var in named)


class AnsibleManaged(Input):
    """ansible_managed: the operator's banner (often several lines), in every template."""

    def __init__(self):
        Input.__init__(self, 'ansible_managed', 'text', 'Ansible managed')

    def strategy(self):
        line = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
        return st.lists(line, min_size=1, max_size=4).map('\n'.join)

    def twin(self, value):
        return '\n'.join('plain' for _line in value.split('\n'))


class GroupField(Input):
    """One field of an entry of supervisor_groups (the app_export contract), or of one of its programs."""

    def __init__(self, field, rule, groups, program=False):
        Input.__init__(self, 'supervisor_groups', rule, groups)
        self.field = field
        self.program = program
        base = groups[0]['programs'][0] if program else groups[0]
        self.seed = base.get(field)

    def strategy(self):
        return hostile.values(self.rule, self.seed)

    def apply(self, value, inputs, given):
        groups = copy.deepcopy(inputs.get('supervisor_groups', self.default))
        target = groups[0]['programs'][0] if self.program else groups[0]
        target[self.field] = value
        inputs['supervisor_groups'] = groups

    def twin(self, value):
        return hostile.twin(self.field, self.rule, value, self.seed)

    def named_in(self, text, named, made_of):
        # validate.yml's prefixes: supervisor_groups["<name as JSON>"]. and .programs["<name as JSON>"].
        quoted = r'\["(?:[^"\\]|\\.)*"\]\.'
        prefix = r'supervisor_groups' + quoted + (r'programs' + quoted if self.program else '')
        if re.search(prefix + re.escape(self.field) + ' must', text):
            return True
        # The assert on whole groups (validate.yml) names supervisor_groups and what it wants of them.
        return 'supervisor_groups:' in text and self.field in ('name', 'user', 'programs')


class AppEntry(Input):
    """A setting of the demo app's own site, given in its entry of tornado_apps instead of as a variable of
    the load balancer (webops.tornado.nginx's per-app settings, vars/main.yml __nginx_site_keys)."""

    def __init__(self, name, rule, default):
        Input.__init__(self, name, rule, default)

    def apply(self, value, inputs, given):
        apps = copy.deepcopy(inputs.get('tornado_apps', [{'app_name': 'demo'}]))
        apps[0][self.name] = value
        inputs['tornado_apps'] = apps

    def names(self):
        return ['tornado_apps']

    def named_in(self, text, named, made_of):
        # validate_site.yml's prefix: "app demo: <variable> must ..."; an assert of the site names the variable.
        if 'app demo: %s must' % self.name in text or self.name in named:
            return True
        # Or the app's variable made of this one (nginx_tls_acme on: its nginx_tls_acme_names are checked).
        return any(self.name in made_of.get(var, ()) for var in named if 'app demo: %s must' % var in text)


class AnsibleHost(Input):
    """ansible_host of every host: nginx dials it when a backend listens on a wildcard address (vars/main.yml)."""

    def __init__(self):
        Input.__init__(self, 'ansible_host', 'address', None)

    def strategy(self):
        return hostile.strings(['10.0.1.11', 'app1.example.com', 'fe80::1'])

    def twin(self, value):
        return '10.0.1.50'


class LoadBalancerAddresses(Input):
    """What `hostname -I` prints on a load balancer (firewall/tasks/main.yml): a compromised one says anything."""

    def __init__(self, hosts):
        Input.__init__(self, 'hostname -I of the load balancers', {'kind': 'addresses_or_networks'}, '10.0.0.2 fd00::2')
        self.hosts = hosts

    def strategy(self):
        return st.one_of(hostile.strings(['10.0.0.2 fd00::2', 'fe80::1', '10.0.0.2']),
                         st.lists(hostile.strings(['10.0.0.2', 'fe80::1']), max_size=3).map(' '.join))

    def apply(self, value, inputs, given):
        for host in self.hosts:
            given.setdefault(host, {})['__firewall_lb_found'] = {
                'changed': False, 'results': [{'item': 'lb1', 'rc': 0, 'stdout': value}]}

    def twin(self, value):
        words = value.split()
        return ' '.join(hostile.plain_address(word, index) for index, word in enumerate(words))

    def names(self):
        return ['firewall_lb_hosts']


# --- reading an outcome -----------------------------------------------------------------------------

class Reading(object):
    """Every rendered file of an Outcome, read by its program."""

    def __init__(self, outcome, accounts):
        self.outcome = outcome
        self.structure = {}
        self.problems = []
        self.tabs = {}
        self.nginx = {}
        self.supervisord = {}
        self.json = {}
        self.limits = {}
        per_host = {}
        for host, _role, rendered in outcome.files:
            per_host.setdefault(host, []).append(rendered)
            key = (host, rendered.src)
            if not rendered.src.endswith('.json.j2'):
                for line, char in formats.control_characters(rendered.text):
                    self.problems.append('%s on %s: control character %s on line %d' % (rendered.dest, host, char, line))
                self.tabs[key] = rendered.text.count('\t')
            try:
                if rendered.src.endswith('.json.j2'):
                    self.json[host] = json.loads(rendered.text)
                    self.structure[key] = formats.json_structure(rendered.text)
                elif rendered.src.endswith('.nft.j2'):
                    self.structure[key] = formats.nft_structure(rendered.text)
                    for elements in formats.nft_elements(rendered.text):
                        for item in elements:
                            if not isinstance(item, str):
                                self.problems.append('%s on %s: %r in a list of addresses or ports' % (rendered.dest, host, item))
                elif rendered.src.endswith('.service.j2') or '.service.d/' in rendered.src:
                    self.structure[key] = formats.systemd_structure(rendered.text)
                elif 'pam-configs' in rendered.src:
                    self.structure[key] = formats.pam_structure(rendered.text)
                elif '/limits.d/' in rendered.src:
                    self.structure[key] = formats.limits_structure(rendered.text)
                    self.limits[host] = formats.limits_conf(rendered.text)
            except (formats.ParseError, ValueError) as exc:
                self.problems.append('%s on %s does not parse: %s' % (rendered.dest, host, exc))
        for host, files in per_host.items():
            nginx = dict((r.dest, r.text) for r in files if r.src.startswith('etc/nginx/'))
            if nginx:
                main = [dest for dest in nginx if dest.endswith('/nginx.conf')][0]
                config = formats.NginxConfig(nginx, main, outcome.links.get(host))
                self.nginx[host] = config
                self.structure[(host, 'nginx')] = config.structure()
                for error in config.errors:
                    self.problems.append('nginx on %s: %s' % (host, error['error']))
            supervisor = dict((r.dest, r.text) for r in files if r.src.startswith('etc/supervisor/'))
            if supervisor:
                try:
                    config = formats.SupervisordConfig(supervisor, accounts=accounts)
                    self.supervisord[host] = config
                    self.structure[(host, 'supervisord')] = config.structure()
                except formats.ParseError as exc:
                    self.problems.append('supervisord on %s does not load its configuration: %s' % (host, exc))


def differences(hostile_reading, plain_reading):
    """Where the structures differ, as sentences."""
    found = []
    for key in sorted(set(hostile_reading.structure) | set(plain_reading.structure)):
        mine, theirs = hostile_reading.structure.get(key), plain_reading.structure.get(key)
        if mine != theirs:
            found.append('%s %s: %s\n  instead of\n%s' % (key[0], key[1], _short(mine), _short(theirs)))
    for key, count in hostile_reading.tabs.items():
        if key in plain_reading.tabs and count != plain_reading.tabs[key]:
            found.append('%s %s: %d tabs instead of %d' % (key[0], key[1], count, plain_reading.tabs[key]))
    return found


def _short(value):
    text = repr(value)
    return text if len(text) < 3000 else text[:3000] + '...'


# --- the values that must arrive as given -----------------------------------------------------------

def arrivals(reading, site):
    """Sentences about values that did not reach their program as they were given."""
    problems = []
    app_hosts = site.hosts_of('tornado_app')
    for host, config in reading.supervisord.items():
        play = site.plays['supervisor']
        groups = play.template(play.one(action='template', name='process group'), host, '{{ supervisor_groups }}')
        given = {}
        for group in groups:
            for program in group['programs']:
                given[program['name']] = (group, program)
        for process in config.programs():
            if process['name'] not in given:
                problems.append('supervisord on %s runs %r, which no group declares' % (host, process['name']))
                continue
            group, program = given.pop(process['name'])
            if process['user'] != group['user']:
                problems.append('supervisord on %s: %s runs as %r, not %r' % (host, process['name'], process['user'], group['user']))
            name = process['name']
            if process['directory'] != program['directory']:
                problems.append('supervisord on %s: %s starts in %r, not %r' % (host, name, process['directory'], program['directory']))
            if process['argv'] != shlex.split(program['command']):
                problems.append('supervisord on %s: %s runs %r, not the words of %r' % (host, name, process['argv'], program['command']))
            expected_log = '%s/%s.log' % (group['log_dir'], program['name'])
            if process['stdout_logfile'] != expected_log:
                problems.append('supervisord on %s: %s logs to %r, not %r' % (host, name, process['stdout_logfile'], expected_log))
        for name in given:
            problems.append('supervisord on %s does not run %r' % (host, name))
    for host, config in reading.nginx.items():
        # the first site's settings: this host's variables, or the app's entry of tornado_apps (AppEntry)
        names = site.plays['nginx'].template(site.plays['nginx'].one(action='template', path='tasks/render.yml', name='Render the main config'), host,
                                             '{{ __nginx_sites[0].settings.nginx_server_name }}')
        names = names.split(' ') if isinstance(names, str) else list(names)
        for _file, _ctx, args in config.directives('server_name'):
            if args != names:
                problems.append('nginx on %s: server_name %r, not %r' % (host, args, names))
        timeout = site.plays['nginx'].template(site.plays['nginx'].one(action='template', path='tasks/render.yml', name='Render the main config'), host,
                                               '{{ __nginx_sites[0].settings.nginx_upstream_fail_timeout }}')
        parameters = ['fail_timeout=%s' % timeout] if timeout is not None and str(timeout) != '' else []
        for _file, ctx, args in config.directives('server'):
            if ctx and ctx[-1][0] == 'upstream' and args[1:] != parameters:
                problems.append('nginx on %s: upstream server %r, not with %r' % (host, args, parameters))
    for host, entries in reading.limits.items():
        play = site.plays['limits']
        task = play.one(action='template', name='limits.conf entries')
        users, nofile = play.template(task, host, '{{ [limits_users | unique, limits_nofile | int] }}')
        expected = [(user, kind, 'nofile', str(nofile)) for user in users for kind in ('soft', 'hard')]
        if entries != expected:
            problems.append('limits.conf on %s: %r, not %r' % (host, entries, expected))
    for host in app_hosts:
        data = reading.json.get(host)
        if data is None:
            continue
        play = site.plays['app']
        task = play.one(action='template', path='config.yml')
        environment = play.template(task, host, '{{ app_environment }}')
        if data.get('environment') != dict((str(k), str(v)) for k, v in environment.items()):
            problems.append('launcher.json on %s: environment %r, not %r' % (host, data.get('environment'), environment))
        settings = play.template(task, host, '{{ app_settings }}')
        for key, value in settings.items():
            if data['settings'].get(key) != value and key != 'serve_traceback':
                problems.append('launcher.json on %s: setting %s is %r, not %r' % (host, key, data['settings'].get(key), value))
        if 'args' in data:
            args = play.template(task, host, '{{ app_main_args }}')
            if data['args'] != [str(arg) for arg in args]:
                problems.append('launcher.json on %s: args %r, not %r' % (host, data['args'], args))
    return problems


# --- the property -----------------------------------------------------------------------------------

def _variables_in(text, known):
    return set(name for name in known if re.search(r'(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])' % re.escape(name), text))


class Checked(object):
    """What check() found: refused inputs (with the refusals), accepted ones, and the failures."""

    def __init__(self):
        self.refused = {}
        self.accepted = {}
        self.failures = []


def check(site, base, example, pool, made_of, roles, twin_cache=None):
    """Run the property for ``example`` ({input name: value}) on top of ``base`` (benign inventory variables)."""
    result = Checked()
    remaining = dict(example)
    known = set(made_of)
    while True:
        inputs, given = dict(base), {}
        for name, value in remaining.items():
            pool[name].apply(value, inputs, given)
        outcome = site.run(inputs, roles=roles, given=given)
        if outcome.error is not None:
            result.failures.append('accepted, but the run fails after the checks: %s' % outcome.error)
            return result
        if outcome.refusal is None:
            break
        text = ' '.join(outcome.refusal.messages)
        named = _variables_in(text, known | set(n for name in remaining for n in pool[name].names()))
        culprits = [name for name in remaining if pool[name].named_in(text, named, made_of)]
        if not culprits:
            result.failures.append('refused, but the refusal names none of the inputs given (%s): %s'
                                   % (', '.join(sorted(remaining)), outcome.refusal))
            return result
        for name in culprits:
            result.refused[name] = outcome.refusal
            del remaining[name]
        if not remaining:
            return result
    result.accepted = remaining
    accounts = dict(('u%d' % i, 1000 + i) for i in range(3))
    for host_groups in _groups_given(site, roles):
        for group in host_groups:
            accounts.setdefault(group['user'], 2000 + len(accounts))
    hostile_reading = Reading(outcome, accounts)
    result.failures.extend(hostile_reading.problems)
    result.failures.extend(arrivals(hostile_reading, site))
    # The twins, rendered by the same run.
    plain_inputs, plain_given = dict(base), {}
    for name, value in remaining.items():
        pool[name].apply(pool[name].twin(value), plain_inputs, plain_given)
    key = (site.topology, site.nginx_version, repr(sorted(plain_inputs.items())), repr(sorted(plain_given.items())), tuple(roles))
    if twin_cache is not None and key in twin_cache:
        plain_reading = twin_cache[key]
    else:
        plain_outcome = site.run(plain_inputs, roles=roles, given=plain_given)
        if plain_outcome.refusal is not None:
            result.failures.append('the benign twins %r are refused (a harness problem): %s' % (plain_inputs, plain_outcome.refusal))
            return result
        plain_reading = Reading(plain_outcome, accounts)
        if twin_cache is not None:
            twin_cache[key] = plain_reading
    result.failures.extend(differences(hostile_reading, plain_reading))
    return result


def _groups_given(site, roles):
    if 'supervisor' not in roles:
        return []
    play = site.plays['supervisor']
    task = play.one(action='template', name='process group')
    return [play.template(task, host, '{{ supervisor_groups }}') for host in site.hosts_of('tornado_app')]
