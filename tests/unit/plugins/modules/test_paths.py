# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for paths: what ansible.builtin.file does for one directory, for many in one call."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat

import pytest
from ansible.module_utils.testing import patch_module_args
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.modules import paths as mod


def run(capsys, paths, check_mode=False, diff=False, **shared):
    args = dict(shared, paths=paths, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            mod.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_creates_in_order_with_modes_then_changes_nothing(capsys, tmp_path):
    home = tmp_path / "app"
    wanted = [{"path": str(home), "mode": "0755"},
              {"path": str(home / "shared"), "mode": "0750"},
              {"path": str(home / "deep" / "er"), "mode": "0700"}]
    rc, result = run(capsys, wanted, mode="0711")
    assert rc == 0 and result["changed"]
    assert result["changed_paths"] == [item["path"] for item in wanted]
    # deep/, made on the way to deep/er, gets the task's shared mode, not er's: a parent such as /etc/tornado
    # stays open to the other apps whose directories it holds.
    assert (mode_of(home), mode_of(home / "shared"), mode_of(home / "deep"), mode_of(home / "deep" / "er")) == \
        (0o755, 0o750, 0o711, 0o700)
    rc, result = run(capsys, wanted, mode="0711")
    assert rc == 0 and not result["changed"] and result["changed_paths"] == []


def test_mode_drift_is_repaired_and_reported_in_the_diff(capsys, tmp_path):
    target = tmp_path / "conf"
    target.mkdir(mode=0o777)
    os.chmod(str(target), 0o777)
    rc, result = run(capsys, [{"path": str(target), "mode": "0750"}], diff=True)
    assert rc == 0 and result["changed"] and mode_of(target) == 0o750
    assert result["diff"][0]["before"]["mode"] == "0777" and result["diff"][0]["after"]["mode"] == "0750"


def test_owner_and_group_by_name(capsys, tmp_path):
    target = tmp_path / "owned"
    rc, result = run(capsys, [{"path": str(target), "owner": "root", "group": "root", "mode": "0700"}])
    assert rc == 0 and result["changed"]
    info = os.stat(str(target))
    assert (info.st_uid, info.st_gid) == (0, 0) or os.geteuid() != 0


def test_check_mode_reports_and_changes_nothing(capsys, tmp_path):
    existing = tmp_path / "existing"
    existing.mkdir()
    os.chmod(str(existing), 0o700)
    gone = tmp_path / "gone"
    gone.write_text("x")
    wanted = [{"path": str(tmp_path / "new" / "dir")}, {"path": str(existing), "mode": "0755"},
              {"path": str(gone), "state": "absent"}]
    rc, result = run(capsys, wanted, check_mode=True)
    assert rc == 0 and result["changed"] and len(result["changed_paths"]) == 3
    assert not (tmp_path / "new").exists() and mode_of(existing) == 0o700 and gone.exists()


def test_absent_removes_files_trees_and_links_not_their_targets(capsys, tmp_path):
    tree = tmp_path / "tree"
    (tree / "a").mkdir(parents=True)
    (tree / "a" / "f").write_text("x")
    single = tmp_path / "single"
    single.write_text("x")
    kept = tmp_path / "kept"
    kept.mkdir()
    link = tmp_path / "link"
    link.symlink_to(kept)
    wanted = [{"path": str(p), "state": "absent"} for p in (tree, single, link, tmp_path / "never")]
    rc, result = run(capsys, wanted, diff=True)
    assert rc == 0 and result["changed_paths"] == [str(tree), str(single), str(link)]
    assert [d["before"]["state"] for d in result["diff"]] == ["directory", "file", "file"]
    assert not tree.exists() and not single.exists() and not os.path.lexists(str(link)) and kept.is_dir()


def test_a_file_in_the_way_is_refused_before_anything_changes(capsys, tmp_path):
    first = tmp_path / "first"
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    rc, result = run(capsys, [{"path": str(first)}, {"path": str(blocker)}])
    assert rc == 1 and "blocker exists and is not a directory" in result["msg"]
    assert not first.exists()


def test_a_link_to_a_directory_is_followed(capsys, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    os.chmod(str(real), 0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    rc, result = run(capsys, [{"path": str(link), "mode": "0755"}])
    assert rc == 0 and mode_of(real) == 0o755 and link.is_symlink()


def test_relative_paths_are_refused(capsys):
    rc, result = run(capsys, [{"path": "relative/dir"}])
    assert rc == 1 and "not an absolute path" in result["msg"]


NAMES = st.text(alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
                min_size=1, max_size=20).filter(lambda name: name not in (".", ".."))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(NAMES, st.sampled_from(["0700", "0750", "0755", "0711"])), min_size=1, max_size=5,
                unique_by=lambda pair: pair[0]))
def test_any_names_and_modes_converge_in_one_call(tmp_path_factory, names_modes):
    base = tmp_path_factory.mktemp("paths")
    wanted = [{"path": str(base / name), "mode": mode} for name, mode in names_modes]
    with patch_module_args({"paths": wanted}):
        with pytest.raises(SystemExit):
            mod.main()
    for name, mode in names_modes:
        assert mode_of(base / name) == int(mode, 8)
    with patch_module_args({"paths": wanted}):
        with pytest.raises(SystemExit):
            mod.main()


def test_root_and_shared_attributes_fill_what_an_item_leaves_out(capsys, tmp_path):
    wanted = {"root": str(tmp_path / "tree"), "mode": "0711",
              "paths": [{"path": "."}, {"path": "a"}, {"path": "b", "mode": "0700"}, {"path": str(tmp_path / "abs")}]}
    with patch_module_args(wanted):
        with pytest.raises(SystemExit):
            mod.main()
    result = json.loads(capsys.readouterr().out)
    assert result["changed_paths"] == [str(tmp_path / "tree"), str(tmp_path / "tree" / "a"), str(tmp_path / "tree" / "b"),
                                       str(tmp_path / "abs")]
    assert [mode_of(tmp_path / name) for name in ("tree", "tree/a", "tree/b", "abs")] == [0o711, 0o711, 0o700, 0o711]
