# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for release_env: a release reuses the current release's exact set only when nothing the
resolution depended on changed, never when the requirements point at content a fingerprint cannot see,
and falls back to resolving again when reinstalling the set fails."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.modules import release_env as mod

NAMES = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_.-]{0,20}[A-Za-z0-9]\Z")
VERSIONS = st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){0,3}\Z")


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_an_included_file_is_part_of_the_digest(tmp_path):
    req = write(tmp_path / "requirements.txt", "-r base.txt\nrequests==2.32.3\n")
    write(tmp_path / "base.txt", "attrs==24.2.0\n")
    before, why = mod.requirements_digest(req)
    assert why is None
    write(tmp_path / "base.txt", "attrs==25.1.0\n")
    after, why = mod.requirements_digest(req)
    assert why is None and after != before


def test_include_cycles_end(tmp_path):
    req = write(tmp_path / "a.txt", "-r b.txt\n")
    write(tmp_path / "b.txt", "--requirement=a.txt\nsix==1.16.0\n")
    digest, why = mod.requirements_digest(req)
    assert why is None and len(digest) == 64


@pytest.mark.parametrize("line", [
    ".", "./libs/pkg", "-e .", "--editable ./pkg", "/opt/wheels/x-1.0-py3-none-any.whl",
    "pkg @ git+https://example.com/pkg.git@main", "https://example.com/x-1.0.tar.gz",
    "file:///tmp/x", "-r https://example.com/req.txt", "-r missing.txt",
])
def test_content_the_fingerprint_cannot_see_is_never_reused(tmp_path, line):
    req = write(tmp_path / "requirements.txt", "tornado-addons==1.0\n%s\n" % line)
    _digest, why = mod.requirements_digest(req)
    assert why is not None


@pytest.mark.parametrize("line", [
    "--index-url https://pypi.example.com/simple", "-i https://pypi.example.com/simple",
    "--extra-index-url https://x.example.com/simple", "requests[socks]>=2,<3 ; python_version >= '3.8'",
    "# https://example.com/a comment", "attrs==24.2.0 --hash=sha256:abcdef",
])
def test_options_comments_and_named_requirements_are_reusable(tmp_path, line):
    req = write(tmp_path / "requirements.txt", "%s\n" % line)
    _digest, why = mod.requirements_digest(req)
    assert why is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(NAMES, VERSIONS), min_size=1, max_size=8))
def test_pinned_names_are_reusable_and_any_change_is_seen(tmp_path_factory, pins):
    folder = tmp_path_factory.mktemp("req")
    lines = ["%s==%s" % pin for pin in pins]
    req = write(folder / "requirements.txt", "\n".join(lines) + "\n")
    first, why = mod.fingerprint("uv", "3.11.2", ["tornado==6.6.1"], req, "")
    assert why is None
    write(folder / "requirements.txt", "\n".join(lines[:-1] + [lines[-1] + ".1"]) + "\n")
    second = mod.fingerprint("uv", "3.11.2", ["tornado==6.6.1"], req, "")[0]
    assert second != first


def test_the_fingerprint_follows_python_tornado_installer_args_and_wheel_bytes(tmp_path):
    wheel = write(tmp_path / "app-1.0-py3-none-any.whl", "one")
    base = mod.fingerprint("uv", "3.11.2", ["tornado==6.6.1", wheel], None, "")[0]
    assert mod.fingerprint("uv", "3.11.2", ["tornado==6.6.1", wheel], None, "")[0] == base
    assert mod.fingerprint("uv", "3.13.5", ["tornado==6.6.1", wheel], None, "")[0] != base
    assert mod.fingerprint("uv", "3.11.2", ["tornado==6.5.2", wheel], None, "")[0] != base
    assert mod.fingerprint("pip", "3.11.2", ["tornado==6.6.1", wheel], None, "")[0] != base
    assert mod.fingerprint("uv", "3.11.2", ["tornado==6.6.1", wheel], None, "--index-url https://x/simple")[0] != base
    write(tmp_path / "app-1.0-py3-none-any.whl", "two")
    assert mod.fingerprint("uv", "3.11.2", ["tornado==6.6.1", wheel], None, "")[0] != base


