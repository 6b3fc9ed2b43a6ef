# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""webops.tornado.haproxy as site.yml renders it (tornado_load_balancer: haproxy), checked by HAProxy's own
parser: Debian's haproxy, unpacked by scripts/test's setup into .build/haproxy (never installed), runs
``haproxy -c`` on every configuration rendered here."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import role_render

from ansible_collections.webops.tornado.plugins.filter import vocabulary

HAPROXY = os.environ.get('WT_HAPROXY', os.path.join(role_render.REPO, '.build', 'haproxy', 'haproxy'))
CONFIG = '/etc/haproxy/haproxy.cfg'
PAIR_CHECK = '/etc/haproxy/webops-tornado/pair-check.cfg'

needs_haproxy = pytest.mark.skipif(not os.access(HAPROXY, os.X_OK),
                                   reason='%s is missing: run ./scripts/test --only setup' % HAPROXY)


@pytest.fixture(scope='module')
def one_host(sites):
    return sites('one_host')


@pytest.fixture(scope='module')
def split(sites):
    return sites('split')


def rendered(outcome, host):
    return dict((r.dest, r.text) for h, role, r in outcome.files if h == host and role == 'haproxy')


def haproxy_check(text, tmp_path, tls_names=()):
    """``haproxy -c`` on ``text``: this machine has no haproxy account (the workers' user is the only line
    changed), and the TLS list points at pairs made here for ``tls_names``."""
    text = re.sub(r'(?m)^(\s+)(user|group) haproxy$', r'\1\2 root', text)
    crt_list = tmp_path / 'crt-list.txt'
    lines = []
    for name in tls_names:
        pem = tmp_path / ('%s.pem' % name)
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                        '-days', '1', '-subj', '/CN=%s' % name, '-keyout', str(pem) + '.key', '-out', str(pem) + '.crt'],
                       check=True, capture_output=True)
        pem.write_text((tmp_path / (pem.name + '.crt')).read_text() + (tmp_path / (pem.name + '.key')).read_text())
        lines.append(str(pem))
    crt_list.write_text(''.join(line + '\n' for line in lines))
    text = text.replace('crt-list /etc/haproxy/webops-tornado/crt-list.txt', 'crt-list %s' % crt_list)
    config = tmp_path / 'haproxy.cfg'
    config.write_text(text)
    env = dict(os.environ, WEBOPS_TORNADO_STATS_AUTH='check:check')
    return subprocess.run([HAPROXY, '-c', '-f', str(config)], capture_output=True, text=True, env=env, check=False)


