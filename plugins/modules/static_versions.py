#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: static_versions
short_description: Keep every version of an app's static files under the version Tornado puts in C(?v=)
version_added: 0.3.0
description:
  - Tornado's C(static_url()) names one version of a file, C(<prefix><path>?v=<version>), where the version is
    a digest of the file's bytes (SHA-512 from Tornado 6.6, MD5 before). A URL naming a version may be cached
    for ever, so it must never be answered with other bytes, not even while a rolling deploy runs two
    releases side by side.
  - Fills the store O(store)C(/<version>/<path>) with every static file of every good release kept under
    O(releases_dir) (a release is good when it has a C(RELEASE.json) and no C(FAILED) marker), so nginx and the
    launcher can answer a URL of any kept release with the bytes it names, and removes what no kept release
    has any more. Entries are hard links to the release's files (copies across file systems).
  - A release's static directory and digest come from its C(RELEASE.json) (C(app.static_path),
    C(app.static_hash)), as the launcher's release check read them from the built Application. A release
    without them (an app with no static_path, custom versioning, or a release made before this module)
    contributes nothing; its URLs then get the current file without a long lifetime.
  - Files larger than Tornado's C(MAX_VERSION_CONTENT_SIZE) (64 MiB) get no version from Tornado and none here.
options:
  releases_dir:
    description: The app's C(releases) directory.
    type: path
    required: true
  store:
    description: The store directory (created, C(0755) root).
    type: path
    required: true
  static_path:
    description:
      - A static directory outside the releases that is served too (C(app_static_path)), versioned with
        O(static_hash). Its files are copied, not linked, since they may change in place.
    type: path
  static_hash:
    description: The digest of O(static_path).
    type: str
    choices: [sha512, md5]
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Keep every version of the static files of the releases on disk
  webops.tornado.static_versions:
    releases_dir: /srv/demo/releases
    store: /srv/demo/static-versions
"""

RETURN = r"""
files:
  description: How many files the store holds.
  returned: always
  type: int
  sample: 12
added:
  description: Store entries added (C(<version>/<path>)), at most 20.
  returned: always
  type: list
  elements: str
removed:
  description: Store entries removed, at most 20.
  returned: always
  type: list
  elements: str
