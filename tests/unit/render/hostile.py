# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile values for every variable, and the benign twin each one is compared with.

A hostile value is random text mixed with the characters that matter to the formats the roles write
(newlines of every kind, NUL, ``; { } # ' " \\ $ % ( ) , = :``, spaces, ``..``, ``/``, a leading ``-``),
supervisord's and Jinja's expansions, known injection payloads, very long values, and the role's own
default (or an example of the variable's kind) with any of those inserted: most values are refused, so
the near-misses are what finds a gap. Lists and mappings are made of such values.

The benign twin of an accepted value is a value of the same *shape* made of plain characters: the default
for a text, the same integer for an integer, as many plain items for a list, the same keys for a mapping,
the value itself for a choice or a boolean. A file's structure may depend on the shape of a value (how
many ports, whether TLS is on), never on the characters in it: so the hostile render must have the
structure of the twin's.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import os
import re
import shlex

import yaml
from hypothesis import strategies as st

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# Characters with a meaning in nginx, supervisord (ini, %-expansion, shlex), systemd, nft, JSON or Jinja.
SPECIAL = ['\n', '\r', '\t', '\x00', ';', '{', '}', '#', "'", '"', '\\', '$', '%', '(', ')', ',', '=', ':', ' ',
           '\u2028', '\u2029', '\u0085', '\x0b', '\x0c', '\x1b', '\x7f', '\xa0', '.', '/', '-', '[', ']', '@', '+',
           '*', '&', '|', '`', '<', '>', '~', '!', '?', '^', '_']

# Pieces that mean something as a whole.
FRAGMENTS = ['..', '../', '/..', '//', '-', '--', ' -x', '%(ENV_HOME)s', '%(program_name)s', '%(here)s', '%%', '%',
             '{{ 7 * 7 }}', "{{ lookup('pipe', 'id') }}", '{% if true %}x{% endif %}', '{# c #}', '{%', '{{', '$host',
             '${x}', ' ;x', ' #x', ';', '\n', '\r\n', '\\\n', '\\', '%eth0', '%x;y', '%a}b', '/24', ':80', ' x=y',
             ',x=y', '"', "'", '\u2028', '\x00', '\n[program:evil]\ncommand=/bin/sh\nuser=root\n', '\nuser=root',
             ' default_server', ';\nlisten 81', '}', '{', ' ', '\t']

# Known injection attempts, whole.
PAYLOADS = [
    'x;\n location /etc { alias /etc/; }',
    'x\n[program:evil]\ncommand=/bin/sh\nuser=root',
    'x\nuser=root',
    'x\r\nuser=root',
    'x\u2028user=root',
    'demo\n',
    '/srv/demo\n',
    'x;}\nserver { listen 81; location / { alias /; } }\nupstream y {',
    '_;\n    location /etc { alias /etc/; }\n    #',
    'x }\n    chain evil { type filter hook input priority -1; policy accept; }\n    set z {',
    'fe80::1%x;}\nchain evil {',
    'fe80::1%eth0 } ; flush ruleset ; table inet x {',
    '1\nExecStartPre=/bin/sh -c id',
    '%(ENV_HOME)s',
    '%(ENV_X)s',
    '{{ lookup("env", "HOME") }}',
    '{% raw %}x{% endraw %}',
    '-rf',
    '--config=/etc/shadow',
    'a,b=c',
    'x" y="z',
    "x' y='z",
    '$(id)',
    '`id`',
    '../../etc/passwd',
    '/srv/demo/../../etc',
    '/etc',
    '/',
    '',
    ' ',
    'x' * 5000,
    '\x00',
    'x\x00y',
]

SPECIAL_CHARS = st.sampled_from(SPECIAL)
ANY_CHARS = st.characters(codec='utf-8')
TEXT = st.text(alphabet=st.one_of(SPECIAL_CHARS, ANY_CHARS), max_size=24)
FRAGMENT = st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=SPECIAL_CHARS, min_size=1, max_size=4), TEXT)

