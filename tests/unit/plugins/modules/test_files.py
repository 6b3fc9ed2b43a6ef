# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for files: what ansible.builtin.copy does for one file, for several in one call."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat

import pytest
from ansible.module_utils.testing import patch_module_args
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.modules import files as mod


def run(capsys, files, check_mode=False, diff=False, root=None):
    args = dict(files=files, _ansible_check_mode=check_mode, _ansible_diff=diff)
    if root is not None:
        args["root"] = root
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            mod.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_writes_each_file_then_changes_nothing(capsys, tmp_path):
    wanted = [{"dest": str(tmp_path / "a.conf"), "content": "a = 1\n", "mode": "0644"},
              {"dest": str(tmp_path / "secret"), "content": "s3cret\n", "mode": "0600", "owner": "root", "group": "root"}]
    rc, result = run(capsys, wanted)
    assert rc == 0 and result["changed"] and result["changed_files"] == [item["dest"] for item in wanted]
    assert (tmp_path / "a.conf").read_text() == "a = 1\n" and (tmp_path / "secret").read_text() == "s3cret\n"
    assert mode_of(tmp_path / "a.conf") == 0o644 and mode_of(tmp_path / "secret") == 0o600
    assert [(r["dest"], r["mode"], r["owner"]) for r in result["results"]] == \
        [(wanted[0]["dest"], "0644", "root"), (wanted[1]["dest"], "0600", "root")]
    rc, result = run(capsys, wanted)
    assert rc == 0 and not result["changed"] and result["changed_files"] == []
    # No temporary file is left beside them.
    assert sorted(os.listdir(str(tmp_path))) == ["a.conf", "secret"]


