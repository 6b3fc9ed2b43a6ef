# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for tool_env: the tool is installed by pip run from the distro's wheel into a virtualenv without
pip (the fallback: a virtualenv with pip), the extra arguments reach pip as arguments whatever they hold, and
nothing runs when the note already holds the version and the executable is there."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shlex

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.modules import tool_env as mod


def params(tmp_path, **over):
    base = {"path": str(tmp_path / "uv-1.0"), "python": "python3", "name": "uv", "version": "1.0",
            "note": str(tmp_path / "uv-1.0" / "note"), "extra_args": "", "wheel_globs": []}
    base.update(over)
    return base


def test_pip_runs_from_the_wheel_into_a_virtualenv_without_pip(tmp_path):
    p = params(tmp_path)
    create, install = mod.install_argv(p, "/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl")
    assert create == ["python3", "-m", "venv", "--without-pip", p["path"]]
    assert install[:2] == [os.path.join(p["path"], "bin", "python"),
                           "/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl/pip"]
    assert install[-1] == "uv==1.0"


def test_without_a_wheel_the_virtualenv_brings_its_own_pip(tmp_path):
    p = params(tmp_path)
    create, install = mod.install_argv(p, None)
    assert create == ["python3", "-m", "venv", p["path"]]
    assert install[1:3] == ["-m", "pip"] and install[-1] == "uv==1.0"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20), max_size=5))
def test_extra_args_reach_pip_as_arguments_never_as_a_shell(tmp_path_factory, args):
    tmp_path = tmp_path_factory.mktemp("t")
    p = params(tmp_path, extra_args=" ".join(shlex.quote(a) for a in args))
    _create, install = mod.install_argv(p, "/w/pip.whl")
    assert install[-1 - len(args):-1] == args


def test_the_newest_wheel_of_the_first_pattern_that_matches(tmp_path):
    for name in ["pip-9.0.1-py3-none-any.whl", "pip-23.0.1-py3-none-any.whl", "pip-22.3-py3-none-any.whl"]:
        (tmp_path / name).write_text("")
    other = tmp_path / "other"
    other.mkdir()
    (other / "pip-99.0-py3-none-any.whl").write_text("")
    found = mod.distro_pip_wheel([str(tmp_path / "none-*.whl"), str(tmp_path / "pip-*.whl"), str(other / "pip-*.whl")])
    assert os.path.basename(found) == "pip-23.0.1-py3-none-any.whl"
    assert mod.distro_pip_wheel([str(tmp_path / "none-*.whl")]) is None


def test_installed_only_with_the_version_noted_and_the_executable_there(tmp_path):
    p = params(tmp_path)
    os.makedirs(os.path.join(p["path"], "bin"))
    exe = os.path.join(p["path"], "bin", "uv")
    assert not mod.installed(p["path"], "uv", "1.0", p["note"])
    with open(p["note"], "w") as handle:
        handle.write("1.0\n")
    assert not mod.installed(p["path"], "uv", "1.0", p["note"])
    with open(exe, "w") as handle:
        handle.write("#!/bin/sh\n")
    os.chmod(exe, 0o755)
    assert mod.installed(p["path"], "uv", "1.0", p["note"])
    assert not mod.installed(p["path"], "uv", "1.1", p["note"])
