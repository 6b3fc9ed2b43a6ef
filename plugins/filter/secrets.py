# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cookie secret an app's hosts already hold, from their slurp results."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii

# What each host of the batch registered when it read its own file (roles/app/tasks/config.yml).
READ_HERE = '__app_secret_here'


def _text(result):
    """The trimmed text of one slurp result; '' for a file that was missing, unreadable or not read."""
    if not isinstance(result, dict) or 'content' not in result:
        return ''
    try:
        return base64.b64decode(result['content']).decode('utf-8').strip()
    except (TypeError, ValueError, binascii.Error, UnicodeDecodeError):
        return ''


def cookie_secret_held(hosts, hostvars, batch, read_from_here=()):
    """The secret of the first of ``hosts`` that holds a non-empty one ('' when none does).

    A host of ``batch`` read its own file (its ``__app_secret_here`` in ``hostvars``); the others were read in
    a loop (``read_from_here``, each result naming its host as ``item``). Whatever order the reads came in,
    the first host in ``hosts`` wins: every host of the app chooses the same secret, whichever batch it is in.
    Only the hosts asked for are looked up.
    """
    batch = set(batch or ())
    elsewhere = {}
    for result in read_from_here or ():
        if isinstance(result, dict) and 'item' in result:
            elsewhere.setdefault(result['item'], result)
    for host in hosts or ():
        if host in batch:
            own = hostvars[host] if host in hostvars else {}
            result = own[READ_HERE] if READ_HERE in own else None
        else:
            result = elsewhere.get(host)
        secret = _text(result)
        if secret:
            return secret
    return ''


class FilterModule(object):
    """webops.tornado secrets."""

    def filters(self):
        return {'cookie_secret_held': cookie_secret_held}
