# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for webops.tornado.deploy_lock: says who is taking the lock, and judges a holder that is gone.

Only the controller can tell whether a run is still going: the run is the ansible-playbook process (the
parent of this worker), identified by the controller's host name, its pid and the kernel's start time of
that pid. A lock left by a run of this controller whose process is gone is replaced with a warning; one
held by a live run, or by a run of another controller, is refused unless break_lock is set.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import getpass
import os
import socket
import time

from ansible.plugins.action import ActionBase

from ansible_collections.webops.tornado.plugins.module_utils import deploy_lock

# ansible-playbook options that take a value: their values (extra vars may hold secrets) are never recorded.
_OPTIONS_WITH_VALUE = frozenset((
    '-i', '--inventory', '--inventory-file', '-e', '--extra-vars', '-l', '--limit', '-t', '--tags', '--skip-tags',
    '-u', '--user', '-f', '--forks', '-c', '--connection', '-M', '--module-path', '--vault-id',
    '--vault-password-file', '--vault-pass-file', '-T', '--timeout', '--become-user', '--become-method',
    '--private-key', '--key-file', '--start-at-task', '--ssh-common-args', '--sftp-extra-args',
    '--scp-extra-args', '--ssh-extra-args', '-P', '--poll', '-B', '--background', '--become-password-file',
    '--connection-password-file',
))


def playbooks_of(argv):
    """The playbook arguments of an ansible-playbook command line (no option, no option's value)."""
    found, skip = [], False
    for word in argv[1:]:
        if skip:
            skip = False
        elif word in _OPTIONS_WITH_VALUE:
            skip = True
        elif not word.startswith('-') and not os.path.basename(word).startswith('ansible-playbook'):
            found.append(os.path.basename(word))
    return ' '.join(found) or '?'


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return [part.decode('utf-8', 'replace') for part in handle.read().split(b'\0') if part]
    except (IOError, OSError):
        return []


def this_run():
    """The holder this run writes into the lock."""
    pid = os.getppid()  # workers are forked from the ansible-playbook process
    controller = socket.gethostname()
    ticks = deploy_lock.start_ticks(pid)
    argv = _cmdline(pid)
    # The interpreter may come first (a shebang run by python).
    starts = [i for i, word in enumerate(argv) if os.path.basename(word).startswith('ansible-playbook')]
    argv = argv[starts[0]:] if starts else argv
    return {
        'run': '%s:%d:%s' % (controller, pid, ticks),
        'controller': controller,
        'pid': pid,
        'start_ticks': ticks,
        'user': getpass.getuser(),
        'playbook': playbooks_of(argv) if argv else '?',
        'since': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    }


class ActionModule(ActionBase):
    """Take or release the deploy lock with this run as its holder."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('app', 'state', 'break_lock', 'current'))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        app = args.get('app')
        holder = this_run()
        args['holder'] = holder
        outcome = self._execute_module(module_name='webops.tornado.deploy_lock', module_args=args, task_vars=task_vars)
        if outcome.get('failed') or args.get('state', 'present') == 'absent':
            result.update(outcome)
            return result
        if outcome.get('lock') == 'refused':
            previous = outcome.get('holder') or {}
            if deploy_lock.holder_gone(previous, holder['controller']):
                args['replace'] = previous.get('run', '')
                outcome = self._execute_module(module_name='webops.tornado.deploy_lock', module_args=args,
                                               task_vars=task_vars)
                if outcome.get('lock') == 'replaced':
                    self._display.warning(
                        'The deploy lock of %s was left by a run that is gone (%s): this run took it over.'
                        % (app, deploy_lock.describe(previous)))
        result.update(outcome)
        if outcome.get('lock') == 'refused':
            result['failed'] = True
            result['msg'] = (
                'Another run is deploying %s on this host: %s. Wait for it to end. If that run is gone (it failed '
                'or was interrupted on another controller), re-run with -e app_lock_break=true to break its lock.'
                % (app, deploy_lock.describe(outcome.get('holder'))))
        elif outcome.get('lock') == 'replaced' and args.get('break_lock'):
            self._display.warning('app_lock_break: broke the deploy lock of %s held by %s.'
                                  % (app, deploy_lock.describe(outcome.get('previous'))))
        return result
