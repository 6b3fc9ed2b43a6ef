# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the validation layer (plugins/plugin_utils/inputs.py): every kind, accepted and refused
values, messages that name the variable and never show a secret, and generated values (Hypothesis): no
value with a control character passes a kind whose value reaches a file."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import urllib.parse

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.plugin_utils import inputs

PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake+/=\n-----END CERTIFICATE-----\n'
PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEfake+/=\n-----END PRIVATE KEY-----\n'


def examples(count):
    return max(1, int(count * float(os.environ.get('WEBOPS_TORNADO_EXAMPLES', '1'))))


# kind or rule -> (accepted values, refused values)
CASES = {
    'address': (['127.0.0.1', '::1', '10.0.1.11', '0.0.0.0', '::', 'fd00::5', '2001:db8::1'],
                ['', 'localhost', '10.0.0.300', '10.0.0.1/8', '127.0.0.1\n', 'fe80::1%eth0', 'fe80::1%x;}', ' ::1', 8000, None]),
    'address_or_network': (['10.0.0.0/8', '10.0.0.1/8', 'fd00::/8', '192.0.2.10', '::1'],
                           ['', 'example.com', '10.0.0.0/33', '10.0.0.0/8\n', 'fe80::1%x y', None]),
    'addresses_or_networks': ([[], ['10.0.0.0/8', '2001:db8::1']],
                              ['10.0.0.1', ['10.0.0.1', 'x'], ['fe80::1%x;}'], ['10.0.0.1\n']]),
    'any': ([None, 'x\n', {'a': [1]}], []),
    'args': ([[], ['--port', '{port}', 8000]], ['--port', ['a\nb'], [None], [['nested']]]),
    'argv': (['{python} {src}/app.py --port={port}', "/bin/app --name 'two words'"],
             ['', '   ', "unbalanced 'quote", 'a\nb', 'a\x00b', None, ['list']]),
    'bool': ([True, False], ['true', 'yes', 1, 0, None]),
    'ciphers': ([['ECDHE-RSA-AES128-GCM-SHA256']], [[], ['ecdhe-lower'], ['A:B'], ['A B'], 'ECDHE-RSA-AES128-GCM-SHA256']),
    'controller_file': (['files/site.crt', '/etc/ssl/site.crt'], ['', '-files', 'a\nb', None]),
    'controller_path': (['/home/dev/src'], ['relative', '/a/../b', '/a\nb', None]),
    'environment': ([{}, {'A': 'x y "z" %(ENV_HOME)s ;#', 'B_2': 3}],
                    [{'1A': 'x'}, {'A-B': 'x'}, {'A': 'x\x00y'}, {'A': None}, {'A': ['x']}, {'A': True}, [], 'A=x']),
    'file_mode': (['0700', '0644'], ['700', '0800', '00700', 700]),
    'git_ref': (['main', 'v1.2.3', 'feature/x', 'HEAD~1'], ['-x', 'a..b', 'a b', 'a\nb', '']),
    'https_url': (['https://acme-v02.api.letsencrypt.org/directory', 'https://ca.example.com:14000/dir', 'https://[fd00::1]/dir',
                   'https://ca.example.com'],
                  ['', 'http://ca.example.com/dir', 'https://ca.example.com/dir --deploy-hook=sh', 'https://ca.example.com/d?x=1',
                   'https://user@ca.example.com/', 'https://ca.example.com/dir\nserver = x', 'ftp://ca.example.com', '-https://x',
                   'https://ca.example.com/%(here)s']),
    'email': (['ops@example.com', 'first.last+acme@mail.example.org'],
              ['', 'ops', 'ops@example', 'ops @example.com', 'ops@example.com\nserver = x', '"ops"@example.com', 'a,b@example.com',
               '-ops@example.com', '.ops@example.com']),
    'dns_names': ([['shop.example.com'], ['shop.example.com', 'www.shop.example.com'], ['xn--bcher-kva.example']],
                  [[], 'shop.example.com', ['_'], ['localhost'], ['*.example.com'], ['a_b.example.com'], ['shop.example.com.'],
                   ['-shop.example.com'], ['shop-.example.com'], ['192.0.2.7'], ['shop.example.com,evil.example.com'],
                   ['shop example.com'], ['shop.example.com\n']]),
    'git_url': (['https://git.example.com/app.git', 'git@example.com:team/app.git', 'file:///srv/app.git'],
                ['', 'git@example.com:-upload-pack=x', 'https://x y', 'ext::sh -c id', 'https://a\nb']),
    'hostname': (['example.com', 'www.example.com.', 'a-b.c', 'a_b.com'], ['', '-a.com', 'a b.com', 'a..com', '*.example.com', 'a.com\n']),
    'hostnames': ([['example.com']], [[], ['a b'], 'example.com']),
    'hosts': ([[], ['web1', 'lb-1.example.com', 'host:22', '[::1]']], [['a b'], ['a;b'], ['a\nb'], 'web1']),
    'http_headers': ([{}, {'X-Content-Type-Options': 'nosniff', 'X-XSS-Protection': 0,
                           'Content-Security-Policy': ["default-src 'self'", 'img-src data: https://x.example.com/a?b=c#d'],
                           'Permissions-Policy': 'camera=(), geolocation=(self)'}],
                     [[], 'X-Frame-Options: DENY', {'X': 'a;b'}, {'X': 'a"b'}, {'X': "a\\b"}, {'X': '$host'}, {'X': 'a{b'},
                      {'X': 'a}b'}, {'X': 'a\nb'}, {'X': 'a\rb'}, {'X': ' a'}, {'X': 'a '}, {'X': ''}, {'X': []}, {'X': None},
                      {'X': True}, {'X': ['a', 'b;c']}, {'X': 'é'}, {'X_Y': 'a'}, {'X Y': 'a'}, {'X:': 'a'}, {'-X': 'a'},
                      {'X': 'a', 'x': 'b'}, {'Strict-Transport-Security': 'max-age=1'}, {'set-cookie': 'a=b'},
                      {'X': 'a' * 1025}]),
    'identifier': (['debug', '_x1'], ['1x', 'a-b', 'a b', '']),
    'int': ([0, 8000, '8000'], ['', '-1', '1.5', 1.5, True, None, '8000\n', ' 8000', '+8000', '٣', '99999999999']),
    'mime_types': ([[], ['text/css', 'image/svg+xml']], [['text/html'], ['text'], ['text/css;x'], ['TEXT/CSS'], 'text/css']),
    'module_callable': (['demo_app:make_app', 'pkg.mod:Cls.build'], ['demo_app', 'a-b:c', 'a:b c', ':x', 'a:1b']),
    'name': (['demo', 'a.b-c_d', 'A1'], ['', '-a', '.a', 'a b', 'a/b', 'a:b', 'a' * 65, 'demo\n']),
    'nft_name': (['webops_tornado_demo'], ['1x', 'a-b', 'a' * 65]),
    'nginx_size': (['50m', '1024', '1G', 0], ['50 m', '50mb', '-1', '', '50m;']),
    'nginx_time': (['1s', '1h30m', '500ms', 5], ['1 s', 's', '', '1s;']),
    'nginx_variable': (['$remote_addr'], ['remote_addr', '$a b', '$A']),
    'package': (['myapp==1.2.0', 'myapp[extra]>=1,<2', '/srv/wheels/myapp-1.0-py3-none-any.whl'],
                ['-e .', 'myapp @ https://x', 'myapp==1.0; os_name', '/srv/x.tar.gz', '']),
    'path': (['/srv/demo', '/var/log/demo', '/srv/a,b=c+d@e'],
             ['', '/', '/etc', '/usr/local', 'srv/x', '/srv/../etc', '/srv/x/', '/srv//x', '/tmp/x', '/proc/1', '/dev/shm/x',
              '/srv/a b', '/srv/a;b', '/srv/$x', '/srv/x\n', None]),
    'pem_certificates': ([PEM_CERT, PEM_CERT + PEM_CERT], ['', 'x' + PEM_CERT, PEM_KEY, PEM_CERT + 'x']),
    'pem_key': ([PEM_KEY, PEM_KEY.replace('PRIVATE', 'EC PRIVATE')], ['', PEM_CERT, PEM_KEY + PEM_KEY, PEM_KEY + 'x']),
    'pip_args': (['', '--index-url https://pypi.example.com/simple'], ["'unbalanced", 'a\nb']),
    'port': ([1024, 65535, '8000'], [80, 0, 65536, '', 'x']),
    'ports': ([[8000], [8000, '8001']], [[], [8000, 8000], [80], ['x'], 'auto', [8000, '8000\n']]),
    'python_target': (['pkg.mod:main', 'pkg.mod', 'server.py', 'bin/server.py'], ['/srv/x.py', '../x.py', 'a/../x.py', 'x-y.sh', 'pkg.mod:']),
    'relative_file': (['requirements.txt', 'req/base.txt'], ['/etc/passwd', '../x', 'a/../../x', 'a b', '']),
    'secret': (['', 'x' * 40], ['a\nb', None]),
    'server_names': (['_', 'example.com', 'a.example.com *.example.com .example.org', ['a.com', 'b.com']],
                     ['', ' ', 'a.com  b.com', 'a.com;', '~^re$', 'a.com\n', [], ['a b']]),
    'settings': ([{}, {'gzip': True, 'x': {'nested': [1, None]}}], [{'1x': 1}, {'x': float('nan')}, {'x': object()}, []]),
    'shell': (['echo hi', 'a\n\tb'], ['', '   ', 'a\x00b', 'a\rb']),
    'shell_list': ([[], ['echo hi']], [['a\x00'], 'echo hi']),
    'supervisor_size': (['50MB', '1024'], ['50 MB', '50mb', '']),
    'text': (['', 'hello world'], ['a\nb', 'a\tb', None]),
    'url_path': (['/', '/healthz', '/static/', '/a(b)', '/%41'], ['', 'healthz', '/a b', '/a;b', '/a//b', '/a/../b', '/a/./b', '/a\n']),
    'user': (['demo', '_x-y'], ['', 'Demo', 'a.b', '-a', 'a' * 33, 'demo\n']),
    'users': ([['root', 'demo']], [[], ['Root'], 'root']),
    'version': (['6.6.1', '6.6', '7.0b1'], ['', 'v6', '6.6.1\n', '6..1']),
}

