#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_env
short_description: Build a release's virtualenv with uv (or pip), reusing the current release's set when nothing it depends on changed
version_added: 0.4.0
description:
  - Creates the virtualenv O(path) with O(python) and installs O(packages) and the requirements file
    O(requirements) into it in one resolution, so a requirement that contradicts a pinned package fails
    here instead of replacing it.
  - Writes C(venv.json) next to O(path) (in the release directory) with the installer, a fingerprint of
    everything the resolution depended on (the interpreter's version, the packages, the requirements file
    and every file it includes with C(-r)/C(-c), the extra arguments) and the exact set installed
    (C(name==version) lines).
  - When O(reuse_from) (the current release) has a C(venv.json) with the same fingerprint, the same exact set
    is installed without resolving again (C(uv pip sync), from the cache when it can; C(pip install --no-deps)
    with pip). A requirements file that names local paths, URLs or editable installs is never reused, since
    the fingerprint cannot see what they point to.
  - With uv the packages are hard links into the cache O(cache_dir) when it is on the same file system.
options:
  path:
    description: The virtualenv to create; it must not exist yet. Its parent is the release directory.
    type: path
    required: true
  python:
    description: The interpreter the virtualenv is made from.
    type: str
    required: true
  installer:
    description: C(uv) (fast, with a cache) or C(pip) (C(python -m venv) and pip, the fallback).
    type: str
    choices: [uv, pip]
    default: uv
  uv:
    description: The uv executable (required with O(installer=uv)).
    type: path
  cache_dir:
    description: uv's cache directory (created by uv).
    type: path
  packages:
    description: Requirement specifiers or wheel paths installed together with O(requirements).
    type: list
    elements: str
    default: []
  requirements:
    description: A requirements file, or nothing. A path to a file that does not exist counts as nothing.
    type: path
  extra_args:
    description: Extra arguments for the installer (for example C(--index-url https://pypi.example.com/simple)).
    type: str
    default: ""
  reuse_from:
    description: A release directory whose C(venv.json) may be reused (the current release), or nothing.
    type: path
  reuse:
    description: Whether a set with the same fingerprint is reused.
    type: bool
    default: true
author:
  - webops.tornado contributors (@webops)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: none
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Build the release's virtualenv
  webops.tornado.release_env:
    path: /srv/demo/releases/20261203T010000Z/venv
    python: python3
    uv: /opt/webops-tornado/uv-0.13.9/bin/uv
    cache_dir: /var/cache/webops-tornado/uv
    packages: [tornado==6.5.2]
    requirements: /srv/demo/releases/20261203T010000Z/src/requirements.txt
    reuse_from: /srv/demo/releases/20261202T220000Z
"""

RETURN = r"""
reused:
  description: Whether the exact set of O(reuse_from) was installed without resolving again.
  returned: always
  type: bool
fingerprint:
  description: The fingerprint of what the resolution depends on.
  returned: always
  type: str
reusable:
  description: Whether a later release may reuse this set (false when the requirements name paths or URLs).
  returned: always
  type: bool
why_not_reused:
  description: Why the set was resolved again, or null when it was reused.
  returned: always
  type: str
installed:
  description: The exact set installed, as C(name==version) lines.
  returned: always
  type: list
  elements: str
seconds:
  description: How long building the virtualenv took.
  returned: always
  type: float
"""

import hashlib
import json
import os
import re
import shlex
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

ENV_FILE = "venv.json"
# Lines of a requirements file that include another file: its content is part of the fingerprint.
INCLUDE_RE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")
# Lines that point at content the fingerprint cannot see (paths, URLs, editable installs).
UNSEEN_RE = re.compile(r"^(?:-e\b|--editable\b|\.|/|~|file:)|://|\s@\s")
EDITABLE_RE = re.compile(r"^(?:-e\b|--editable\b)")


def requirements_digest(path, seen=None):
    """(sha256 of the file and every file it includes, why it cannot be reused or None)."""
    seen = set() if seen is None else seen
    digest = hashlib.sha256()
    why = None
    real = os.path.realpath(path)
    if real in seen:
        return digest.hexdigest(), None
    seen.add(real)
    with open(path, "rb") as handle:
        content = handle.read()
    digest.update(content)
    for raw in content.decode("utf-8", "replace").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        include = INCLUDE_RE.match(line)
        if include:
            target = os.path.join(os.path.dirname(path), include.group(1))
            if "://" in include.group(1) or not os.path.isfile(target):
                why = why or "%s includes %s, which is not a file beside it" % (path, include.group(1))
                continue
            sub_digest, sub_why = requirements_digest(target, seen)
            digest.update(sub_digest.encode())
            why = why or sub_why
        elif line.startswith("-") and not EDITABLE_RE.match(line):
            continue  # an option (--index-url, --hash, ...): part of the file's digest, nothing unseen
        elif UNSEEN_RE.search(line):
            why = why or "%s names a path or URL (%s) whose content a fingerprint cannot see" % (path, line)
    return digest.hexdigest(), why


def file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(installer, python_version, packages, requirements, extra_args):
    """(fingerprint, why a later release may not reuse it or None)."""
    why = None
    parts = {"installer": installer, "python": python_version, "extra_args": extra_args, "packages": []}
    for package in packages:
        if os.path.isabs(package) and os.path.isfile(package):
            parts["packages"].append("%s sha256:%s" % (os.path.basename(package), file_digest(package)))
        else:
            parts["packages"].append(package)
            if UNSEEN_RE.search(package):
                why = why or "the package %s is a path or URL" % package
    if requirements:
        parts["requirements"], req_why = requirements_digest(requirements)
        why = why or req_why
    encoded = json.dumps(parts, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest(), why


def read_env(release_dir):
    if not release_dir:
        return None
    try:
        with open(os.path.join(release_dir, ENV_FILE)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def reuse_plan(previous, new_fingerprint, reusable_why, reuse):
    """(set of the previous release to install again, or None; why not)."""
    if not reuse:
        return None, "reuse is off"
    if reusable_why:
        return None, reusable_why
    if not previous:
        return None, "no current release with a recorded set"
    if previous.get("fingerprint") != new_fingerprint:
        return None, "what the set depends on changed"
    if not previous.get("reusable") or not previous.get("installed"):
        return None, "the current release's set cannot be reused"
    return list(previous["installed"]), None


class Builder(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.venv_python = os.path.join(self.params["path"], "bin", "python")
        env = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
        if self.params["cache_dir"]:
            env["UV_CACHE_DIR"] = self.params["cache_dir"]
        self.env = env

    def run(self, argv, what):
        rc, out, err = self.module.run_command(argv, environ_update=self.env)
        if rc != 0:
            raise BuildError("%s failed (rc %d): %s" % (what, rc, (err or out).strip()[-4000:]), argv)
        return out

    def extra(self):
        return shlex.split(self.params["extra_args"] or "")

    def create(self):
        if self.params["installer"] == "uv":
            self.run([self.params["uv"], "venv", "--quiet", "--python", self.params["python"], self.params["path"]],
                     "uv venv")
        else:
            self.run([self.params["python"], "-m", "venv", self.params["path"]], "python -m venv")

    def install(self, packages, requirements):
        req = ["-r", requirements] if requirements else []
        if self.params["installer"] == "uv":
            self.run([self.params["uv"], "pip", "install", "--quiet", "--python", self.venv_python]
                     + self.extra() + list(packages) + req, "uv pip install")
        else:
            self.run([self.venv_python, "-m", "pip", "install", "--quiet"] + self.extra() + list(packages) + req,
                     "pip install")

    def install_exact(self, installed):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as lock:
            lock.write("\n".join(installed) + "\n")
        try:
            if self.params["installer"] == "uv":
                self.run([self.params["uv"], "pip", "sync", "--quiet", "--python", self.venv_python]
                         + self.extra() + [lock.name], "uv pip sync")
            else:
                self.run([self.venv_python, "-m", "pip", "install", "--quiet", "--no-deps"] + self.extra()
                         + ["-r", lock.name], "pip install --no-deps")
        finally:
            os.unlink(lock.name)

    def freeze(self):
        if self.params["installer"] == "uv":
            out = self.run([self.params["uv"], "pip", "freeze", "--python", self.venv_python], "uv pip freeze")
        else:
            out = self.run([self.venv_python, "-m", "pip", "freeze", "--all", "--exclude", "pip"], "pip freeze")
        return sorted(line.strip() for line in out.splitlines() if line.strip() and not line.startswith("#"))

    def python_version(self):
        return self.run([self.params["python"], "-c", "import sys; print(sys.version)"], "python").strip()


class BuildError(Exception):
    def __init__(self, msg, argv):
        super(BuildError, self).__init__(msg)
        self.argv = argv


def build(module, builder):
    params = module.params
    started = time.time()
    if os.path.lexists(params["path"]):
        module.fail_json(msg="%s exists already: a release's virtualenv is built once" % params["path"])
    requirements = params["requirements"] if params["requirements"] and os.path.isfile(params["requirements"]) else None
    new_fingerprint, why_unreusable = fingerprint(params["installer"], builder.python_version(), params["packages"],
                                                  requirements, params["extra_args"])
    exact, why_not = reuse_plan(read_env(params["reuse_from"]), new_fingerprint, why_unreusable, params["reuse"])
    builder.create()
    reused = False
    if exact is not None:
        try:
            builder.install_exact(exact)
            reused = True
        except BuildError as error:
            # The cache lost a package, or the index is gone: resolve again in a fresh virtualenv.
            why_not = "installing the current release's set again failed: %s" % error
            shutil.rmtree(params["path"])
            builder.create()
    if not reused:
        builder.install(params["packages"], requirements)
    installed = builder.freeze()
    record = {"installer": params["installer"], "fingerprint": new_fingerprint, "reusable": why_unreusable is None,
              "installed": installed}
    env_path = os.path.join(os.path.dirname(params["path"].rstrip("/")), ENV_FILE)
    with open(env_path, "w") as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
    os.chmod(env_path, 0o644)
    return dict(changed=True, reused=reused, fingerprint=new_fingerprint, reusable=record["reusable"],
                why_not_reused=why_not, installed=installed, seconds=round(time.time() - started, 3))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            python=dict(type="str", required=True),
            installer=dict(type="str", choices=["uv", "pip"], default="uv"),
            uv=dict(type="path"),
            cache_dir=dict(type="path"),
            packages=dict(type="list", elements="str", default=[]),
            requirements=dict(type="path"),
            extra_args=dict(type="str", default=""),
            reuse_from=dict(type="path"),
            reuse=dict(type="bool", default=True),
        ),
        required_if=[("installer", "uv", ["uv"])],
        supports_check_mode=False,
    )
    try:
        result = build(module, Builder(module))
    except BuildError as error:
        module.fail_json(msg=str(error), cmd=error.argv)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
