# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The render helper renders what a deployment writes: plain tests of role_render, stack and formats with
the defaults, where the files must say what the roles obviously mean (upstream servers 127.0.0.1:8000-8003,
one supervisord program per port...), and nginx's configuration passes crossplane's context and argument
checks (an `nginx -t` without nginx)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shlex
import subprocess

import pytest

import formats
import role_render
import stack

TEMPLATES = sorted(os.path.relpath(os.path.join(folder, name), os.path.join(role_render.REPO, 'roles'))
                   for folder, _dirs, names in os.walk(os.path.join(role_render.REPO, 'roles'))
                   for name in names if name.endswith('.j2') and '/templates/' in folder + '/' and '/macros' not in folder)


@pytest.fixture(scope='module')
def one_host(sites):
    return sites('one_host')


@pytest.fixture(scope='module')
def split(sites):
    return sites('split')


@pytest.fixture(scope='module')
def default_run(one_host):
    outcome = one_host.run()
    assert outcome.refusal is None, outcome.refusal
    return outcome


def files(outcome, host=None):
    return dict((rendered.src, rendered) for h, _role, rendered in outcome.files if host in (None, h))


def nginx_tree(outcome, host=None):
    """Every nginx file rendered, by destination (one template may write into both trees)."""
    return dict((r.dest, r.text) for h, _role, r in outcome.files if host in (None, h) and r.src.startswith('etc/nginx/'))


def test_every_template_of_every_role_is_rendered(default_run, split, one_host):
    outcome = split.run()
    acme = one_host.run({'nginx_tls_acme': True, 'nginx_server_name': 'shop.example.com'})
    haproxy = one_host.run({'tornado_load_balancer': 'haproxy'})
    rendered = set(rendered.src for _h, _r, rendered in default_run.files + outcome.files + acme.files + haproxy.files)
    for template in TEMPLATES:
        assert template.split('/templates/', 1)[1] in rendered, template


def test_the_default_site_is_what_the_guide_describes(default_run):
    site = files(default_run)['etc/nginx/sites-available/app.conf.j2']
    assert site.dest == '/etc/nginx/webops-tornado.staging/sites-available/demo.conf'
    nginx = nginx_tree(default_run)
    config = formats.NginxConfig(nginx, '/etc/nginx/webops-tornado.staging/nginx.conf', default_run.links['web1'])
    assert config.errors == []
    assert config.files() == ['/etc/nginx/webops-tornado.staging/nginx.conf',
                              '/etc/nginx/webops-tornado.staging/sites-enabled/demo.conf',
                              '/etc/nginx/webops-tornado.staging/webops-tornado-maintenance/demo.conf']
    upstream = [(ctx, args) for _f, ctx, args in config.directives('server') if ctx and ctx[-1][0] == 'upstream']
    assert [ctx[-1] for ctx, _args in upstream] == [('upstream', 'demo')] * 4
    assert [args for _ctx, args in upstream] == [['127.0.0.1:%d' % port, 'fail_timeout=1s'] for port in range(8000, 8004)]
    assert [args for _f, _c, args in config.directives('listen')] == [['80', 'default_server']]
    assert [args for _f, _c, args in config.directives('server_name')] == [['_']]
    assert [args for _f, _c, args in config.directives('proxy_pass')] == [['http://demo']]
    assert [(ctx[-1], args) for _f, ctx, args in config.directives('alias')] == [
        (('location', '^~', '/static/'), ['/srv/demo/current/src/static/']),
        (('location', '^~', '/.webops-tornado-static-versions/'), ['/srv/demo/static-versions/']),
        (('location', '=', '/favicon.ico'), ['/srv/demo/current/src/static/favicon.ico']),
        (('location', '=', '/robots.txt'), ['/srv/demo/current/src/static/robots.txt'])]
    assert [args for _f, _c, args in config.directives('worker_rlimit_nofile')] == [['50000']]
    assert [args for _f, _c, args in config.directives('worker_connections')] == [['25000']]
    assert [args for _f, _c, args in config.directives('keepalive')] == [['32']]
    # Maintenance mode is off until the maintenance playbook says otherwise; the health path and the
    # page itself are never answered 503.
    assert sorted((ctx[-1], args) for _f, ctx, args in config.directives('default') if 'maintenance' in ' '.join(ctx[-1])) == [
        (('geo', '$tornado_maintenance_demo'), ['0']),
        (('map', '$tornado_maintenance_demo:$status', '$tornado_maintenance_cache_control_demo'), ['']),
        (('map', '$tornado_maintenance_demo:$status', '$tornado_maintenance_retry_after_demo'), ['']),
        (('map', '$tornado_maintenance_demo:$uri', '$tornado_maintenance_503_demo'), ['0'])]
    assert [args for _f, _c, args in config.directives('error_page')] == [
        ['503', '@tornado_maintenance'], ['404', '=', '@tornado_static_unversioned']]
    # A ?v= naming a version goes to the versions kept on disk (far-future), any other to the current file.
    assert [(ctx[-1], args) for _f, ctx, args in config.directives('rewrite')] == [
        (('location', '@tornado_maintenance'), ['^', '/maintenance.html', 'break']),
        (('if', '$arg_v', '~', '^[0-9a-f]{32,128}$'),
         ['^/static/(.*)$', '/.webops-tornado-static-versions/$arg_v/$1', 'last']),
        (('location', '@tornado_static_unversioned'), ['^/\\.webops-tornado-static-versions/[0-9a-f]+/(.*)$', '/static/$1?', 'last'])]
    assert [(ctx[-1], args) for _f, ctx, args in config.directives('expires')] == [
        (('location', '^~', '/.webops-tornado-static-versions/'), ['max'])]
    assert [ctx[-1] for _f, ctx, _args in config.directives('internal')] == [('location', '^~', '/.webops-tornado-static-versions/')]
    assert [args for _f, _c, args in config.directives('return') if args[0] == '503'] == [['503']]


