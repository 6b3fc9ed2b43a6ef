# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the controller side of the roles' tasks with ansible-core's own objects, to render their templates.

Why this is what a real run writes (ansible-core 2.19, the objects ``ansible-playbook`` builds):

- Variables: a real ``DataLoader``, ``InventoryManager``, ``VariableManager`` and ``HostVars``, and a real
  ``Play`` loaded from ``import_role`` tasks of the collection's roles, resolved by FQCN through the
  collection loader that ``tests/unit/conftest.py`` installs. ``VariableManager.get_vars(play, host, task)``
  gives each task what it gets in a run: the role's ``defaults/main.yml``, its ``vars/main.yml``, inventory
  variables, facts (``app_export`` and ``limits_export`` from the roles that publish them), ``role_path``,
  ``inventory_hostname``, ``groups``, ``hostvars``, ``ansible_play_hosts_all``... All of them stay lazy: Ansible's template engine
  resolves ``"{{ app_home }}"`` inside a vars file when (and as often as) a template reads it.
- Tasks: the tasks of the role's own task files, compiled by the ``Play`` (``import_role`` with ``tasks_from``
  for a file that ``main.yml`` pulls in with ``include_tasks``, with the same ``vars``). Running one does
  what ``TaskExecutor`` does on the controller: ``ansible_search_path`` from ``task.get_search_path()`` plus
  the playbook directory, the loop evaluated by the template engine with ``loop_var``/``index_var`` set,
  ``when`` evaluated, ``Task.post_validate`` with a ``TemplateEngine`` (which templates and finalises the
  arguments), then the action plugin that ``action_loader`` resolves for the task, built with
  ``Templar._from_template_engine`` as ``TaskExecutor`` builds it.
- Results are applied as the linear strategy applies them: ``set_fact`` to the non-persistent facts,
  ``include_vars`` to the host's variables (``set_host_variable``), ``register`` as a non-persistent fact.
- Templates: rendered by ansible-core's real ``template`` action plugin (``plugins/action/template.py``):
  it finds the source with ``_find_needle('templates', src)``, builds the Jinja search path (so
  ``{% import 'macros/...' %}`` is found in the role's ``templates/``), adds ``ansible_managed`` and the
  ``template_*`` variables, and renders with ``trim_blocks``. The only stand-ins are where the action
  would reach the host: a connection whose shell has a temporary directory already (nothing is created
  or removed), and the ``copy`` action it hands the rendered file to, which keeps the text instead of
  transferring it (``Rendered``).
- What runs on the host (``host_facts``, ``slurp``, ``nginx -v``, fact gathering) is given as the result
  the module would return (``Deployment.set_facts``, ``Deployment.set_gathered_facts``, and the ``given``
  registers of ``RolePlay.run_tasks``): ``stack.py`` says which, for a plain Debian 12 host.

Filters such as ``webops.tornado.environment`` and ``community.general.dict_kv`` resolve through the same
plugin loaders as in a run; nothing of the roles (templates, vars, filters) is copied here.

Speed: ansible-core compiles every template string it meets, each time it meets it (Jinja's
``Environment.from_string`` has no cache), which is most of the cost of a render. ``memoize_compile()``
keeps the code object Jinja's ``Environment.compile`` returns, keyed by everything that compile reads (the
source text, the environment's class and lexer settings, Ansible's backslash-escaping context, the optimizer
and extensions): a pure function of its key, so a second compile could only return the same code. Every
template object is still created by Jinja for its own environment. ``tests/unit/render`` turns it on;
``test_role_render.py`` checks the output is the same byte for byte with and without it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os

from ansible import constants as C
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.block import Block
from ansible.playbook.play import Play
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import action_loader
from ansible.template import Templar, trust_as_template
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager
# TaskExecutor post-validates tasks with this engine (ansible-core 2.19 has no public equivalent).
from ansible._internal._templating._engine import TemplateEngine
from ansible._internal._templating import _jinja_bits
from ansible._internal._errors import _error_utils
from ansible.errors import AnsibleError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK_DIR = os.path.join(REPO, 'playbooks')
NAMESPACE = 'webops.tornado'
# The action that writes several files in one call, from templates or content (plugins/action/files.py).
FILES = NAMESPACE + '.files'


