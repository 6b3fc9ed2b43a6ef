# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which releases a deploy removes, so that what a rollback needs stays on disk."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath

from collections.abc import Mapping

MARKERS = ('RELEASE.json', 'FAILED')


def _newest(ids, count):
    """The last ``count`` of the sorted ``ids``, all of them when there are fewer (none for 0: ids[-0:] would be
    all of them; a start below 0 would count from the end)."""
    count = max(int(count), 0)
    return set(sorted(ids)[max(len(ids) - count, 0):]) if count else set()


def releases_to_prune(found, releases_dir, current, keep, keep_failed):
    """The release directories to remove, oldest first.

    ``found`` is what ``ansible.builtin.find`` returns under ``releases_dir`` (``file_type: any``,
    ``recurse: true``, ``depth: 2``): the release directories and their ``RELEASE.json``/``FAILED``
    markers (its ``files``, or their paths). A release is good when it has a ``RELEASE.json`` and no
    ``FAILED``, the same rule rollback.yml chooses by; every other one (marked ``FAILED``, or never
    completed) is failed. The newest ``keep`` good releases and the newest ``keep_failed`` failed ones
    stay, each counted on its own (failed deploys in a row never push good releases off the disk),
    and ``current`` (a path, or a list of paths: the release current after activation) always stays.
    Releases are compared by id (their directory name, sortable), so a path that reaches the same
    release through another spelling (a symlinked home) is still recognised.
    """
    root = posixpath.normpath(releases_dir)
    releases = {}
    markers = {}
    for entry in found or []:
        if isinstance(entry, Mapping):
            path, is_dir = entry['path'], entry.get('isdir', True)
        else:
            path, is_dir = entry, True
        parent, name = posixpath.split(posixpath.normpath(path))
        if parent == root:
            if is_dir:
                releases[name] = posixpath.join(root, name)
        elif posixpath.dirname(parent) == root and name in MARKERS:
            release = posixpath.basename(parent)
            releases.setdefault(release, parent)
            markers.setdefault(release, set()).add(name)
    good = [release for release in releases if markers.get(release, set()) == {'RELEASE.json'}]
    failed = [release for release in releases if release not in good]
    protected = set(posixpath.basename(posixpath.normpath(path))
                    for path in ([current] if isinstance(current, str) else current or []) if path)
    kept = _newest(good, keep) | _newest(failed, keep_failed) | protected
    return [releases[release] for release in sorted(releases) if release not in kept]


class FilterModule(object):
    """webops.tornado release filters."""

    def filters(self):
        return {'releases_to_prune': releases_to_prune}
