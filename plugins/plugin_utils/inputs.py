# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one validation layer: what every input that reaches a file, a path, a command or
a process may look like.

Each role names the kind of each of its variables once (``__<role>_input_rules`` in its
``vars/main.yml``); the ``webops.tornado.check_inputs`` action runs these checks on the controller
before any task changes a host, and the property tests in ``tests/unit`` render every template with
generated hostile values to prove that whatever passes here cannot change what a config means.

A rule is a kind name, or a dict ``{kind: NAME, ...parameters}``. Common parameters:

    empty     true: None and "" are accepted (the variable is optional or "unset")
    also      a list of literal values accepted besides the kind's (e.g. nginx's "off" for a log path)
    skip      true: the variable is not used in this configuration, so it is not checked
    secret    true: the value is never shown in a message (it is implied for kind "secret")

Every checker returns None for a good value, or a sentence saying what the value must be. Messages
name the variable and show the offending value as JSON (control characters escaped), never a secret.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import json
import posixpath
import re
import shlex

# Control characters of every kind (C0, DEL, C1) and the Unicode line and paragraph separators:
# none of them may reach a rendered file, whatever the variable.
_CONTROL = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029]')
# Shell commands (hooks) may span lines and use tabs; nothing else.
_CONTROL_BUT_TAB_NEWLINE = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]')

# Every pattern is applied with fullmatch: with match, '$' also matches before a final newline, so
# "demo\n" would pass for a name and start a new line in every file it reaches.
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')
# Debian's adduser default (NAME_REGEX), at most 32 characters: safe for useradd, paths and configs.
_USER = re.compile(r'^[a-z_][a-z0-9_-]{0,31}$')
# RFC 1123 labels, plus '_' (nginx and OpenSSL accept it, and inventories are full of such names).
_LABEL = r'(?!-)[A-Za-z0-9_-]{1,63}(?<!-)'
_HOSTNAME = re.compile(r'^(%s)(\.%s)*\.?$' % (_LABEL, _LABEL))
_IDENTIFIER = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_NGINX_SIZE = re.compile(r'^[0-9]{1,12}[kKmMgG]?$')
_NGINX_TIME = re.compile(r'^([0-9]{1,9}(ms|s|m|h|d|w|M|y)?)+$')
_NGINX_VARIABLE = re.compile(r'^\$[a-z_][a-z0-9_]*$')
# RFC 3986 path characters without the ones nginx, shells or JSON readers treat specially
# (quotes, ';', '{', '}', '#', '$', '\\', whitespace).
_URL_PATH = re.compile(r"^/[A-Za-z0-9._~!&()*+,=:@%/-]*$")
_SAFE_PATH = re.compile(r'^/[A-Za-z0-9._+@=,/-]*$')
_MODULE = r'[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*'
_MODULE_CALLABLE = re.compile(r'^%s:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$' % _MODULE)
_MODULE_ONLY = re.compile(r'^%s$' % _MODULE)
_SCRIPT = re.compile(r'^(?!/)([A-Za-z0-9_][A-Za-z0-9_.-]*/)*[A-Za-z0-9_][A-Za-z0-9_.-]*\.py$')
_MIME = re.compile(r'^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$')
_CIPHER = re.compile(r'^[A-Z0-9][A-Z0-9_-]{0,63}$')
_HEADER_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9-]{0,63}$')
# Printable ASCII without a quote, backslash, ';', '{', '}' or '$' (nginx's variables), so a value in
# double quotes is one argument of one directive whatever it holds; no space at either end.
_HEADER_CHARS = r"A-Za-z0-9!#%&'()*+,./:<=>?@\[\]^_`|~\-"
_HEADER_VALUE = re.compile(r'^[%s]([%s ]{0,1022}[%s])?$' % (_HEADER_CHARS, _HEADER_CHARS, _HEADER_CHARS))
# Headers a role sets itself (with a variable of their own), or that frame the response.
_HEADER_RESERVED = {
    'strict-transport-security': 'nginx_tls_hsts', 'server': 'nginx_proxy_pass_server_header', 'connection': None,
    'content-length': None, 'content-type': None, 'date': None, 'keep-alive': None, 'location': None, 'set-cookie': None,
    'transfer-encoding': None, 'upgrade': None,
}
_VERSION = re.compile(r'^[0-9]+(\.[0-9]+){0,3}([a-z]+[0-9]*)?$')
_GIT_REF = re.compile(r'^(?!-)(?!.*\.\.)[A-Za-z0-9._/+@^~-]{1,200}$')
# An ACME directory: https, a host name or address, an optional port and path; nothing a shell, certbot's
# renewal file (one line per key, and it interpolates '%') or a URL parser would read differently.
_HTTPS_URL = re.compile(r'^https://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)(:[0-9]{1,5})?(/[A-Za-z0-9._~/+-]*)?$')
# A contact address: one local part (never starting with '-' or '.') and a host name, no spaces, quotes,
# commas or brackets.
_EMAIL = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+-]*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$')
# A name a public CA puts on a certificate: fully qualified (two labels or more), letters, digits and
# inner hyphens only (no '_', no wildcard, no trailing dot).
_DNS_NAME = re.compile(r'^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$')
_GIT_URL = re.compile(r'^((https?|ssh|git|file)://[^\s\'"\\]+|[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:[^\s\'"\\-][^\s\'"\\]*)$')
_PIP_REQUIREMENT = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?'
                              r'((==|!=|<=|>=|~=|===|<|>)[A-Za-z0-9.*+!_-]+(,(==|!=|<=|>=|~=|===|<|>)[A-Za-z0-9.*+!_-]+)*)?$')