RULE_CASES = [
    ({'kind': 'choice', 'choices': ['a', 'b']}, ['a'], ['c', 'A', None]),
    ({'kind': 'choices', 'choices': ['a', 'b']}, [['a', 'b']], [[], ['c'], 'a']),
    ({'kind': 'int', 'minimum': 1, 'maximum': 3}, [1, 3, '2'], [0, 4]),
    ({'kind': 'int', 'auto': True}, ['auto', 5], ['AUTO', 'auto\n']),
    ({'kind': 'port', 'minimum': 1}, [1, 80], [0]),
    ({'kind': 'ports', 'auto': True}, ['auto', [8000, 8001]], [[], [8000, 8000], [80], [8000, 'x'], 8000]),
    ({'kind': 'ports', 'minimum': 1}, [[80]], [[0]]),
    ({'kind': 'path', 'roots': ['/srv', '/opt']}, ['/srv/demo', '/opt/a/b'],
     ['/srv', '/srvx/a', '/etc/demo', '/srv/../etc', '/srv/demo/', '//srv/demo', 'srv/demo', '/srv/a b', '/srv/a\n']),
    ({'kind': 'path', 'roots': ['/srv'], 'anywhere': True}, ['/data/demo'], ['/etc', '/tmp/x', '/proc/1', '/']),
    ({'kind': 'path', 'suffix': '.conf'}, ['/etc/security/limits.d/x.conf'], ['/etc/security/limits.d/x.cfg']),
    ({'kind': 'path', 'empty': True}, ['', None], ['/']),
    ({'kind': 'path', 'also': ['off']}, ['off'], ['on']),
    ({'kind': 'environment', 'plain': True}, [{'A': 'x y:/+@=,.-_'}], [{'A': 'x"y'}, {'A': 'x%y'}, {'A': 'x;y'}, {'A': 'x\ny'}]),
    ({'kind': 'settings', 'reserved': {'debug': 'app_debug'}}, [{'gzip': True}], [{'debug': True}]),
    ({'kind': 'argv', 'require': ['{port}']}, ['app --port={port}'], ['app --port=8000']),
    ({'kind': 'argv', 'ini': True}, ['app --x;y', 'app a#b', 'app 50%'], ['app --x ;y', 'app #x', "app 'a ;b'", 'app\t#x']),
    ({'kind': 'secret', 'minimum': 32}, ['', 'x' * 32], ['x' * 31]),
    ({'kind': 'users', 'groups': True}, [['root', '@adm', '*']], [['@'], ['@Adm'], ['**']]),
    ({'kind': 'server_names', 'addresses': True, 'wildcards': False}, ['192.0.2.1 example.com'], ['*.example.com', '.example.com']),
    ({'kind': 'hostname', 'addresses': True}, ['192.0.2.1', 'fe80::1'], ['fe80::1%eth0']),
]


