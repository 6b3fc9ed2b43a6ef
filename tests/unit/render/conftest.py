# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One stack.Site per topology and Debian release for the whole session: loading the plays of every role
takes a second or two, running them is what the tests do."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

import role_render
import stack

role_render.memoize_compile()


class Sites(object):
    def __init__(self):
        self._sites = {}

    def __call__(self, topology='one_host', release='bookworm'):
        key = (topology, release)
        if key not in self._sites:
            self._sites[key] = stack.Site(topology, release)
        return self._sites[key]


@pytest.fixture(scope='session')
def sites():
    return Sites()