"""

import hashlib
import json
import os
import re
import shutil

from ansible.module_utils.basic import AnsibleModule

# Tornado's StaticFileHandler.MAX_VERSION_CONTENT_SIZE: a larger file gets no version in static_url().
MAX_VERSION_CONTENT_SIZE = 64 * 1024 * 1024
DIGESTS = ("sha512", "md5")
# What a version looks like in a URL; nginx's map and the launcher accept exactly this.
VERSION = re.compile(r"[0-9a-f]{32,128}")
SHOWN = 20


def _inside(path, root):
    return path == root or path.startswith(root.rstrip("/") + "/")


def file_digest(path, algorithm):
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def static_files(root):
    """(relative path, real path) of every regular file under root, links followed only when they stay inside."""
    real_root = os.path.realpath(root)
    for directory, dirnames, filenames in os.walk(real_root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(directory, name)
            real = os.path.realpath(path)
            if not _inside(real, real_root) or not os.path.isfile(real):
                continue
            if os.path.getsize(real) > MAX_VERSION_CONTENT_SIZE:
                continue
            yield os.path.relpath(path, real_root), real


def release_sources(releases_dir):
    """(static directory, digest) of every good release, newest first."""
    try:
        names = sorted(os.listdir(releases_dir), reverse=True)
    except FileNotFoundError:
        return
    for name in names:
        release = os.path.join(releases_dir, name)
        if os.path.lexists(os.path.join(release, "FAILED")):
            continue
        try:
            with open(os.path.join(release, "RELEASE.json")) as handle:
                app = (json.load(handle) or {}).get("app") or {}
        except (OSError, ValueError, AttributeError):
            continue
        static_path, digest = app.get("static_path"), app.get("static_hash")
        if not isinstance(static_path, str) or digest not in DIGESTS:
            continue
        static_path = os.path.normpath(static_path)
        # Only a directory of the release itself: RELEASE.json points into releases/<id>/.
        if _inside(static_path, release) and os.path.isdir(static_path):
            yield static_path, digest, True


def desired_entries(sources):
    """{'<version>/<path>': [source file, ...]} for the (directory, digest, link) sources given."""
    wanted = {}
    for root, digest, link in sources:
        for relative, real in static_files(root):
            entry = file_digest(real, digest) + "/" + relative
            wanted.setdefault(entry, []).append((real, link))
    return wanted


def existing_entries(store):
    found = []
    for directory, _dirnames, filenames in os.walk(store):
        for name in filenames:
            found.append(os.path.relpath(os.path.join(directory, name), store))
    return found


def _same(entry_path, entry, candidates):
    """Whether the store file already holds the bytes its name says."""
    if not os.path.isfile(entry_path) or os.path.islink(entry_path):
        return False
    for real, _link in candidates:
        try:
            if os.path.samefile(entry_path, real):
                return True
        except OSError:
            pass
    # A link to a release that was pruned since, or a copy: check the bytes once.
    version = entry.split("/", 1)[0]
    digest = "sha512" if len(version) == 128 else "md5" if len(version) == 32 else None
    return digest is not None and file_digest(entry_path, digest) == version


def _place(source, link, target):
    os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
    temporary = target + ".webops-tmp"
    if os.path.lexists(temporary):
        os.unlink(temporary)
    placed = False
    if link:
        try:
            os.link(source, temporary)
            placed = True
        except OSError:
            pass
    if not placed:
        shutil.copyfile(source, temporary)
        os.chmod(temporary, 0o644)
    os.replace(temporary, target)


def _remove_empty_directories(store):
    # Bottom-up, so a directory whose subdirectories were just removed is seen empty.
    for directory, _dirnames, _filenames in os.walk(store, topdown=False):
        if directory != store and not os.listdir(directory):
            os.rmdir(directory)


def sync(store, wanted, check_mode=False):
    """Make the store hold exactly the wanted entries; return (added, removed)."""
    present = set(existing_entries(store)) if os.path.isdir(store) else set()
    removed = sorted(entry for entry in present
                     if entry not in wanted or not _same(os.path.join(store, entry), entry, wanted[entry]))
    added = sorted(entry for entry in wanted if entry not in present or entry in removed)
    if check_mode:
        return added, removed
    os.makedirs(store, mode=0o755, exist_ok=True)
    for entry in removed:
        os.unlink(os.path.join(store, entry))
    for entry in added:
        source, link = wanted[entry][0]
        _place(source, link, os.path.join(store, entry))
    _remove_empty_directories(store)
    return added, removed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            releases_dir=dict(type="path", required=True),
            store=dict(type="path", required=True),
            static_path=dict(type="path"),
            static_hash=dict(type="str", choices=list(DIGESTS)),
        ),
        required_together=[("static_path", "static_hash")],
        supports_check_mode=True,
    )
    params = module.params
    store = os.path.normpath(params["store"])
    sources = list(release_sources(params["releases_dir"]))
    if params["static_path"] and os.path.isdir(params["static_path"]):
        sources.append((params["static_path"], params["static_hash"], False))
    try:
        wanted = desired_entries(sources)
        # A version that is not a digest Tornado would write (cannot happen with sha512/md5) never
        # becomes a directory nginx could be asked for.
        wanted = {entry: sources_ for entry, sources_ in wanted.items() if VERSION.fullmatch(entry.split("/", 1)[0])}
        added, removed = sync(store, wanted, module.check_mode)
        changed = bool(added or removed)
        if not module.check_mode:
            # Root's, readable by nginx and the app user, writable by no one else.
            info = os.stat(store)
            if (info.st_uid, info.st_gid) != (0, 0):
                os.chown(store, 0, 0)
                changed = True
            if info.st_mode & 0o7777 != 0o755:
                os.chmod(store, 0o755)
                changed = True
    except OSError as exc:
        module.fail_json(msg="cannot update the static versions in %s: %s" % (store, exc))
    module.exit_json(changed=changed, files=len(wanted), added=added[:SHOWN], removed=removed[:SHOWN])


if __name__ == "__main__":
    main()
