#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: deploy_lock
short_description: Take or release an app's deploy lock on a host
version_added: 0.2.0
description:
  - One lock per app and host, a file under C(/run/lock/webops-tornado/) created exclusively, naming the run
    that holds it (controller host, ansible-playbook's pid and start time, user, playbook, since when).
  - The action plugin of the same name fills in the holder from the controller and judges a lock left by a
    run that is gone. Taking the lock again in the same run changes nothing.
  - A run that refuses changes nothing. The lock is bookkeeping of the run, not a change of the host, so the
    module never reports changed.
options:
  app:
    description: The app whose lock this is (its name, as in app_name).
    type: str
    required: true
  state:
    description: V(present) takes the lock, V(absent) releases it if this run holds it.
    type: str
    choices: [present, absent]
    default: present
  break_lock:
    description:
      - Take the lock even when another run holds it. Only for a lock whose holder is known to be gone
        (a run that failed or was interrupted on another controller).
    type: bool
    default: false
  holder:
    description: The run taking or releasing the lock. Set by the action plugin from the controller; not for playbooks.
    type: dict
    required: true
  replace:
    description: The run id of a holder the controller judged gone, whose lock may be replaced. Set by the action plugin.
    type: str
    default: ''
  current:
    description:
      - The app's C(current) symlink, read once the lock is taken (or held), so the run knows the release that
        is current without another call, and knows it as it is under the lock (returned as RV(current)).
    type: path
    version_added: 0.5.0
author:
  - webops.tornado contributors (@webops)
attributes:
  action:
    description: Runs with an action plugin that adds the holder.
    support: full
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Take the deploy lock of myapp (a second run refuses, naming who holds it)
  webops.tornado.deploy_lock:
    app: myapp

- name: Release it at the end of the run
  webops.tornado.deploy_lock:
    app: myapp
    state: absent
"""

RETURN = r"""
lock:
  description: What happened to the lock, one of V(taken), V(held) (this run had it), V(replaced), V(refused), V(released), V(free).
  returned: always
  type: str
  sample: taken
holder:
  description: The run that holds the lock after this task.
  returned: always
  type: dict
previous:
  description: The run that held the lock before this task, when another one did.
  returned: when another run held it
  type: dict
current:
  description: What O(current) leads to, read under the lock; not returned when the lock was refused or released.
  returned: when O(current) is given
  type: dict
  version_added: 0.5.0
  contains:
    target:
      description: The release directory it points to, resolved; empty when O(current) is not a symlink.
      type: str
    release:
      description: The text of that release's C(RELEASE.json); null when missing or unreadable.
      type: str
path:
  description: The lock file.
  returned: always
  type: str
  sample: /run/lock/webops-tornado/myapp.lock
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.webops.tornado.plugins.module_utils import deploy_lock


def main():
    module = AnsibleModule(
        argument_spec=dict(
            app=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            break_lock=dict(type='bool', default=False),
            # Given by the action plugin.
            holder=dict(type='dict', required=True),
            replace=dict(type='str', default=''),
            current=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    app = module.params['app']
    if not app or '/' in app or app.startswith('.'):
        module.fail_json(msg='deploy_lock: app must be an app name, got %r' % app)
    path = os.path.join(deploy_lock.LOCK_DIR, app + '.lock')
    holder = module.params['holder']
    if not holder.get('run'):
        module.fail_json(msg='deploy_lock: the holder has no run id (run it through its action plugin)')
    if module.params['state'] == 'absent':
        removed = deploy_lock.release(path, holder['run'], module.check_mode)
        module.exit_json(changed=False, lock='released' if removed else 'free', holder={}, path=path)
    replace = '*' if module.params['break_lock'] else module.params['replace']
    state, previous = deploy_lock.take(path, holder, replace, module.check_mode)
    result = dict(changed=False, lock=state, path=path, holder=previous if state == 'refused' else holder)
    if previous and state != 'held':
        result['previous'] = previous
    if module.params['current'] and state != 'refused':
        result['current'] = deploy_lock.read_current(module.params['current'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
