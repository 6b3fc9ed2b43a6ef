"""The launcher's command line: --check, and the start-up errors that must exit 2 with a clear message."""

import json
import socket
import subprocess
import sys

from launcher_testlib import CHILD_ENV, DEMO_SRC, LAUNCHER, PLACEHOLDER, SECRET, free_port, run_launcher


def test_check_builds_the_app_prints_its_description_and_does_not_listen(write_config):
    port = free_port()
    result = run_launcher(write_config(), "--port", str(port), "--check")
    assert result.returncode == 0, result.stderr
    # One JSON line: what the role needs to point nginx at (the effective settings, after the deployment's).
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == {
        "status": "ok",
        "static_path": str(DEMO_SRC / "static"),
        "static_url_prefix": "/static/",
        "template_path": str(DEMO_SRC / "templates"),
        "health_routed_by_app": True,  # the demo answers /healthz itself
        "static_hash": "sha512",  # Tornado 6.6's StaticFileHandler: the role keeps a store of static versions
    }
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # still free: --check never listened


def test_check_without_port_and_with_another_app_path(write_config, tmp_path):
    # Ansible checks a release before it is current: the config still names the old directory.
    config = write_config(app_path=str(tmp_path / "releases" / "not-current-yet"))
    result = run_launcher(config, "--app-path", str(DEMO_SRC), "--check")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["status"] == "ok"


def test_check_reports_the_deployments_static_path_and_the_launchers_health_answer(write_config, tmp_path):
    # Relative to app_path (the program's working directory), as the app would resolve it.
    (tmp_path / "assets").mkdir()
    (tmp_path / "plain_app.py").write_text("import tornado.web\ndef make_app():\n    return tornado.web.Application([])\n")
    settings = {"cookie_secret": SECRET, "static_path": "assets", "static_url_prefix": "/s/"}
    config = write_config(app_path=str(tmp_path), factory="plain_app:make_app", settings=settings, health_path="/ready")
    result = run_launcher(config, "--check")
    assert result.returncode == 0, result.stderr
    description = json.loads(result.stdout)
    assert description["static_path"] == str(tmp_path / "assets")
    assert description["static_url_prefix"] == "/s/"
    assert description["template_path"] is None
    assert description["health_routed_by_app"] is False


def test_placeholder_cookie_secret_is_refused(write_config):
    # No cookie_secret in the config: the demo's hard-coded placeholder would be the effective one.
    result = run_launcher(write_config(settings={}), "--port", str(free_port()))
    assert result.returncode == 2
    assert "placeholder" in result.stderr
    assert PLACEHOLDER in result.stderr
    assert "Traceback" not in result.stderr


def test_short_cookie_secret_is_refused(write_config):
    result = run_launcher(write_config(settings={"cookie_secret": "0123456789"}), "--port", str(free_port()))
    assert result.returncode == 2
    assert "cookie_secret is 10 bytes long; at least 32" in result.stderr
    assert "0123456789" not in result.stderr  # never echo a secret


def test_check_refuses_the_placeholder_too(write_config):
    result = run_launcher(write_config(settings={"cookie_secret": PLACEHOLDER}), "--check")
    assert result.returncode == 2
    assert "placeholder" in result.stderr
    assert result.stdout == ""


def test_factory_without_colon(write_config):
    result = run_launcher(write_config(factory="demo_app"), "--port", str(free_port()))
    assert result.returncode == 2
    assert "'factory' must be 'module:callable'" in result.stderr


def test_factory_module_missing(write_config):
    result = run_launcher(write_config(factory="no_such_module_here:make_app"), "--port", str(free_port()))
    assert result.returncode == 2
    assert "factory 'no_such_module_here:make_app': no module named 'no_such_module_here'" in result.stderr


def test_factory_attribute_missing(write_config):
    result = run_launcher(write_config(factory="demo_app:no_such_factory"), "--check")
    assert result.returncode == 2
    assert "has no attribute 'no_such_factory'" in result.stderr


def test_factory_returning_something_else(write_config, tmp_path):
    (tmp_path / "not_an_app.py").write_text("def make_app():\n    return 42\n")
    result = run_launcher(write_config(app_path=str(tmp_path), factory="not_an_app:make_app"), "--check")
    assert result.returncode == 2
    assert "returned int, not a tornado.web.Application" in result.stderr


def test_factory_that_raises_shows_the_traceback(write_config, tmp_path):
    (tmp_path / "broken_app.py").write_text("def make_app():\n    raise RuntimeError('database unreachable')\n")
    result = run_launcher(write_config(app_path=str(tmp_path), factory="broken_app:make_app"), "--check")
    assert result.returncode == 2
    assert "factory 'broken_app:make_app' raised RuntimeError: database unreachable" in result.stderr
    assert "Traceback" in result.stderr


def test_application_subclass_as_factory(write_config, tmp_path):
    (tmp_path / "subclass_app.py").write_text(
        "import tornado.web\n"
        "class App(tornado.web.Application):\n"
        "    def __init__(self):\n"
        f"        super().__init__([], cookie_secret={PLACEHOLDER!r})\n")
    result = run_launcher(write_config(app_path=str(tmp_path), factory="subclass_app:App"), "--check")
    assert result.returncode == 0, result.stderr


def test_bad_config_files(write_config, tmp_path):
    cases = [
        (write_config(raw="{not json"), "is not valid JSON"),
        (write_config(raw="[]"), "must be a JSON object"),
        (write_config(process_model="threads"), "'process_model' must be one of ports, reuse_port, fork"),
        (write_config(grace_seconds="ten"), "'grace_seconds' must be a number"),
        (write_config(xheaders="yes"), "'xheaders' must be true or false"),
        (write_config(health_path="healthz"), "'health_path' must be a path starting with '/'"),
        (write_config(app_path=str(tmp_path / "missing")), "is not a directory"),
        (tmp_path / "absent.json", "cannot read config"),
    ]
    for path, message in cases:
        result = run_launcher(path, "--port", str(free_port()))
        assert result.returncode == 2, (message, result.stderr)
        assert message in result.stderr, result.stderr


def test_missing_required_key(tmp_path):
    path = tmp_path / "no-name.json"
    path.write_text('{"app_path": "/tmp", "factory": "a:b"}')
    result = run_launcher(path, "--check")
    assert result.returncode == 2
    assert "'name' is required" in result.stderr


def test_port_is_required_to_serve(write_config):
    result = run_launcher(write_config())
    assert result.returncode == 2
    assert "--port is required" in result.stderr


def test_port_in_use_exits_1(write_config):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run_launcher(write_config(), "--port", str(busy.getsockname()[1]))
    assert result.returncode == 1
    assert "cannot listen on 127.0.0.1:" in result.stderr


def test_importing_the_launcher_runs_nothing():
    code = f"import runpy; runpy.run_path({str(LAUNCHER)!r}, run_name='not_main'); print('imported')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=CHILD_ENV, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "imported\n"
