"""validate_config in-process: the keys of the entries "factory", "main" and "command"."""

import pytest

from launcher_testlib import base_config, load_launcher_module

launcher = load_launcher_module()


def validate(**overrides):
    return launcher.validate_config(base_config(**overrides))


def test_defaults_keep_a_factory_config_as_it_was():
    config = validate()
    assert config["entry"] == "factory"
    assert config["args"] == [] and config["environment"] == {} and config["main"] is None and config["command"] is None


@pytest.mark.parametrize("main", [
    "app:main", "pkg.sub.module:main", "pkg.module:App.run", "pkg.module", "server", "server.py", "bin/serve.py", "./server.py",
])
def test_main_specs_accepted(main):
    assert validate(entry="main", main=main)["main"] == main


@pytest.mark.parametrize("main", [
    "", "pkg.module:", ":main", "pkg-name:main", "/srv/app/server.py", "../elsewhere/server.py", "a/../../server.py", 42,
])
def test_main_specs_refused(main):
    with pytest.raises(launcher.LauncherError, match="'main' must be 'pkg.module:callable', 'pkg.module' or a relative path"):
        validate(entry="main", main=main)


@pytest.mark.parametrize("overrides, message", [
    ({"entry": "wsgi"}, "'entry' must be one of factory, main, command, got 'wsgi'"),
    ({"entry": "main"}, "'main' is required (entry 'main')"),
    ({"entry": "command"}, "'command' is required (entry 'command')"),
    ({"entry": "main", "main": "app:main", "args": "--port={port}"}, "'args' must be a list of strings, got str"),
    ({"entry": "main", "main": "app:main", "args": ["--port", 8000]}, "'args' must be a list of strings, item 1 is int"),
    ({"entry": "command", "command": []}, "'command' must be a non-empty list of strings"),
    ({"entry": "command", "command": ["", "x"]}, "'command' must be a non-empty list of strings"),
    ({"environment": ["A=1"]}, "'environment' must be an object of string values with names without '=', got list"),
    ({"environment": {"A=B": "1"}}, "got the name 'A=B'"),
    ({"environment": {"": "1"}}, "got the name ''"),
    ({"entry": "main", "main": "app:main", "process_model": "fork"}, "'process_model' 'fork' cannot run entry 'main'"),
    ({"entry": "command", "command": ["app"], "process_model": "fork"}, "'process_model' 'fork' cannot run entry 'command'"),
])
def test_bad_entry_keys(overrides, message):
    with pytest.raises(launcher.LauncherError) as raised:
        validate(**overrides)
    assert message in str(raised.value)


def test_factory_is_only_required_for_the_factory_entry():
    raw = {key: value for key, value in base_config(entry="main", main="app:main").items() if key != "factory"}
    assert launcher.validate_config(raw)["factory"] is None
    raw = {key: value for key, value in base_config().items() if key != "factory"}
    with pytest.raises(launcher.LauncherError, match="'factory' is required"):
        launcher.validate_config(raw)


def test_secrets_in_args_are_not_echoed():
    with pytest.raises(launcher.LauncherError) as raised:
        validate(entry="main", main="app:main", args=["--db-password=hunter2", None])
    assert "hunter2" not in str(raised.value)


def test_reuse_port_is_accepted_for_main():
    assert validate(entry="main", main="app:main", process_model="reuse_port")["process_model"] == "reuse_port"


def test_static_versions_defaults_to_no_store_and_takes_an_absolute_path():
    assert validate()["static_versions"] is None
    assert validate(static_versions=None)["static_versions"] is None
    assert validate(static_versions="/srv/demo/static-versions")["static_versions"] == "/srv/demo/static-versions"


@pytest.mark.parametrize("value, given", [
    ("static-versions", "got 'static-versions'"),
    ("./srv/demo/static-versions", "got './srv/demo/static-versions'"),
    ("", "got ''"),
    (42, "got 42"),
    (True, "got True"),
    (["/srv/demo/static-versions"], "got ['/srv/demo/static-versions']"),
])
def test_static_versions_refused(value, given):
    with pytest.raises(launcher.LauncherError) as raised:
        validate(static_versions=value)
    assert f"'static_versions' must be an absolute directory path (or null), {given}" in str(raised.value)
