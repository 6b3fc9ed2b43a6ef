#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: files
short_description: Write several files with an owner, group and mode in one call, each only when it differs
version_added: 0.5.0
description:
  - Does for a list of files what M(ansible.builtin.template) and M(ansible.builtin.copy) do for one, in one remote
    call instead of two or three per file. A re-run that changes nothing costs one round trip, however many files a
    role keeps.
  - Each item gives O(files[].src), a template the action renders on the controller exactly as
    M(ansible.builtin.template) does (the role's C(templates) directory, C(trim_blocks)), or
    O(files[].content). The host then compares each file with what it should hold, and only a file whose bytes
    differ is replaced, atomically (a temporary file in the same directory, given its owner, group and mode,
    checked by O(files[].validate), then renamed over the old one). A file whose bytes are right only gets its
    owner, group and mode set, where they differ.
  - Files are handled in the order given. One that fails its O(files[].validate) stops the task there; it and the
    files after it are left as they were, the ones before it are written.
  - An item with O(files[].state=directory) is a directory instead, created when missing and given its owner, group and
    mode, so the directories a role's files go into cost no call of their own. Directories missing on the way to it
    are created too, root's with mode C(0755) (M(webops.tornado.paths) gives them other attributes).
  - An item with O(files[].state=link) is a symbolic link to O(files[].target) instead (as M(ansible.builtin.file) with
    C(state=link) and C(force=true) makes one, for a link whose target may not exist yet), replaced atomically when it
    points elsewhere, so the link that enables a file costs no call of its own either.
  - An item with O(files[].state=absent) removes its path instead (a directory with everything in it), so the paths a
    role must not leave behind cost no call of their own.
  - A destination that exists and is not a regular file (a directory, a symbolic link) is refused, and so is one
    whose directory does not exist and is no earlier item (outside check mode, where an earlier task may only have
    said it would create it), before anything changes. A directory item that exists as anything but a directory, and a
    link item that exists as anything but a symbolic link, are refused too.
options:
  root:
    description:
      - Directory that relative O(files[].dest) are taken from (the action joins them before rendering, so a template
        sees the absolute path); without it, every O(files[].dest) must be absolute.
    type: path
    version_added: 0.5.0
  files:
    description: The files, in the order they are handled.
    type: list
    elements: dict
    required: true
    suboptions:
      dest:
        description: Absolute path of the file, or relative to O(root).
        type: path
        required: true
      state:
        description:
          - V(file), a regular file with O(files[].src) or O(files[].content); V(directory), a directory (only
            O(files[].owner), O(files[].group) and O(files[].mode) apply); V(link), a symbolic link to
            O(files[].target) (only O(files[].owner) and O(files[].group) apply, to the link itself); V(absent), no
            path at all (nothing else applies).
        type: str
        choices: [file, directory, link, absent]
        default: file
      target:
        description:
          - What a V(link) item points to, as the link holds it (relative to the link's directory unless absolute).
          - Only, and required, with O(files[].state=link).
        type: str
        version_added: 0.5.0
      src:
        description: A template, looked up as M(ansible.builtin.template) looks up its O(ansible.builtin.template#module:src).
          Rendered by the action on the controller; exactly one of O(files[].src) and O(files[].content).
        type: str
      vars:
        description:
          - Variables the template O(files[].src) sees on top of the task's, as a loop's item would be (one call for
            the files of every item of a list).
          - Only with O(files[].src).
        type: dict
        version_added: 0.5.0
      content:
        description: The file's text; exactly one of O(files[].src) and O(files[].content).
        type: str
      owner:
        description: Owner (name or uid); for a file that exists, unchanged when omitted.
        type: str
      group:
        description: Group (name or gid); for a file that exists, unchanged when omitted.
        type: str
      mode:
        description: Mode, as for M(ansible.builtin.file) (a quoted octal string such as V('0640'), or symbolic); for a file that
          exists, unchanged when omitted.
        type: raw
      backup:
        description: Keep a copy of a file this call replaces (its path is RV(results[].backup_file)).
        type: bool
        default: false
      validate:
        description: Command that checks the new file before it replaces the old one; C(%s) is the new file's path.
          A non-zero exit stops the task, naming the file, and the old file stays.
        type: str
author:
  - webops.tornado contributors (@webops)
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
notes:
  - Secrets in a file's content reach the module's arguments; give the task C(no_log), as for M(ansible.builtin.copy).
seealso:
  - module: ansible.builtin.template
  - module: webops.tornado.paths
"""

EXAMPLES = r"""
- name: Write the firewall's files (one round trip)
  webops.tornado.files:
    files:
      - src: etc/webops-tornado/firewall.d/app.nft.j2
        dest: /etc/webops-tornado/firewall.d/demo.nft
        owner: root
        group: root
        mode: "0644"
        validate: /usr/sbin/nft -c -f %s
      - content: "include \"/etc/webops-tornado/firewall.d/*.nft\"\n"
        dest: /etc/webops-tornado/firewall.nft
        mode: "0644"
  register: written

- name: Reload only when the table changed
  ansible.builtin.debug:
    msg: "{{ written.results[0].changed }}"
"""

RETURN = r"""
results:
  description: One entry per file, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    dest:
      description: The file.
      type: str
    changed:
      description: Whether its content or attributes were (or, in check mode, would be) changed.
      type: bool
    owner:
      description: Its owner's name (the uid when it has none) after the call.
      type: str
    group:
      description: Its group's name (the gid when it has none) after the call.
      type: str
    mode:
      description: Its mode after the call, as an octal string.
      type: str
      sample: "0600"
    backup_file:
      description: The copy of the replaced file, when O(files[].backup) was set and the file was replaced.
      type: str
      returned: when a copy was made
changed_files:
  description: The files and links whose content, target or attributes were (or would be) changed, and the paths removed
    (directory items are not listed).
  returned: always
  type: list
  elements: str
  sample: [/etc/supervisor/supervisord.conf]
"""

import grp
import os
import pwd
import shutil
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible_collections.webops.tornado.plugins.module_utils.links import replace_link


def _attributes(path, item):
    return {"path": path, "owner": item.get("owner"), "group": item.get("group"), "mode": item.get("mode"),
            "seuser": None, "serole": None, "setype": None, "selevel": None, "secontext": [None, None, None],
            "attributes": None}


def refusal(item, check_mode=False, directories=()):
    """Why this item cannot be written, before anything changes; None when it can. ``directories``: the directory
    items before it (made by the time it is handled)."""
    dest = item["dest"]
    if not os.path.isabs(dest):
        return "%s is not an absolute path" % dest
    state = item.get("state") or "file"
    if state == "absent":
        given = [key for key in ("content", "src", "validate", "target", "owner", "group", "mode")
                 if item.get(key) is not None]
        return "%s is an absent item: %s does not apply" % (dest, ", ".join(given)) if given else None
    if state == "link" and not item.get("target"):
        return "%s is a link item: target is required" % dest
    if state != "link" and item.get("target") is not None:
        return "%s: target applies to a link item only" % dest
    if state == "directory":
        if os.path.lexists(dest) and not os.path.isdir(dest):
            return "%s exists and is not a directory" % dest
        for key in ("content", "src", "validate"):
            if item.get(key) is not None:
                return "%s is a directory item: %s does not apply" % (dest, key)
    elif state == "link":
        if os.path.lexists(dest) and not os.path.islink(dest):
            return "%s exists and is not a symbolic link" % dest
        for key in ("content", "src", "validate", "mode"):
            if item.get(key) is not None:
                return "%s is a link item: %s does not apply" % (dest, key)
        if item.get("backup"):
            return "%s is a link item: backup does not apply" % dest
    elif os.path.islink(dest) or (os.path.lexists(dest) and not os.path.isfile(dest)):
        return "%s exists and is not a regular file" % dest
    # In check mode the directory may be one an earlier task of the run would have created.
    parent = os.path.dirname(dest.rstrip("/")) or "/"
    if state != "directory" and not os.path.isdir(parent) and parent not in directories and not check_mode:
        return "the directory of %s does not exist" % dest
    if item.get("validate") and "%s" not in item["validate"]:
        return "validate for %s must contain %%s (the new file's path)" % dest
    return None


def read(dest):
    try:
        with open(dest, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write_temporary(module, item, data, before_stat):
    """The new content in a temporary file beside dest, with the attributes dest will have."""
    dest = item["dest"]
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".%s." % os.path.basename(dest))
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # What is not given is kept from the file being replaced (a new file: root's, mode from the umask).
        if before_stat is not None:
            os.chown(temporary, before_stat.st_uid, before_stat.st_gid)
            os.chmod(temporary, stat.S_IMODE(before_stat.st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        module.set_fs_attributes_if_different(_attributes(temporary, item), False)
    except Exception:
        os.unlink(temporary)
        raise
    return temporary


def _described(result, dest, item):
    """The result with the file's owner, group and mode as they are now (as ansible.builtin.copy returns them; in check
    mode, for a file not written yet, as given)."""
    try:
        found = os.stat(dest)
    except FileNotFoundError:
        result.update(owner=item.get("owner"), group=item.get("group"), mode=item.get("mode"))
        return result
    try:
        owner = pwd.getpwuid(found.st_uid).pw_name
    except KeyError:
        owner = str(found.st_uid)
    try:
        group = grp.getgrgid(found.st_gid).gr_name
    except KeyError:
        group = str(found.st_gid)
    result.update(owner=owner, group=group, mode="0%03o" % stat.S_IMODE(found.st_mode))
    return result


def ensure_directory(module, item):
    """Bring one directory item to existence and its attributes; returns (result, diffs)."""
    dest = item["dest"]
    result = {"dest": dest, "state": "directory", "changed": False}
    diff = {"before": {"path": dest}, "after": {"path": dest}, "before_header": dest, "after_header": dest}
    if not os.path.isdir(dest):
        result["changed"] = True
        diff["before"]["state"], diff["after"]["state"] = "absent", "directory"
        if module.check_mode:
            return _described(result, dest, item), [diff] if module._diff else []
        try:
            parent = os.path.dirname(dest.rstrip("/"))
            if parent and not os.path.isdir(parent):
                os.makedirs(parent, mode=0o755)
            os.mkdir(dest)
        except FileExistsError:
            # Another app of the same machine (a second inventory name for it) made it in the same task.
            if not os.path.isdir(dest):
                raise
    path = os.path.realpath(dest) if os.path.islink(dest) else dest
    if module.set_fs_attributes_if_different(_attributes(path, item), False, diff):
        result["changed"] = True
    return _described(result, dest, item), [diff] if module._diff and result["changed"] else []


def ensure_absent(module, item):
    """Remove one path (a directory with everything in it); returns (result, diffs)."""
    dest = item["dest"]
    result = {"dest": dest, "state": "absent", "changed": os.path.lexists(dest)}
    if not result["changed"]:
        return result, []
    # Read before the removal: afterwards every path would look like a file.
    before = "directory" if os.path.isdir(dest) and not os.path.islink(dest) else "file"
    if not module.check_mode:
        if before == "directory":
            shutil.rmtree(dest)
        else:
            os.unlink(dest)
    diffs = [{"before_header": dest, "after_header": dest, "before": {"path": dest, "state": before},
              "after": {"path": dest, "state": "absent"}}] if module._diff else []
    return result, diffs


def ensure_link(module, item):
    """Bring one link item to its target (and the link's owner and group); returns (result, diffs)."""
    dest, target = item["dest"], item["target"]
    result = {"dest": dest, "state": "link", "target": target, "changed": False}
    before = os.readlink(dest) if os.path.islink(dest) else None
    diffs = []
    if before != target:
        result["changed"] = True
        if module._diff:
            diffs.append({"before_header": dest, "after_header": dest,
                          "before": {"path": dest, "state": "absent"} if before is None else {"path": dest, "target": before},
                          "after": {"path": dest, "target": target}})
        if module.check_mode:
            return result, diffs
        replace_link(dest, target)
    attribute_diff = {"before": {"path": dest}, "after": {"path": dest}, "before_header": dest, "after_header": dest}
    attributes = dict(_attributes(dest, item), mode=None)
    if module.set_fs_attributes_if_different(attributes, False, attribute_diff, expand=False):
        result["changed"] = True
        if module._diff:
            diffs.append(attribute_diff)
    return result, diffs


def ensure(module, item, done):
    """Bring one file to its content and attributes; returns (result, diffs). ``done``: the results of the
    files before it, reported if this one fails."""
    dest = item["dest"]
    data = to_bytes(item["content"], errors="surrogate_or_strict")
    before = read(dest)
    result = {"dest": dest, "changed": False}
    diffs = []
    if before != data:
        result["changed"] = True
        if module._diff:
            diffs.append({"before_header": dest, "after_header": dest,
                          "before": "" if before is None else to_text(before, errors="surrogate_or_replace"),
                          "after": item["content"]})
        if module.check_mode:
            return _described(result, dest, item), diffs
        temporary = _write_temporary(module, item, data, os.stat(dest) if before is not None else None)
        try:
            if item.get("validate"):
                rc, out, err = module.run_command(item["validate"] % temporary)
                if rc != 0:
                    module.fail_json(msg="%s: the new content failed its check (%s), the file was left as it was: %s"
                                     % (dest, item["validate"] % temporary, (err or out).strip()),
                                     rc=rc, stdout=out, stderr=err, results=done)
            if item.get("backup") and before is not None:
                result["backup_file"] = module.backup_local(dest)
            os.rename(temporary, dest)
        finally:
            if os.path.lexists(temporary):
                os.unlink(temporary)
        return _described(result, dest, item), diffs
    attribute_diff = {"before": {"path": dest}, "after": {"path": dest}, "before_header": dest, "after_header": dest}
    if module.set_fs_attributes_if_different(_attributes(dest, item), False, attribute_diff):
        result["changed"] = True
        if module._diff:
            diffs.append(attribute_diff)
    return _described(result, dest, item), diffs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path"),
            files=dict(type="list", elements="dict", required=True, options=dict(
                dest=dict(type="path", required=True),
                state=dict(type="str", choices=["file", "directory", "link", "absent"], default="file"),
                target=dict(type="str"),
                # The action renders src into content: the module only ever sees content.
                src=dict(type="str"),
                vars=dict(type="dict"),
                content=dict(type="str"),
                owner=dict(type="str"),
                group=dict(type="str"),
                mode=dict(type="raw"),
                backup=dict(type="bool", default=False),
                validate=dict(type="str"),
            )),
        ),
        supports_check_mode=True,
    )
    items = module.params["files"]
    for item in items:
        if module.params["root"] and not os.path.isabs(item["dest"]):
            item["dest"] = os.path.normpath(os.path.join(module.params["root"], item["dest"]))
    directories = set()
    for item in items:
        if item["state"] == "file" and item.get("content") is None:
            module.fail_json(msg="files: %s has no content (give src through the action, or content)" % item["dest"])
        reason = refusal(item, module.check_mode, directories)
        if reason:
            module.fail_json(msg="files: %s; nothing was changed" % reason)
        if item["state"] == "directory":
            directories.add(item["dest"].rstrip("/") or "/")
    results, diffs = [], []
    for item in items:
        try:
            if item["state"] == "directory":
                result, item_diffs = ensure_directory(module, item)
            elif item["state"] == "link":
                result, item_diffs = ensure_link(module, item)
            elif item["state"] == "absent":
                result, item_diffs = ensure_absent(module, item)
            else:
                result, item_diffs = ensure(module, item, results)
        except (IOError, OSError) as error:
            module.fail_json(msg="files: %s: %s" % (item["dest"], to_native(error)), results=results)
        results.append(result)
        diffs.extend(item_diffs)
    module.exit_json(changed=any(result["changed"] for result in results), results=results,
                     changed_files=[result["dest"] for result in results
                                    if result["changed"] and result.get("state") != "directory"], diff=diffs)


if __name__ == "__main__":
    main()