def test_only_the_file_that_differs_is_replaced_with_a_backup(capsys, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.write_text("old\n")
    two.write_text("same\n")
    inode_two = os.stat(str(two)).st_ino
    rc, result = run(capsys, [{"dest": str(one), "content": "new\n", "backup": True},
                              {"dest": str(two), "content": "same\n", "backup": True}], diff=True)
    assert rc == 0 and result["changed_files"] == [str(one)]
    assert one.read_text() == "new\n" and os.stat(str(two)).st_ino == inode_two
    backup = result["results"][0]["backup_file"]
    assert open(backup).read() == "old\n" and "backup_file" not in result["results"][1]
    assert result["diff"] == [{"before_header": str(one), "after_header": str(one), "before": "old\n", "after": "new\n"}]


def test_a_replaced_file_keeps_what_is_not_given(capsys, tmp_path):
    target = tmp_path / "kept"
    target.write_text("old\n")
    os.chmod(str(target), 0o640)
    rc, result = run(capsys, [{"dest": str(target), "content": "new\n"}])
    assert rc == 0 and result["changed"] and mode_of(target) == 0o640


def test_attribute_drift_alone_is_repaired_in_place(capsys, tmp_path):
    target = tmp_path / "conf"
    target.write_text("x\n")
    os.chmod(str(target), 0o666)
    inode = os.stat(str(target)).st_ino
    rc, result = run(capsys, [{"dest": str(target), "content": "x\n", "mode": "0644"}], diff=True)
    assert rc == 0 and result["changed"] and mode_of(target) == 0o644 and os.stat(str(target)).st_ino == inode
    assert result["diff"][0]["before"]["mode"] == "0666" and result["diff"][0]["after"]["mode"] == "0644"


def test_check_mode_reports_and_changes_nothing(capsys, tmp_path):
    present, absent = tmp_path / "present", tmp_path / "missing-dir" / "absent"
    present.write_text("old\n")
    os.chmod(str(present), 0o600)
    rc, result = run(capsys, [{"dest": str(present), "content": "new\n", "mode": "0644"},
                              {"dest": str(absent), "content": "x\n", "mode": "0644"}], check_mode=True, diff=True)
    # A directory an earlier task of the run would have created is not refused in check mode.
    assert rc == 0 and result["changed_files"] == [str(present), str(absent)]
    assert present.read_text() == "old\n" and mode_of(present) == 0o600 and not absent.parent.exists()
    assert result["diff"][1]["before"] == "" and result["diff"][1]["after"] == "x\n"


def test_a_failed_validation_leaves_that_file_and_the_next_ones(capsys, tmp_path):
    first, checked, last = tmp_path / "first", tmp_path / "checked", tmp_path / "last"
    checked.write_text("good\n")
    rc, result = run(capsys, [{"dest": str(first), "content": "1\n"},
                              {"dest": str(checked), "content": "bad\n", "validate": "grep -q good %s"},
                              {"dest": str(last), "content": "3\n"}])
    assert rc == 1 and result["failed"]
    assert str(checked) in result["msg"] and "left as it was" in result["msg"]
    assert first.read_text() == "1\n" and checked.read_text() == "good\n" and not last.exists()
    assert [r["dest"] for r in result["results"]] == [str(first)]
    assert sorted(os.listdir(str(tmp_path))) == ["checked", "first"]


def test_a_passing_validation_sees_the_new_content(capsys, tmp_path):
    target = tmp_path / "checked"
    rc, result = run(capsys, [{"dest": str(target), "content": "good\n", "validate": "grep -q good %s"}])
    assert rc == 0 and target.read_text() == "good\n"


@pytest.mark.parametrize("make, why", [
    (lambda path: path.mkdir(), "is not a regular file"),
    (lambda path: path.symlink_to("/etc/hostname"), "is not a regular file"),
])
def test_refused_before_anything_changes(capsys, tmp_path, make, why):
    first, odd = tmp_path / "first", tmp_path / "odd"
    make(odd)
    rc, result = run(capsys, [{"dest": str(first), "content": "1\n"}, {"dest": str(odd), "content": "2\n"}])
    assert rc == 1 and why in result["msg"] and "nothing was changed" in result["msg"] and not first.exists()


def test_refused_without_the_directory_or_a_validate_placeholder(capsys, tmp_path):
    rc, result = run(capsys, [{"dest": str(tmp_path / "nowhere" / "f"), "content": "1\n"}])
    assert rc == 1 and "does not exist" in result["msg"]
    rc, result = run(capsys, [{"dest": str(tmp_path / "f"), "content": "1\n", "validate": "true"}])
    assert rc == 1 and "%s" in result["msg"] and not (tmp_path / "f").exists()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200), st.text(max_size=50))
def test_any_text_is_written_byte_for_byte_once(capsys, tmp_path, text, old):
    target = tmp_path / "any"
    target.write_bytes(old.encode("utf-8"))
    rc, result = run(capsys, [{"dest": str(target), "content": text}])
    assert rc == 0 and target.read_bytes() == text.encode("utf-8") and result["changed"] == (text != old)
    rc, result = run(capsys, [{"dest": str(target), "content": text}])
    assert rc == 0 and not result["changed"]


def test_directory_items_come_first_and_hold_the_files_after_them(capsys, tmp_path):
    conf, sub = tmp_path / "conf", tmp_path / "conf" / "d"
    wanted = [{"dest": str(conf), "state": "directory", "mode": "0755"},
              {"dest": str(sub), "state": "directory", "mode": "0750"},
              {"dest": str(sub / "app.conf"), "content": "x\n", "mode": "0644"}]
    rc, result = run(capsys, wanted, diff=True)
    assert rc == 0 and result["changed"]
    assert mode_of(conf) == 0o755 and mode_of(sub) == 0o750 and (sub / "app.conf").read_text() == "x\n"
    # Only regular files are listed as changed files: a caller reloads what reads them, not for a new directory.
    assert result["changed_files"] == [str(sub / "app.conf")]
    assert [(r["dest"], r.get("state"), r["changed"]) for r in result["results"]] == [
        (str(conf), "directory", True), (str(sub), "directory", True), (str(sub / "app.conf"), None, True)]
    rc, result = run(capsys, wanted)
    assert rc == 0 and not result["changed"]
    # A directory's drifted mode alone is repaired, and says so.
    os.chmod(str(sub), 0o777)
    rc, result = run(capsys, wanted)
    assert rc == 0 and result["changed"] and result["changed_files"] == [] and mode_of(sub) == 0o750