def test_maintenance_on_answers_503_but_to_the_allowed_clients(one_host):
    outcome = one_host.run({'nginx_maintenance_allow': ['192.0.2.7', '2001:db8::/32']})
    assert outcome.refusal is None, outcome.refusal
    flags = [r for _h, _r, r in outcome.files if r.src == 'etc/nginx/maintenance.conf.j2']
    # into the staging tree, tested there, then live with the rest of the site
    assert sorted(r.dest for r in flags) == ['/etc/nginx/webops-tornado.staging/webops-tornado-maintenance/demo.conf']
    config = formats.NginxConfig(nginx_tree(outcome), '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links['web1'])
    assert config.errors == []
    assert [args for _f, ctx, args in config.directives('192.0.2.7') + config.directives('2001:db8::/32')] == [['0'], ['0']]


def test_the_default_supervisord_runs_one_program_per_port(default_run):
    supervisor = dict((r.dest, r.text) for r in files(default_run).values() if r.src.startswith('etc/supervisor/'))
    assert sorted(supervisor) == ['/etc/supervisor/conf.d/webops-tornado-demo.conf', '/etc/supervisor/supervisord.conf']
    config = formats.SupervisordConfig(supervisor, accounts={'demo': 999})
    assert [group.name for group in config.section.process_group_configs] == ['demo']
    programs = config.programs()
    assert [p['name'] for p in programs] == ['demo-%d' % port for port in range(8000, 8004)]
    for port, program in zip(range(8000, 8004), programs):
        assert program['argv'] == ['/srv/demo/current/venv/bin/python', '/srv/demo/launcher/webops_tornado_launcher.py',
                                   '--config', '/etc/tornado/demo/launcher.json', '--port', str(port)]
        assert program['user'] == 'demo'
        assert program['directory'] == '/srv/demo/current/src'
        assert program['environment'] == {'PYTHONUNBUFFERED': '1'}
        assert program['stdout_logfile'] == '/var/log/demo/demo-%d.log' % port
    process = config.section.process_group_configs[0].process_configs[0]
    assert (process.stopwaitsecs, process.stopasgroup, process.killasgroup, process.startsecs) == (15, True, True, 1)
    assert (config.section.minfds, config.section.minprocs) == (50000, 200)
    assert [type(server).__name__ for server in config.section.server_configs] == ['dict']
    assert config.section.server_configs[0]['file'] == '/run/supervisor.sock'
    assert config.section.server_configs[0]['chmod'] == 0o700


@pytest.mark.parametrize('load_balancer', ['nginx', 'haproxy'])
def test_the_one_limit_reaches_every_service_through_the_fact_limits_publishes(one_host, load_balancer):
    # limits_nofile is declared by webops.tornado.limits only, which publishes it checked (limits_export):
    # supervisor, nginx and haproxy have no role dependency on limits and size their services by that fact.
    outcome = one_host.run({'limits_nofile': 20000, 'tornado_load_balancer': load_balancer})
    assert outcome.refusal is None and outcome.error is None, outcome.refusal or outcome.error
    rendered = files(outcome)
    supervisor = dict((r.dest, r.text) for _h, role, r in outcome.files if role == 'supervisor' and r.src.startswith('etc/supervisor/'))
    assert formats.SupervisordConfig(supervisor, accounts={'demo': 999}).section.minfds == 20000
    assert formats.systemd_unit(rendered['etc/systemd/system/supervisor.service.d/limits.conf.j2'].text) == [
        ('Service', 'LimitNOFILE', '20000')]
    if load_balancer == 'nginx':
        config = formats.NginxConfig(nginx_tree(outcome), '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links['web1'])
        assert [args for _f, _c, args in config.directives('worker_rlimit_nofile')] == [['20000']]
        assert [args for _f, _c, args in config.directives('worker_connections')] == [['10000']]
        unit = rendered['etc/systemd/system/nginx.service.d/webops-tornado-limits.conf.j2'].text
    else:
        unit = rendered['etc/systemd/system/haproxy.service.d/webops-tornado.conf.j2'].text
        # maxconn defaults to half the limit less a margin (two files per proxied connection)
        assert '    maxconn 9488\n' in rendered['etc/haproxy/haproxy.cfg.j2'].text
    assert ('Service', 'LimitNOFILE', '20000') in formats.systemd_unit(unit)


def test_the_default_launcher_config(default_run):
    data = json.loads(files(default_run)['etc/tornado/launcher.json.j2'].text)
    assert data == {
        'address': '127.0.0.1', 'app_path': '/srv/demo/current/src', 'entry': 'factory', 'environment': {},
        'factory': 'demo_app:make_app', 'grace_seconds': 10, 'health_path': '/healthz', 'name': 'demo',
        'process_model': 'ports', 'xheaders': True, 'access_log': False, 'static_versions': '/srv/demo/static-versions',
        'settings': {'cookie_secret': stack.COOKIE_SECRET, 'debug': False, 'serve_traceback': False}}


def test_the_drop_ins_and_pam_profile(default_run):
    rendered = files(default_run)
    assert formats.systemd_unit(rendered['etc/systemd/system/supervisor.service.d/limits.conf.j2'].text) == [
        ('Service', 'LimitNOFILE', '50000')]
    assert formats.systemd_unit(rendered['etc/systemd/system/nginx.service.d/webops-tornado-limits.conf.j2'].text) == [
        ('Service', 'LimitNOFILE', '50000')]
    assert formats.pam_profile(rendered['usr/share/pam-configs/webops-tornado-limits.j2'].text) == [
        ('Name', ['Resource limits for every session (webops.tornado)']), ('Default', ['yes']), ('Priority', ['0']),
        ('Session-Type', ['Additional']), ('Session-Interactive-Only', ['no']), ('Session', ['required\tpam_limits.so'])]
    for rendered_file in rendered.values():
        assert 'Ansible managed' in rendered_file.text or rendered_file.src.endswith('.json.j2')


def test_the_limits_file_gives_each_user_the_limit(one_host):
    outcome = one_host.run({'limits_users': ['root', 'demo']}, roles=['limits'])
    assert outcome.refusal is None, outcome.refusal
    text = files(outcome)['etc/security/limits.d/webops-tornado.conf.j2'].text
    assert formats.limits_conf(text) == [(user, kind, 'nofile', '50000') for user in ('root', 'demo') for kind in ('soft', 'hard')]


def test_the_limits_file_keeps_the_domains_the_host_has():
    """A play with fewer users (root only, as an nginx-only play) never drops what another play wrote."""
    found = dict(stack.NOFILE_CEILING, conf_domains=['demo', '@ops'])
    # A site of its own: the ceiling is read once per run and limit, and a shared site has read it already.
    outcome = stack.Site('one_host').run({'limits_users': ['root']}, roles=['limits'], given={'web1': {'__limits_ceiling_found': found}})
    assert outcome.refusal is None, outcome.refusal
    text = files(outcome)['etc/security/limits.d/webops-tornado.conf.j2'].text
    assert [entry[0] for entry in formats.limits_conf(text)] == ['demo', 'demo', '@ops', '@ops', 'root', 'root']


def test_limits_conf_is_read_as_pam_limits_reads_it():
    assert formats.limits_conf('# c\n\n root soft nofile 1 # note\n') == [('root', 'soft', 'nofile', '1')]
    with pytest.raises(formats.ParseError):
        formats.limits_conf('root soft nofile 1 extra\n')


def test_behind_a_load_balancer_the_firewall_lets_it_in(split):
    outcome = split.run()
    assert outcome.refusal is None, outcome.refusal
    nginx = nginx_tree(outcome, 'lb1')
    config = formats.NginxConfig(nginx, '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links['lb1'])
    assert config.errors == []
    assert [args[0] for _f, ctx, args in config.directives('server') if ctx and ctx[-1][0] == 'upstream'] == [
        '10.0.1.11:%d' % port for port in range(8000, 8004)] + ['10.0.1.12:%d' % port for port in range(8000, 8004)]
    table = files(outcome, 'app1')['etc/webops-tornado/firewall.d/app.nft.j2'].text
    assert formats.nft_elements(table) == [('10.0.0.2',), ('fd00::2',), ('8000', '8001', '8002', '8003')]
    assert [s[0] for s in formats.nft_statements(table)] == ['table', 'delete', 'table']
    unit = formats.systemd_unit(files(outcome, 'app1')['etc/systemd/system/webops-tornado-firewall.service.j2'].text)
    assert ('Service', 'ExecStart', '/usr/sbin/nft -f /etc/webops-tornado/firewall.nft') in unit
    main = files(outcome, 'app1')['etc/webops-tornado/firewall.nft.j2'].text
    assert [s[:2] for s in formats.nft_statements(main)] == [('include', ('word', 'string'))]
    data = json.loads(files(outcome, 'app1')['etc/tornado/launcher.json.j2'].text)
    assert data['address'] == '10.0.1.11'


def test_nginx_runs_one_worker_beside_the_app_and_one_per_cpu_on_a_load_balancer(one_host, split):
    for site, host, expected in ((one_host, 'web1', [['1']]), (split, 'lb1', [['auto']])):
        outcome = site.run()
        assert outcome.refusal is None, outcome.refusal
        config = formats.NginxConfig(nginx_tree(outcome, host), '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links[host])
        assert [args for _f, _c, args in config.directives('worker_processes')] == expected, host


def test_tls_on_trixie_uses_the_http2_directive_and_redirects(sites):
    site = sites('one_host', 'trixie')
    outcome = site.run({'nginx_tls_self_signed': True, 'nginx_tls_hsts': True})
    assert outcome.refusal is None, outcome.refusal
    nginx = nginx_tree(outcome)
    config = formats.NginxConfig(nginx, '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links['web1'])
    assert config.errors == []
    assert [args for _f, _c, args in config.directives('listen')] == [['80', 'default_server'], ['443', 'ssl', 'default_server']]
    assert [args for _f, _c, args in config.directives('http2')] == [['on']]
    assert [args for _f, _c, args in config.directives('return')] == [['301', 'https://$host$request_uri'], ['503']]
    assert [args for _f, _c, args in config.directives('ssl_certificate')] == [['tls/demo.crt']]
    # Mozilla's intermediate profile: its curves only (OpenSSL's default adds X448 and secp521r1).
    assert [args for _f, _c, args in config.directives('ssl_ecdh_curve')] == [['X25519:prime256v1:secp384r1']]
    assert [args for _f, _c, args in config.directives('ssl_protocols')] == [['TLSv1.2', 'TLSv1.3']]
    assert [args for _f, _c, args in config.directives('ssl_prefer_server_ciphers')] == [['off']]
    assert [args for _f, _c, args in config.directives('add_header')] == [
        ['Strict-Transport-Security', 'max-age=63072000', 'always'], ['Retry-After', '$tornado_maintenance_retry_after_demo', 'always'],
        ['Cache-Control', '$tornado_maintenance_cache_control_demo', 'always']]


def test_bookworm_puts_http2_on_the_listen_line(one_host):
    site = one_host
    outcome = site.run({'nginx_tls_self_signed': True, 'nginx_tls_redirect': False})
    nginx = nginx_tree(outcome)
    config = formats.NginxConfig(nginx, '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links['web1'])
    assert config.errors == []
    assert [args for _f, _c, args in config.directives('listen')] == [['80', 'default_server'], ['443', 'ssl', 'http2', 'default_server']]
    assert config.directives('http2') == []


def test_acme_answers_challenges_over_plain_http_and_its_hook_tests_before_it_reloads(one_host):
    outcome = one_host.run({'nginx_tls_acme': True, 'nginx_server_name': 'shop.example.com www.example.com'})
    assert outcome.refusal is None, outcome.refusal
    config = formats.NginxConfig(nginx_tree(outcome), '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links['web1'])
    assert config.errors == []
    # The redirect server: the challenge location, then everything else redirected.
    locations = [(ctx[-1][0], args) for _f, ctx, args in config.directives('location')]
    assert (('server', ['^~', '/.well-known/acme-challenge/']) in locations)
    assert [args for _f, ctx, args in config.directives('root') if ctx[-1] == ('location', '^~', '/.well-known/acme-challenge/')] == [
        ['/var/www/webops-tornado/acme']]
    assert ['301', 'https://$host$request_uri'] in [args for _f, ctx, args in config.directives('return') if ctx[-1] == ('location', '/')]
    hook = files(outcome)['usr/local/sbin/webops-tornado-acme-deploy.j2']
    assert hook.dest == '/usr/local/sbin/webops-tornado-acme-deploy-demo'
    subprocess.run(['sh', '-n'], input=hook.text, text=True, check=True)
    lines = [line.strip() for line in hook.text.splitlines() if line.strip() and not line.lstrip().startswith('#')]
    # staging first, tested; then live, tested; then a reload, never a restart
    order = [lines.index(line) for line in ('install_pair /etc/nginx/webops-tornado.staging',
                                            'nginx -t -q -c /etc/nginx/webops-tornado.staging/nginx.conf',
                                            'install_pair /etc/nginx', 'nginx -t -q', 'systemctl reload nginx')]
    assert order == sorted(order)
    assert 'lineage=/etc/letsencrypt/live/demo' in lines and 'umask 077' in lines


def test_a_refused_value_stops_the_run_before_any_template(one_host):
    outcome = one_host.run({'app_name': 'demo;x'})
    assert outcome.files == []
    assert outcome.refusal.role == 'app'
    assert outcome.refusal.messages[0].startswith('app_name must be ')


def test_the_compile_memo_changes_no_byte(one_host, default_run):
    role_render.memoize_compile(False)
    try:
        again = one_host.run()
    finally:
        role_render.memoize_compile(True)
    assert [(h, r.src, r.dest, r.text) for h, _role, r in again.files] == [
        (h, r.src, r.dest, r.text) for h, _role, r in default_run.files]


def test_values_reach_the_templates_as_data_never_as_templates(one_host):
    outcome = one_host.run({'app_environment': {'X': '{{ 7 * 7 }} {% raw %}'}, 'app_settings': {'motd': "{{ lookup('env', 'HOME') }}"}})
    data = json.loads(files(outcome)['etc/tornado/launcher.json.j2'].text)
    assert data['environment'] == {'X': '{{ 7 * 7 }} {% raw %}'}
    assert data['settings']['motd'] == "{{ lookup('env', 'HOME') }}"


def test_supervisord_reads_percent_and_quotes_as_given():
    text = ('[supervisord]\n[program:x]\ncommand=/bin/x "a b" %%(ENV_HOME)s\ndirectory=/srv/x\nuser=x\n'
            'environment=A="1,2 %%(ENV_HOME)s",B="y"\n')
    config = formats.SupervisordConfig({'/etc/supervisor/supervisord.conf': text}, accounts={'x': 5})
    program = config.programs()[0]
    assert program['argv'] == ['/bin/x', 'a b', '%(ENV_HOME)s'] == shlex.split('/bin/x "a b" %(ENV_HOME)s')
    assert program['environment'] == {'A': '1,2 %(ENV_HOME)s', 'B': 'y'}
    assert program['user'] == 'x'
    unescaped = formats.SupervisordConfig({'/etc/supervisor/supervisord.conf': text.replace('%%', '%')}, accounts={'x': 5})
    assert unescaped.programs()[0]['argv'][-1] == '/root'  # supervisord expands it: the reason for the escaping


def test_nft_tokenizer_sees_an_injected_statement():
    plain = 'table inet t {\n    set s {\n        type ipv4_addr\n        elements = { 10.0.0.1, 10.0.0.2 }\n    }\n}\n'
    injected = plain.replace('10.0.0.2', '10.0.0.2 }\n        flags interval\n        elements = { 10.0.0.3')
    assert formats.nft_elements(plain) == [('10.0.0.1', '10.0.0.2')]
    assert formats.nft_structure(plain) != formats.nft_structure(injected)


def _certificate(ocsp_uri):
    """A PEM certificate (and its key) for web1, naming ``ocsp_uri`` as its OCSP responder, or none."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'web1')])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30)))
    if ocsp_uri:
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_uri))]), critical=False)
    certificate = builder.sign(key, hashes.SHA256())
    return (certificate.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())


@pytest.mark.parametrize('ocsp_uri', ['http://ocsp.example.com', None])
def test_ocsp_stapling_is_on_only_when_the_certificate_names_a_responder(ocsp_uri):
    site = stack.Site('one_host')  # its own: the facts tls.yml sets stay with this site
    certificate, key = _certificate(ocsp_uri)
    inputs = {'nginx_tls_certificate': certificate + _certificate(None)[0], 'nginx_tls_certificate_key': key}
    assert site.run(inputs).refusal is None
    play = site.plays['nginx']
    play.run_tasks(play.find(action='set_fact', path='tls.yml'), 'web1')
    outcome = site.run(inputs)
    assert outcome.refusal is None and outcome.error is None, outcome.refusal or outcome.error
    nginx = nginx_tree(outcome)
    config = formats.NginxConfig(nginx, '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links['web1'])
    assert config.errors == []
    stapling = [(directive, args) for directive in ('ssl_stapling', 'ssl_stapling_verify', 'ssl_trusted_certificate')
                for _f, _c, args in config.directives(directive)]
    if ocsp_uri:
        assert stapling == [('ssl_stapling', ['on']), ('ssl_stapling_verify', ['on']),
                            ('ssl_trusted_certificate', ['/etc/ssl/certs/ca-certificates.crt'])]
        assert ocsp_uri not in ''.join(nginx.values())  # only whether there is one reaches the config
    else:
        assert stapling == []


def test_security_headers_are_added_to_the_site_next_to_hsts(one_host):
    headers = {'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'strict-origin-when-cross-origin',
               'Content-Security-Policy': ["default-src 'self'", "frame-ancestors 'none'"], 'X-XSS-Protection': 0}
    outcome = one_host.run({'nginx_tls_self_signed': True, 'nginx_tls_hsts': True, 'nginx_security_headers': headers})
    assert outcome.refusal is None, outcome.refusal
    nginx = nginx_tree(outcome)
    config = formats.NginxConfig(nginx, '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links['web1'])
    assert config.errors == []
    assert [args for _f, _c, args in config.directives('add_header')] == [
        ['Strict-Transport-Security', 'max-age=63072000', 'always'],
        ['Retry-After', '$tornado_maintenance_retry_after_demo', 'always'],
        ['Cache-Control', '$tornado_maintenance_cache_control_demo', 'always'],
        ['X-Content-Type-Options', 'nosniff', 'always'],
        ['Referrer-Policy', 'strict-origin-when-cross-origin', 'always'],
        ['Content-Security-Policy', "default-src 'self'; frame-ancestors 'none'", 'always'],
        ['X-XSS-Protection', '0', 'always']]
    # the same server block as HSTS, and no location has an add_header that would drop them
    assert len(set(context for _f, context, _args in config.directives('add_header'))) == 1


@pytest.mark.parametrize('value', ['nosniff";\n add_header X-Evil "1', 'a; add_header X 1', 'a { b', '$http_cookie', 'a\\"b'])
def test_a_crafted_header_value_is_refused_naming_the_variable_before_any_template(one_host, value):
    outcome = one_host.run({'nginx_security_headers': {'X-Content-Type-Options': value}})
    assert outcome.files == []
    assert outcome.refusal.role == 'nginx'
    assert outcome.refusal.messages[0].startswith('nginx_security_headers must be ')


def test_several_apps_behind_one_load_balancer_get_a_site_each(split):
    """app1 runs demo, app2 runs blog: lb1 serves both, each with its own upstream, names, TLS and maintenance."""
    apps = [{'app_name': 'blog', 'nginx_server_name': 'blog.example.com'},
            {'app_name': 'demo', 'nginx_server_name': 'shop.example.com', 'nginx_tls_self_signed': True,
             'nginx_tls_self_signed_names': ['shop.example.com'], 'nginx_upstream_balancing': 'round_robin'}]
    outcome = split.run({'tornado_apps': apps}, host_inputs={'app2': {'app_name': 'blog'}})
    assert outcome.refusal is None and outcome.error is None, outcome.refusal or outcome.error
    config = formats.NginxConfig(nginx_tree(outcome, 'lb1'), '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links['lb1'])
    assert config.errors == []
    assert sorted(config.files()) == ['/etc/nginx/webops-tornado.staging/nginx.conf',
                                      '/etc/nginx/webops-tornado.staging/sites-enabled/blog.conf',
                                      '/etc/nginx/webops-tornado.staging/sites-enabled/demo.conf',
                                      '/etc/nginx/webops-tornado.staging/webops-tornado-maintenance/blog.conf',
                                      '/etc/nginx/webops-tornado.staging/webops-tornado-maintenance/demo.conf']
    upstreams = {}
    for _f, ctx, args in config.directives('server'):
        if ctx and ctx[-1][0] == 'upstream':
            upstreams.setdefault(ctx[-1][1], []).append(args[0])
    assert upstreams == {'blog': ['10.0.1.12:%d' % port for port in range(8000, 8004)],
                         'demo': ['10.0.1.11:%d' % port for port in range(8000, 8004)]}
    # Each app's own balancing: blog keeps the default (least_conn), demo asked for round robin (no directive).
    assert [ctx[-1][1] for _f, ctx, _args in config.directives('least_conn')] == ['blog']
    # blog is listed first: the default server of port 80; demo's HTTPS is the only one on 443
    listens, names = {}, {}
    for path, _ctx, args in config.directives('listen'):
        listens.setdefault(path.rsplit('/', 1)[1], []).append(args)
    for path, _ctx, args in config.directives('server_name'):
        names.setdefault(path.rsplit('/', 1)[1], []).append(args)
    assert listens == {'blog.conf': [['80', 'default_server']], 'demo.conf': [['80'], ['443', 'ssl', 'http2']]}
    assert names == {'blog.conf': [['blog.example.com']], 'demo.conf': [['shop.example.com']] * 2}
    assert [args for _f, _c, args in config.directives('ssl_certificate')] == [['tls/demo.crt']]
    assert sorted(args for _f, _c, args in config.directives('proxy_pass')) == [['http://blog'], ['http://demo']]
    # each site its own maintenance variables (two geo blocks with one name would not load)
    assert sorted(ctx[-1][1] for _f, ctx, _args in config.directives('default') if ctx[-1][0] == 'geo') == [
        '$tornado_maintenance_blog', '$tornado_maintenance_demo']
    staging = '/etc/nginx/webops-tornado.staging/'
    assert sorted(outcome.links['lb1']) == [staging + 'sites-enabled/blog.conf', staging + 'sites-enabled/demo.conf']


@pytest.mark.parametrize('apps', [
    [{'app_name': 'blog', 'nginx_server_name': 'blog.example.com www.example.com'},
     {'app_name': 'demo', 'nginx_server_name': 'WWW.example.com'}],
    # neither names its site: both would be "_", and blog would get every request
    [],
])
def test_two_apps_answering_to_one_server_name_are_refused_before_any_template(split, apps):
    outcome = split.run({'tornado_apps': apps}, host_inputs={'app2': {'app_name': 'blog'}})
    assert outcome.files == []
    assert outcome.refusal.role == 'nginx'
    assert 'both answer to the server name' in ' '.join(outcome.refusal.messages), outcome.refusal


def test_an_app_marked_absent_loses_its_site_and_upstream(split):
    """app2's blog is being retired (app_state absent): lb1 serves demo only."""
    apps = [{'app_name': 'blog', 'nginx_server_name': 'blog.example.com'},
            {'app_name': 'demo', 'nginx_server_name': 'shop.example.com'}]
    outcome = split.run({'tornado_apps': apps}, host_inputs={'app2': {'app_name': 'blog', 'app_state': 'absent'}})
    assert outcome.refusal is None and outcome.error is None, outcome.refusal or outcome.error
    config = formats.NginxConfig(nginx_tree(outcome, 'lb1'), '/etc/nginx/webops-tornado.staging/nginx.conf', outcome.links['lb1'])
    assert config.errors == []
    assert sorted(args[0] for _f, ctx, args in config.directives('server') if ctx and ctx[-1][0] == 'upstream') == [
        '10.0.1.11:%d' % port for port in range(8000, 8004)]
    assert [args for _f, _c, args in config.directives('server_name')] == [['shop.example.com']]


@pytest.mark.parametrize('apps, message', [
    ([{'app_name': 'demo', 'nginx_worker_connections': 10}], 'nginx_worker_connections is a setting of the whole load balancer'),
    ([{'app_name': 'demo', 'nginx_server_name': 'a.example.com;\n location / { }'}], 'app demo: nginx_server_name must be '),
    ([{'app_name': 'demo', 'nginx_tls_certificate': 'x'}], 'nginx_tls_certificate'),
])
def test_a_bad_setting_of_one_app_is_refused_naming_it_before_any_template(split, apps, message):
    outcome = split.run({'tornado_apps': apps})
    assert outcome.files == []
    assert outcome.refusal.role == 'nginx'
    assert message in ' '.join(outcome.refusal.messages), outcome.refusal
