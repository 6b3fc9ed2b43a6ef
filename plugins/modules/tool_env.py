#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: tool_env
short_description: Install one pinned Python tool (such as uv) into a virtualenv of its own, without pip in it
version_added: 0.6.0
description:
  - Creates the virtualenv O(path) with O(python) and no pip in it, and installs O(name)==O(version) into it
    with the pip wheel the distribution ships (C(/usr/share/python-wheels/pip-*.whl) on Debian and Ubuntu, which
    C(python3-venv) brings), run from the wheel. That skips C(ensurepip), which installs pip and setuptools into
    every new virtualenv and takes most of the time of a tool's install.
  - Without such a wheel it falls back to C(python -m venv) with pip, and pip from inside the virtualenv.
  - Writes O(note) (the version, one line) when the tool is installed. When the note already holds O(version)
    and the tool's executable is there, nothing runs (C(changed=false)). The directory is meant to be per
    version, so a new version is a new directory.
options:
  path:
    description: The tool's virtualenv.
    type: path
    required: true
  python:
    description: The interpreter the virtualenv is made from.
    type: str
    required: true
  name:
    description: The distribution to install; also the name of its executable in C(bin/).
    type: str
    required: true
  version:
    description: The exact version to install.
    type: str
    required: true
  note:
    description: The file that says which version is installed (written last, so an interrupted install runs again).
    type: path
    required: true
  extra_args:
    description: Extra arguments for pip (for example C(--index-url https://pypi.example.com/simple)).
    type: str
    default: ""
  wheel_globs:
    description: Where to look for the distribution's pip wheel (the first pattern that matches wins, the newest wheel of it).
    type: list
    elements: str
    default: [/usr/share/python-wheels/pip-*.whl]
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
- name: Install the pinned uv
  webops.tornado.tool_env:
    path: /opt/webops-tornado/uv-0.13.9
    python: python3
    name: uv
    version: 0.13.9
    note: /opt/webops-tornado/uv-0.13.9/webops-tornado-installed
"""

RETURN = r"""
executable:
  description: The tool's executable (O(path)/bin/O(name)).
  returned: always
  type: str
pip:
  description: How pip ran, C(wheel) (the distribution's wheel, no pip in the virtualenv) or C(venv) (the fallback), or null when nothing ran.
  returned: always
  type: str
seconds:
  description: How long the install took (0 when nothing ran).
  returned: always
  type: float
"""

import glob
import os
import shlex
import time

from ansible.module_utils.basic import AnsibleModule


def distro_pip_wheel(patterns):
    """The newest pip wheel the first matching pattern finds, or None."""
    for pattern in patterns:
        wheels = sorted(glob.glob(pattern), key=wheel_version)
        if wheels:
            return wheels[-1]
    return None


def wheel_version(path):
    """pip-23.0.1-py3-none-any.whl -> (23, 0, 1), for sorting (unknown parts sort first)."""
    parts = os.path.basename(path).split("-")
    numbers = []
    for piece in (parts[1] if len(parts) > 1 else "").split("."):
        numbers.append(int(piece) if piece.isdigit() else -1)
    return tuple(numbers)


def installed(path, name, version, note):
    try:
        with open(note) as handle:
            noted = handle.read().strip()
    except (IOError, OSError):
        return False
    return noted == version and os.access(os.path.join(path, "bin", name), os.X_OK)


def install_argv(params, wheel):
    """(argv creating the virtualenv, argv installing the tool) for this wheel, or for the fallback (None)."""
    requirement = "%s==%s" % (params["name"], params["version"])
    pip_args = ["install", "--quiet", "--disable-pip-version-check"] + shlex.split(params["extra_args"] or "") + [requirement]
    venv_python = os.path.join(params["path"], "bin", "python")
    if wheel:
        # A wheel is a zip that Python can run a package from: pip runs from it with the new virtualenv's
        # interpreter, so it installs into that virtualenv.
        return ([params["python"], "-m", "venv", "--without-pip", params["path"]],
                [venv_python, os.path.join(wheel, "pip")] + pip_args)
    return [params["python"], "-m", "venv", params["path"]], [venv_python, "-m", "pip"] + pip_args


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            python=dict(type="str", required=True),
            name=dict(type="str", required=True),
            version=dict(type="str", required=True),
            note=dict(type="path", required=True),
            extra_args=dict(type="str", default=""),
            wheel_globs=dict(type="list", elements="str", default=["/usr/share/python-wheels/pip-*.whl"]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    executable = os.path.join(params["path"], "bin", params["name"])
    if installed(params["path"], params["name"], params["version"], params["note"]):
        module.exit_json(changed=False, executable=executable, pip=None, seconds=0.0)
    if module.check_mode:
        module.exit_json(changed=True, executable=executable, pip=None, seconds=0.0)
    started = time.time()
    wheel = distro_pip_wheel(params["wheel_globs"])
    for argv in install_argv(params, wheel):
        rc, out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(msg="installing %s==%s failed (rc %d): %s" % (
                params["name"], params["version"], rc, (err or out).strip()[-4000:]), cmd=argv)
    if not os.access(executable, os.X_OK):
        module.fail_json(msg="%s==%s is installed but has no executable %s" % (params["name"], params["version"], executable))
    with open(params["note"], "w") as handle:
        handle.write(params["version"] + "\n")
    os.chmod(params["note"], 0o644)
    module.exit_json(changed=True, executable=executable, pip="wheel" if wheel else "venv",
                     seconds=round(time.time() - started, 3))


if __name__ == "__main__":
    main()