# Valid examples of each kind (near them, the checks have the least margin).
KIND_SEEDS = {
    'address': ['127.0.0.1', '::1', 'fe80::1', '10.0.1.11', '0.0.0.0', '::', 'fd00::5'],
    'address_or_network': ['10.0.0.0/8', 'fd00::/8', '192.0.2.10', 'fe80::1'],
    'addresses_or_networks': ['10.0.0.0/8', 'fe80::1', '192.0.2.10'],
    'name': ['demo', 'a.b-c_d'],
    'nft_name': ['webops_tornado_demo'],
    'user': ['demo', '_x-y'],
    'users': ['root', '@adm', '*'],
    'hosts': ['web1', 'lb1'],
    'server_names': ['_', 'www.example.com', '*.example.com', '.example.org'],
    'hostnames': ['www.example.com', '192.0.2.7', 'fe80::1'],
    'dns_names': ['www.example.com', 'shop.example.org'],
    'path': ['/srv/demo', '/var/log/demo', '/srv/demo/current/src/static', '/run/supervisor.sock'],
    'url_path': ['/healthz', '/static/', '/login'],
    'nginx_size': ['50m', '1024'],
    'nginx_time': ['1s', '1h30m'],
    'supervisor_size': ['50MB'],
    'mime_types': ['text/css', 'image/svg+xml'],
    'ciphers': ['ECDHE-RSA-AES128-GCM-SHA256'],
    'http_headers': ['nosniff', 'strict-origin-when-cross-origin', "default-src 'self'", 'camera=()'],
    'argv': ['/srv/demo/current/venv/bin/python /srv/demo/launcher/x.py --port {port}', '{python} {src}/app.py --port={port}'],
    'args': ['--port', '{port}'],
    'module_callable': ['demo_app:make_app'],
    'python_target': ['pkg.mod:main', 'server.py'],
    'environment': ['1'],
    'settings': ['x'],
    'text': ['hello'],
    'secret': ['s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t'],
    'git_url': ['https://git.example.com/app.git', 'git@example.com:app.git'],
    'https_url': ['https://acme-v02.api.letsencrypt.org/directory', 'https://ca.example.com:14000/dir'],
    'email': ['ops@example.com'],
    'git_ref': ['main', 'v1.2.3'],
    'package': ['myapp==1.2.0'],
    'pip_args': ['--index-url https://pypi.example.com/simple'],
    'controller_path': ['/home/dev/src'],
    'controller_file': ['files/site.crt'],
    'relative_file': ['requirements.txt'],
    'version': ['6.6.1'],
    'shell': ['echo hi'],
    'shell_list': ['echo hi'],
    'pem_certificates': ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
    'pem_key': ['-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n'],
}

INT_TEXTS = ['0', '00080', '80\n', ' 80', '80 ', '+80', '-1', '8e3', '0x50', '1_000', '\u0663', '\uff18\uff10', '80.0',
             '99999999999', '4294967296', 'auto', 'auto\n', '']


def kind_of(rule):
    return rule if isinstance(rule, str) else rule.get('kind')


def strings(seeds):
    """Hostile text: payloads, random text, and seeds with hostile pieces inserted anywhere."""
    seeds = [s for s in seeds if isinstance(s, str)] or ['x']

    def insert(seed, fragment, position):
        position = position % (len(seed) + 1)
        return seed[:position] + fragment + seed[position:]

    return st.one_of(
        st.sampled_from(PAYLOADS),
        TEXT,
        st.builds(insert, st.sampled_from(seeds), FRAGMENT, st.integers(0, 400)),
        st.builds(lambda seed, fragment: seed + fragment, st.sampled_from(seeds), FRAGMENT),
        st.builds(insert, st.sampled_from(seeds), FRAGMENT, st.integers(0, 400)),
    )


def scalars(seeds):
    return st.one_of(strings(seeds), st.integers(-2 ** 40, 2 ** 40), st.sampled_from(INT_TEXTS), st.booleans(), st.none(),
                     st.floats(allow_nan=True))


