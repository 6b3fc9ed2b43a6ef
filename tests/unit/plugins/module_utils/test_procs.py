# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess
import sys

from ansible_collections.webops.tornado.plugins.module_utils import procs


def spawn(proc, pid, ppid, comm='nginx'):
    os.makedirs(str(proc / str(pid)))
    (proc / str(pid) / 'stat').write_text(u'%d (%s) S %d %d %d 0 -1\n' % (pid, comm, ppid, pid, pid))


def test_children_of_a_master(tmp_path):
    spawn(tmp_path, 1, 0, 'systemd')
    spawn(tmp_path, 1000, 1)
    spawn(tmp_path, 1001, 1000)
    spawn(tmp_path, 1002, 1000)
    # A command name may hold spaces and parentheses: the fields are read after the last ')'.
    spawn(tmp_path, 1003, 1000, 'nginx: cache manager (odd) name')
    spawn(tmp_path, 2000, 1, 'sshd')
    spawn(tmp_path, 2001, 2000, 'sshd')
    os.makedirs(str(tmp_path / '999'))  # gone between listdir and open
    (tmp_path / 'self').mkdir()
    proc = str(tmp_path)
    assert sorted(procs.children(1000, proc=proc)) == [1001, 1002, 1003]
    assert sorted(procs.children(1, proc=proc)) == [1000, 2000]
    assert procs.children(4242, proc=proc) == []
    assert procs.children(None, proc=proc) == [] and procs.children(0, proc=proc) == []


def test_children_of_a_real_process():
    child = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'], stdin=subprocess.PIPE)
    try:
        assert child.pid in procs.children(os.getpid())
    finally:
        child.communicate(b'')
