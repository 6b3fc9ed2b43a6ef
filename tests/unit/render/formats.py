# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read rendered files as the programs that load them do, and reduce each to its structure.

- nginx: crossplane (nginxinc's parser), the whole tree from nginx.conf with its includes, context and
  argument checks on. The structure is every directive (comments too) with its context and its number of
  arguments; the values are kept aside (``args``) for the checks that need them.
- supervisord: supervisor 4.2.5's own ``ServerOptions.read_config``, on supervisord.conf with the group files
  its ``[include]`` finds, so ``%(...)s`` expansion, inline comments, the ``command`` split
  (``Subprocess.get_execv_args``) and ``environment`` parsing are supervisord's. Three lookups of the host
  are answered for the host the file is for instead of this machine (``_HostLookups``): the user named by
  ``user=`` (an account the app role creates), the directories of log and pid files, the root of the
  ``[include]`` glob (the rendered tree instead of this machine's /etc), and whether a program's file
  exists and may be run (the release's virtualenv, on the host).
- systemd units and drop-ins: systemd's unit file syntax (sections, ``Key=Value``, ``#``/``;`` comments,
  a trailing backslash continues a line); the structure is each (section, key).
- pam-auth-update profiles: RFC 822-like fields (``Name: value``), indented continuation lines.
- nftables: a tokenizer of nft's syntax (``#`` comments to the end of the line, double-quoted strings,
  ``{ } ; ,`` and words); the structure is the nesting of blocks and each statement's keyword and token
  kinds, with the elements of a set or an anonymous set kept aside (their number follows the input).
- JSON: ``json``.

No structure function reads a rendered file's meaning beyond what its program does with it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import re
import shutil
import tempfile

import crossplane
from supervisor import datatypes as supervisor_datatypes
from supervisor import options as supervisor_options
from supervisor import process as supervisor_process

# What no rendered file may hold (JSON aside, where json.dumps escapes it): every control character but
# newline (tabs are checked apart: only where the template itself writes them) and the Unicode line and
# paragraph separators, NEL included.
CONTROL = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]')


def control_characters(text):
    """[(line number, repr of the character)] of every control character but newline and tab."""
    found = []
    for number, line in enumerate(text.split('\n'), 1):
        for char in CONTROL.findall(line):
            found.append((number, repr(char)))
    return found


class ParseError(Exception):
    """A rendered file its program would not load."""


# --- nginx ------------------------------------------------------------------------------------------

class NginxConfig(object):
    """An nginx tree parsed from its nginx.conf as nginx would load it (crossplane)."""

    def __init__(self, files, main, links=None):
        """``files``: absolute destination -> text; ``main``: the nginx.conf among them; ``links``: link -> target."""
        self.root = tempfile.mkdtemp(prefix='webops-nginx-')
        try:
            for dest, text in files.items():
                _write(self.root, dest, text)
            for link, target in (links or {}).items():
                path = self.root + link
                if not os.path.isdir(os.path.dirname(path)):
                    os.makedirs(os.path.dirname(path))
                os.symlink(target, path)
            self.payload = crossplane.parse(self.root + main, comments=True, check_ctx=True, check_args=True)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
        # Files of the nginx package (mime.types) are not in the rendered tree: an include nginx finds on the
        # host, and nothing the roles write.
        self.errors = [error for error in self.payload['errors']
                       if not (error['error'].startswith('[Errno 2] No such file or directory')
                               and not error['error'].rstrip("'").split("'")[-1].startswith(self.root))]

    def files(self):
        """Each parsed file, as its destination path, in the order nginx reads them."""
        return [entry['file'][len(self.root):] for entry in self.payload['config']]

    def structure(self):
        """Per file, in order: the nested list of (directive, number of arguments, block)."""
        return [_nginx_shape(entry['parsed']) for entry in self.payload['config']]

    def directives(self, name):
        """Every (file, context path, args) of directive ``name``."""
        found = []
        for entry in self.payload['config']:
            found.extend((entry['file'][len(self.root):], ctx, stmt['args'])
                         for ctx, stmt in _nginx_walk(entry['parsed'], ()) if stmt['directive'] == name)
        return found