def values(rule, default):
    """Hostile values for a variable of ``rule`` whose default (templated) is ``default``."""
    kind = kind_of(rule)
    seeds = list(KIND_SEEDS.get(kind, []))
    if isinstance(default, str) and default:
        seeds.insert(0, default)
    if isinstance(default, bool) or kind in ('bool',):
        return st.one_of(st.booleans(), st.sampled_from(['yes', 'no', 'true', 'True', '1', 'on', 'false\n']), scalars(seeds))
    if isinstance(default, int) or kind in ('int', 'port'):
        return st.one_of(st.integers(-5, 70000), st.integers(), st.sampled_from(INT_TEXTS),
                         st.builds(lambda n, s: str(n) + s, st.integers(0, 70000), FRAGMENT), scalars(seeds))
    if isinstance(default, list) or kind in ('ports', 'mime_types', 'ciphers', 'hosts', 'users', 'hostnames', 'dns_names', 'args',
                                             'shell_list', 'choices', 'addresses_or_networks'):
        items = [item for item in (default or []) if isinstance(item, str)] + seeds
        element = st.one_of(strings(items), st.integers(0, 70000)) if kind in ('ports', 'args') else strings(items)
        mutate = st.builds(lambda base, index, item: base[:index % (len(base) + 1)] + [item] + base[index % (len(base) + 1) + 1:],
                           st.just(list(default or [])), st.integers(0, 20), element)
        return st.one_of(st.lists(element, max_size=4), mutate, scalars(seeds))
    if isinstance(default, dict) or kind in ('environment', 'settings', 'http_headers'):
        keys = st.one_of(st.from_regex(r'\A[A-Za-z_][A-Za-z0-9_]{0,8}\Z'), strings(['KEY', 'static_path', 'debug']))
        leaves = st.one_of(strings(seeds or ['v']), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=True))
        if kind == 'http_headers':
            # Header names, values that are lists too (joined with '; '), and values of every character an
            # nginx string in double quotes may hold: most hostile values are refused, these are rendered.
            names = st.from_regex(r'\A[A-Za-z][A-Za-z0-9-]{0,12}\Z')
            keys = st.one_of(names, keys, strings(['X-Frame-Options', 'Referrer-Policy', 'Content-Security-Policy', 'Set-Cookie']))
            quotable = st.text(alphabet=st.sampled_from(list("aZ09 !#%&'()*+,./:<=>?@[]^_`|~-")), min_size=1, max_size=16)
            leaves = st.one_of(leaves, st.lists(strings(seeds), min_size=1, max_size=3), quotable, st.lists(quotable, min_size=1, max_size=3))
            return st.one_of(st.dictionaries(names, st.one_of(quotable, st.lists(quotable, min_size=1, max_size=3)), max_size=3),
                             st.dictionaries(keys, leaves, max_size=4), scalars(seeds))
        nested = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings(['k']), inner, max_size=3),
                              max_leaves=6)
        return st.one_of(st.dictionaries(keys, leaves, max_size=4), st.dictionaries(keys, nested, max_size=3),
                         st.builds(lambda base, extra: dict(base, **extra), st.just(dict(default or {})),
                                   st.dictionaries(keys, leaves, max_size=2)),
                         scalars(seeds))
    return st.one_of(strings(seeds), strings(seeds), scalars(seeds))


# --- the benign twin --------------------------------------------------------------------------------

# Plain values of a non-empty shape for variables whose default is empty.
PLAIN = {
    'app_src_dir': '/home/dev/src',
    'app_git_repo': 'https://git.example.com/app.git',
    'app_package': 'myapp==1.2.0',
    'app_main': 'myapp.server:main',
    'app_private_address': '10.0.1.99',
    'app_template_path': '/srv/demo/templates',
    'app_login_url': '/login',
    'app_cookie_secret': 'plainplainplainplainplainplainplain',
    'nginx_upstream_fail_timeout': '1s',
}


