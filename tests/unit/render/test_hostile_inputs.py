# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe inputs by construction, proved by generated input: for every variable of every role, a hostile
value is either refused by the checks (naming it), or every file the roles render with it has the
structure it has with a benign value of the same shape (properties.py says exactly what is compared).

The examples give hostile values to several variables of a role at once (sometimes all of them), on one
of a few deployments (one host or a load balancer with two app hosts; TLS or not; each process model).
See tests/unit/README.md for how to run a longer search.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import hostile
import properties
import stack

ROLES = ['limits', 'app', 'supervisor', 'firewall', 'nginx']

# (topology, Debian release, benign inventory variables): the deployments each role's inputs are tried on.
SCENARIOS = {
    'limits': [('one_host', 'bookworm', {})],
    'app': [('one_host', 'bookworm', {}),
            ('split', 'bookworm', {}),
            ('one_host', 'bookworm', {'app_process_model': 'reuse_port', 'app_ports': [8000], 'app_processes': 3}),
            ('one_host', 'bookworm', {'app_process_model': 'fork', 'app_ports': [8000], 'app_processes': 2}),
            ('one_host', 'bookworm', {'app_process_model': 'development', 'app_ports': [8000]}),
            ('one_host', 'bookworm', {'app_entry': 'command', 'app_command': '{python} {src}/app.py --port={port}'})],
    'supervisor': [('one_host', 'bookworm', {}),
                   ('split', 'bookworm', {'app_process_model': 'reuse_port', 'app_ports': [8000], 'app_processes': 2})],
    'firewall': [('split', 'bookworm', {}),
                 ('one_host', 'bookworm', {'firewall_enabled': True})],
    'nginx': [('one_host', 'bookworm', {}),
              ('split', 'bookworm', {}),
              ('one_host', 'trixie', {'nginx_tls_self_signed': True, 'nginx_tls_hsts': True}),
              ('one_host', 'bookworm', {'nginx_tls_self_signed': True, 'nginx_tls_redirect': False, 'nginx_upstream_keepalive': 0,
                                        'nginx_proxy_pass_server_header': True, 'nginx_static_mode': 'proxy'}),
              ('split', 'bookworm', {'app_listen_address': '0.0.0.0'}),
              ('one_host', 'bookworm', {'nginx_tls_acme': True, 'nginx_tls_redirect': False, 'nginx_server_name': 'shop.example.com'})],
}


def examples(count):
    return max(1, int(count * float(os.environ.get('WEBOPS_TORNADO_EXAMPLES', '1'))))


class World(object):
    """Each role's inputs per deployment, and the benign renders seen so far."""

    def __init__(self, sites):
        self.site = sites
        self.pools = {}
        self.twins = {}
        self.made_of = hostile.made_of(hostile.dependency_graph())

    def pool(self, role, site):
        """{input name: Input} for ``role``, with its rules and defaults as the role templates them."""
        key = (role, site.topology, site.nginx_version)
        if key in self.pools:
            return self.pools[key]
        outcome = site.run()
        assert outcome.refusal is None, outcome.refusal
        host = site.hosts_of('tornado_lb' if role == 'nginx' else ('tornado_app' if role != 'limits' else None))[0]
        play = site.plays[role]
        task = play.find()[-1]
        rules = play.template(task, host, '{{ __%s_input_rules }}' % role)
        pool = {}
        for name, rule in rules.items():
            # An option of another entry point only (nginx_maintenance): site.yml never sets it.
            if play.template(task, host, '{{ %s is defined }}' % name) in (False, 'False'):
                continue
            pool[name] = properties.Input(name, rule, play.template(task, host, '{{ %s }}' % name))
        pool['ansible_managed'] = properties.AnsibleManaged()
        if role == 'supervisor':
            groups = play.template(task, host, '{{ supervisor_groups }}')
            # Only the kinds matter here (validate.yml templates the rules for each entry, as __supervisor_group).
            for field, rule in play.template(task, host, '{{ __supervisor_group_rules }}').items():
                pool['group.' + field] = properties.GroupField(field, rule, groups)
            for field, rule in play.template(task, host, '{{ __supervisor_program_rules }}').items():
                pool['program.' + field] = properties.GroupField(field, rule, groups, program=True)
            pool['group.home'] = properties.GroupField('home', 'path', groups)
        if role == 'firewall':
            pool['lb_addresses'] = properties.LoadBalancerAddresses(site.hosts_of('tornado_app'))
        if role == 'nginx' and site.topology == 'split':
            pool['ansible_host'] = properties.AnsibleHost()
        if role == 'nginx':
            # The same settings, given by the app's entry of tornado_apps for its own site.
            for name in play.template(task, host, '{{ __nginx_site_keys }}'):
                pool['app.' + name] = properties.AppEntry(name, rules[name], pool[name].default)
        self.pools[key] = pool
        return pool


