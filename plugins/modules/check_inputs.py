#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: check_inputs
short_description: Check a role's variables against the collection's input rules, on the controller
version_added: 0.2.0
description:
  - >-
    The collection's one validation layer. Each role names the kind of each of its variables once
    (C(__<role>_input_rules) in its C(vars/main.yml)): a name, a user, host names as nginx accepts them, an
    nginx size or time, a URL path, an absolute normalised path inside allowed roots, environment variables,
    and so on. This action checks every one of them and fails with one sentence per refused variable,
    naming it and saying what it must be, before any task changes a host.
  - No value with a control character (newline, carriage return, NUL, tab) passes a kind that reaches a
    rendered file. Values that are free text by nature (environment values, application settings) are
    rendered inert instead (JSON) and only NUL is refused.
  - Secret values (kinds C(secret), C(environment), C(pem_key), or C(secret=true)) are never shown.
  - Runs on the controller only; nothing is sent to the host.
options:
  rules:
    description:
      - Variable name to rule. A rule is a kind name or a mapping with C(kind) and its parameters
        (for example C(roots) for a path, C(minimum) and C(maximum) for an int), plus C(empty) (null and
        an empty string are accepted), C(also) (literal values accepted besides the kind's), C(secret),
        C(host_read) (see O(defer_undefined)), and C(note) (added to the message after the value, for example
        where a default comes from).
      - The kinds are listed in C(plugins/plugin_utils/inputs.py).
      - Required unless O(checks) is given.
    type: dict
  values:
    description:
      - >-
        The values to check, by variable name. Default is each variable of O(rules) as the task sees it
        (variables not defined are skipped: the argument spec says what is required).
    type: dict
  prefix:
    description: Text put in front of each variable name in the messages, for example C(supervisor_groups[demo].).
    type: str
    default: ""
  defer_undefined:
    description:
      - >-
        Check each variable of O(rules) that can be templated now and leave out (listed in RV(deferred)) the ones whose
        value needs a variable not defined yet, and the ones whose rule says C(host_read=true) (a default built
        from what the role reads on the host later, through filters such as C(default) that would hide the
        missing read). The playbooks use it to refuse bad input before they connect to any host; each role's
        full check, after its reads, checks every variable again.
      - Ignored when O(values) is given.
    type: bool
    default: false
    version_added: 0.5.0
  checks:
    description:
      - >-
        What a rule of one variable cannot say (how variables go together, what the host has), as
        C(ansible.builtin.assert) says it, in the same task: a role's whole validation is one task on the controller
        rather than one per assertion.
      - >-
        Evaluated in order once every variable passed its rule (when one did not, the task fails with the rules'
        sentences and no check is evaluated). The first check whose conditions do not all hold fails the task with its
        O(checks[].msg), also its only entry in RV(errors); the later checks are not evaluated.
      - >-
        Left as written until the task runs (ansible-core 2.19 and later): each condition is evaluated, and a message
        templated, only when the action comes to it, so a message may use what is defined only when its check failed.
        ansible-core 2.17 and 2.18 template every message with the task's other arguments before it runs. Write the
        list in the task itself: a template that would give it is not resolved.
      - To skip a check in some cases (as C(when) of an assert does), make that case part of its condition.
    type: list
    elements: dict
    version_added: 0.5.0
    suboptions:
      that:
        description: A conditional expression, or a list of them that must all hold, as C(that) of C(ansible.builtin.assert).
        type: list
        elements: str
        required: true
      msg:
        description: The message when the check fails, a template.
        type: str
        required: true
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
"""

EXAMPLES = r"""
- name: Check every input of the role before anything changes
  webops.tornado.check_inputs:
    rules:
      app_name: name
      app_home: {kind: path, roots: [/srv, /opt]}
      nginx_server_name: server_names
      app_environment: environment

- name: Check every input of the role, then what the rules cannot say
  webops.tornado.check_inputs:
    rules: "{{ __app_input_rules }}"
    checks:
      - that: app_process_model != 'development' or app_processes | int <= 1
        msg: "app_process_model=development runs one process, so app_processes ({{ app_processes }}) must be 0 or 1."
      - that:
          - not app_autoreload | bool or app_process_model != 'reuse_port'
        msg: Autoreload restarts each process on its own; reuse_port runs several.
"""

RETURN = r"""
checked:
  description: The variables that were checked.
  returned: success
  type: list
  elements: str
deferred:
  description: The variables left out because their value needs a variable not defined yet (O(defer_undefined)).
  returned: always
  type: list
  elements: str
  version_added: 0.5.0
errors:
  description: One sentence per refused variable, or the message of the first check that failed (O(checks)).
  returned: failure
  type: list
  elements: str
"""