def plain_address(value, index=0):
    """A plain address of the same family and class (wildcard, loopback, private...) and network or not."""
    text = str(value).split('%', maxsplit=1)[0]
    network = '/' in text
    try:
        parsed = ipaddress.ip_network(text, strict=False) if network else ipaddress.ip_address(text)
    except ValueError:  # not an address at all: taken in only where nothing checks it
        return '192.0.2.%d' % (index % 250 + 1)
    address = parsed.network_address if network else parsed
    if address.is_unspecified or address.is_loopback:
        plain = str(address)
    elif address.version == 4:
        plain = '10.9.%d.%d' % (index // 250, index % 250 + 1) if address.is_private else '192.0.2.%d' % (index % 250 + 1)
    else:
        plain = 'fd00::9:%x' % (index + 1) if address.is_private else '2001:db8::%x' % (index + 1)
    return plain + ('/%d' % parsed.prefixlen if network else '')


def twin(name, rule, value, default):
    """The benign value of the same shape as accepted ``value``: always given explicitly, as the hostile value
    was (a default may be made of other variables, which may be hostile in the same example)."""
    kind = kind_of(rule)
    if value is None or value == '' or value == default:
        return value
    if kind in ('choice', 'choices', 'bool', 'any'):
        return value
    if kind in ('int', 'port'):
        return value if value == 'auto' else int(value)
    if kind == 'ports':
        return value if value == 'auto' else [int(port) for port in value]
    if kind in ('address', 'address_or_network'):
        return plain_address(value)
    if kind == 'addresses_or_networks':
        mapping = {}
        return [mapping.setdefault(item, plain_address(item, len(mapping))) for item in value]
    if kind == 'server_names':
        names = value.split(' ') if isinstance(value, str) else value
        return ' '.join('n%d.example.com' % index for index in range(len(names)))
    if kind == 'argv':
        words = shlex.split(value)
        plain = ['/usr/bin/w%d' % index for index in range(len(words))]
        if '{port}' in value:
            plain[-1] = '{port}'
        return ' '.join(plain)
    if kind in ('environment', 'settings'):
        return dict((key, 'plain') for key in value)
    if kind == 'http_headers':
        return dict((key, ['plain'] * len(item) if isinstance(item, list) else 'plain') for key, item in value.items())
    if isinstance(value, list):
        if kind in ('hostnames', 'dns_names'):
            return ['h%d.example.com' % index for index in range(len(value))]
        stem = {'mime_types': 'text/x-plain', 'ciphers': 'PLAIN-CIPHER-', 'users': 'u', 'hosts': 'host', 'shell_list': 'true ',
                'args': 'arg'}.get(kind, 'item')
        return ['%s%d' % (stem, index) for index in range(len(value))]
    if name in PLAIN:
        return PLAIN[name]
    if isinstance(default, str) and default:
        return default
    return KIND_SEEDS.get(kind, ['plain'])[0]


# --- which variables a variable's default is made of -------------------------------------------------

def dependency_graph():
    """variable -> the variables its definition (defaults, vars, app_export) names, for every role."""
    texts = {}
    for role in os.listdir(os.path.join(REPO, 'roles')):
        for sub in ('defaults', 'vars'):
            folder = os.path.join(REPO, 'roles', role, sub)
            if not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name)) as handle:
                    for key, value in (yaml.safe_load(handle) or {}).items():
                        texts[key] = texts.get(key, '') + ' ' + repr(value)
                        # A variable's check is made of what its rule names too (a skip: nginx_tls_acme_names is
                        # checked only with nginx_tls_acme on).
                        if key == '__%s_input_rules' % role:
                            for name, rule in value.items():
                                texts[name] = texts.get(name, '') + ' ' + repr(rule)
    with open(os.path.join(REPO, 'roles', 'app', 'tasks', 'export.yml')) as handle:
        texts['app_export'] = handle.read()
    texts['supervisor_groups'] = texts.get('supervisor_groups', '') + ' app_export'
    names = sorted(texts, key=len, reverse=True)
    graph = {}
    for key, text in texts.items():
        graph[key] = set(name for name in names if name != key and re.search(r'(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])' % re.escape(name), text))
    return graph


def made_of(graph):
    """variable -> every variable it is (transitively) made of, itself included."""
    closure = {}
    for start in graph:
        seen, todo = set([start]), [start]
        while todo:
            for name in graph.get(todo.pop(), ()):
                if name not in seen:
                    seen.add(name)
                    todo.append(name)
        closure[start] = seen
    return closure