@pytest.fixture(scope='module')
def world(sites):
    return World(sites)


@pytest.mark.parametrize('role', ROLES)
@settings(max_examples=examples(10))
@given(data=st.data())
def test_an_accepted_value_never_changes_what_a_file_means(world, role, data):
    topology, release, base = data.draw(st.sampled_from(SCENARIOS[role]), label='deployment')
    site = world.site(topology, release)
    pool = world.pool(role, site)
    names = sorted(pool)
    chosen = data.draw(st.one_of(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True), st.just(names)),
                       label='variables')
    example = dict((name, data.draw(pool[name].strategy(), label=name)) for name in chosen)
    checked = properties.check(site, base, example, pool, world.made_of, stack.DOWNSTREAM[role], world.twins)
    note('refused: %s' % sorted(checked.refused))
    note('accepted: %r' % checked.accepted)
    assert not checked.failures, '\n'.join(checked.failures)


# Each value here got through the checks, or stopped the run with a message that named nothing, before
# the fix named in its comment (git log says where): the property must keep holding for them.
REGRESSIONS = [
    # fullmatch: a trailing newline passed every pattern
    ('supervisor', ('one_host', 'bookworm', {}), {'group.name': 'demo\n'}),
    ('nginx', ('one_host', 'bookworm', {}), {'nginx_server_name': 'www.example.com\n'}),
    # an IPv6 zone index took any text
    ('app', ('split', 'bookworm', {}), {'app_listen_address': 'fe80::1%x;}\nserver { listen 81; }\nupstream y {'}),
    ('firewall', ('split', 'bookworm', {}), {'firewall_extra_sources': ['fe80::1%eth0}\nchain evil {']}),
    ('firewall', ('split', 'bookworm', {}), {'lb_addresses': '10.0.0.2 fe80::1%x;}chain{'}),
    # supervisord: inline comments cut a command short; a digit string broke the template
    ('supervisor', ('one_host', 'bookworm', {}), {'program.command': '/bin/app --x ;y'}),
    ('supervisor', ('one_host', 'bookworm', {}), {'program.command': '/bin/app #x'}),
    ('supervisor', ('one_host', 'bookworm', {}), {'supervisor_stopwait_margin': '7'}),
    # a banner of several lines
    ('supervisor', ('one_host', 'bookworm', {}), {'ansible_managed': 'Ansible managed\n[program:evil]\ncommand=/bin/sh'}),
    ('limits', ('one_host', 'bookworm', {}), {'ansible_managed': 'Ansible managed\nSession: optional pam_evil.so'}),
    # nginx: empty and null values the rules accept; a list or null server name; ansible_host
    ('nginx', ('one_host', 'bookworm', {}), {'nginx_gzip_types': []}),
    ('nginx', ('one_host', 'bookworm', {}), {'nginx_upstream_fail_timeout': None}),
    ('nginx', ('one_host', 'bookworm', {}), {'nginx_server_name': ['a.example.com', 'b.example.com']}),
    ('nginx', ('one_host', 'bookworm', {}), {'nginx_server_name': None}),
    ('nginx', ('one_host', 'bookworm', {}), {'nginx_tls_certificate_file': None}),
    ('nginx', ('split', 'bookworm', {'app_listen_address': '0.0.0.0'}), {'ansible_host': '10.0.0.1;\n location /etc { alias /etc/; }'}),
    # app_entry=command with an Application setting: the refusal said "login_url", not the variable
    ('app', ('one_host', 'bookworm', {'app_entry': 'command', 'app_command': '{python} {src}/app.py --port={port}'}),
     {'app_login_url': '/login'}),
    # the maintenance allowlist is written into the geo block
    ('nginx', ('one_host', 'bookworm', {}), {'nginx_maintenance_allow': ['10.0.0.0/8;\n}\nserver { listen 81; }\ngeo $x {']}),
    # a maintenance page the controller does not have: read only once the app hosts had switched
    ('nginx', ('one_host', 'bookworm', {}), {'nginx_maintenance_page': 'si(\xa0te.crt'}),
]


@pytest.mark.parametrize('role, deployment, example', REGRESSIONS, ids=['%s-%s' % (case[0], sorted(case[2])[0]) for case in REGRESSIONS])
def test_values_that_once_got_through(world, role, deployment, example):
    topology, release, base = deployment
    site = world.site(topology, release)
    checked = properties.check(site, base, example, world.pool(role, site), world.made_of, stack.DOWNSTREAM[role], world.twins)
    assert not checked.failures, '\n'.join(checked.failures)
