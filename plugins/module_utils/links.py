# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Symbolic links replaced atomically, for the modules that point one (files' link items, rolling_restart's link)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os


def replace_link(path, target):
    """Make ``path`` a symbolic link to ``target`` (as the link holds it): a new link beside it renamed over it, so
    the path never misses its link. Whatever ``path`` was is replaced; the callers refuse what must not be."""
    temporary = os.path.join(os.path.dirname(path), ".%s.%d.link" % (os.path.basename(path), os.getpid()))
    if os.path.lexists(temporary):
        os.unlink(temporary)
    os.symlink(target, temporary)
    try:
        os.rename(temporary, path)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
