# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`supervisorctl status GROUP:*`, `stop GROUP:NAME` and `start GROUP:NAME` asked of supervisord itself, over the
unix socket supervisorctl uses, with the output and exit status supervisorctl 4.x gives.

Why: supervisorctl is a Python program of its own, about 0.12 s to start on a small host, and a rolling restart runs
it twice per process (stop, start) after reading the group's status: the same calls over the socket take
milliseconds. Anything else, and any of these when the socket cannot be reached or supervisorctl's config asks for
what this does not do (a username, an inet server), runs the supervisorctl command as before.

Kept free of AnsibleModule: `runner()` takes the module's run_command, so the unit tests can drive it with a real
XML-RPC server on a unix socket.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket

from ansible.module_utils.six.moves import configparser
from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves import xmlrpc_client

# Where supervisorctl looks for its config, in its own order (supervisor/options.py), the one Debian's package
# uses last.
CONFIG_PATHS = ('/etc/supervisord.conf', '/etc/supervisor/supervisord.conf')

# supervisor.xmlrpc.Faults
BAD_NAME = 10
NO_FILE = 20
NOT_EXECUTABLE = 21
FAILED = 30
ABNORMAL_TERMINATION = 40
SPAWN_ERROR = 50
ALREADY_STARTED = 60
NOT_RUNNING = 70

_START_ERRORS = {BAD_NAME: 'no such process', NO_FILE: 'no such file', NOT_EXECUTABLE: 'file is not executable',
                 ALREADY_STARTED: 'already started', SPAWN_ERROR: 'spawn error',
                 ABNORMAL_TERMINATION: 'abnormal termination'}
_STOP_ERRORS = {BAD_NAME: 'no such process', NOT_RUNNING: 'not running'}
# supervisorctl's exit status for a fault it does not ignore: 7 (LSB "not running") for these, 1 for the others.
_DEAD_PROGRAM_FAULTS = (SPAWN_ERROR, ABNORMAL_TERMINATION, NOT_RUNNING)
# supervisor.states.STOPPED_STATES: `status` exits 3 when one of these is listed.
_STOPPED_STATES = ('STOPPED', 'EXITED', 'FATAL', 'UNKNOWN')


class Unreachable(Exception):
    """The socket is not there or refuses: supervisorctl itself says why."""


def socket_path(config_paths=CONFIG_PATHS):
    """The unix socket of supervisorctl's config ([supervisorctl] serverurl), or None when this cannot use it."""
    for path in config_paths:
        parser = configparser.RawConfigParser()
        try:
            if not parser.read(path):
                continue
        except configparser.Error:
            return None
        if not parser.has_section('supervisorctl') or parser.has_option('supervisorctl', 'username'):
            return None
        url = parser.get('supervisorctl', 'serverurl') if parser.has_option('supervisorctl', 'serverurl') else ''
        return url[len('unix://'):] if url.startswith('unix://') else None
    return None


class _UnixConnection(http_client.HTTPConnection):
    def __init__(self, path, timeout):
        http_client.HTTPConnection.__init__(self, 'localhost', timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class _UnixTransport(xmlrpc_client.Transport):
    def __init__(self, path, timeout):
        xmlrpc_client.Transport.__init__(self)
        self.unix_path = path
        self.unix_timeout = timeout

    def make_connection(self, host):
        return _UnixConnection(self.unix_path, self.unix_timeout)


class SupervisorRPC(object):
    """supervisord's `supervisor` namespace over its unix socket: one connection per call, so threads may share it."""

    def __init__(self, path, timeout=None):
        self.path = path
        self.timeout = timeout

    def call(self, method, *args):
        proxy = xmlrpc_client.ServerProxy('http://localhost', transport=_UnixTransport(self.path, self.timeout))
        try:
            return getattr(proxy.supervisor, method)(*args)
        except (socket.error, OSError) as exc:
            raise Unreachable(str(exc))


def status(rpc, group):
    """(rc, out, err) of `supervisorctl status GROUP:*`."""
    infos = [info for info in rpc.call('getAllProcessInfo') if info['group'] == group]
    if not infos:
        return 4, '%s: ERROR (no such group)\n' % group, ''
    lines = ['%-32s %-9s %s' % ('%s:%s' % (group, info['name']), info['statename'], info['description'])
             for info in infos]
    rc = 3 if any(info['statename'] in _STOPPED_STATES for info in infos) else 0
    return rc, '\n'.join(lines) + '\n', ''


def _control(rpc, method, name, done, errors, ignored):
    try:
        rpc.call(method, name, True)
    except xmlrpc_client.Fault as fault:
        code = fault.faultCode
        rc = 0 if code == ignored else 7 if code in _DEAD_PROGRAM_FAULTS else 1
        return rc, '%s: ERROR (%s)\n' % (name, errors.get(code, fault.faultString)), ''
    return 0, '%s: %s\n' % (name, done), ''


def runner(run_command, binary='supervisorctl', config_paths=CONFIG_PATHS, timeout=None):
    """A callable(args) -> (rc, out, err) like `run_command([binary] + args)`, asking supervisord directly where it can.

    ``timeout`` bounds each call over the socket (None waits: a stop lasts up to the program's stopwaitsecs, a start
    its startsecs, as with supervisorctl).
    """
    path = socket_path(config_paths)
    rpc = SupervisorRPC(path, timeout) if path else None

    def supervisorctl(args):
        if rpc is not None and len(args) == 2 and ':' in args[1]:
            command, target = args
            try:
                if command == 'status' and target.endswith(':*'):
                    return status(rpc, target[:-2])
                if command == 'stop':
                    return _control(rpc, 'stopProcess', target, 'stopped', _STOP_ERRORS, NOT_RUNNING)
                if command == 'start':
                    return _control(rpc, 'startProcess', target, 'started', _START_ERRORS, ALREADY_STARTED)
            except (Unreachable, xmlrpc_client.Fault, xmlrpc_client.ProtocolError, http_client.HTTPException):
                pass  # supervisorctl says what is wrong
        return run_command([binary] + list(args))

    return supervisorctl