# Inside these blocks the first word of a line is a value (a map's source value), not a directive.
_NGINX_VALUE_BLOCKS = {'map', 'geo', 'split_clients', 'types'}
_NGINX_MAP_PARAMETERS = {'default', 'hostnames', 'include', 'volatile', 'ranges', 'proxy', 'delete'}


def _nginx_shape(parsed, values=False):
    shape = []
    for stmt in parsed:
        if stmt['directive'] == '#':
            shape.append(('#', 0, None))
            continue
        name = stmt['directive']
        if values and name not in _NGINX_MAP_PARAMETERS:
            name = '<value>'
        block = _nginx_shape(stmt['block'], stmt['directive'] in _NGINX_VALUE_BLOCKS) if 'block' in stmt else None
        shape.append((name, len(stmt['args']), block))
    return shape


def _nginx_walk(parsed, ctx):
    for stmt in parsed:
        yield ctx, stmt
        if 'block' in stmt:
            yield from _nginx_walk(stmt['block'], ctx + ((stmt['directive'],) + tuple(stmt['args']),))


def _write(root, dest, text):
    path = root + dest
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    with open(path, 'w', encoding='utf-8', newline='') as handle:
        handle.write(text)


# --- supervisord ------------------------------------------------------------------------------------

# supervisord's environment under systemd on Debian 12 (what %(ENV_X)s can expand to).
SUPERVISORD_ENVIRON = {'ENV_LANG': 'C.UTF-8', 'ENV_PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
                       'ENV_HOME': '/root', 'ENV_LOGNAME': 'root', 'ENV_USER': 'root', 'ENV_SHELL': '/bin/sh',
                       'ENV_INVOCATION_ID': '0123456789abcdef0123456789abcdef', 'ENV_JOURNAL_STREAM': '8:12345'}


class _HostLookups(object):
    """What supervisord asks the host while it reads its configuration, answered for the rendered tree."""

    def __init__(self, root, accounts):
        self.root = root
        self.accounts = dict(accounts)  # name -> uid, as on the host the files are for
        self.saved = []

    def name_to_uid(self, name):
        if name in self.accounts:
            return self.accounts[name]
        if str(name).isdigit():
            return int(name)
        raise ValueError('Invalid user name %s' % name)

    @staticmethod
    def existing_path(value):
        return value

    def glob(self, pattern):
        return sorted(path for path in glob.glob(self.root + pattern) if os.path.isfile(path))

    def __enter__(self):
        shim = type('glob_shim', (object,), {'glob': staticmethod(self.glob)})
        for module, name, value in ((supervisor_options, 'name_to_uid', self.name_to_uid),
                                    (supervisor_options, 'existing_dirpath', self.existing_path),
                                    (supervisor_options, 'existing_directory', self.existing_path),
                                    (supervisor_datatypes, 'existing_dirpath', self.existing_path),
                                    (supervisor_options, 'glob', shim)):
            self.saved.append((module, name, getattr(module, name)))
            setattr(module, name, value)
        return self

    def __exit__(self, *exc):
        for module, name, value in reversed(self.saved):
            setattr(module, name, value)
        self.saved = []


def _on_the_host(_filename, _argv, _stat):
    return None


