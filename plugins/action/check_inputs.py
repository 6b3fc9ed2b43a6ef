# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for webops.tornado.check_inputs: runs on the controller only (no remote round trip)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleActionFail, AnsibleUndefinedVariable
from ansible.playbook.conditional import Conditional
from ansible.plugins.action import ActionBase

from ansible_collections.webops.tornado.plugins.plugin_utils import inputs


class ActionModule(ActionBase):
    """Check variables against the collection's input rules before any host changes."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(('rules', 'values', 'prefix', 'defer_undefined', 'checks'))

    @classmethod
    def finalize_task_arg(cls, name, value, templar, context):
        # ansible-core 2.19 templates every argument before run(): `checks` stays as written, as assert's `that`
        # does, so a message is templated only once its check failed (it may name what exists only then).
        if name == 'checks':
            return value
        return super(ActionModule, cls).finalize_task_arg(name, value, templar, context)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        rules = self._task.args.get('rules')
        values = self._task.args.get('values')
        prefix = self._task.args.get('prefix') or ''
        checks = self._checks(self._task.args.get('checks'))
        if rules is None and checks:
            rules = {}
        elif not isinstance(rules, dict) or not rules:
            raise AnsibleActionFail('check_inputs: rules must be a non-empty mapping of variable names to rules')
        try:
            for rule in rules.values():
                inputs.normalise_rule(rule)
        except inputs.InputError as exc:
            raise AnsibleActionFail('check_inputs: %s' % exc)
        deferred = []
        if values is None and self._task.args.get('defer_undefined'):
            # One variable at a time: a value built from what a later task reads on the host is left to the
            # role's full check, which runs after that read.
            values = {}
            for name, rule in rules.items():
                if name not in task_vars:
                    continue
                if inputs.normalise_rule(rule).get('host_read'):
                    # Its default is built from the host's reads, and `default` filters hide that they are missing.
                    deferred.append(name)
                    continue
                try:
                    values[name] = self._templar.template(task_vars[name])
                except AnsibleUndefinedVariable:
                    deferred.append(name)
        elif values is None:
            # As validate_argument_spec does: the role's variables, templated as the tasks will see them.
            values = self._templar.template(dict((name, task_vars[name]) for name in rules if name in task_vars))
        elif not isinstance(values, dict):
            raise AnsibleActionFail('check_inputs: values must be a mapping')
        messages = inputs.errors(dict((name, rule) for name, rule in rules.items() if name not in deferred), values,
                                 prefix=prefix)
        result['changed'] = False
        result['deferred'] = sorted(deferred)
        if not messages:
            # Only once every value has its kind: a check's condition may then rely on it.
            for check in checks:
                if not all(self._holds(that, task_vars) for that in check['that']):
                    messages = [self._message(check['msg'])]
                    break
        if messages:
            # The sentences only: a failure's output is read by people, the list of good names would bury them.
            result['failed'] = True
            result['errors'] = messages
            result['msg'] = ' '.join(messages)
        else:
            result['checked'] = sorted(name for name in rules if name in values)
            result['msg'] = 'All %d inputs are acceptable.' % len(result['checked'])
            if checks:
                result['msg'] += ' All %d checks hold.' % len(checks)
        return result

    @staticmethod
    def _checks(checks):
        """``checks`` as a list of {that: [conditions], msg: message}; an ill-formed one is a bug in the role."""
        if checks is None:
            return []
        found = []
        for check in checks if isinstance(checks, list) else [None]:
            that = check.get('that') if isinstance(check, dict) else None
            that = that if isinstance(that, list) else [that]
            if (not isinstance(check, dict) or set(check) != {'that', 'msg'} or not isinstance(check['msg'], str)
                    or not that or any(not isinstance(condition, (str, bool)) for condition in that)):
                raise AnsibleActionFail('check_inputs: checks must be a list of mappings with that (a condition or a list '
                                        'of them) and msg (a message), got %r' % (check,))
            found.append({'that': that, 'msg': check['msg']})
        return found

    def _holds(self, that, task_vars):
        if hasattr(self._templar, 'evaluate_conditional'):
            return self._templar.evaluate_conditional(conditional=that)
        # ansible-core 2.17 and 2.18, as their assert action evaluates `that`.
        condition = Conditional(loader=self._loader)
        condition.when = [that]
        return condition.evaluate_conditional(templar=self._templar, all_vars=task_vars)

    def _message(self, msg):
        if hasattr(self._templar, 'evaluate_conditional'):
            msg = self._templar.template(msg)
        # else ansible-core 2.17 or 2.18, which templated it with the other arguments before run().
        return msg if isinstance(msg, str) else str(msg)
