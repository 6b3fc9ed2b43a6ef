#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: copy_tree
short_description: Copy a directory of the controller into a new directory on the host, in one call
version_added: 0.5.0
description:
  - Does what M(community.general.archive) on the controller, a directory made with M(ansible.builtin.file),
    M(ansible.builtin.unarchive) and the removal of the archive do together, in one remote call for a tree of up to
    4 MiB packed (a larger one is sent as a file first, as M(ansible.builtin.unarchive) does).
  - The action packs O(src) on the controller (gzip tar, in memory), leaving out the files and directories a
    release leaves out (O(exclude)); the host creates O(dest) and unpacks into it.
  - O(dest) must not exist, or be an empty directory. The tree is new, so no file the archive does not hold can be
    in it, and nothing of what it holds can lead outside it. Its missing parents are created, C(0755).
  - Every directory gets mode C(0755), every file C(0644), or C(0755) when its owner could execute it on the
    controller (as M(webops.tornado.tree_checksum) counts it), so everything is readable by every user and writable
    by its owner only. Symbolic links are kept as links. Files, directories and links get O(owner) and O(group).
    Modification times are kept.
  - A member that is not a file, directory or symbolic link, or whose name is absolute, has a C(..) part or lies
    under a symbolic link of the archive, is refused before anything is written.
options:
  src:
    description: The directory on the controller (handled by the action).
    type: path
    required: true
  dest:
    description: The new directory on the host.
    type: path
    required: true
  exclude:
    description:
      - Names of files and directories (at any depth) left out, as M(webops.tornado.tree_checksum) leaves them out
        of the fingerprint; compiled Python (C(*.pyc), C(*.pyo)) is always left out.
      - Handled by the action; when omitted, the version control, cache and virtualenv directories of a checkout
        (C(.git), C(.hg), C(.svn), C(__pycache__), C(.pytest_cache), C(.mypy_cache), C(.tox), C(.venv), C(.DS_Store)).
    type: list
    elements: str
  owner:
    description: Owner of everything created (name or uid); the user the module runs as when omitted.
    type: str
  group:
    description: Group of everything created (name or gid); that user's group when omitted.
    type: str
  archive:
    description: The packed tree, base64 (set by the action, not by a task).
    type: str
  archive_path:
    description: The packed tree, sent to the host as a file (set by the action, not by a task).
    type: path
author:
  - webops.tornado contributors (@webops)
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts can be executed on the controller.
    support: full
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Says what it would create; packs nothing on the host.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Put the source into the new release
  webops.tornado.copy_tree:
    src: /home/me/src/myapp/
    dest: /srv/myapp/releases/20261205T120000Z-0123abcd/src
    owner: root
    group: root
"""

RETURN = r"""
files:
  description: Number of files, directories and links created under O(dest).
  returned: success
  type: int
bytes:
  description: Size of the files created.
  returned: success
  type: int
"""

import base64
import grp
import io
import os
import posixpath
import pwd
import tarfile

from ansible.module_utils.basic import AnsibleModule


class TreeError(Exception):
    pass


def resolve_id(value, kind):
    """A uid (kind 'owner') or gid (kind 'group') from a name or a number; -1 (unchanged) for None."""
    if value is None:
        return -1
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return pwd.getpwnam(text).pw_uid if kind == 'owner' else grp.getgrnam(text).gr_gid
    except KeyError:
        raise TreeError('%s %s does not exist on the host' % (kind, text))


def safe_members(archive):
    """The archive's members, each checked (see DOCUMENTATION); raises TreeError naming the first bad one."""
    members = []
    links = set()
    for member in archive.getmembers():
        name = member.name
        parts = name.split('/')
        if name.startswith('/') or '..' in parts or name != posixpath.normpath(name) or name in ('', '.'):
            raise TreeError('refusing %r: its name is not a plain relative path' % name)
        if not (member.isfile() or member.isdir() or member.issym()):
            raise TreeError('refusing %r: not a file, directory or symbolic link' % name)
        if any('/'.join(parts[:end]) in links for end in range(1, len(parts))):
            raise TreeError('refusing %r: it lies under a symbolic link of the archive' % name)
        if member.issym():
            links.add(name)
        members.append(member)
    return members


def unpack(archive, dest, uid=-1, gid=-1):
    """Unpack the checked members of ``archive`` (an open tarfile) into the new directory ``dest``; (count, bytes)."""
    members = safe_members(archive)
    if os.path.lexists(dest) and not (os.path.isdir(dest) and not os.path.islink(dest) and not os.listdir(dest)):
        raise TreeError('%s exists: the tree must go into a new directory' % dest)
    os.makedirs(dest, mode=0o755, exist_ok=True)
    os.chmod(dest, 0o755)
    os.chown(dest, uid, gid)
    size = 0
    dirs = []
    for member in members:
        path = os.path.join(dest, member.name)
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            os.makedirs(parent, mode=0o755)
        if member.isdir():
            if not os.path.isdir(path):
                os.mkdir(path, 0o755)
            os.chmod(path, 0o755)
            os.chown(path, uid, gid)
            dirs.append((path, member.mtime))
        elif member.issym():
            os.symlink(member.linkname, path)
            os.lchown(path, uid, gid)
        else:
            mode = 0o755 if member.mode & 0o100 else 0o644
            # O_EXCL: never through a name that exists (the tree is new; a second member of one name is refused).
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), mode)
            with os.fdopen(handle, 'wb') as out:
                source = archive.extractfile(member)
                while True:
                    chunk = source.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
            os.chmod(path, mode)
            os.chown(path, uid, gid)
            os.utime(path, (member.mtime, member.mtime))
            size += member.size
    # Last, deepest first: writing a directory's files changed its time.
    for path, mtime in sorted(dirs, reverse=True):
        os.utime(path, (mtime, mtime))
    return len(members), size


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type='path', required=True),
            dest=dict(type='path', required=True),
            exclude=dict(type='list', elements='str'),
            owner=dict(type='str'),
            group=dict(type='str'),
            archive=dict(type='str', no_log=True),
            archive_path=dict(type='path'),
        ),
        required_one_of=[('archive', 'archive_path')],
        mutually_exclusive=[('archive', 'archive_path')],
        supports_check_mode=True,
    )
    dest = module.params['dest']
    try:
        uid = resolve_id(module.params['owner'], 'owner')
        gid = resolve_id(module.params['group'], 'group')
        if module.params['archive'] is not None:
            data = io.BytesIO(base64.b64decode(module.params['archive']))
            archive = tarfile.open(fileobj=data, mode='r:gz')
        else:
            archive = tarfile.open(module.params['archive_path'], mode='r:gz')
        with archive:
            if module.check_mode:
                members = safe_members(archive)
                module.exit_json(changed=True, files=len(members), bytes=sum(m.size for m in members if m.isfile()))
            count, size = unpack(archive, dest, uid, gid)
    except (TreeError, tarfile.TarError, OSError, ValueError) as error:
        module.fail_json(msg='%s: %s' % (dest, error))
    module.exit_json(changed=True, files=count, bytes=size)


if __name__ == '__main__':
    main()