def test_reuse_plan():
    previous = {"fingerprint": "f", "reusable": True, "installed": ["tornado==6.6.1"]}
    assert mod.reuse_plan(previous, "f", None, True) == (["tornado==6.6.1"], None)
    assert mod.reuse_plan(previous, "g", None, True)[0] is None
    assert mod.reuse_plan(previous, "f", "a path", True) == (None, "a path")
    assert mod.reuse_plan(previous, "f", None, False)[0] is None
    assert mod.reuse_plan(None, "f", None, True)[0] is None
    assert mod.reuse_plan(dict(previous, reusable=False), "f", None, True)[0] is None


class FakeModule(object):
    def __init__(self, **params):
        self.params = dict(installer="uv", uv="/opt/uv/bin/uv", cache_dir="/var/cache/uv", python="/usr/bin/python3",
                           packages=["tornado==6.6.1"], requirements=None, extra_args="", reuse_from=None,
                           reuse=True)
        self.params.update(params)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs["msg"])


class FakeBuilder(object):
    """Records the calls; install_exact fails when told to (a cache that lost a package)."""

    def __init__(self, module, exact_fails=False):
        self.module = module
        self.calls = []
        self.exact_fails = exact_fails

    def python_version(self):
        return "3.11.2"

    def create(self):
        os.makedirs(self.module.params["path"])
        self.calls.append("create")

    def install(self, packages, requirements):
        self.calls.append(("install", tuple(packages), requirements))

    def install_exact(self, installed):
        self.calls.append(("exact", tuple(installed)))
        if self.exact_fails:
            raise mod.BuildError("uv pip sync failed", ["uv"])

    def freeze(self):
        return ["tornado==6.6.1"]


def release(tmp_path, name):
    folder = tmp_path / "releases" / name
    folder.mkdir(parents=True)
    return folder


def test_a_second_release_with_the_same_inputs_installs_the_same_set_without_resolving(tmp_path):
    first = release(tmp_path, "1")
    module = FakeModule(path=str(first / "venv"))
    result = mod.build(module, FakeBuilder(module))
    assert not result["reused"] and result["reusable"]
    recorded = json.loads((first / "venv.json").read_text())
    assert recorded["installed"] == ["tornado==6.6.1"] and recorded["fingerprint"] == result["fingerprint"]

    second = release(tmp_path, "2")
    module = FakeModule(path=str(second / "venv"), reuse_from=str(first))
    builder = FakeBuilder(module)
    result = mod.build(module, builder)
    assert result["reused"] and result["why_not_reused"] is None
    assert builder.calls == ["create", ("exact", ("tornado==6.6.1",))]

    third = release(tmp_path, "3")
    module = FakeModule(path=str(third / "venv"), reuse_from=str(second), packages=["tornado==6.5.2"])
    builder = FakeBuilder(module)
    result = mod.build(module, builder)
    assert not result["reused"] and builder.calls == ["create", ("install", ("tornado==6.5.2",), None)]


def test_a_failed_reinstall_resolves_again_in_a_fresh_virtualenv(tmp_path):
    first = release(tmp_path, "1")
    module = FakeModule(path=str(first / "venv"))
    mod.build(module, FakeBuilder(module))
    second = release(tmp_path, "2")
    module = FakeModule(path=str(second / "venv"), reuse_from=str(first))
    builder = FakeBuilder(module, exact_fails=True)
    result = mod.build(module, builder)
    assert not result["reused"] and "uv pip sync failed" in result["why_not_reused"]
    assert builder.calls == ["create", ("exact", ("tornado==6.6.1",)), "create",
                             ("install", ("tornado==6.6.1",), None)]


def test_requirements_with_a_path_are_resolved_every_time(tmp_path):
    first = release(tmp_path, "1")
    req = write(tmp_path / "req.txt", "-e ./lib\n")
    module = FakeModule(path=str(first / "venv"), requirements=req)
    assert mod.build(module, FakeBuilder(module))["reusable"] is False
    second = release(tmp_path, "2")
    module = FakeModule(path=str(second / "venv"), requirements=req, reuse_from=str(first))
    result = mod.build(module, FakeBuilder(module))
    assert not result["reused"] and "./lib" in result["why_not_reused"]


def test_an_existing_virtualenv_is_never_built_over(tmp_path):
    first = release(tmp_path, "1")
    (first / "venv").mkdir()
    module = FakeModule(path=str(first / "venv"))
    with pytest.raises(AssertionError, match="built once"):
        mod.build(module, FakeBuilder(module))