# Actions that run on the controller only: the runner executes them; any other task needs a given result.
CONTROLLER_ACTIONS = frozenset([
    'ansible.builtin.assert', 'ansible.builtin.set_fact', 'ansible.builtin.include_vars', 'ansible.builtin.fail',
    'ansible.builtin.validate_argument_spec', NAMESPACE + '.check_inputs',
])

_ORIGINAL_COMPILE = _jinja_bits.AnsibleEnvironment.compile
_COMPILED = {}
_COMPILED_MAX = 20000


def _memoized_compile(self, source, name=None, filename=None, raw=False, defer_init=False):
    if not isinstance(source, str) or self._debuggable_template_source:
        return _ORIGINAL_COMPILE(self, source, name, filename, raw, defer_init)
    context = _jinja_bits._TemplateCompileContext.current(optional=True)
    key = (type(self), str(source), name, filename, raw, defer_init, context.escape_backslashes if context else None,
           tuple(getattr(self, field) for field in _jinja_bits._TEMPLATE_OVERRIDE_FIELD_NAMES), self.optimized,
           tuple(sorted(self.extensions)))
    code = _COMPILED.get(key)
    if code is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        code = _COMPILED[key] = _ORIGINAL_COMPILE(self, source, name, filename, raw, defer_init)
    return code


def memoize_compile(enabled=True):
    """Keep (or stop keeping) Jinja's compiled code per source and settings; see the module docstring."""
    _jinja_bits.AnsibleEnvironment.compile = _memoized_compile if enabled else _ORIGINAL_COMPILE
    _COMPILED.clear()


class Rendered(object):
    """One file the template action would have copied to the host."""

    def __init__(self, src, dest, text):
        self.src = src
        self.dest = dest
        self.text = text

    def __repr__(self):
        return 'Rendered(%r -> %r, %d characters)' % (self.src, self.dest, len(self.text))


class TaskFailed(Exception):
    """A task's action returned failed (a check refused the input, an assert did not hold)."""

    def __init__(self, task, result):
        self.task = task
        self.result = result
        super(TaskFailed, self).__init__('%s: %s' % (task.get_name(), result.get('msg')))


def _failed(exc):
    """The failed result TaskExecutor.run() makes of an exception raised while it runs a task."""
    result = _error_utils.result_dict_from_exception(exc)
    if not isinstance(exc, AnsibleError):
        result['msg'] = 'Unexpected failure during task execution: %s' % result['msg']
    return result


class _Shell(object):
    # A temporary directory "already made": ActionBase.run() then creates none, and as the action never
    # set _cleanup_remote_tmp, it removes none either.
    tmpdir = '/nonexistent/webops-tornado-render'


class _Connection(object):
    def __init__(self):
        self._shell = _Shell()


class _KeepCopy(object):
    """What the template action hands the rendered file to, instead of ansible.legacy.copy."""

    def __init__(self, task, sink):
        self._task = task
        self._sink = sink

    def run(self, task_vars=None):
        with open(self._task.args['src'], 'rb') as handle:
            text = handle.read().decode('utf-8')
        self._sink.append(text)
        return {'changed': True, 'dest': self._task.args['dest']}


class _Loaders(object):
    """The action plugin's shared loader object, whose action_loader yields _KeepCopy."""

    def __init__(self, sink):
        self.action_loader = self
        self._sink = sink

    def get(self, name, task=None, **_kwargs):
        assert name == 'ansible.legacy.copy', name
        return _KeepCopy(task, self._sink)


def flatten(blocks):
    """Every task of compiled blocks, in order (block, rescue, always)."""
    for block in blocks:
        for task in block.block + block.rescue + block.always:
            if isinstance(task, Block):
                yield from flatten([task])
            else:
                yield task


