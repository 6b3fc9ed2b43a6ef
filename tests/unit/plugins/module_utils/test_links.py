# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the atomic link replacement shared by files' link items and rolling_restart's link."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.webops.tornado.plugins.module_utils.links import replace_link


def test_a_link_is_made_then_moved_leaving_nothing_beside_it(tmp_path):
    link = str(tmp_path / 'current')
    replace_link(link, 'releases/a')
    assert os.readlink(link) == 'releases/a'
    # a temporary link left by a run that died in between is no obstacle
    os.symlink('stale', str(tmp_path / ('.current.%d.link' % os.getpid())))
    replace_link(link, 'releases/b')
    assert os.readlink(link) == 'releases/b'
    assert os.listdir(str(tmp_path)) == ['current']
