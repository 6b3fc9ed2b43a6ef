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


def _unread(result):
    """Whether a read was tried and tells nothing of the file: unreachable, or failed other than a missing file."""
    if not isinstance(result, dict) or result.get('skipped') or 'content' in result:
        return False
    # The roles read with failed_when: false, which turns `failed` off: a missing file is known by its message.
    return bool(result.get('unreachable')) or not str(result.get('msg', '')).lower().startswith('file not found')


def _reads(hosts, hostvars, batch, read_from_here):
    """(host, slurp result or None) for each of ``hosts``: its own read when in ``batch``, else the loop's."""
    batch = set(batch or ())
    elsewhere = {}
    for result in read_from_here or ():
        if isinstance(result, dict) and 'item' in result:
            elsewhere.setdefault(result['item'], result)
    for host in hosts or ():
        if host in batch:
            own = hostvars[host] if host in hostvars else {}
            yield host, own[READ_HERE] if READ_HERE in own else None
        else:
            yield host, elsewhere.get(host)


def cookie_secret_held(hosts, hostvars, batch, read_from_here=()):
    """The secret of the first of ``hosts`` that holds a non-empty one ('' when none does).

    A host of ``batch`` read its own file (its ``__app_secret_here`` in ``hostvars``); the others were read in
    a loop (``read_from_here``, each result naming its host as ``item``). Whatever order the reads came in,
    the first host in ``hosts`` wins: every host of the app chooses the same secret, whichever batch it is in.
    Only the hosts asked for are looked up.
    """
    for _host, result in _reads(hosts, hostvars, batch, read_from_here):
        secret = _text(result)
        if secret:
            return secret
    return ''


def cookie_secret_unread(hosts, hostvars, batch, read_from_here=()):
    """The hosts of ``hosts`` whose file could not be read (unreachable, or a read that failed for another reason
    than a missing file): one of them may hold the secret the others lost, so none may be generated."""
    return [host for host, result in _reads(hosts, hostvars, batch, read_from_here) if _unread(result)]


class FilterModule(object):
    """webops.tornado secrets."""

    def filters(self):
        return {'cookie_secret_held': cookie_secret_held, 'cookie_secret_unread': cookie_secret_unread}