class Deployment(object):
    """The inventory, loader and variable manager of one ``ansible-playbook`` run.

    ``hosts`` maps each inventory host name to its groups (e.g. ``{'web1': ['tornado_app', 'tornado_lb']}``).
    """

    def __init__(self, hosts, basedir=PLAYBOOK_DIR):
        self.loader = DataLoader()
        self.loader.set_basedir(basedir)
        self.inventory = InventoryManager(loader=self.loader, sources=[])
        for name, groups in hosts.items():
            for group in groups:
                self.inventory.add_group(group)
                self.inventory.add_host(name, group=group)
            if not groups:
                self.inventory.add_host(name)
        self.inventory.reconcile_inventory()
        self.variable_manager = VariableManager(loader=self.loader, inventory=self.inventory)
        # TaskQueueManager.run() creates it for each play; it registers itself with the variable manager.
        HostVars(inventory=self.inventory, variable_manager=self.variable_manager, loader=self.loader)
        self._plays = {}

    # --- what the inventory and the host give --------------------------------------------------

    def host(self, name):
        return self.inventory.get_host(name)

    def set_inventory_vars(self, name, variables):
        """Variables as an inventory's host_vars would give them (plain data: never templated)."""
        for key, value in variables.items():
            self.host(name).set_variable(key, value)

    def unset_inventory_vars(self, name, names):
        for key in names:
            self.host(name).vars.pop(key, None)

    def set_gathered_facts(self, name, facts):
        """Facts as the setup module gathers them (ansible_facts)."""
        self.variable_manager.set_host_facts(name, copy.deepcopy(facts))

    def set_facts(self, name, facts):
        """Facts as set_fact (or a task's register) leaves them for later tasks of the run."""
        self.variable_manager.set_nonpersistent_facts(name, copy.deepcopy(facts))

    # --- plays ---------------------------------------------------------------------------------

    def play(self, role, tasks_from=('main',), task_vars=None, hosts='all'):
        """A play that imports ``tasks_from`` of ``webops.tornado.<role>`` (cached per arguments)."""
        key = (role, tuple(tasks_from), repr(task_vars), hosts)
        if key not in self._plays:
            self._plays[key] = RolePlay(self, role, tasks_from, task_vars or {}, hosts)
        return self._plays[key]


