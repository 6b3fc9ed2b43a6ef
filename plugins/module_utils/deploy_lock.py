# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-app deploy lock: one JSON file per app on each host, created with O_EXCL.

The file names its holder: the run (controller host, ansible-playbook's pid and the kernel's start
time of that pid, so a reused pid is a different run), who started it, when, and which playbook.
Taking it again in the same run is a no-op; replacing another run's lock needs that run's id (or '*'),
which the controller gives only when the holder is gone or the user asked to break the lock.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os

LOCK_DIR = '/run/lock/webops-tornado'


def read(path):
    """The holder written in the lock file, None when there is no lock, {} when it cannot be read."""
    try:
        with open(path) as handle:
            holder = json.load(handle)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        return {}
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def _write_new(path, holder):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, 'w') as handle:
        json.dump(holder, handle, sort_keys=True)


def _replace(path, holder):
    tmp = '%s.%d.tmp' % (path, os.getpid())
    with open(tmp, 'w') as handle:
        json.dump(holder, handle, sort_keys=True)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def take(path, holder, replace=None, check_mode=False):
    """Take the lock for ``holder`` (a dict with a 'run' id).

    Returns (state, previous): state is 'taken' (it was free), 'held' (this run already holds it),
    'replaced' (``replace`` was the holder's run id, or '*'), or 'refused' (another run holds it);
    previous is the holder found, if any.
    """
    directory = os.path.dirname(path)
    if not check_mode and not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    for _attempt in range(3):
        previous = read(path)
        if previous is None:
            if check_mode:
                return 'taken', None
            try:
                _write_new(path, holder)
            except OSError as exc:
                if exc.errno == errno.EEXIST:  # another run took it between the read and the create
                    continue
                raise
            return 'taken', None
        if previous.get('run') == holder['run']:
            return 'held', previous
        if replace and (replace == '*' or replace == previous.get('run')):
            if not check_mode:
                _replace(path, holder)
            return 'replaced', previous
        return 'refused', previous
    return 'refused', read(path)


def release(path, run, check_mode=False):
    """Remove the lock if ``run`` holds it. Returns True when it was removed (or would be)."""
    previous = read(path)
    if previous is None or previous.get('run') != run:
        return False
    if not check_mode:
        try:
            os.unlink(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
    return True


def start_ticks(pid, proc='/proc'):
    """The kernel's start time of a process (field 22 of /proc/PID/stat), None if it does not exist."""
    try:
        with open(os.path.join(proc, str(pid), 'stat')) as handle:
            stat = handle.read()
    except (IOError, OSError):
        return None
    # The command name (field 2) is in parentheses and may contain spaces and ')'.
    fields = stat[stat.rindex(')') + 2:].split()
    return int(fields[19])


def holder_gone(holder, controller, proc='/proc'):
    """Whether the run holding the lock is known to be gone: it ran on this controller and its
    process no longer exists (or the pid now belongs to a process started at another time).
    A holder on another controller, or one that cannot be read, is never judged gone here."""
    if not holder or holder.get('controller') != controller:
        return False
    try:
        pid = int(holder.get('pid'))
    except (TypeError, ValueError):
        return False
    return start_ticks(pid, proc) != holder.get('start_ticks')


def describe(holder):
    """One line for people: who holds the lock, since when, with which playbook, from where."""
    if not holder:
        return 'an unreadable lock file'
    return '%s on %s (playbook %s, pid %s, since %s)' % (
        holder.get('user', '?'), holder.get('controller', '?'), holder.get('playbook', '?'),
        holder.get('pid', '?'), holder.get('since', '?'))


# RELEASE.json is a few hundred bytes; anything larger is not one.
RELEASE_MAX = 65536


def read_current(link):
    """Where the app's ``current`` symlink leads (resolved, as ``ansible.builtin.stat``'s ``lnk_source``; '' when it
    is not a symlink) and the text of that release's RELEASE.json (None when missing, unreadable or too large)."""
    if not os.path.islink(link):
        return {'target': '', 'release': None}
    release = None
    try:
        with open(os.path.join(link, 'RELEASE.json'), 'rb') as handle:
            data = handle.read(RELEASE_MAX + 1)
        if len(data) <= RELEASE_MAX:
            release = data.decode('utf-8', 'replace')
    except (IOError, OSError):
        pass
    return {'target': os.path.realpath(link), 'release': release}