_FILE_MODE = re.compile(r'^0[0-7]{3}$')
_INVENTORY_HOST = re.compile(r'^[A-Za-z0-9_.:@\[\]-]{1,253}$')

# Directories that are never an app's own, whatever the opt-ins: the role would chown or chmod them.
SYSTEM_DIRS = frozenset([
    '/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/media', '/mnt',
    '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/usr/bin', '/usr/lib',
    '/usr/local', '/usr/local/bin', '/usr/local/lib', '/usr/local/sbin', '/usr/sbin', '/usr/share', '/var',
    '/var/backups', '/var/cache', '/var/lib', '/var/local', '/var/lock', '/var/log', '/var/mail', '/var/opt',
    '/var/run', '/var/spool', '/var/tmp', '/var/www', '/etc/nginx', '/etc/supervisor', '/etc/ssl',
    '/etc/systemd', '/etc/security', '/etc/sysctl.d', '/etc/tornado', '/etc/ssh', '/etc/sudoers.d',
    '/etc/pam.d', '/etc/cron.d', '/etc/default', '/etc/apt',
])
# Trees where files appear and vanish under other users' control (symlink races), or that are not files.
_NEVER_INSIDE = ('/proc', '/sys', '/dev', '/tmp', '/var/tmp', '/run/user')

DEFAULT_SHOW = 80


class InputError(Exception):
    """A rule that cannot be applied (an unknown kind, a bad parameter): a bug in the role, not the input."""


def show(value, secret=False):
    """The value as a message shows it: JSON (control characters escaped), cut short, or hidden."""
    if secret:
        return '(value hidden)'
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= DEFAULT_SHOW else text[:DEFAULT_SHOW - 3] + '...'


def _is_empty(value):
    return value is None or value == ''