def test_every_kind_has_cases():
    assert sorted(set(CASES) | set(['choice', 'choices'])) == sorted(inputs.KINDS)


@pytest.mark.parametrize('kind', sorted(CASES))
def test_kind_accepts_and_refuses(kind):
    accepted, refused = CASES[kind]
    for value in accepted:
        assert inputs.check(kind, value) is None, 'refused %r' % (value,)
    for value in refused:
        assert inputs.check(kind, value) is not None, 'accepted %r' % (value,)


@pytest.mark.parametrize('rule, accepted, refused', RULE_CASES, ids=[repr(case[0]) for case in RULE_CASES])
def test_rule_parameters(rule, accepted, refused):
    for value in accepted:
        assert inputs.check(rule, value) is None, 'refused %r' % (value,)
    for value in refused:
        assert inputs.check(rule, value) is not None, 'accepted %r' % (value,)


def test_unknown_kind_is_a_bug_of_the_role():
    with pytest.raises(inputs.InputError):
        inputs.check('nonsense', 'x')
    with pytest.raises(inputs.InputError):
        inputs.normalise_rule({'no': 'kind'})


def test_errors_name_the_variable_in_rule_order_and_skip_missing():
    rules = {'app_name': 'name', 'app_user': 'user', 'app_home': {'kind': 'path', 'roots': ['/srv']}}
    messages = inputs.errors(rules, {'app_user': 'Bad', 'app_name': 'a b'}, prefix='x.')
    assert len(messages) == 2
    assert messages[0].startswith('x.app_name must be ') and messages[0].endswith('(got "a b").')
    assert messages[1].startswith('x.app_user must be ')
    assert inputs.errors(rules, {'app_name': 'demo'}) == []


