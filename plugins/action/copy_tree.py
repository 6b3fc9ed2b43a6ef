# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for webops.tornado.copy_tree: packs the controller's directory in memory and sends it with the module's
arguments (one remote call), or, when larger than INLINE_LIMIT, as a file first (as ansible.builtin.unarchive does)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import io
import os
import stat
import tarfile
import tempfile

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.webops.tornado.plugins.plugin_utils.source_tree import DEFAULT_EXCLUDE, left_out

# Packed size up to which the tree travels inside the module's arguments (base64: a third more).
INLINE_LIMIT = 4 * 1024 * 1024


def pack(src, exclude=None, fileobj=None):
    """A gzip tar of the tree under ``src`` (names relative to it, sorted, without what a release leaves out:
    plugins/plugin_utils/source_tree.py, the rule of the fingerprint webops.tornado.tree_checksum), written to
    ``fileobj`` (a new BytesIO when None), which is returned. Only files, directories and symbolic links are packed;
    anything else (a socket, a fifo, a device) is refused, naming it."""
    if not os.path.isdir(src):
        raise AnsibleActionFail('src: %s is not a directory on the controller' % src)
    fileobj = io.BytesIO() if fileobj is None else fileobj
    exclude = DEFAULT_EXCLUDE if exclude is None else exclude

    # compresslevel 6, as gzip's own default: 9 costs far more time for little.
    with tarfile.open(fileobj=fileobj, mode='w:gz', compresslevel=6, format=tarfile.PAX_FORMAT) as archive:
        for top, dirs, files in os.walk(src):
            dirs[:] = sorted(name for name in dirs if not left_out(name, exclude, is_dir=True))
            for name in dirs + sorted(name for name in files if not left_out(name, exclude)):
                path = os.path.join(top, name)
                mode = os.lstat(path).st_mode
                if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                    raise AnsibleActionFail('src: %s is not a file, directory or symbolic link' % path)
                # A link to a directory is packed as the link, not walked (os.walk does not follow it either).
                archive.add(path, arcname=os.path.relpath(path, src), recursive=False)
    return fileobj


class ActionModule(ActionBase):

    # No remote directory made up front: a tree sent inline needs none (one call); a larger one makes its own.
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('src', 'dest', 'exclude', 'owner', 'group'))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        for name in ('src', 'dest'):
            if not args.get(name):
                raise AnsibleActionFail('%s is required' % name)
        src = os.path.expanduser(to_text(args['src']))
        exclude = args.get('exclude')
        exclude = list(DEFAULT_EXCLUDE) if exclude is None else [to_text(pattern) for pattern in exclude]
        local = tempfile.NamedTemporaryFile(dir=C.DEFAULT_LOCAL_TMP, prefix='copy_tree-', suffix='.tar.gz', delete=False)
        try:
            with local:
                pack(src, exclude, local)
            module_args = dict(args, src=src, exclude=exclude)
            if os.path.getsize(local.name) <= INLINE_LIMIT:
                with open(local.name, 'rb') as packed:
                    module_args['archive'] = to_text(base64.b64encode(packed.read()))
            else:
                remote = self._connection._shell.join_path(self._make_tmp_path(), 'tree.tar.gz')
                self._transfer_file(local.name, remote)
                self._fixup_perms2((self._connection._shell.tmpdir, remote))
                module_args['archive_path'] = remote
            result.update(self._execute_module(module_name='webops.tornado.copy_tree', module_args=module_args,
                                               task_vars=task_vars))
        finally:
            os.unlink(local.name)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