def test_directory_items_in_check_mode_change_nothing(capsys, tmp_path):
    sub = tmp_path / "d"
    rc, result = run(capsys, [{"dest": str(sub), "state": "directory"},
                              {"dest": str(sub / "f"), "content": "1\n"}], check_mode=True)
    assert rc == 0 and result["changed"] and not sub.exists()


@pytest.mark.parametrize("items, why", [
    # An item after the file that needs it does not count.
    (lambda t: [{"dest": str(t / "a" / "f"), "content": "1\n"}, {"dest": str(t / "a"), "state": "directory"}],
     "does not exist"),
    (lambda t: [{"dest": str(t / "plain"), "state": "directory"}], "is not a directory"),
    (lambda t: [{"dest": str(t / "a"), "state": "directory", "content": "1\n"}], "content does not apply"),
])
def test_directory_items_refused_before_anything_changes(capsys, tmp_path, items, why):
    (tmp_path / "plain").write_text("")
    first = tmp_path / "first"
    rc, result = run(capsys, [{"dest": str(first), "content": "1\n"}] + items(tmp_path))
    assert rc == 1 and why in result["msg"] and "nothing was changed" in result["msg"] and not first.exists()


def test_a_directory_item_creates_what_is_missing_on_the_way(capsys, tmp_path):
    deep = tmp_path / "a" / "b" / "c"
    rc, result = run(capsys, [{"dest": str(deep), "state": "directory", "mode": "0750"}])
    assert rc == 0 and result["changed"] and mode_of(deep) == 0o750 and (tmp_path / "a").is_dir()


# --- link items ------------------------------------------------------------------------------------

def test_a_link_item_is_made_then_left_alone(capsys, tmp_path):
    (tmp_path / "sites-available").mkdir()
    (tmp_path / "sites-enabled").mkdir()
    (tmp_path / "sites-available" / "demo.conf").write_text("server {}\n")
    link = tmp_path / "sites-enabled" / "demo.conf"
    items = [{"dest": str(tmp_path / "sites-available" / "demo.conf"), "content": "server {}\n"},
             {"dest": str(link), "state": "link", "target": "../sites-available/demo.conf", "owner": "root", "group": "root"}]
    rc, result = run(capsys, items, diff=True)
    assert rc == 0 and result["changed"] and result["changed_files"] == [str(link)]
    assert os.readlink(str(link)) == "../sites-available/demo.conf" and link.read_text() == "server {}\n"
    assert result["diff"][0]["before"] == {"path": str(link), "state": "absent"}
    rc, result = run(capsys, items)
    assert rc == 0 and not result["changed"] and result["changed_files"] == []
    assert sorted(os.listdir(str(tmp_path / "sites-enabled"))) == ["demo.conf"]


def test_a_link_pointing_elsewhere_is_replaced_and_check_mode_only_says_so(capsys, tmp_path):
    link = tmp_path / "enabled"
    os.symlink("old-target", str(link))
    item = [{"dest": str(link), "state": "link", "target": "new-target"}]
    rc, result = run(capsys, item, check_mode=True, diff=True)
    assert rc == 0 and result["changed"] and os.readlink(str(link)) == "old-target"
    assert result["diff"][0]["before"] == {"path": str(link), "target": "old-target"}
    rc, result = run(capsys, item)
    assert rc == 0 and result["changed"] and os.readlink(str(link)) == "new-target"
    assert sorted(os.listdir(str(tmp_path))) == ["enabled"]