def test_messages_show_values_as_json_cut_short():
    message = inputs.errors({'app_name': 'name'}, {'app_name': 'a\nb' + 'x' * 200})[0]
    assert '"a\\nb' in message and '\n' not in message and '...' in message


SECRET = 'S3cr3t-value-that-must-not-leak-\n'


@pytest.mark.parametrize('rules, values', [
    ({'app_cookie_secret': {'kind': 'secret', 'minimum': 64}}, {'app_cookie_secret': SECRET}),
    ({'app_environment': 'environment'}, {'app_environment': {'TOKEN': SECRET + '\x00'}}),
    ({'app_environment': 'environment'}, {'app_environment': {'BAD-NAME': SECRET}}),
    ({'key': 'pem_key'}, {'key': SECRET}),
    ({'password': {'kind': 'text', 'secret': True}}, {'password': SECRET}),
])
def test_messages_never_show_a_secret(rules, values):
    messages = inputs.errors(rules, values)
    assert messages
    for message in messages:
        assert 'S3cr3t' not in message
        assert '(value hidden)' in message


# --- generated values -------------------------------------------------------------------------------

# Kinds whose value is written into a file as text (or a path, a name, a word): a control character there
# would start a new line, end a string or a section. Free text goes to the launcher's JSON (environment,
# settings); shell commands may span lines on purpose; PEM blocks are made of lines.
TEXT_KINDS = sorted(set(inputs.KINDS) - set(['any', 'bool', 'choice', 'choices', 'environment', 'http_headers', 'settings', 'shell',
                                             'shell_list', 'pem_certificates', 'pem_key', 'args', 'addresses_or_networks',
                                             'ciphers', 'dns_names', 'hostnames', 'hosts', 'mime_types', 'ports', 'users']))
