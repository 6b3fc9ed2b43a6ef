# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that reshape the app's variables into what the launcher and the other roles consume."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shlex


def shell_split(command, replacements=None):
    """Split a command line like a shell (no shell runs it), then replace placeholders in each word.

    The launcher executes the resulting argv itself, so no word is ever parsed again by supervisord or
    a shell: quotes, '%' and ';' in a word stay part of that word.
    """
    words = shlex.split(command)
    for placeholder, value in (replacements or {}).items():
        words = [word.replace(placeholder, str(value)) for word in words]
    return words


def environment(variables):
    """Environment variables as the launcher sets them: names to strings (numbers become text)."""
    return dict((str(name), str(value)) for name, value in (variables or {}).items())


class FilterModule(object):
    """webops.tornado vocabulary filters."""

    def filters(self):
        return {'shell_split': shell_split, 'environment': environment}