class SupervisordConfig(object):
    """supervisord's configuration as supervisord 4.2.5 reads it (ServerOptions.read_config)."""

    def __init__(self, files, main='/etc/supervisor/supervisord.conf', accounts=None):
        root = tempfile.mkdtemp(prefix='webops-supervisor-')
        self.accounts = dict(accounts or {})
        parsers = []
        original_parser = supervisor_options.UnhosedConfigParser

        class RecordingParser(original_parser):
            def __init__(self, *args, **kwargs):
                original_parser.__init__(self, *args, **kwargs)
                parsers.append(self)

        try:
            for dest, text in files.items():
                _write(root, dest, text)
            options = supervisor_options.ServerOptions()
            options.environ_expansions = dict(SUPERVISORD_ENVIRON)
            options.here = os.path.dirname(main)
            options.configfile = main
            supervisor_options.UnhosedConfigParser = RecordingParser
            with _HostLookups(root, self.accounts):
                try:
                    with open(root + main, 'r', encoding='utf-8') as handle:
                        self.section = options.read_config(handle)
                except ValueError as exc:
                    raise ParseError(str(exc).replace(root, ''))
            self.parser = parsers[0]
            self.warnings = list(options.parse_warnings)
            # The program exists on the host (the release's virtualenv) and is executable there.
            options.check_execv_args = _on_the_host
            self.options = options
        finally:
            supervisor_options.UnhosedConfigParser = original_parser
            shutil.rmtree(root, ignore_errors=True)
        self.uids = dict((uid, name) for name, uid in self.accounts.items())

    def sections(self):
        """[(section, sorted keys)] in the order of the files."""
        return [(section, sorted(self.parser.options(section))) for section in self.parser.sections()]

    def programs(self):
        """One dict per process supervisord would run: group, name, argv, directory, user, environment."""
        found = []
        for group in self.section.process_group_configs:
            for config in group.process_configs:
                try:
                    _filename, argv = supervisor_process.Subprocess(config).get_execv_args()
                except Exception as exc:  # BadCommand and NotFound: supervisord would not start it
                    raise ParseError('%s: %s' % (config.name, exc))
                found.append({'group': group.name, 'name': config.name, 'argv': argv, 'directory': config.directory,
                              'user': self.uids.get(config.uid, config.uid), 'environment': dict(config.environment or {}),
                              'stdout_logfile': config.stdout_logfile})
        return found

    def structure(self):
        """The kinds of the sections (names are values) with their keys, which group each program is in and
        how many words its command and which keys its environment has, and the control servers."""
        groups = [group.name for group in self.section.process_group_configs]
        return {'sections': [(section.split(':')[0], keys) for section, keys in self.sections()],
                'programs': [(groups.index(p['group']), len(p['argv']), sorted(p['environment'])) for p in self.programs()],
                'server': [(type(server).__name__, sorted(server)) for server in self.section.server_configs]}


# --- systemd units and drop-ins ---------------------------------------------------------------------

def systemd_unit(text):
    """[(section, key, value)] as systemd reads a unit file or drop-in (continuation lines joined)."""
    entries = []
    section = None
    lines = text.split('\n')
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        if not line or line[0] in '#;':
            continue
        while line.endswith('\\') and index < len(lines):
            line = line[:-1] + ' ' + lines[index].strip()
            index += 1
        if line.startswith('[') and line.endswith(']'):
            section = line[1:-1]
            continue
        if '=' not in line or section is None:
            raise ParseError('systemd: not an assignment in a section: %r' % line)
        key, value = line.split('=', 1)
        entries.append((section, key.strip(), value.strip()))
    return entries


def systemd_structure(text):
    return [(section, key) for section, key, _value in systemd_unit(text)]


# --- pam-auth-update profiles -----------------------------------------------------------------------

def pam_profile(text):
    """[(field, [value lines])] of a pam-auth-update profile (/usr/share/pam-configs)."""
    fields = []
    for line in text.split('\n'):
        if not line.strip() or line.startswith('#'):
            continue
        if line[0] in ' \t':
            if not fields:
                raise ParseError('pam-configs: continuation line before any field: %r' % line)
            fields[-1][1].append(line.strip())
            continue
        if ':' not in line:
            raise ParseError('pam-configs: not a field: %r' % line)
        name, value = line.split(':', 1)
        fields.append((name, [value.strip()] if value.strip() else []))
    return fields


def pam_structure(text):
    return [(name, len(values)) for name, values in pam_profile(text)]


# --- limits.conf (pam_limits) ------------------------------------------------------------------------

