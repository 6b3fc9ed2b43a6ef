# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that reshape the app's variables into what the launcher and the other roles consume."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath
import shlex

from ansible_collections.webops.tornado.plugins.plugin_utils import inputs


def shell_split(command, replacements=None):
    """Split a command line like a shell (no shell runs it), then replace placeholders in each word.

    The launcher executes the resulting argv itself, so no word is ever parsed again by supervisord or
    a shell: quotes, '%' and ';' in a word stay part of that word.
    """
    words = shlex.split(command)
    for placeholder, value in (replacements or {}).items():
        words = [word.replace(placeholder, str(value)) for word in words]
    return words


def environment(variables):
    """Environment variables as the launcher sets them: names to strings (numbers become text)."""
    return dict((str(name), str(value)) for name, value in (variables or {}).items())


def served_static(release_info, app_home, allow_outside=False):
    """Where nginx serves the app's static files from, and under which URL prefix: {path, prefix}.

    ``release_info`` is the current release's RELEASE.json; its ``app`` holds what the launcher's
    release check read from the built Application (the app's own static_path, inside the release that
    was checked, and static_url_prefix). The path is moved from releases/<id>/ to current/, so nginx
    follows the release that is current. None for the path when the app has no static_path, or one
    nginx should not serve (outside app_home, unless allowed, or not a safe path): then nginx sends
    static URLs to Tornado, which serves what the app said.
    """
    app = (release_info or {}).get('app') or {}
    prefix = app.get('static_url_prefix') or '/static/'
    if inputs.check({'kind': 'url_path', 'prefix': True}, prefix):
        prefix = None
    path = app.get('static_path')
    release = posixpath.join(app_home, 'releases', str((release_info or {}).get('id', '')))
    if not path or not (release_info or {}).get('id'):
        return {'path': None, 'prefix': prefix}
    path = posixpath.normpath(path)
    if path == release or path.startswith(release + '/'):
        path = posixpath.join(app_home, 'current') + path[len(release):]
    rule = {'kind': 'path', 'roots': [app_home], 'anywhere': bool(allow_outside)}
    if inputs.check(rule, path):
        path = None
    return {'path': path, 'prefix': prefix}


def app_programs(ports, name, process_model, program_count, command, directory, expect_argv=None):
    """The supervisord programs of an app: one per port (ports, fork, development listen on one port,
    so one program), or ``program_count`` programs sharing each port (reuse_port), named
    <name>-<port>[-<n>]. ``{port}`` in the command (and in ``expect_argv``) becomes the program's port."""
    copies = int(program_count) if process_model == 'reuse_port' else 1
    programs = []
    for port in ports:
        for index in range(copies):
            program = {
                'name': '%s-%s%s' % (name, port, ('-%d' % index) if process_model == 'reuse_port' else ''),
                'port': int(port),
                'command': command.replace('{port}', str(port)),
                'directory': directory,
            }
            if expect_argv:
                program['expect_argv'] = [word.replace('{port}', str(port)) for word in expect_argv]
            programs.append(program)
    return programs


class FilterModule(object):
    """webops.tornado vocabulary filters."""

    def filters(self):
        return {'shell_split': shell_split, 'environment': environment, 'served_static': served_static,
                'app_programs': app_programs}
