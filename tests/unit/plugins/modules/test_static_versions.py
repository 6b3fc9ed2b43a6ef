# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for static_versions: the store holds, under each version Tornado's static_url() would write,
exactly the bytes of that version, for the good releases on disk and nothing else."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest
import tornado.web
from ansible.module_utils.testing import patch_module_args
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.webops.tornado.plugins.modules import static_versions as mod


def make_release(releases, name, files, digest="sha512", failed=False, static="src/static"):
    release = releases / name
    root = release / static
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    root.mkdir(parents=True, exist_ok=True)
    app = {"static_path": str(root), "static_hash": digest} if digest else {"static_path": str(root)}
    (release / "RELEASE.json").write_text(json.dumps({"id": name, "app": app}))
    if failed:
        (release / "FAILED").write_text("failed\n")
    return root


def run(releases, store, check_mode=False, extra=None):
    sources = list(mod.release_sources(str(releases))) + (extra or [])
    return mod.sync(str(store), mod.desired_entries(sources), check_mode)


def store_contents(store):
    return {entry: (store / entry).read_bytes() for entry in mod.existing_entries(str(store))}


def tornado_version(root, relative):
    """What Tornado itself puts in ?v= for this file."""
    return tornado.web.StaticFileHandler.get_version({"static_path": str(root)}, relative)


def test_entries_are_named_by_tornados_own_version(tmp_path):
    root = make_release(tmp_path / "releases", "20260101T000000Z-aaaaaaaa", {"css/site.css": b"body{}", "js/a.js": b"1"})
    run(tmp_path / "releases", tmp_path / "store")
    assert store_contents(tmp_path / "store") == {
        tornado_version(root, "css/site.css") + "/css/site.css": b"body{}",
        tornado_version(root, "js/a.js") + "/js/a.js": b"1",
    }


def test_every_good_release_kept_failed_and_unversioned_ones_not(tmp_path):
    releases = tmp_path / "releases"
    make_release(releases, "1", {"site.css": b"one"})
    make_release(releases, "2", {"site.css": b"two"})
    make_release(releases, "3", {"site.css": b"three"}, failed=True)
    make_release(releases, "4", {"site.css": b"four"}, digest=None)
    run(releases, tmp_path / "store")
    assert sorted(store_contents(tmp_path / "store").values()) == [b"one", b"two"]


def test_second_run_changes_nothing_and_pruning_removes(tmp_path):
    releases, store = tmp_path / "releases", tmp_path / "store"
    make_release(releases, "1", {"a.css": b"one", "same.js": b"x"})
    make_release(releases, "2", {"a.css": b"two", "same.js": b"x"})
    added, removed = run(releases, store)
    assert len(added) == 3 and removed == []
    assert run(releases, store) == ([], [])
    # Release 1 is pruned: its own version goes; the file both had stays (its link now holds the only copy of release 1's inode).
    for path in sorted((releases / "1").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (releases / "1").rmdir()
    added, removed = run(releases, store)
    assert added == [] and len(removed) == 1
    assert sorted(store_contents(store).values()) == [b"two", b"x"]
    assert run(releases, store) == ([], [])
    assert [p for p in store.rglob("*") if p.is_dir() and not any(p.iterdir())] == []


def test_check_mode_says_what_would_change_and_changes_nothing(tmp_path):
    make_release(tmp_path / "releases", "1", {"a.css": b"one"})
    added, removed = run(tmp_path / "releases", tmp_path / "store", check_mode=True)
    assert len(added) == 1 and removed == [] and not (tmp_path / "store").exists()


def test_tampered_entry_is_replaced(tmp_path):
    releases, store = tmp_path / "releases", tmp_path / "store"
    make_release(releases, "1", {"a.css": b"one"})
    run(releases, store)
    (entry,) = mod.existing_entries(str(store))
    os.unlink(store / entry)
    (store / entry).write_bytes(b"evil")
    added, removed = run(releases, store)
    assert added == [entry] and removed == [entry]
    assert (store / entry).read_bytes() == b"one"


def test_links_leaving_the_static_directory_are_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root only")
    root = make_release(tmp_path / "releases", "1", {"a.css": b"one"})
    os.symlink(str(secret), str(root / "leak.css"))
    run(tmp_path / "releases", tmp_path / "store")
    assert list(store_contents(tmp_path / "store").values()) == [b"one"]


def test_static_path_outside_its_release_is_ignored(tmp_path):
    releases = tmp_path / "releases"
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    (elsewhere / "shadow").write_bytes(b"secret")
    (releases / "1").mkdir(parents=True)
    (releases / "1" / "RELEASE.json").write_text(json.dumps({"app": {"static_path": str(elsewhere), "static_hash": "sha512"}}))
    run(releases, tmp_path / "store")
    assert store_contents(tmp_path / "store") == {}


def test_md5_for_older_tornado(tmp_path):
    make_release(tmp_path / "releases", "1", {"a.css": b"one"}, digest="md5")
    run(tmp_path / "releases", tmp_path / "store")
    assert mod.existing_entries(str(tmp_path / "store")) == ["f97c5d29941bfb1b2fdab0874906ab82/a.css"]


def test_a_static_path_outside_the_releases_is_copied(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "a.css").write_bytes(b"one")
    run(tmp_path / "releases", tmp_path / "store", extra=[(str(shared), "sha512", False)])
    (entry,) = mod.existing_entries(str(tmp_path / "store"))
    assert not os.path.samefile(str(tmp_path / "store" / entry), str(shared / "a.css"))


NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=12).filter(
    lambda name: name not in (".", ".."))


