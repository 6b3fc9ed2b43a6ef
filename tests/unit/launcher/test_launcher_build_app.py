"""build_app in-process: how the deployment's settings combine with the app's own."""

import asyncio
import logging

import pytest
import tornado.autoreload
import tornado.escape
import tornado.httpclient
import tornado.httpserver
import tornado.netutil
import tornado.web

from launcher_testlib import PLACEHOLDER, SECRET, base_config, load_launcher_module

launcher = load_launcher_module()
PORT = 8123


def build(**overrides):
    return launcher.build_app(launcher.validate_config(base_config(**overrides)), PORT)


def test_an_explicit_flag_beats_debug_as_in_tornado():
    app = build(settings={"cookie_secret": SECRET, "debug": True, "autoreload": False})
    assert app.settings["debug"] is True
    assert app.settings["autoreload"] is False
    # The flags not given explicitly still follow debug.
    assert app.settings["compiled_template_cache"] is False
    assert app.settings["static_hash_cache"] is False
    assert app.settings["serve_traceback"] is True


def test_deployment_settings_win_over_the_apps_own():
    app = build(settings={"cookie_secret": SECRET, "login_url": "/signin", "xsrf_cookies": False})
    assert app.settings["cookie_secret"] == SECRET  # not the demo's placeholder
    assert app.settings["login_url"] == "/signin"
    assert app.settings["xsrf_cookies"] is False
    assert app.settings["webops_port"] == PORT
    assert app.settings["webops_draining"] is False


def test_the_apps_settings_stay_where_the_deployment_says_nothing():
    app = build()
    assert app.settings["login_url"] == "/login"
    assert app.settings["xsrf_cookies"] is True
    assert "autoreload" not in app.settings


def test_application_init_is_restored_even_when_the_factory_fails(tmp_path):
    (tmp_path / "failing_factory.py").write_text("def make_app():\n    raise ValueError('nope')\n")
    original = tornado.web.Application.__init__
    with pytest.raises(launcher.LauncherError, match="raised ValueError: nope"):
        build(app_path=str(tmp_path), factory="failing_factory:make_app")
    assert tornado.web.Application.__init__ is original


def test_an_app_built_at_import_time_still_gets_the_settings(tmp_path, caplog):
    (tmp_path / "prebuilt_app.py").write_text(
        "import tornado.web\n"
        f"APP = tornado.web.Application([], cookie_secret={PLACEHOLDER!r})\n"
        "def make_app():\n    return APP\n")
    with caplog.at_level(logging.WARNING, logger="webops.launcher"):
        app = build(app_path=str(tmp_path), factory="prebuilt_app:make_app")
    assert app.settings["cookie_secret"] == SECRET
    assert "built before the call" in caplog.text


@pytest.mark.parametrize("secret, problem", [
    (PLACEHOLDER, "placeholder"),
    ("short", "5 bytes long"),
    ("", "0 bytes long"),
    ({0: SECRET, 1: PLACEHOLDER}, "placeholder"),  # key rotation: every version must be safe
    (SECRET.encode(), None),
    ({0: SECRET, 1: SECRET + "x"}, None),
])
def test_cookie_secret_rules(secret, problem):
    found = launcher._cookie_secret_problem(secret)  # pylint: disable=protected-access
    if problem is None:
        assert found is None
    else:
        assert problem in found


def test_top_level_names_leave_tornado_autoreload_alone():
    # Older Tornado runs `python -m tornado.autoreload script.py` by executing the script in the
    # autoreload module's own namespace: a clashing name would replace one of its functions.
    ours, theirs = vars(launcher), vars(tornado.autoreload)
    clashes = [name for name in ours if not name.startswith("__") and name in theirs and ours[name] is not theirs[name]]
    assert clashes == []


def fetch(app, *paths):
    """Serve ``app`` on a loopback port just long enough to GET ``paths``; return the responses."""

    async def run():
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        port = sockets[0].getsockname()[1]
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets(sockets)
        client = tornado.httpclient.AsyncHTTPClient()
        try:
            return [await client.fetch(f"http://127.0.0.1:{port}{path}", raise_error=False, request_timeout=5) for path in paths]
        finally:
            server.stop()
            await server.close_all_connections()

    return asyncio.run(run())


def test_static_routes_follow_the_static_path_override(tmp_path):
    # Application.__init__ builds /static/, /favicon.ico and /robots.txt from static_path: the
    # override must be in place before it runs. The demo's own root route reads the setting too.
    static = tmp_path / "static"
    static.mkdir()
    for name, content in [("only-here.txt", b"from the override"), ("apple-touch-icon.png", b"override png"),
                          ("robots.txt", b"User-agent: *\n"), ("favicon.ico", b"ico")]:
        (static / name).write_bytes(content)
    app = build(settings={"cookie_secret": SECRET, "static_path": str(static)})
    responses = fetch(app, "/static/only-here.txt", "/apple-touch-icon.png", "/robots.txt", "/favicon.ico")
    assert [response.body for response in responses] == [b"from the override", b"override png", b"User-agent: *\n", b"ico"]
    assert responses[-1].headers["X-App-Version"] == "1"


def test_health_turns_503_while_draining():
    app = build(health_path="/launcher-health")
    launcher_health, app_health = fetch(app, "/launcher-health", "/healthz")
    assert launcher_health.code == 200
    assert tornado.escape.json_decode(launcher_health.body)["name"] == "demo"
    assert app_health.code == 200

    app.settings["webops_draining"] = True
    for response in fetch(app, "/launcher-health", "/healthz"):
        assert response.code == 503
        assert tornado.escape.json_decode(response.body) == {"status": "draining"}
        assert response.headers["Connection"] == "close"
    # Other pages still answer, telling the client to close the connection.
    assert fetch(app, "/whoami")[0].code == 200