@pytest.mark.parametrize("item, why", [
    ({"state": "link"}, "target is required"),
    ({"state": "link", "target": "x", "content": "y"}, "content does not apply"),
    ({"state": "link", "target": "x", "mode": "0644"}, "mode does not apply"),
    ({"content": "y", "target": "x"}, "target applies to a link item only"),
])
def test_a_link_item_with_what_does_not_apply_is_refused_before_anything_changes(capsys, tmp_path, item, why):
    first = tmp_path / "first"
    rc, result = run(capsys, [{"dest": str(first), "content": "1\n"}, dict(item, dest=str(tmp_path / "link"))])
    assert rc == 1 and why in result["msg"] and not first.exists()


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_a_link_item_over_a_file_or_directory_is_refused(capsys, tmp_path, kind):
    dest = tmp_path / "taken"
    dest.write_text("x\n") if kind == "file" else dest.mkdir()
    rc, result = run(capsys, [{"dest": str(dest), "state": "link", "target": "elsewhere"}])
    assert rc == 1 and "exists and is not a symbolic link" in result["msg"]
    assert dest.is_file() if kind == "file" else dest.is_dir()


def test_absent_items_remove_files_links_and_whole_directories_then_change_nothing(capsys, tmp_path):
    (tmp_path / "old.conf").write_text("x\n")
    (tmp_path / "tree" / "deep").mkdir(parents=True)
    (tmp_path / "tree" / "deep" / "f").write_text("y\n")
    os.symlink("nowhere", str(tmp_path / "dangling"))
    items = [{"dest": str(tmp_path / name), "state": "absent"} for name in ("old.conf", "tree", "dangling", "never")]
    rc, result = run(capsys, items, check_mode=True, diff=True)
    assert rc == 0 and result["changed_files"] == [item["dest"] for item in items[:3]]
    assert [entry["before"]["state"] for entry in result["diff"]] == ["file", "directory", "file"]
    assert sorted(os.listdir(str(tmp_path))) == ["dangling", "old.conf", "tree"]
    rc, result = run(capsys, items)
    assert rc == 0 and result["changed_files"] == [item["dest"] for item in items[:3]]
    assert os.listdir(str(tmp_path)) == []
    rc, result = run(capsys, items)
    assert rc == 0 and not result["changed"] and result["changed_files"] == []


@pytest.mark.parametrize("extra", [{"content": "x"}, {"mode": "0644"}, {"owner": "root"}, {"target": "elsewhere"}])
def test_an_absent_item_with_what_does_not_apply_is_refused_before_anything_changes(capsys, tmp_path, extra):
    (tmp_path / "keep").write_text("k\n")
    rc, result = run(capsys, [{"dest": str(tmp_path / "keep"), "state": "absent"},
                              dict({"dest": str(tmp_path / "other"), "state": "absent"}, **extra)])
    assert rc == 1 and "absent item" in result["msg"] and list(extra)[0] in result["msg"]
    assert (tmp_path / "keep").read_text() == "k\n"


def test_relative_destinations_are_taken_from_root(capsys, tmp_path):
    (tmp_path / "gone").mkdir()
    rc, result = run(capsys, [{"dest": ".", "state": "directory", "mode": "0755"},
                              {"dest": "sub", "state": "directory", "mode": "0700"},
                              {"dest": "sub/./a.conf", "content": "a\n"},
                              {"dest": "gone", "state": "absent"},
                              {"dest": str(tmp_path / "abs.conf"), "content": "b\n"}], root=str(tmp_path))
    assert rc == 0
    assert result["changed_files"] == [str(tmp_path / "sub" / "a.conf"), str(tmp_path / "gone"), str(tmp_path / "abs.conf")]
    assert mode_of(tmp_path / "sub") == 0o700 and sorted(os.listdir(str(tmp_path))) == ["abs.conf", "sub"]