def _is_int(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and re.fullmatch(r'^[0-9]{1,10}$', value) is not None


def has_control(text, allow_tab_newline=False):
    """True when ``text`` holds a control character (tab and newline allowed on request)."""
    return (_CONTROL_BUT_TAB_NEWLINE if allow_tab_newline else _CONTROL).search(text) is not None


# --- checkers: (value, **params) -> None or what the value must be --------------------------------

def _string(value, pattern, what):
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        return what
    return None


def check_name(value, **_params):
    return _string(value, _NAME, "a name of letters, digits, '.', '_' or '-' starting with a letter or digit, "
                                 "at most 64 characters (it becomes a path component, a supervisord group and an nginx upstream)")


def check_user(value, **_params):
    return _string(value, _USER, "a user or group name: lowercase letters, digits, '_' or '-', starting with a letter "
                                 "or '_', at most 32 characters")


def check_identifier(value, **_params):
    return _string(value, _IDENTIFIER, "an identifier: letters, digits and '_', not starting with a digit")


def check_nft_name(value, **_params):
    return _string(value, re.compile(r'^[A-Za-z_][A-Za-z0-9_]{0,63}$'),
                   "an nftables name: letters, digits and '_', not starting with a digit, at most 64 characters")


def _ip(value, network=False):
    """The address (or network) ``value`` writes, or None. An IPv6 zone index (fe80::1%eth0) is refused:
    ipaddress takes any text after the '%' (spaces, ';', '}', newlines), and the text reaches the files as given."""
    if not isinstance(value, str) or '%' in value:
        return None
    try:
        return ipaddress.ip_network(value, strict=False) if network else ipaddress.ip_address(value)
    except ValueError:
        return None


def _hostname_problem(name, wildcards=True, addresses=False):
    if not isinstance(name, str) or not name or len(name) > 253:
        return True
    if addresses and _ip(name) is not None:
        return False
    if wildcards:
        if name == '_':
            return False
        if name.startswith('*.'):
            name = name[2:]
        elif name.startswith('.'):
            name = name[1:]
    return _HOSTNAME.fullmatch(name) is None


def check_server_names(value, lists=True, **params):
    """nginx server_name: a string of names separated by spaces, or (unless ``lists`` is false) a list of names."""
    what = ("host names as nginx accepts them: labels of letters, digits, '-' and '_' between dots, optionally '*.' "
            "or '.' in front, or '_'; separated by spaces%s (regular expressions are not supported)" % (' or as a list' if lists else ''))
    if not lists and not isinstance(value, str):
        return what
    names = value.split(' ') if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        return what
    if isinstance(value, str) and value != ' '.join(n for n in names if n):
        return what
    if any(_hostname_problem(n, wildcards=params.get('wildcards', True), addresses=params.get('addresses', False)) for n in names):
        return what
    return None


def check_hostname(value, **params):
    if _hostname_problem(value, wildcards=params.get('wildcards', False), addresses=params.get('addresses', False)):
        return "a host name (labels of letters, digits, '-' and '_' between dots)" + (
            ' or an IP address' if params.get('addresses') else '')
    return None


def check_address(value, **_params):
    if _ip(value) is None:
        return 'an IPv4 or IPv6 address (without a zone index such as %eth0)'
    return None


def check_address_or_network(value, **_params):
    if _ip(value, network=True) is None:
        return 'an IPv4 or IPv6 address or network (CIDR, without a zone index such as %eth0)'
    return None


def check_int(value, minimum=None, maximum=None, auto=False, **_params):
    if auto and value == 'auto':
        return None
    what = ('"auto" or ' if auto else '') + 'an integer' + (' from %s' % minimum if minimum is not None else '') + (
        ' to %s' % maximum if maximum is not None else '')
    if not _is_int(value):
        return what
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        return what
    return None


def check_port(value, minimum=1024, **_params):
    problem = check_int(value, minimum=minimum, maximum=65535)
    if problem:
        return 'a port from %s to 65535%s' % (
            minimum, ' (app processes never run as root, so they cannot bind ports below 1024)' if minimum >= 1024 else '')
    return None


def check_ports(value, minimum=1024, auto=False, **_params):
    if auto and value == 'auto':
        return None
    what = ('"auto" or ' if auto else '') + 'a list of distinct ports from %s to 65535' % minimum
    if not isinstance(value, list) or not value:
        return what
    if any(check_port(port, minimum=minimum) for port in value):
        return what + (' (app processes never run as root, so they cannot bind ports below 1024)' if minimum >= 1024 else '')
    if len(set(int(port) for port in value)) != len(value):
        return what + ' (a port is listed twice)'
    return None


def check_choice(value, choices=(), **_params):
    if value not in list(choices):
        return 'one of ' + ', '.join(str(c) for c in choices)
    return None


def check_choices(value, choices=(), **_params):
    if not isinstance(value, list) or not value or any(v not in list(choices) for v in value):
        return 'a non-empty list of ' + ', '.join(str(c) for c in choices)
    return None


def check_nginx_size(value, **_params):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return _string(value, _NGINX_SIZE, "an nginx size: digits with an optional k, m or g (e.g. 50m)")


def check_nginx_time(value, **_params):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return _string(value, _NGINX_TIME, "an nginx time: digits with ms, s, m, h, d, w, M or y (e.g. 1s, 1h30m)")


def check_nginx_variable(value, **_params):
    return _string(value, _NGINX_VARIABLE, "one nginx variable such as $remote_addr or $cookie_session")


def check_url_path(value, prefix=False, **_params):
    what = ("a URL path: '/' then letters, digits and - . _ ~ ! & ( ) * + , = : @ % /, with no '//', '/./' or '/../'"
            + (", ending in '/'" if prefix else ''))
    if not isinstance(value, str) or _URL_PATH.fullmatch(value) is None:
        return what
    if '//' in value or re.search(r'/\.\.?(/|$)', value):
        return what
    if prefix and not value.endswith('/'):
        return what
    return None


def _inside(path, root):
    root = root.rstrip('/') or '/'
    return path != root and (path + '/').startswith(root + '/' if root != '/' else '/')


def check_path(value, roots=None, anywhere=False, suffix=None, **_params):
    """An absolute, normalised path of safe characters, never '/' nor a system directory itself, never
    under /proc, /sys, /dev or a world-writable temporary tree; with ``roots`` (and not ``anywhere``),
    strictly inside one of them."""
    what = ("an absolute, normalised path (no '..', '.', '//' or trailing '/') of letters, digits and . _ + @ = , - /, "
            "that is neither '/' nor a system directory such as /etc or /usr")
    if not isinstance(value, str) or _SAFE_PATH.fullmatch(value) is None:
        return what
    if value == '/' or posixpath.normpath(value) != value or value.startswith('//'):
        return what
    if value in SYSTEM_DIRS:
        return what
    if any(value == tree or _inside(value, tree) for tree in _NEVER_INSIDE):
        return what + ', and not under ' + ', '.join(_NEVER_INSIDE)
    if suffix and not value.endswith(suffix):
        return what + ", ending in '%s'" % suffix
    if roots and not anywhere:
        roots = [root for root in roots if isinstance(root, str) and root]
        if not any(_inside(value, root) for root in roots):
            return what + ', inside ' + ' or '.join(roots)
    return None


def check_controller_path(value, **_params):
    """A path on the controller that is only read (a source directory, a wheel): absolute, no control characters."""
    if not isinstance(value, str) or not value.startswith('/') or has_control(value) or '/../' in value + '/':
        return "an absolute path on the controller, without '..' or control characters"
    return None


def check_text(value, **_params):
    if not isinstance(value, str) or has_control(value):
        return 'text without control characters (newline, tab, NUL, ...)'
    return None


_PLAIN_SECRET = re.compile(r'^[A-Za-z0-9!%&()*+,./:;<=>?@^_`{|}~-]*$')


def check_secret(value, minimum=0, plain=False, **_params):
    """Text without control characters; ``plain``: also none that an environment file or a quoted config value
    reads as syntax (quotes, backslashes, "$", "#", spaces), for a secret passed through one."""
    if not isinstance(value, str) or has_control(value):
        return 'text without control characters'
    if plain and _PLAIN_SECRET.fullmatch(value) is None:
        return 'letters, digits and punctuation other than quotes, backslashes, "$" and "#" (no spaces)'
    if value and len(value) < minimum:
        return 'at least %d characters' % minimum
    return None


def check_shell(value, **_params):
    """Hooks: shell commands the inventory gives on purpose; lines and tabs are allowed, nothing else."""
    if not isinstance(value, str) or not value.strip() or has_control(value, allow_tab_newline=True):
        return 'a non-empty shell command without control characters other than tab and newline'
    return None


def check_argv(value, require=(), ini=False, **_params):
    """A command line split like a shell would (shlex); each word without control characters.

    ``ini``: the line is written as a value of an ini file read with inline comments (supervisord's
    ``command=``), where ';' or '#' after whitespace starts a comment that cuts the command short.
    """
    what = 'a command line (split like a shell does) without control characters'
    if require:
        what += ' containing ' + ', '.join(require)
    if not isinstance(value, str) or has_control(value):
        return what
    try:
        words = shlex.split(value)
    except ValueError:
        return what + ' (unbalanced quotes)'
    if not words or any(token not in value for token in require):
        return what
    if ini and re.search(r'\s[;#]', value):
        return what + " (no ';' or '#' after a space: supervisord would read the rest as a comment)"
    return None


def check_args(value, **_params):
    if not isinstance(value, list) or any(not isinstance(arg, (str, int)) or has_control(str(arg)) for arg in value):
        return 'a list of arguments, each without control characters'
    return None


_SAFE_ENV_VALUE = re.compile(r'^[A-Za-z0-9_./:+@=, -]*$')


def check_environment(value, plain=False, **_params):
    """Environment variables: identifier keys, string values without NUL (the values are never shown).

    ``plain``: values written into a file format without a reliable quoting (supervisord's
    environment=) are limited to letters, digits, space and _ . / : + @ = , -
    """
    what = 'a mapping of environment variable names (letters, digits, _; not starting with a digit) to text without NUL'
    if plain:
        what += ", values of letters, digits, space and _ . / : + @ = , - only (no quotes or %)"
    if not isinstance(value, dict):
        return what
    for key, item in value.items():
        if not isinstance(key, str) or _IDENTIFIER.fullmatch(key) is None:
            return what + ' (bad name %s)' % show(key)
        if isinstance(item, bool) or not isinstance(item, (str, int, float)) or '\x00' in str(item):
            return what + ' (the value of %s)' % key
        if plain and _SAFE_ENV_VALUE.fullmatch(str(item)) is None:
            return what + ' (the value of %s)' % key
    return None


def check_settings(value, reserved=(), **_params):
    """Tornado Application settings: identifier keys, JSON values; settings with a variable of their own are refused."""
    what = 'a mapping of Tornado setting names (identifiers) to JSON values'
    if not isinstance(value, dict):
        return what
    for key in value:
        if not isinstance(key, str) or _IDENTIFIER.fullmatch(key) is None:
            return what + ' (bad name %s)' % show(key)
        if key in reserved:
            return what + '; %s has a variable of its own (%s)' % (key, reserved[key] if isinstance(reserved, dict) else key)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return what + ' (not JSON-serialisable)'
    return None


def check_module_callable(value, **_params):
    return _string(value, _MODULE_CALLABLE, '"module:callable", e.g. "myapp.web:make_app"')


def check_python_target(value, **_params):
    what = ('"package.module:callable", "package.module" (run like python -m) or a relative path to a script '
            'ending in .py (letters, digits, _ . - /)')
    if not isinstance(value, str):
        return what
    if _MODULE_CALLABLE.fullmatch(value) or _MODULE_ONLY.fullmatch(value):
        return None
    if _SCRIPT.fullmatch(value) and '/../' not in '/' + value and not value.startswith('../'):
        return None
    return what


def check_relative_file(value, **_params):
    if (not isinstance(value, str) or value.startswith('/') or has_control(value) or re.fullmatch(r'^[A-Za-z0-9_][A-Za-z0-9_./-]*$', value) is None
            or '..' in value.split('/')):
        return "a relative path of letters, digits and _ . - / inside the source, without '..'"
    return None


def check_mime_types(value, html=False, **_params):
    """MIME types to compress; text/html only where the compressor has no list of its own (``html``: HAProxy)."""
    if not isinstance(value, list) or any(_MIME.fullmatch(str(v)) is None for v in value):
        return 'a list of MIME types such as text/css'
    if 'text/html' in value and not html:
        return 'a list of MIME types without text/html (nginx always compresses it and warns about a duplicate)'
    return None


def check_ciphers(value, **_params):
    if not isinstance(value, list) or not value or any(not isinstance(v, str) or _CIPHER.fullmatch(v) is None for v in value):
        return 'a non-empty list of OpenSSL cipher names (uppercase letters, digits, - and _)'
    return None


def check_http_headers(value, **_params):
    """Response headers: {name: value}, a value being text or a list of texts (joined with '; ' by the
    template, as Content-Security-Policy's directives are)."""
    what = ("a mapping of HTTP header names (letters, digits, '-') to values of printable ASCII without quotes, "
            "backslashes, ';', '{', '}' or '$' (a list of such values is joined with '; ')")
    if not isinstance(value, dict):
        return what
    seen = set()
    for name, item in value.items():
        if not isinstance(name, str) or _HEADER_NAME.fullmatch(name) is None:
            return what + ' (bad name %s)' % show(name)
        if name.lower() in seen:
            return what + ' (%s twice)' % name
        seen.add(name.lower())
        if name.lower() in _HEADER_RESERVED:
            owner = _HEADER_RESERVED[name.lower()]
            return what + '; %s is not one of them (%s)' % (
                name, 'it has a variable of its own: %s' % owner if owner else 'it frames the response')
        items = item if isinstance(item, list) else [item]
        if not items or any(isinstance(v, bool) or not isinstance(v, (str, int)) or _HEADER_VALUE.fullmatch(str(v)) is None
                            for v in items):
            return what + ' (the value of %s)' % name
    return None


def check_version(value, **_params):
    return _string(value, _VERSION, 'a version number such as 6.6.1')


def check_git_url(value, **_params):
    return _string(value, _GIT_URL, 'a git URL: https://, ssh://, git:// or file:// without spaces or quotes, '
                                    'or user@host:path; never starting with -')


def check_https_url(value, **_params):
    return _string(value, _HTTPS_URL, 'an https:// URL (host, optional port and path; no query, %, spaces or quotes)')


def check_dns_names(value, **_params):
    what = ("a non-empty list of fully qualified DNS names (two labels or more: letters, digits and inner '-'; "
            "no wildcard, no '_', no IP address)")
    if not isinstance(value, list) or not value:
        return what
    if any(not isinstance(name, str) or _DNS_NAME.fullmatch(name) is None or _ip(name) is not None for name in value):
        return what
    return None


def check_email(value, **_params):
    return _string(value, _EMAIL, 'an email address such as ops@example.com')


def check_git_ref(value, **_params):
    return _string(value, _GIT_REF, "a branch, tag or commit: letters, digits and . _ / + @ ^ ~ -, not starting with '-'")


def check_package(value, **_params):
    """A pip requirement (name, extras, version specifiers) or an absolute path to a wheel on the controller."""
    if isinstance(value, str) and value.startswith('/'):
        if check_controller_path(value) or not value.endswith('.whl'):
            return 'an absolute path to a .whl file on the controller'
        return None
    return _string(value, _PIP_REQUIREMENT, 'a pip requirement such as "myapp==1.2.0" or "myapp[extra]>=1,<2", '
                                            'or an absolute path to a wheel')


def check_pip_args(value, **_params):
    if not isinstance(value, str) or has_control(value):
        return 'pip arguments without control characters'
    try:
        shlex.split(value)
    except ValueError:
        return 'pip arguments split like a shell does (balanced quotes)'
    return None


def check_file_mode(value, **_params):
    return _string(value, _FILE_MODE, 'an octal file mode such as "0700"')


def check_hosts(value, **_params):
    if not isinstance(value, list) or any(not isinstance(h, str) or _INVENTORY_HOST.fullmatch(h) is None for h in value):
        return 'a list of inventory host names'
    return None


def check_addresses_or_networks(value, **_params):
    if not isinstance(value, list) or any(check_address_or_network(v) for v in value):
        return 'a list of IPv4 or IPv6 addresses or networks (CIDR)'
    return None


def check_hostnames(value, **params):
    if not isinstance(value, list) or not value or any(check_hostname(v, **params) for v in value):
        return 'a non-empty list of host names' + (' or IP addresses' if params.get('addresses') else '')
    return None


def check_users(value, groups=False, **_params):
    """User names; with ``groups``, limits.conf domains: a user, @group or *."""
    def bad(item):
        if groups and isinstance(item, str) and (item == '*' or item.startswith('@')):
            return item != '*' and check_user(item[1:])
        return check_user(item)
    if not isinstance(value, list) or not value or any(bad(v) for v in value):
        return 'a non-empty list of user names (lowercase letters, digits, _ or -)' + (', @group names or *' if groups else '')
    return None


def check_bool(value, **_params):
    if isinstance(value, bool):
        return None
    return 'true or false'


def check_shell_list(value, **_params):
    if not isinstance(value, list) or any(check_shell(v) for v in value):
        return 'a list of shell commands, each without control characters other than tab and newline'
    return None


def check_supervisor_size(value, **_params):
    return _string(value, re.compile(r'^[0-9]{1,12}(KB|MB|GB)?$'), 'a supervisord size: digits with an optional KB, MB or GB')


_PEM_BLOCK = r'-----BEGIN %s-----\r?\n[A-Za-z0-9+/=\r\n]+-----END %s-----'


def check_pem_certificates(value, **_params):
    """PEM certificates (the server's, then its chain): nothing but certificate blocks and line breaks."""
    block = _PEM_BLOCK % ('CERTIFICATE', 'CERTIFICATE')
    if not isinstance(value, str) or re.fullmatch(r'^\s*(%s\s*)+$' % block, value) is None:
        return 'PEM certificates (-----BEGIN CERTIFICATE----- blocks) and nothing else'
    return None


def check_pem_key(value, **_params):
    block = _PEM_BLOCK % ('(?P<kind>(RSA |EC )?PRIVATE KEY)', '(?P=kind)')
    if not isinstance(value, str) or re.fullmatch(r'^\s*%s\s*$' % block, value) is None:
        return 'one PEM private key (-----BEGIN PRIVATE KEY----- block) and nothing else'
    return None


def check_controller_file(value, **_params):
    """A file on the controller found like the file lookup finds it: absolute, or relative to files/."""
    if not isinstance(value, str) or not value or has_control(value) or value.startswith('-'):
        return 'a file name on the controller (absolute, or relative to the playbook\'s files/) without control characters'
    return None


def check_any(_value, **_params):
    """Values that reach no file (booleans checked by the argument spec, structured data checked elsewhere)."""
    return None


KINDS = {
    'address': check_address,
    'address_or_network': check_address_or_network,
    'addresses_or_networks': check_addresses_or_networks,
    'any': check_any,
    'args': check_args,
    'argv': check_argv,
    'bool': check_bool,
    'choice': check_choice,
    'choices': check_choices,
    'ciphers': check_ciphers,
    'controller_file': check_controller_file,
    'controller_path': check_controller_path,
    'dns_names': check_dns_names,
    'email': check_email,
    'environment': check_environment,
    'file_mode': check_file_mode,
    'git_ref': check_git_ref,
    'git_url': check_git_url,
    'hostname': check_hostname,
    'https_url': check_https_url,
    'http_headers': check_http_headers,
    'hostnames': check_hostnames,
    'hosts': check_hosts,
    'identifier': check_identifier,
    'int': check_int,
    'mime_types': check_mime_types,
    'module_callable': check_module_callable,
    'name': check_name,
    'nft_name': check_nft_name,
    'nginx_size': check_nginx_size,
    'nginx_time': check_nginx_time,
    'nginx_variable': check_nginx_variable,
    'package': check_package,
    'pem_certificates': check_pem_certificates,
    'pem_key': check_pem_key,
    'path': check_path,
    'pip_args': check_pip_args,
    'port': check_port,
    'ports': check_ports,
    'python_target': check_python_target,
    'relative_file': check_relative_file,
    'secret': check_secret,
    'server_names': check_server_names,
    'settings': check_settings,
    'shell': check_shell,
    'shell_list': check_shell_list,
    'supervisor_size': check_supervisor_size,
    'text': check_text,
    'url_path': check_url_path,
    'user': check_user,
    'users': check_users,
    'version': check_version,
}


_COMMON = ('kind', 'empty', 'secret', 'also', 'skip', 'host_read', 'note')


def normalise_rule(rule):
    """A rule as a dict with at least ``kind``."""
    if isinstance(rule, str):
        rule = {'kind': rule}
    if not isinstance(rule, dict) or rule.get('kind') not in KINDS:
        raise InputError('unknown input rule %r (kinds: %s)' % (rule, ', '.join(sorted(KINDS))))
    return rule


def check(rule, value):
    """None when ``value`` satisfies ``rule``, otherwise what it must be."""
    rule = normalise_rule(rule)
    if rule.get('empty') and _is_empty(value):
        return None
    if value in (rule.get('also') or []) or rule.get('skip') is True:
        return None
    params = dict((key, val) for key, val in rule.items() if key not in _COMMON)
    return KINDS[rule['kind']](value, **params)


def is_secret(rule):
    rule = normalise_rule(rule)
    return bool(rule.get('secret')) or rule['kind'] in ('secret', 'environment', 'pem_key')


def errors(rules, values, prefix=''):
    """One message per variable of ``rules`` whose value in ``values`` is refused, in the rules' order.

    A variable missing from ``values`` is skipped: the argument spec says what is required.
    """
    messages = []
    for name, rule in rules.items():
        if name not in values:
            continue
        problem = check(rule, values[name])
        if problem:
            # A rule's note says where a value the user did not give came from (a default made of another variable).
            note = normalise_rule(rule).get('note')
            shown = show(values[name], secret=is_secret(rule)) + ('; %s' % note if note else '')
            messages.append('%s%s must be %s (got %s).' % (prefix, name, problem, shown))
    return messages