def ec_pair(name='shop.example'):
    """A self-signed P-256 certificate and its key, PEM (made here: nothing secret in the repo)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


# A pair whose key is another certificate's: PEM-shaped both, refused on the controller (tls_pair_problems)
# before the site's PEM file and the crt-list are written, not by haproxy -c after.
MISMATCHED = (ec_pair()[0], ec_pair()[1])


def directives(text, section):
    """The lines of one section (``backend app-demo``...), stripped, comments left out."""
    lines, inside = [], False
    for line in text.splitlines():
        if line and not line[0].isspace():
            inside = line.strip() == section
            continue
        if inside and line.strip() and not line.strip().startswith('#'):
            lines.append(line.strip())
    return lines


@needs_haproxy
def test_one_host_behind_haproxy_has_a_server_per_process_checked_on_the_health_path(one_host, tmp_path):
    outcome = one_host.run({'tornado_load_balancer': 'haproxy'})
    assert outcome.refusal is None and outcome.error is None, outcome.refusal or outcome.error
    files = rendered(outcome, 'web1')
    assert sorted(files) == [CONFIG, PAIR_CHECK, '/etc/systemd/system/haproxy.service.d/webops-tornado.conf']
    # nginx does not run where HAProxy was chosen
    assert not [r for _h, role, r in outcome.files if role == 'nginx']
    text = files[CONFIG]
    check = haproxy_check(text, tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    # the Tornado processes take this host's CPUs: HAProxy one thread
    assert [line for line in directives(text, 'global') if line.startswith('nbthread')] == ['nbthread 1']
    backend = directives(text, 'backend app-demo')
    assert ['server web1_%d 127.0.0.1:%d' % (port, port) for port in range(8000, 8004)] == [
        line for line in backend if line.startswith('server ')]
    assert 'http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost' in backend
    assert 'default-server check inter 1000ms fall 2 rise 1' in backend
    public = directives(text, 'frontend public')
    for header in ('X-Real-IP %[src]', 'X-Forwarded-For %[src]'):
        assert 'http-request set-header %s' % header in public
    assert 'bind :80' in public and not [line for line in public if ':443' in line]
    assert 'http-request deny deny_status 413 if { req.hdr_val(content-length) gt 52428800 }' in public
    # the password is named, never written; nothing on the stats port answers without it
    assert directives(text, 'listen stats') == ['bind 127.0.0.1:8404', 'stats enable', 'stats uri /', 'stats refresh 5s',
                                                'stats show-legends', 'stats auth "${WEBOPS_TORNADO_STATS_AUTH}"']


def _self_signed(tmp_path, name, newkey):
    key, crt = tmp_path / (name + '.key'), tmp_path / (name + '.crt')
    argv = (['openssl', 'req', '-x509', '-newkey'] + newkey
            + ['-nodes', '-days', '1', '-subj', '/CN=shop.example', '-keyout', str(key), '-out', str(crt)])
    subprocess.run(argv, check=True, capture_output=True)
    return crt.read_text() + key.read_text()


@needs_haproxy
def test_the_pair_check_config_lets_haproxy_refuse_a_pair_it_cannot_load(one_host, tmp_path):
    # tasks/tls.yml writes a site's PEM file only once `haproxy -c` with this config loaded it: a pair every input
    # check accepts but HAProxy's OpenSSL refuses (an RSA key of 1024 bits) never replaces the one in force.
    outcome = one_host.run({'tornado_load_balancer': 'haproxy'})
    config = tmp_path / 'pair-check.cfg'
    config.write_text(rendered(outcome, 'web1')[PAIR_CHECK])
    pairs = {'ec': _self_signed(tmp_path, 'ec', ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']),
             'rsa2048': _self_signed(tmp_path, 'rsa2048', ['rsa:2048']),
             'rsa1024': _self_signed(tmp_path, 'rsa1024', ['rsa:1024'])}
    pairs['cut'] = pairs['ec'][:200]
    pairs['key_only'] = pairs['ec'].split('-----END CERTIFICATE-----\n')[1]
    loaded = {}
    for name, text in pairs.items():
        pem = tmp_path / (name + '.pem')
        pem.write_text(text)
        check = subprocess.run([HAPROXY, '-c', '-f', str(config)], capture_output=True, text=True, check=False,
                               env=dict(os.environ, WEBOPS_TORNADO_PEM=str(pem)))
        loaded[name] = check.returncode == 0
        assert loaded[name] or 'unable to load' in check.stderr, check.stderr
    assert loaded == {'ec': True, 'rsa2048': True, 'rsa1024': False, 'cut': False, 'key_only': False}


@needs_haproxy
def test_several_apps_behind_haproxy_are_routed_by_host_with_tls_and_a_redirect(split, tmp_path):
    apps = [{'app_name': 'blog', 'haproxy_server_name': 'blog.example.com *.blog.example.com'},
            {'app_name': 'demo', 'haproxy_server_name': '.shop.example.com', 'haproxy_tls_self_signed': True,
             'haproxy_tls_self_signed_names': ['shop.example.com']}]
    outcome = split.run({'tornado_apps': apps, 'tornado_load_balancer': 'haproxy'}, host_inputs={'app2': {'app_name': 'blog'}})
    assert outcome.refusal is None and outcome.error is None, outcome.refusal or outcome.error
    text = rendered(outcome, 'lb1')[CONFIG]
    check = haproxy_check(text, tmp_path, tls_names=['demo'])
    assert check.returncode == 0, check.stdout + check.stderr
    # a load balancer of its own: HAProxy's default of one thread per CPU
    assert not [line for line in directives(text, 'global') if line.startswith('nbthread')]
    assert [line for line in directives(text, 'backend app-blog') if line.startswith('server ')] == [
        'server app2_%d 10.0.1.12:%d' % (port, port) for port in range(8000, 8004)]
    assert [line for line in directives(text, 'backend app-demo') if line.startswith('server ')] == [
        'server app1_%d 10.0.1.11:%d' % (port, port) for port in range(8000, 8004)]
    public = directives(text, 'frontend public')
    assert 'bind :443 ssl crt-list /etc/haproxy/webops-tornado/crt-list.txt alpn h2,http/1.1' in public
    assert 'acl site_blog req.hdr(host),field(1,:),lower -m str blog.example.com' in public
    assert 'acl site_blog req.hdr(host),field(1,:),lower -m end .blog.example.com' in public
    assert 'acl site_demo req.hdr(host),field(1,:),lower -m str shop.example.com' in public
    assert 'acl site_demo req.hdr(host),field(1,:),lower -m end .shop.example.com' in public
    # blog is listed first: it takes any other name; only demo (TLS) redirects to HTTPS
    assert 'http-request set-var(txn.site) str(blog) if !{ var(txn.site) -m found }' in public
    assert [line for line in public if 'redirect' in line] == [
        'http-request redirect scheme https code 301 if !{ ssl_fc } { var(txn.site) -m str demo }']


@pytest.mark.parametrize('inputs, message', [
    ({'tornado_apps': [{'app_name': 'demo', 'haproxy_maxconn': 10}]}, 'haproxy_maxconn is a setting of the whole load balancer'),
    ({'tornado_apps': [{'app_name': 'demo', 'haproxy_server_name': 'a.example.com\n    server x 1.2.3.4:80'}]},
     'app demo: haproxy_server_name must be '),
    ({'haproxy_stats_password': 'short'}, 'haproxy_stats_password'),
    ({'haproxy_gzip_types': ['text/html', 'text/css\n    stats enable']}, 'haproxy_gzip_types'),
    ({'haproxy_tls_certificate': 'x'}, 'haproxy_tls_certificate'),
    ({'tornado_apps': [{'app_name': 'demo', 'haproxy_tls_certificate': MISMATCHED[0], 'haproxy_tls_certificate_key': MISMATCHED[1]}]},
     'app demo: haproxy_tls_certificate_key: the private key does not belong to the certificate in haproxy_tls_certificate'),
])
def test_a_bad_haproxy_value_is_refused_naming_it_before_any_template(one_host, inputs, message):
    outcome = one_host.run(dict(inputs, tornado_load_balancer='haproxy'))
    assert outcome.files == []
    assert outcome.refusal.role == 'haproxy', outcome.refusal
    assert message in ' '.join(outcome.refusal.messages), outcome.refusal


def test_two_apps_without_names_are_refused_as_haproxy_could_route_only_one(split):
    outcome = split.run({'tornado_load_balancer': 'haproxy'}, host_inputs={'app2': {'app_name': 'blog'}})
    assert outcome.files == []
    assert 'both answer to the server name _ (haproxy_server_name)' in ' '.join(outcome.refusal.messages), outcome.refusal


# Any inventory name and port: the server's name is one HAProxy takes, the same for the haproxy role's config
# and the app role's drain, and distinct for distinct ports of one host.
@needs_haproxy
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=st.text(min_size=1, max_size=40), ports=st.lists(st.integers(1, 65535), min_size=1, max_size=4, unique=True))
def test_any_host_name_gives_servers_haproxy_accepts(tmp_path, host, ports):
    names = [vocabulary.haproxy_server_name(host, port) for port in ports]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r'[A-Za-z0-9_.:-]+_[0-9]+', name) for name in names)
    text = ('defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\n'
            'frontend public\n    bind 127.0.0.1:8080\n    default_backend {0}\n\nbackend {0}\n{1}').format(
        vocabulary.haproxy_backend_name('demo'),
        ''.join('    server %s 127.0.0.1:%d\n' % (name, port) for name, port in zip(names, ports)))
    config = tmp_path / 'servers.cfg'
    config.write_text(text)
    check = subprocess.run([HAPROXY, '-c', '-f', str(config)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, text + check.stdout + check.stderr


@pytest.mark.parametrize('password', ['a' * 11 + '"', 'a' * 11 + '\\', 'a' * 11 + '$x', 'abc def ghijkl', 'a' * 11 + '#'])
def test_a_stats_password_systemd_or_haproxy_would_read_as_syntax_is_refused(one_host, password):
    outcome = one_host.run({'tornado_load_balancer': 'haproxy', 'haproxy_stats_password': password})
    assert outcome.files == []
    assert outcome.refusal.role == 'haproxy' and 'haproxy_stats_password' in ' '.join(outcome.refusal.messages)
    assert password not in ' '.join(outcome.refusal.messages)


SECTIONS = ['global', 'defaults', 'frontend public', 'backend app-demo', 'listen stats']
PUBLIC_WORDS = {'bind', 'http-request', 'acl', 'use_backend'}


def sections(text):
    return [line.strip() for line in text.splitlines() if line and not line[0].isspace() and not line.startswith('#')]


# Generated hostile values (tests/unit/render/hostile.py) for the haproxy inputs that reach haproxy.cfg as text:
# each is refused before any file is rendered, or the config HAProxy's own parser accepts keeps its sections,
# the public frontend only its own kinds of lines, and the names given reach its ACLs as they are.
@needs_haproxy
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_a_generated_value_is_refused_or_keeps_the_config_what_it_means(one_host, tmp_path, data):
    import hostile
    name = data.draw(st.sampled_from(['haproxy_server_name', 'haproxy_gzip_types', 'haproxy_stats_address',
                                      'haproxy_stats_user', 'haproxy_stats_password', 'haproxy_tls_self_signed_names',
                                      'haproxy_nbthread']))
    rule = {'haproxy_server_name': 'server_names', 'haproxy_gzip_types': 'mime_types', 'haproxy_stats_address': 'address',
            'haproxy_stats_user': 'identifier', 'haproxy_stats_password': 'secret',
            'haproxy_tls_self_signed_names': 'hostnames', 'haproxy_nbthread': 'int'}[name]
    default = {'haproxy_server_name': 'shop.example.com', 'haproxy_gzip_types': ['text/css'], 'haproxy_stats_address': '127.0.0.1',
               'haproxy_stats_user': 'admin', 'haproxy_stats_password': 'Aa1!Aa1!Aa1!Aa1!',
               'haproxy_tls_self_signed_names': ['shop.example.com'], 'haproxy_nbthread': 1}[name]
    value = data.draw(hostile.values(rule, default))
    inputs = {'tornado_load_balancer': 'haproxy', name: value}
    if name == 'haproxy_tls_self_signed_names':
        inputs['haproxy_tls_self_signed'] = True
    outcome = one_host.run(inputs)
    if outcome.refusal is not None:
        assert outcome.files == []
        if name == 'haproxy_stats_password':
            assert not (isinstance(value, str) and len(value) > 3 and value in ' '.join(outcome.refusal.messages))
        return
    assert outcome.error is None, outcome.error
    text = rendered(outcome, 'web1')[CONFIG]
    tls = name == 'haproxy_tls_self_signed_names'
    check = haproxy_check(text, tmp_path, tls_names=['demo'] if tls else ())
    assert check.returncode == 0, repr(value) + check.stdout + check.stderr
    assert sections(text) == SECTIONS, repr(value)
    public = directives(text, 'frontend public')
    assert set(line.split()[0] for line in public) <= PUBLIC_WORDS, repr(value)
    assert len(directives(text, 'listen stats')) == 6, repr(value)
    # one nbthread line of a number, or none for "auto" (HAProxy's own default)
    assert [line for line in directives(text, 'global') if line.startswith('nbthread')] == (
        [] if name == 'haproxy_nbthread' and value == 'auto' else ['nbthread %d' % (int(value) if name == 'haproxy_nbthread' else 1)]), repr(value)
    if name == 'haproxy_server_name':
        names = [n for n in str(value).lower().split(' ') if n and n != '_']
        acl = [line.split('-m ', 1)[1].split(' ', 1)[1].split() for line in public if line.startswith('acl ')]
        exact = [n for n in names if not n.startswith(('*', '.'))] + [n[1:] for n in names if n.startswith('.')]
        suffixes = [n.lstrip('*') for n in names if n.startswith(('*', '.'))]
        assert acl == [part for part in (exact, suffixes) if part], repr(value)
