# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app_export fact, declared once: what webops.tornado.app publishes (roles/app/tasks/export.yml) and
what the supervisor, firewall and nginx roles read from it (docs/architecture.md shows the same keys).

``ARGUMENT_SPEC`` is in Ansible's argument-spec format and is checked with ansible-core's own
``ArgumentSpecValidator`` (missing, unknown and mistyped keys); ``problems`` adds the few rules a spec
cannot say (a name nginx and supervisord accept, absolute paths, at least one backend and program).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from collections.abc import Mapping, Sequence

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.six import string_types

PROCESS_MODELS = ['ports', 'fork', 'reuse_port', 'development']

ARGUMENT_SPEC = dict(
    # app_name: the supervisord group, the nginx upstream and site, the firewall table.
    name=dict(type='str', required=True),
    user=dict(type='str', required=True),
    group=dict(type='str', required=True),
    home=dict(type='str', required=True),
    log_dir=dict(type='str', required=True),
    # app_config_dir: two apps of one machine must not share it (webops.tornado.machine_problems).
    config_dir=dict(type='str', required=True),
    process_model=dict(type='str', required=True, choices=PROCESS_MODELS),
    # What nginx proxies to and the firewall guards: one entry per listening port.
    backends=dict(type='list', elements='dict', required=True, options=dict(
        address=dict(type='str', required=True),
        port=dict(type='int', required=True),
    )),
    # What supervisord runs: one [program:...] each.
    programs=dict(type='list', elements='dict', required=True, options=dict(
        name=dict(type='str', required=True),
        port=dict(type='int', required=True),
        command=dict(type='str', required=True),
        directory=dict(type='str', required=True),
        expect_argv=dict(type='list', elements='str'),
    )),
    # The process group's environment (constant); the app's own is in the launcher's 0600 config.
    environment=dict(type='dict', required=True),
    stop_grace_seconds=dict(type='int', required=True),
    # null when nginx sends static URLs to Tornado.
    static_path=dict(type='str'),
    static_url_prefix=dict(type='str', required=True),
    # <version>/<path> of every kept release's static files (webops.tornado.static_versions): versioned URLs
    # are answered from here with the bytes their ?v= names; null when static_path is.
    static_versions_path=dict(type='str'),
    health_path=dict(type='str', required=True),
    # app_state: an absent app keeps publishing its layout (which programs, ports and table to remove)
    # but no consumer serves it: supervisord drops its group, nginx its site, the firewall its table.
    state=dict(type='str', required=True, choices=['present', 'absent']),
)

# Keys whose value may be null (they must still be present).
NULLABLE = ('static_path', 'static_versions_path')

_NAME = re.compile(r'^[A-Za-z0-9_.-]+$')
_URL_PREFIX = re.compile(r'^/(.*/)?$')


def _plain(value):
    """A copy made of plain dicts, lists and scalars: the validator deep-copies what it checks, and a fact
    read through hostvars is made of lazy containers that would copy their whole templating context."""
    if isinstance(value, Mapping):
        return dict((_plain(key), _plain(item)) for key, item in value.items())
    if isinstance(value, string_types):
        return str(value)
    if isinstance(value, Sequence):
        return [_plain(item) for item in value]
    return value


def problems(export):
    """Every way ``export`` differs from the contract, as sentences that name the key; [] when it fits."""
    if not isinstance(export, Mapping):
        return ['must be a mapping with the keys %s, not %s' % (', '.join(sorted(ARGUMENT_SPEC)), type(export).__name__)]
    export = _plain(export)
    found = []
    missing = sorted(key for key in NULLABLE if key not in export)
    if missing:
        found.append('missing required arguments: %s' % ', '.join(missing))
    result = ArgumentSpecValidator(ARGUMENT_SPEC).validate(dict(export))
    found.extend(result.error_messages)
    if result.error_messages:
        return found
    value = result.validated_parameters
    for key in ('name', 'user', 'group', 'home', 'log_dir', 'static_url_prefix', 'health_path'):
        if not value[key]:
            found.append('%s must not be empty' % key)
    if value['name'] and not _NAME.match(value['name']):
        found.append('name must be letters, digits, _ . and - only, not %r' % value['name'])
    for key in ('home', 'log_dir', 'config_dir', 'static_path', 'static_versions_path', 'health_path'):
        if value[key] and not value[key].startswith('/'):
            found.append('%s must be absolute (start with /), not %r' % (key, value[key]))
    if value['static_url_prefix'] and not _URL_PREFIX.match(value['static_url_prefix']):
        found.append('static_url_prefix must start and end with / (like /static/), not %r' % value['static_url_prefix'])
    if value['stop_grace_seconds'] < 1:
        found.append('stop_grace_seconds must be 1 or more, not %d' % value['stop_grace_seconds'])
    for key in ('backends', 'programs'):
        if not value[key]:
            found.append('%s must list one or more entries' % key)
    for index, backend in enumerate(value['backends']):
        if not 0 < backend['port'] < 65536:
            found.append('backends[%d].port must be 1 to 65535, not %d' % (index, backend['port']))
    names = [program['name'] for program in value['programs']]
    if len(set(names)) != len(names):
        found.append('programs must have distinct names, not %s' % ', '.join(names))
    for key in value['environment']:
        if not isinstance(key, string_types):
            found.append('environment names must be text, not %r' % (key,))
    return found
