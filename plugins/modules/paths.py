#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: paths
short_description: Make several paths directories with an owner, group and mode, or absent, in one call
version_added: 0.5.0
description:
  - Does for a list of paths what M(ansible.builtin.file) does for one with O(paths[].state=directory)
    or O(paths[].state=absent), in one remote call instead of one per path, using the same
    C(AnsibleModule) helpers for owner, group and mode. A re-run that changes nothing costs one round
    trip, however many directories a role keeps.
  - Paths are handled in the order given, so a parent listed before its children gets its attributes
    first. Missing parents of a directory are created with the shared O(owner), O(group) and O(mode), not
    that directory's own, unlike M(ansible.builtin.file), so a parent made on the way to one app's private
    directory stays open to the other apps whose directories it holds.
  - A path that exists and is not a directory (a symbolic link to one is followed) is refused, before
    anything changes.
options:
  root:
    description: Directory that relative paths in O(paths) are taken from; without it, every path must be absolute.
    type: path
  owner:
    description: Owner of the directories that do not set their own (name or uid); unchanged when omitted.
    type: str
  group:
    description: Group of the directories that do not set their own (name or gid); unchanged when omitted.
    type: str
  mode:
    description: Mode of the directories that do not set their own, as for M(ansible.builtin.file).
    type: raw
  paths:
    description: The paths, in the order they are handled.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path, or relative to O(root).
        type: path
        required: true
      state:
        description: V(directory) creates the directory and sets its attributes; V(absent) removes the path
          (a directory with everything in it).
        type: str
        choices: [directory, absent]
        default: directory
      owner:
        description: Owner of the directory (name or uid); O(owner) when omitted.
        type: str
      group:
        description: Group of the directory (name or gid); O(group) when omitted.
        type: str
      mode:
        description: Mode of the directory, as for M(ansible.builtin.file) (a quoted octal string such as
          V('0750'), or symbolic); O(mode) when omitted.
        type: raw
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""

EXAMPLES = r"""
- name: Create the app directories
  webops.tornado.paths:
    root: /srv/app
    owner: root
    group: root
    mode: "0755"
    paths:
      - {path: .}
      - {path: releases}
      - {path: shared, owner: app, group: app, mode: "0750"}
      - {path: old-cache, state: absent}
"""

RETURN = r"""
changed_paths:
  description: The paths that were (or, in check mode, would be) created, removed or given new attributes.
  returned: always
  type: list
  elements: str
  sample: [/srv/app/shared]
"""

import os
import shutil

from ansible.module_utils.basic import AnsibleModule


def _attributes(item):
    # What load_file_common_arguments() builds with follow=true, without expanding ~ and $VARS in the path.
    path = os.path.realpath(item["path"]) if os.path.islink(item["path"]) else item["path"]
    return {"path": path, "owner": item.get("owner"), "group": item.get("group"), "mode": item.get("mode"),
            "seuser": None, "serole": None, "setype": None, "selevel": None, "secontext": [None, None, None],
            "attributes": None}


def resolve(params):
    """Each item with its path joined to root and the shared owner, group and mode filled in."""
    items = []
    for item in params["paths"]:
        resolved = dict(item)
        if params["root"] and not os.path.isabs(item["path"]):
            resolved["path"] = os.path.normpath(os.path.join(params["root"], item["path"]))
        for key in ("owner", "group", "mode"):
            if resolved.get(key) is None:
                resolved[key] = params[key]
        items.append(resolved)
    return items


def refuse_non_directories(items):
    """The first path of state directory that exists as something else, or None."""
    for item in items:
        path = item["path"]
        if item["state"] == "directory" and os.path.lexists(path) and not os.path.isdir(path):
            return path
    return None


def missing_chain(path):
    """The directories to create for `path`, outermost first."""
    chain = []
    while path and not os.path.lexists(path):
        chain.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return list(reversed(chain))


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def ensure(module, item):
    """Bring one path to its state; returns (changed, diff)."""
    path = item["path"]
    if item["state"] == "absent":
        if not os.path.lexists(path):
            return False, None
        # Read before the removal: afterwards every path would look like a file.
        before = "directory" if os.path.isdir(path) and not os.path.islink(path) else "file"
        if not module.check_mode:
            remove(path)
        return True, {"before": {"path": path, "state": before},
                      "after": {"path": path, "state": "absent"}, "before_header": path, "after_header": path}
    created = missing_chain(path)
    if module.check_mode and created:
        return True, {"before": {"path": path, "state": "absent"}, "after": {"path": path, "state": "directory"},
                      "before_header": path, "after_header": path}
    diff = {"before": {"path": path}, "after": {"path": path}, "before_header": path, "after_header": path}
    changed = bool(created)
    for directory in created:
        try:
            os.mkdir(directory)
        except FileExistsError:
            # Another app of the same machine (a second inventory name for it) made it in the same task.
            if not os.path.isdir(directory):
                raise
        # A directory created on the way to the path gets the task's shared owner, group and mode, not the path's
        # own: /etc/tornado, made on the way to one app's 0750 config directory, must not close it to the others.
        shared = item if directory == path else dict((key, module.params[key]) for key in ("owner", "group", "mode"))
        changed = module.set_fs_attributes_if_different(_attributes(dict(shared, path=directory)), changed)
    if created:
        diff["before"]["state"] = "absent"
        diff["after"]["state"] = "directory"
    changed = module.set_fs_attributes_if_different(_attributes(item), changed, diff)
    return changed, diff


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path"),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw"),
            paths=dict(type="list", elements="dict", required=True, options=dict(
                path=dict(type="path", required=True),
                state=dict(type="str", choices=["directory", "absent"], default="directory"),
                owner=dict(type="str"),
                group=dict(type="str"),
                mode=dict(type="raw"),
            )),
        ),
        supports_check_mode=True,
    )
    items = resolve(module.params)
    for item in items:
        if not os.path.isabs(item["path"]):
            module.fail_json(msg="paths: %r is not an absolute path (and no absolute root was given)" % item["path"])
    in_the_way = refuse_non_directories(items)
    if in_the_way:
        module.fail_json(msg="paths: %s exists and is not a directory; nothing was changed" % in_the_way)
    changed_paths, diffs = [], []
    for item in items:
        changed, diff = ensure(module, item)
        if changed:
            changed_paths.append(item["path"])
            if diff:
                diffs.append(diff)
    module.exit_json(changed=bool(changed_paths), changed_paths=changed_paths, diff=diffs)


if __name__ == "__main__":
    main()