LIST_KINDS = ['addresses_or_networks', 'args', 'ciphers', 'dns_names', 'hostnames', 'hosts', 'mime_types', 'users', 'shell_list']
CONTROL = st.sampled_from([chr(c) for c in list(range(0, 32)) + list(range(127, 160))] + ['\u2028', '\u2029'])
SEEDS = sorted(set(v for accepted, _refused in CASES.values() for v in accepted if isinstance(v, str)))


def with_control(seeds=SEEDS, shell=False):
    control = CONTROL.filter(lambda c: c not in '\t\n') if shell else CONTROL
    return st.builds(lambda seed, char, at: seed[:at % (len(seed) + 1)] + char + seed[at % (len(seed) + 1):],
                     st.sampled_from(seeds), control, st.integers(0, 100))


@settings(max_examples=examples(300))
@given(kind=st.sampled_from(TEXT_KINDS), value=with_control())
@example(kind='name', value='demo\n')
@example(kind='address', value='fe80::1%x\n')
@example(kind='int', value='8000\n')
def test_no_text_kind_accepts_a_control_character(kind, value):
    assert inputs.check(kind, value) is not None


@settings(max_examples=examples(100))
@given(kind=st.sampled_from(LIST_KINDS), value=with_control(), index=st.integers(0, 2))
def test_no_list_kind_accepts_an_item_with_a_control_character(kind, value, index):
    base = {'addresses_or_networks': '10.0.0.1', 'args': 'a', 'ciphers': 'AES', 'dns_names': 'a.com', 'hostnames': 'a.com', 'hosts': 'web1',
            'mime_types': 'text/css', 'users': 'root', 'shell_list': 'true'}[kind]
    items = [base, base]
    items.insert(index, value if kind != 'shell_list' else value.replace('\t', '').replace('\n', '') or '\x00')
    if kind == 'shell_list' and not inputs.has_control(items[index], allow_tab_newline=True):
        items[index] += '\x00'
    assert inputs.check(kind, items) is not None


@settings(max_examples=examples(100))
@given(value=with_control(['echo hi', 'a'], shell=True))
def test_shell_commands_refuse_control_characters_but_tab_and_newline(value):
    assert inputs.check('shell', value) is not None


@settings(max_examples=examples(100))
@given(key=st.text(max_size=10), value=st.text(max_size=10))
def test_environment_keys_are_identifiers_and_values_never_hold_nul(key, value):
    problem = inputs.check('environment', {key: value})
    identifier = bool(key) and key.isascii() and (key[0].isalpha() or key[0] == '_') and all(c.isalnum() or c == '_' for c in key)
    if '\x00' in value or not identifier:
        assert problem is not None
    else:
        assert problem is None


@settings(max_examples=examples(200))
@given(value=st.text(alphabet=st.characters(codec='ascii'), max_size=30))
def test_a_plain_environment_value_is_one_word_for_supervisord(value):
    """What plain=True accepts is read back as itself by supervisord's environment= parser (quoted)."""
    from supervisor.datatypes import dict_of_key_value_pairs
    if inputs.check({'kind': 'environment', 'plain': True}, {'KEY': value}) is None:
        assert dict_of_key_value_pairs('KEY="%s"' % value.replace('%', '%%')) == {'KEY': value}