@settings(max_examples=40)
@given(releases=st.lists(st.dictionaries(st.lists(NAMES, min_size=1, max_size=3).map("/".join), st.binary(max_size=64),
                                         max_size=4), min_size=1, max_size=3))
def test_any_tree_every_entry_holds_the_bytes_its_version_names(tmp_path_factory, releases):
    """Whatever the names and bytes: each entry's name is what Tornado writes in ?v= for its bytes, and every file of
    every release is there."""
    base = tmp_path_factory.mktemp("any")
    roots = []
    for index, files in enumerate(releases):
        # A name that is both a file and a directory prefix cannot exist on disk: keep the first.
        kept = {}
        for relative, data in files.items():
            if not any(other == relative or other.startswith(relative + "/") or relative.startswith(other + "/") for other in kept):
                kept[relative] = data
        try:
            roots.append((make_release(base / "releases", str(index), kept), kept))
        except OSError:  # a name the file system refuses (too long in bytes)
            return
    run(base / "releases", base / "store")
    contents = store_contents(base / "store")
    for entry, data in contents.items():
        version, relative = entry.split("/", 1)
        assert tornado.web.StaticFileHandler.get_content_version(str(base / "store" / entry)) == version
    for root, files in roots:
        for relative, data in files.items():
            assert contents[tornado_version(root, relative) + "/" + relative] == data
    assert run(base / "releases", base / "store") == ([], [])


def run_module(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            mod.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.skipif(os.geteuid() != 0, reason="the store is root's")
def test_the_module_fills_the_store_then_changes_nothing(capsys, tmp_path):
    make_release(tmp_path / "releases", "1", {"a.css": b"one"})
    args = {"releases_dir": str(tmp_path / "releases"), "store": str(tmp_path / "store")}
    rc, result = run_module(capsys, args)
    assert rc == 0 and result["changed"] is True and result["files"] == 1 and len(result["added"]) == 1, result
    assert oct(os.stat(str(tmp_path / "store")).st_mode & 0o7777) == "0o755"
    rc, result = run_module(capsys, args)
    assert rc == 0 and result["changed"] is False and result["added"] == result["removed"] == [], result
    rc, result = run_module(capsys, dict(args, _ansible_check_mode=True, releases_dir=str(tmp_path / "none")))
    assert rc == 0 and result["changed"] is True and len(result["removed"]) == 1
    assert len(mod.existing_entries(str(tmp_path / "store"))) == 1