def limits_conf(text):
    """[(domain, type, item, value)] as pam_limits reads a limits.conf: what follows '#' is a comment, a
    line is split on blanks, and a line that is not blank must have exactly four fields."""
    entries = []
    for number, line in enumerate(text.split('\n'), 1):
        fields = line.split('#', 1)[0].split()
        if not fields:
            continue
        if len(fields) != 4:
            raise ParseError('limits.conf line %d: %d fields, not 4: %r' % (number, len(fields), line))
        entries.append(tuple(fields))
    return entries


def limits_structure(text):
    return [(kind, item) for _domain, kind, item, _value in limits_conf(text)]


# --- nftables ---------------------------------------------------------------------------------------

_NFT_TOKEN = re.compile(r'(?P<comment>#[^\n]*)|(?P<string>"[^"\n]*")|(?P<newline>\n)|(?P<punct>[{};,])|(?P<space>[ \t]+)|'
                        r'(?P<word>[^\s{};,"#]+)|(?P<other>.)', re.S)


def nft_tokens(text):
    """[(kind, text)] of an nft file: comment, string, newline, punct, word (and 'other' for anything nft
    would not take, such as a lone quote or a control character)."""
    tokens = []
    for match in _NFT_TOKEN.finditer(text):
        kind = match.lastgroup
        if kind not in ('space', 'comment'):
            tokens.append((kind, match.group()))
    return tokens


def nft_statements(text):
    """The file as nested blocks of statements: [(keyword, token kinds, elements, block)] where a statement
    ends at a newline or ';' and ``elements`` are the words of its ``{ ... }`` list, if any."""
    tokens = nft_tokens(text)
    position = [0]

    def parse_block():
        statements = []
        current = []
        while position[0] < len(tokens):
            kind, value = tokens[position[0]]
            position[0] += 1
            if kind == 'punct' and value == '}':
                if current:
                    statements.append(_nft_statement(current, None))
                return statements
            if kind == 'newline' or (kind == 'punct' and value == ';'):
                if current:
                    statements.append(_nft_statement(current, None))
                current = []
                continue
            if kind == 'punct' and value == '{':
                if _nft_is_list(current):
                    elements = []
                    while position[0] < len(tokens) and tokens[position[0]] != ('punct', '}'):
                        item = tokens[position[0]]
                        position[0] += 1
                        if item[0] == 'word':
                            elements.append(item[1])
                        elif item not in (('punct', ','), ('newline', '\n')):
                            elements.append(item)
                    position[0] += 1
                    current.append(('list', tuple(elements)))
                    continue
                statements.append(_nft_statement(current, parse_block()))
                current = []
                continue
            current.append((kind, value))
        if current:
            statements.append(_nft_statement(current, None))
        return statements

    return parse_block()


def _nft_is_list(current):
    # "elements = { ... }" and "tcp dport { ... }": an anonymous set, not a block.
    words = [value for kind, value in current if kind == 'word']
    return bool(words) and (words[-1] in ('=', 'dport', 'sport', 'saddr', 'daddr') or words[0] == 'elements')


def _nft_statement(tokens, block):
    keyword = tokens[0][1] if tokens and tokens[0][0] == 'word' else '?'
    kinds = tuple('list' if kind == 'list' else (value if kind == 'punct' else kind) for kind, value in tokens)
    elements = [value for kind, value in tokens if kind == 'list']
    return (keyword, kinds, elements, block)


def nft_structure(text):
    """nft_statements without the elements of lists (their number follows the input)."""
    def strip(statements):
        return [(keyword, kinds, len(elements), strip(block) if block is not None else None)
                for keyword, kinds, elements, block in statements]
    return strip(nft_statements(text))


def nft_elements(text):
    """Every element list of the file, in order."""
    found = []

    def walk(statements):
        for _keyword, _kinds, elements, block in statements:
            found.extend(elements)
            if block is not None:
                walk(block)
    walk(nft_statements(text))
    return found


# --- JSON -------------------------------------------------------------------------------------------

def json_structure(text):
    """The top-level keys and the type of each value."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ParseError('launcher.json: not an object')
    return sorted((key, type(value).__name__) for key, value in data.items())