ACME_SEEDS = ['https://ca.example.com:14000/dir', 'ops@example.com', 'shop.example.com']
ARGV_BREAKERS = st.sampled_from(list(' \t\n\r"\'`$;,&|<>=?#\\*') + ['-', '--', '--server=', '\x00', '\u2028', '%', '@', '[', ']'])


@settings(max_examples=examples(400))
@given(seed=st.sampled_from(ACME_SEEDS), breaker=st.lists(ARGV_BREAKERS, min_size=1, max_size=3), at=st.integers(0, 40),
       noise=st.text(max_size=6))
@example(seed='ops@example.com', breaker=['-'], at=0, noise='')
@example(seed='https://ca.example.com:14000/dir', breaker=[' ', '--deploy-hook=', 'sh'], at=40, noise='')
def test_acme_values_reach_certbot_as_one_word_of_their_own(seed, breaker, at, noise):
    """certbot gets nginx_tls_acme_directory, _email and each of _names as one argv word (and writes the
    directory into its renewal file, one key per line): whatever is accepted is a single word that no
    option parser, line-based file or shell reads as more, and the directory is a plain https URL."""
    value = seed[:at] + ''.join(breaker) + noise + seed[at:]
    kind = {'h': 'https_url', 'o': 'email', 's': 'dns_names'}[seed[0]]
    problem = inputs.check(kind, [value] if kind == 'dns_names' else value)
    if problem is None:
        assert not value.startswith(('-', '.')) and value.isascii() and value.isprintable()
        assert not any(char in value for char in ' \t"\'`$;,&|<>=?#\\*%')
        if kind == 'https_url':
            parts = urllib.parse.urlsplit(value)
            assert parts.scheme == 'https' and not parts.query and not parts.fragment and parts.username is None
        if kind == 'dns_names':
            assert all(char.isalnum() or char in '.-' for char in value) and '.' in value


@settings(max_examples=examples(200))
@given(value=st.one_of(st.text(max_size=30), st.sampled_from(SEEDS)))
def test_a_path_is_normalised_and_never_a_system_directory(value):
    if inputs.check('path', value) is None:
        assert value.startswith('/') and os.path.normpath(value) == value and value not in inputs.SYSTEM_DIRS
        assert not any(value == tree or value.startswith(tree + '/') for tree in ('/proc', '/sys', '/dev', '/tmp', '/var/tmp'))


@settings(max_examples=examples(200))
@given(value=st.text(max_size=40))
@example(value='fe80::1%eth0')
def test_an_address_is_only_an_address(value):
    if inputs.check('address', value) is None:
        assert set(value) <= set('0123456789abcdefABCDEF:.')


# nginx reads a response header's value inside double quotes: none of these may end it, or the directive.
HEADER_BREAKERS = ['"', '\\', ';', '{', '}', '$'] + [chr(c) for c in list(range(0, 32)) + list(range(127, 160))] + ['\u2028']


@settings(max_examples=examples(200))
@given(before=st.text(max_size=8), breaker=st.sampled_from(HEADER_BREAKERS), after=st.text(max_size=8), listed=st.booleans())
def test_a_header_value_never_holds_what_ends_an_nginx_string(before, breaker, after, listed):
    value = 'nosniff' + before + breaker + after
    message = inputs.errors({'nginx_security_headers': 'http_headers'},
                            {'nginx_security_headers': {'X-A': ['nosniff', value] if listed else value}})
    assert message and message[0].startswith('nginx_security_headers must be ')


def test_a_rules_note_follows_the_value():
    rules = {'nginx_tls_acme_names': {'kind': 'dns_names', 'note': 'unless set, the names of nginx_server_name'}}
    message = inputs.errors(rules, {'nginx_tls_acme_names': ['_']}, prefix='app demo: ')[0]
    assert message.startswith('app demo: nginx_tls_acme_names must be ')
    assert message.endswith('(got ["_"]; unless set, the names of nginx_server_name).')
    assert inputs.check(rules['nginx_tls_acme_names'], ['shop.example.com']) is None
