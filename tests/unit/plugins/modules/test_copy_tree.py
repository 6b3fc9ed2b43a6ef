# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for copy_tree: the action's packing and the module's unpacking, end to end, for any tree."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import io
import json
import os
import stat
import tarfile

import pytest
from ansible.errors import AnsibleActionFail
from ansible.module_utils.testing import patch_module_args
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.action.copy_tree import pack
from ansible_collections.webops.tornado.plugins.modules import copy_tree as mod
from ansible_collections.webops.tornado.plugins.lookup.tree_checksum import tree_checksum
from ansible_collections.webops.tornado.plugins.plugin_utils.source_tree import DEFAULT_EXCLUDE, left_out


def tree(root):
    """{relative path: ('dir', mode) | ('file', mode, bytes) | ('link', target)} of everything under root."""
    found = {}
    for top, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            path = os.path.join(top, name)
            rel = os.path.relpath(path, str(root))
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ('link', os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ('dir', stat.S_IMODE(info.st_mode))
            else:
                with open(path, 'rb') as handle:
                    found[rel] = ('file', stat.S_IMODE(info.st_mode), handle.read())
    return found


def copy(src, dest, exclude=tuple(DEFAULT_EXCLUDE)):
    with tarfile.open(fileobj=io.BytesIO(pack(str(src), exclude).getvalue()), mode='r:gz') as archive:
        return mod.unpack(archive, str(dest))


def crafted(members):
    """A gzip tar of (TarInfo, bytes or None) pairs, as someone other than the action could send."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode='w:gz') as archive:
        for info, content in members:
            if content is not None:
                info.size = len(content)
            archive.addfile(info, io.BytesIO(content) if content is not None else None)
    data.seek(0)
    return tarfile.open(fileobj=data, mode='r:gz')


def member(name, kind=tarfile.REGTYPE, linkname=''):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = 0o644
    return info


def test_copies_the_tree_with_normal_modes_links_and_without_the_excluded(tmp_path):
    src = tmp_path / 'src'
    (src / 'app' / '__pycache__').mkdir(parents=True)
    (src / '.git').mkdir()
    (src / 'static' / 'empty').mkdir(parents=True)
    (src / 'app' / '__init__.py').write_text('x = 1\n')
    (src / 'app' / '__init__.pyc').write_bytes(b'\0')
    (src / '.venv' / 'bin').mkdir(parents=True)
    (src / '.venv' / 'bin' / 'python').write_text('')
    (src / 'app' / '__pycache__' / 'a.cpython-311.pyc').write_bytes(b'\0')
    (src / '.git' / 'HEAD').write_text('ref\n')
    (src / 'run.sh').write_text('#!/bin/sh\n')
    os.chmod(str(src / 'run.sh'), 0o700)
    (src / 'secret-looking').write_text('s')
    os.chmod(str(src / 'secret-looking'), 0o600)
    os.chmod(str(src / 'static'), 0o700)
    os.symlink('app/__init__.py', str(src / 'link'))
    os.symlink('static', str(src / 'dirlink'))
    count, size = copy(src, tmp_path / 'new' / 'src')
    assert tree(tmp_path / 'new' / 'src') == {
        'app': ('dir', 0o755), 'static': ('dir', 0o755), 'static/empty': ('dir', 0o755),
        'app/__init__.py': ('file', 0o644, b'x = 1\n'), 'run.sh': ('file', 0o755, b'#!/bin/sh\n'),
        'secret-looking': ('file', 0o644, b's'), 'link': ('link', 'app/__init__.py'), 'dirlink': ('link', 'static')}
    assert count == 8 and size == len('x = 1\n') + len('#!/bin/sh\n') + 1
    assert stat.S_IMODE(os.stat(str(tmp_path / 'new' / 'src')).st_mode) == 0o755


def test_keeps_modification_times(tmp_path):
    src = tmp_path / 'src'
    (src / 'd').mkdir(parents=True)
    (src / 'd' / 'f').write_text('f')
    os.utime(str(src / 'd' / 'f'), (1000000000, 1000000000))
    os.utime(str(src / 'd'), (1100000000, 1100000000))
    copy(src, tmp_path / 'dest')
    assert int(os.stat(str(tmp_path / 'dest' / 'd' / 'f')).st_mtime) == 1000000000
    assert int(os.stat(str(tmp_path / 'dest' / 'd')).st_mtime) == 1100000000


# Any names a file system holds (no '/', no NUL), the names a release leaves out among them, any bytes, any nesting,
# exec bits or not.
NAMES = st.one_of(
    st.text(st.characters(blacklist_characters='/\0', blacklist_categories=('Cs',)), min_size=1, max_size=20),
    st.sampled_from(DEFAULT_EXCLUDE + ['x.pyc', 'y.pyo', 'x.pyc.txt'])) \
    .filter(lambda name: name not in ('.', '..') and len(name.encode('utf-8')) < 200)
TREES = st.recursive(
    st.tuples(st.binary(max_size=300), st.integers(0o400, 0o777).map(lambda mode: mode | 0o400)),
    lambda children: st.dictionaries(NAMES, children, max_size=4),
    max_leaves=12)


def build(root, spec):
    for name, child in spec.items():
        path = os.path.join(root, name)
        if isinstance(child, dict):
            os.mkdir(path)
            build(path, child)
        else:
            with open(path, 'wb') as handle:
                handle.write(child[0])
            os.chmod(path, child[1])


def expected(spec, prefix=''):
    found = {}
    for name, child in spec.items():
        rel = prefix + name
        if left_out(name, DEFAULT_EXCLUDE, is_dir=isinstance(child, dict)):
            continue
        if isinstance(child, dict):
            found[rel] = ('dir', 0o755)
            found.update(expected(child, rel + '/'))
        else:
            found[rel] = ('file', 0o755 if child[1] & 0o100 else 0o644, child[0])
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=st.dictionaries(NAMES, TREES, max_size=5))
def test_any_tree_arrives_whole(tmp_path_factory, spec):
    base = tmp_path_factory.mktemp('tree')
    src = os.path.join(str(base), 'src')
    os.mkdir(src)
    build(src, spec)
    copy(src, os.path.join(str(base), 'dest'))
    assert tree(os.path.join(str(base), 'dest')) == expected(spec)
    # The release holds exactly what the fingerprint covers: the same fingerprint for the copy.
    assert tree_checksum(os.path.join(str(base), 'dest')) == tree_checksum(src)


def test_pack_refuses_what_is_not_a_file_directory_or_link(tmp_path):
    (tmp_path / 'src').mkdir()
    os.mkfifo(str(tmp_path / 'src' / 'pipe'))
    with pytest.raises(AnsibleActionFail, match='pipe is not a file, directory or symbolic link'):
        pack(str(tmp_path / 'src'))


def test_pack_refuses_a_missing_directory(tmp_path):
    with pytest.raises(AnsibleActionFail, match='is not a directory on the controller'):
        pack(str(tmp_path / 'nope'))


@pytest.mark.parametrize('members, message', [
    ([(member('/etc/passwd'), b'x')], 'not a plain relative path'),
    ([(member('../outside'), b'x')], 'not a plain relative path'),
    ([(member('a/../../outside'), b'x')], 'not a plain relative path'),
    ([(member('./a'), b'x')], 'not a plain relative path'),
    ([(member('dev', tarfile.CHRTYPE), None)], 'not a file, directory or symbolic link'),
    ([(member('fifo', tarfile.FIFOTYPE), None)], 'not a file, directory or symbolic link'),
    ([(member('hard', tarfile.LNKTYPE, 'x'), None)], 'not a file, directory or symbolic link'),
    ([(member('etc', tarfile.SYMTYPE, '/etc'), None), (member('etc/cron.d/x'), b'x')], 'under a symbolic link'),
])
def test_refuses_a_crafted_archive_before_writing_anything(tmp_path, members, message):
    with crafted(members) as archive:
        with pytest.raises(mod.TreeError, match=message):
            mod.unpack(archive, str(tmp_path / 'dest'))
    assert not (tmp_path / 'dest').exists()


def test_refuses_a_second_member_of_one_name(tmp_path):
    with crafted([(member('a'), b'1'), (member('a'), b'2')]) as archive:
        with pytest.raises(OSError):
            mod.unpack(archive, str(tmp_path / 'dest'))


def test_refuses_a_destination_that_holds_something(tmp_path):
    (tmp_path / 'dest').mkdir()
    (tmp_path / 'dest' / 'old').write_text('old')
    with crafted([(member('a'), b'1')]) as archive:
        with pytest.raises(mod.TreeError, match='exists'):
            mod.unpack(archive, str(tmp_path / 'dest'))
    assert os.listdir(str(tmp_path / 'dest')) == ['old']


def run(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            mod.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def test_module_unpacks_inline_and_from_a_file_and_hides_the_archive(tmp_path, capsys):
    (tmp_path / 'src').mkdir()
    (tmp_path / 'src' / 'f').write_text('f')
    data = pack(str(tmp_path / 'src')).getvalue()
    rc, result = run(capsys, {'src': str(tmp_path / 'src'), 'dest': str(tmp_path / 'a'),
                              'archive': base64.b64encode(data).decode()})
    assert rc == 0 and result['changed'] and result['files'] == 1 and result['bytes'] == 1
    assert result['invocation']['module_args']['archive'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    (tmp_path / 'packed.tar.gz').write_bytes(data)
    rc, result = run(capsys, {'src': str(tmp_path / 'src'), 'dest': str(tmp_path / 'b'),
                              'archive_path': str(tmp_path / 'packed.tar.gz')})
    assert rc == 0 and tree(tmp_path / 'b') == {'f': ('file', 0o644, b'f')}


def test_module_check_mode_writes_nothing(tmp_path, capsys):
    (tmp_path / 'src').mkdir()
    (tmp_path / 'src' / 'f').write_text('f')
    data = pack(str(tmp_path / 'src')).getvalue()
    rc, result = run(capsys, {'src': str(tmp_path / 'src'), 'dest': str(tmp_path / 'a'), '_ansible_check_mode': True,
                              'archive': base64.b64encode(data).decode()})
    assert rc == 0 and result['changed'] and result['files'] == 1
    assert not (tmp_path / 'a').exists()


def test_module_names_the_destination_when_it_fails(tmp_path, capsys):
    rc, result = run(capsys, {'src': '/x', 'dest': str(tmp_path / 'a'), 'owner': 'no-such-user-here',
                              'archive': base64.b64encode(pack(str(tmp_path)).getvalue()).decode()})
    assert rc == 1 and result['msg'] == '%s: owner no-such-user-here does not exist on the host' % (tmp_path / 'a')