class RolePlay(object):
    """One play of ``import_role`` tasks for a role, compiled as ansible-playbook compiles it."""

    def __init__(self, deployment, role, tasks_from, task_vars, hosts):
        self.deployment = deployment
        self.role = role
        imports = []
        for name in tasks_from:
            entry = {'name': 'Import %s (%s)' % (role, name),
                     'ansible.builtin.import_role': {'name': '%s.%s' % (NAMESPACE, role), 'tasks_from': name}}
            if task_vars.get(name):
                # As written in a task file: YAML strings there are trusted templates.
                entry['vars'] = dict((key, trust_as_template(value) if isinstance(value, str) else value)
                                     for key, value in task_vars[name].items())
            imports.append(entry)
        self.play = Play.load({'name': 'render %s' % role, 'hosts': hosts, 'gather_facts': False, 'tasks': imports},
                              variable_manager=deployment.variable_manager, loader=deployment.loader)
        self.tasks = [task for task in flatten(self.play.compile()) if task.action != 'meta']
        self.play_context = PlayContext(play=self.play)

    # --- finding tasks -------------------------------------------------------------------------

    def find(self, action=None, role=None, path=None, name=None):
        """The tasks of this play with that action, of that role (default: this play's), from a task file
        whose path ends with ``path``, whose name contains ``name``."""
        role = role or self.role
        found = []
        # 'template' finds the webops.tornado.files tasks too: their action renders templates as the template action does.
        actions = ((action, 'ansible.builtin.' + action, 'ansible.legacy.' + action) + ((FILES,) if action == 'template' else ())
                   if action else ())
        for task in self.tasks:
            if action and task.action not in actions:
                continue
            if task._role is None or task._role.get_name() != '%s.%s' % (NAMESPACE, role):
                continue
            if path and not task.get_path().split(':')[0].endswith(path):
                continue
            if name and name not in (task.name or ''):
                continue
            found.append(task)
        return found

    def one(self, **criteria):
        found = self.find(**criteria)
        assert len(found) == 1, 'expected one task for %r, found %r' % (criteria, [t.get_name() for t in found])
        return found[0]

    # --- variables -----------------------------------------------------------------------------

    def task_vars(self, task, host):
        """What TaskExecutor gives the task's action: VariableManager.get_vars plus ansible_search_path."""
        variables = self.deployment.variable_manager.get_vars(play=self.play, host=self.deployment.host(host), task=task)
        # TaskExecutor._get_loop_items() adds these before anything is templated.
        search_path = task.get_search_path()
        if self.deployment.loader.get_basedir() not in search_path:
            search_path.append(self.deployment.loader.get_basedir())
        variables['ansible_search_path'] = search_path
        return variables

    def args(self, task, host):
        """The task's arguments as its action would get them (templated and finalised by post_validate)."""
        final = task.copy(exclude_tasks=True)
        final.post_validate(templar=TemplateEngine(loader=self.deployment.loader, variables=self.task_vars(task, host)))
        return final.args

    def template(self, task, host, expression):
        """``expression`` (a template, as written in a task file) templated with the task's variables."""
        return TemplateEngine(loader=self.deployment.loader, variables=self.task_vars(task, host)).template(trust_as_template(expression))

    # --- running tasks -------------------------------------------------------------------------

    def applies(self, task, host, variables=None):
        """Whether ``when`` holds for ``task`` on ``host`` (loops aside)."""
        templar = Templar(loader=self.deployment.loader, variables=variables or self.task_vars(task, host))
        return all(templar.evaluate_conditional(condition) for condition in task.when)

    def _guarded_applies(self, task, host):
        try:
            return self.applies(task, host)
        except Exception as exc:  # pylint: disable=broad-except
            raise TaskFailed(task, _failed(exc))

    def run_tasks(self, tasks, host, given=None):
        """Run ``tasks`` in order for ``host`` as a play would, as far as the controller can.

        Controller-side actions (CONTROLLER_ACTIONS) run for real. Any other task whose ``when`` holds must
        have its result in ``given`` (by its ``register`` name; a task without ``register`` changes nothing
        the later tasks read, and is passed over). Stops at the first failed task by raising TaskFailed.
        """
        given = given or {}
        for task in tasks:
            if task.action in CONTROLLER_ACTIONS:
                self.run(task, host)
            elif task.register and self._guarded_applies(task, host):
                assert task.register in given, '%s runs on the host: give its result (%s)' % (task.get_name(), task.register)
                self.deployment.set_facts(host, {task.register: given[task.register]})

    def run(self, task, host, apply=True):
        """Run the controller-side action of ``task`` for ``host`` as TaskExecutor would.

        Returns one (item, result) per loop item (one (None, result) without a loop), or [] when ``when`` is
        false. Raises TaskFailed when a result is failed (an exception of the task is a failed result, as
        TaskExecutor makes it).
        With ``apply``, facts and registers reach the later tasks as the linear strategy stores them.
        """
        variables = self.task_vars(task, host)
        engine = TemplateEngine(loader=self.deployment.loader, variables=variables)
        try:
            items = engine.template(task.loop) if task.loop is not None else [None]
            if not isinstance(items, list):
                raise AnsibleError('The `loop` value must resolve to a list.')
        except Exception as exc:  # pylint: disable=broad-except
            raise TaskFailed(task, _failed(exc))
        loop_var = task.loop_control.loop_var if task.loop_control else 'item'
        index_var = task.loop_control.index_var if task.loop_control else None
        outcomes = []
        for index, item in enumerate(items):
            item_vars = variables.copy()
            if task.loop is not None:
                item_vars[loop_var] = item
                item_vars['ansible_loop_var'] = loop_var
                if index_var:
                    item_vars[index_var] = index
                    item_vars['ansible_index_var'] = index_var
            try:
                if not self.applies(task, host, item_vars):
                    continue
            except Exception as exc:  # pylint: disable=broad-except
                raise TaskFailed(task, _failed(exc))
            outcomes.append((item, self._execute(task, item_vars)))
        if apply:
            self._apply(task, host, outcomes)
        for item, result in outcomes:
            if result.get('failed'):
                raise TaskFailed(task, result)
        return outcomes

    def _execute(self, task, variables, sink=None):
        engine = TemplateEngine(loader=self.deployment.loader, variables=variables)
        # As TaskExecutor's loop does: the task copied without the task lists of its parent blocks.
        final = task.copy(exclude_tasks=True)
        try:
            final.post_validate(templar=engine)
            action = action_loader.get(final.action, task=final, connection=_Connection(), play_context=self.play_context,
                                       loader=self.deployment.loader, templar=Templar._from_template_engine(engine),
                                       shared_loader_obj=None, collection_list=final.collections)
            if sink is not None:
                action._shared_loader_obj = _Loaders(sink)
                if final.action == FILES:
                    # The module's arguments are what it would write: the files with their rendered content.
                    action._execute_module = lambda module_name, module_args, task_vars: (
                        sink.extend(module_args['files']) or {'changed': True, 'results': module_args['files']})
            result = action.run(task_vars=variables)
        except Exception as exc:  # pylint: disable=broad-except
            # TaskExecutor.run() turns any exception of the task into a failed result, so does this.
            return _failed(exc)
        if sink is not None:
            result['_rendered_src'] = final.args.get('src')
            result['_rendered_dest'] = final.args.get('dest')
            result['_rendered_files'] = final.args.get('files')
        return result

    def _apply(self, task, host, outcomes):
        manager = self.deployment.variable_manager
        results = [result for _item, result in outcomes]
        for result in results:
            facts = result.get('ansible_facts')
            if not facts or result.get('failed'):
                continue
            if task.action in C._ACTION_INCLUDE_VARS:
                for key, value in facts.items():
                    manager.set_host_variable(host, key, value)
            elif task.action in C._ACTION_SET_FACT:
                targets = self.deployment.inventory.get_hosts(self.play.hosts) if task.run_once else [self.deployment.host(host)]
                for target in targets:
                    manager.set_nonpersistent_facts(target.name, dict(facts))
        if task.register:
            if task.loop is not None:
                registered = {'results': results, 'changed': any(r.get('changed') for r in results)}
            else:
                registered = results[0] if results else {'skipped': True, 'changed': False}
            manager.set_nonpersistent_facts(host, {task.register: registered})

    def render(self, task, host):
        """The files ``task`` (an ansible.builtin.template task, or a webops.tornado.files task: its templates) writes for
        ``host``: one Rendered per item (none when its ``when`` does not hold)."""
        if not self._guarded_applies(task, host):
            return []
        variables = self.task_vars(task, host)
        engine = TemplateEngine(loader=self.deployment.loader, variables=variables)
        try:
            items = engine.template(task.loop) if task.loop is not None else [None]
        except Exception as exc:  # pylint: disable=broad-except
            raise TaskFailed(task, _failed(exc))
        loop_var = task.loop_control.loop_var if task.loop_control else 'item'
        rendered = []
        for item in items:
            item_vars = variables.copy()
            if task.loop is not None:
                item_vars[loop_var] = item
                item_vars['ansible_loop_var'] = loop_var
            sink = []
            result = self._execute(task, item_vars, sink=sink)
            if result.get('failed'):
                raise TaskFailed(task, result)
            if task.action == FILES:
                # The files it renders from a template (content it is given is not rendered here).
                given = result['_rendered_files']
                assert len(sink) == len(given), result
                rendered.extend(Rendered(wanted['src'], written['dest'], written['content'])
                                for wanted, written in zip(given, sink) if 'src' in wanted)
                continue
            assert len(sink) == 1, result
            rendered.append(Rendered(result['_rendered_src'], result['_rendered_dest'], sink[0]))
        return rendered
