"""Entries "main" and "command" at their edges: broken mains under --check, refusals, the environment,
and how a main() app's process ends whatever the app does."""

import json
import os
import sys
import textwrap
import time

import pytest
import requests

from launcher_testlib import SECRET, TIMEOUT, base_config, free_port, main_config, run_launcher

# A guide-style app, written into tmp_path by the tests below with a different ending each time.
APP_HEAD = """\
import asyncio, os, signal, sys, time
import tornado.ioloop, tornado.web

AT_IMPORT = os.environ.get("APP_DATABASE_URL")

class Env(tornado.web.RequestHandler):
    def get(self):
        self.write({"at_import": AT_IMPORT, "now": os.environ.get("APP_DATABASE_URL")})

def make_app():
    return tornado.web.Application([(r"/env", Env)], cookie_secret="x" * 40)
"""


def write_app(tmp_path, body, name="tmp_app.py"):
    (tmp_path / name).write_text(APP_HEAD + textwrap.dedent(body))
    return name


def tmp_main_config(tmp_path, body, **overrides):
    config = {"name": "tmp", "app_path": str(tmp_path), "entry": "main", "main": write_app(tmp_path, body),
              "settings": {"cookie_secret": SECRET}, "grace_seconds": 1}
    config.update(overrides)
    return config


LISTENS = """
def main():
    make_app().listen(8888)
    tornado.ioloop.IOLoop.current().start()

if __name__ == "__main__":
    main()
"""


# --- --check of a broken main --------------------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ("""
     def main():
         raise RuntimeError("database unreachable")
     main()
     """, ["main 'tmp_app.py' raised RuntimeError before listening: database unreachable", "tmp_app.py\", line", "Traceback"]),
    ("""
     import no_such_dependency_here
     """, ["raised ModuleNotFoundError before listening", "No module named 'no_such_dependency_here'", "Traceback"]),
    ("""
     sys.exit("configuration file missing")
     """, ["configuration file missing", "main 'tmp_app.py' exited with status 1 before listening"]),
    ("""
     def main():
         return None
     main()
     """, ["main 'tmp_app.py' returned without listening"]),
], ids=["exception", "missing-dependency", "sys.exit", "returns"])
def test_check_fails_for_a_main_that_cannot_reach_its_listen(write_config, tmp_path, body, expected):
    result = run_launcher(write_config(base=tmp_main_config(tmp_path, body)), "--check")
    assert result.returncode == 2, result.stderr
    for text in expected:
        assert text in result.stderr
    assert '"status"' not in result.stdout


@pytest.mark.parametrize("body, where", [
    ("""
     async def main():
         await asyncio.Event().wait()  # waits for something that never comes
     asyncio.run(main())
     """, "await asyncio.Event().wait()  # waits for something that never comes"),
    ("""
     time.sleep(60)  # a blocking call that never returns in time
     """, "time.sleep(60)  # a blocking call that never returns in time"),
], ids=["awaits-forever", "blocks"])
def test_check_fails_for_a_main_that_never_listens_and_shows_where_it_waits(write_config, tmp_path, body, where):
    started = time.monotonic()
    result = run_launcher(write_config(base=tmp_main_config(tmp_path, body)), "--check", "--check-timeout", "1")
    assert result.returncode == 2, result.stderr
    assert time.monotonic() - started < 10
    assert "main 'tmp_app.py' did not start listening within the check timeout" in result.stderr
    assert where in result.stderr  # the app's own line: where it was stuck


def test_check_is_not_swallowed_by_the_apps_except_exception(write_config, tmp_path):
    body = """
    try:
        make_app().listen(8888)
        tornado.ioloop.IOLoop.current().start()
    except Exception:
        sys.exit(3)
    """
    result = run_launcher(write_config(base=tmp_main_config(tmp_path, body)), "--check")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["status"] == "ok"


def test_check_reports_a_main_with_a_bad_argument(write_config):
    result = run_launcher(write_config(base=main_config("argparse_port", args=["--port", "not-a-port"])), "--check")
    assert result.returncode == 2
    assert "argument --port: invalid int value: 'not-a-port'" in result.stderr  # argparse's own message
    assert "exited with status 2 before listening" in result.stderr


@pytest.mark.parametrize("main, message", [
    ("no_such_module_here", "main 'no_such_module_here': no module named 'no_such_module_here' in app_path"),
    ("no_such_package.app:main", "main 'no_such_package.app:main': no module named 'no_such_package' in app_path"),
    ("missing.py", "main 'missing.py': no such script in app_path"),
])
def test_a_main_that_is_not_there_is_a_config_error(write_config, tmp_path, main, message):
    result = run_launcher(write_config(base=tmp_main_config(tmp_path, "", main=main)), "--check")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_check_of_a_main_app_follows_the_deployments_settings(write_config, tmp_path):
    (tmp_path / "shared-static").mkdir()
    settings = {"cookie_secret": SECRET, "static_path": str(tmp_path / "shared-static"), "static_url_prefix": "/assets/"}
    result = run_launcher(write_config(base=main_config("options_listen", settings=settings)), "--check")
    assert result.returncode == 0, result.stderr
    description = json.loads(result.stdout.splitlines()[-1])
    assert description["static_path"] == str(tmp_path / "shared-static")
    assert description["static_url_prefix"] == "/assets/"


# --- Refusals ------------------------------------------------------------------------------------

def test_a_main_apps_placeholder_cookie_secret_is_refused(write_config, tmp_path):
    body = """
    tornado.web.Application([], cookie_secret="__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__").listen(8888)
    tornado.ioloop.IOLoop.current().start()
    """
    result = run_launcher(write_config(base=tmp_main_config(tmp_path, body, settings={})), "--check")
    assert result.returncode == 2
    assert "refusing to start 'tmp': cookie_secret is the placeholder" in result.stderr


def test_a_main_apps_own_autoreload_is_refused_with_several_processes(write_config):
    # The app's own debug=True (the deployment does not set debug) under reuse_port.
    config = main_config("options_listen", process_model="reuse_port", settings={"cookie_secret": SECRET})
    result = run_launcher(write_config(base=config), "--check")
    assert result.returncode == 2
    assert "autoreload" in result.stderr and "one process only" in result.stderr


def test_fork_with_main_is_refused(write_config):
    result = run_launcher(write_config(base=main_config("options_listen", process_model="fork")), "--port", str(free_port()))
    assert result.returncode == 2
    assert "'process_model' 'fork' cannot run entry 'main'" in result.stderr


def test_a_second_listen_is_refused(write_config, tmp_path):
    body = """
    def main():
        make_app().listen(8888)
        tornado.web.Application([]).listen(9999)  # an admin app on a port of its own
        tornado.ioloop.IOLoop.current().start()
    main()
    """
    result = run_launcher(write_config(base=tmp_main_config(tmp_path, body)), "--port", str(free_port()), timeout=15)
    assert result.returncode == 2
    assert "main 'tmp_app.py' asked to listen again (on *:9999): the launcher serves one HTTP server per process" in result.stderr


def test_a_socket_the_launcher_did_not_bind_is_refused(write_config, tmp_path):
    body = """
    import tornado.httpserver, tornado.netutil
    def main():
        sock = tornado.netutil.bind_unix_socket(os.path.join(os.path.dirname(__file__), "app.sock"))
        tornado.httpserver.HTTPServer(make_app()).add_sockets([sock])
        tornado.ioloop.IOLoop.current().start()
    main()
    """
    result = run_launcher(write_config(base=tmp_main_config(tmp_path, body)), "--check")
    assert result.returncode == 2
    assert "gave add_sockets a socket the launcher did not bind" in result.stderr


def test_a_tcp_server_that_is_not_http_is_refused(write_config, tmp_path):
    body = """
    import tornado.tcpserver
    class Echo(tornado.tcpserver.TCPServer):
        async def handle_stream(self, stream, address):
            await stream.write(await stream.read_until(b"\\n"))
    Echo().listen(8888)
    tornado.ioloop.IOLoop.current().start()
    """
    result = run_launcher(write_config(base=tmp_main_config(tmp_path, body)), "--check")
    assert result.returncode == 2
    assert "main 'tmp_app.py' listens with 'Echo', a TCPServer that is not a tornado HTTPServer" in result.stderr


def test_the_apps_own_httpserver_subclass_is_adopted(launcher, tmp_path):
    body = """
    import tornado.httpserver
    class CountingServer(tornado.httpserver.HTTPServer):
        requests = 0
        def start_request(self, server_conn, request_conn):
            CountingServer.requests += 1
            return super().start_request(server_conn, request_conn)
    class Count(tornado.web.RequestHandler):
        def get(self):
            self.write({"requests": CountingServer.requests, "remote_ip": self.request.remote_ip})
    CountingServer(tornado.web.Application([(r"/count", Count)]), xheaders=False).listen(8888)
    tornado.ioloop.IOLoop.current().start()
    """
    process = launcher(base=tmp_main_config(tmp_path, body))
    body = requests.get(process.url("/count"), headers={"Connection": "close", "X-Real-IP": "198.51.100.4"}, timeout=TIMEOUT).json()
    assert body == {"requests": 1, "remote_ip": "198.51.100.4"}  # its own start_request still runs; xheaders on
    process.terminate()
    assert process.wait(timeout=5) == 0
    assert "tmp: pid" in process.log() and "stopped" in process.log()


# --- The environment -----------------------------------------------------------------------------

@pytest.mark.parametrize("entry", ["factory", "main"])
def test_the_environment_is_set_before_the_app_is_imported(launcher, tmp_path, entry):
    name = write_app(tmp_path, LISTENS)
    config = {"app_path": str(tmp_path), "environment": {"APP_DATABASE_URL": "postgres://app:s3cret@db/app"}, "health_path": None}
    if entry == "factory":
        config["factory"] = "tmp_app:make_app"
    else:
        config.update(entry="main", main=name)
    process = launcher(base=dict(base_config(), **config))
    body = requests.get(process.url("/env"), headers={"Connection": "close"}, timeout=TIMEOUT).json()
    assert body == {"at_import": "postgres://app:s3cret@db/app", "now": "postgres://app:s3cret@db/app"}
    process.terminate()
    assert process.wait(timeout=5) == 0
    assert "s3cret" not in process.log()  # values are never logged


def test_a_bad_environment_names_the_key_not_the_value(write_config):
    result = run_launcher(write_config(environment={"API_TOKEN": "t0ps3cret", "RETRIES": 3}), "--check")
    assert result.returncode == 2
    assert "'environment' must be an object of string values" in result.stderr
    assert "the value of 'RETRIES' is not a string" in result.stderr
    assert "t0ps3cret" not in result.stderr


# --- Entry "command" -----------------------------------------------------------------------------

def command_config(command, **overrides):
    config = dict(base_config(), entry="command", command=command, environment={"APP_TOKEN": "t0ken"})
    config.update(overrides)
    return config


def test_command_gets_the_environment_and_the_port(write_config):
    code = "import os, sys; print(os.environ['APP_TOKEN'], sys.argv[1:])"
    config = write_config(base=command_config([sys.executable, "-c", code, "--port={port}", "{port}"]))
    result = run_launcher(config, "--port", "4321")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "t0ken ['--port=4321', '4321']\n"
    assert "t0ken" not in result.stderr


def test_command_check_finds_the_program_and_says_it_checked_nothing_else(write_config):
    result = run_launcher(write_config(base=command_config([sys.executable, "-m", "myapp"])), "--check")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "unchecked", "static_path": None, "static_url_prefix": None,
                                         "template_path": None, "health_routed_by_app": None, "static_hash": None}
    missing = run_launcher(write_config(base=command_config(["no-such-program-here"])), "--check")
    assert missing.returncode == 2
    assert "command 'no-such-program-here': not found on PATH" in missing.stderr


def test_command_that_cannot_be_executed_exits_2(write_config):
    result = run_launcher(write_config(base=command_config(["/nonexistent/bin/app"])), "--port", "4321")
    assert result.returncode == 2
    assert "command '/nonexistent/bin/app' cannot be executed: No such file or directory" in result.stderr


def test_command_with_another_process_model_is_refused(write_config):
    result = run_launcher(write_config(base=command_config(["true"], process_model="reuse_port")), "--port", "4321")
    assert result.returncode == 2
    assert "'process_model' 'reuse_port' cannot run entry 'command'" in result.stderr


# --- How a main() app's process ends --------------------------------------------------------------

def test_main_unwinds_through_the_apps_finally_and_atexit(launcher, tmp_path):
    body = """
    import atexit
    atexit.register(lambda: print("atexit: flushed", flush=True))
    async def main():
        make_app().listen(8888)
        try:
            await asyncio.Event().wait()
        finally:
            print("finally: closed the pool", flush=True)
    asyncio.run(main())
    """
    process = launcher(base=tmp_main_config(tmp_path, body))
    process.terminate()
    assert process.wait(timeout=5) == 0
    log = process.log()
    assert log.index("tmp: pid") < log.index("finally: closed the pool") < log.index("atexit: flushed")


def test_the_apps_own_signal_handlers_do_not_replace_the_drain(launcher, tmp_path):
    body = """
    def main():
        make_app().listen(8888)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(3))  # a stop without any drain
        loop = asyncio.get_event_loop()
        loop.add_signal_handler(signal.SIGINT, lambda: os._exit(4))
        tornado.ioloop.IOLoop.current().start()
    main()
    """
    process = launcher(base=tmp_main_config(tmp_path, body))
    process.terminate()
    assert process.wait(timeout=5) == 0
    assert "SIGTERM: draining" in process.log()
    assert "the app's own SIGTERM handler (signal.signal) is not installed" in process.log()
    assert "the app's own SIGINT handler (loop.add_signal_handler) is not installed" in process.log()


def test_an_app_that_swallows_the_exit_still_ends_after_the_grace_period(launcher, tmp_path):
    body = """
    def main():
        make_app().listen(8888)
        while True:
            try:
                tornado.ioloop.IOLoop.current().start()
            except SystemExit:
                print("not today", flush=True)
    main()
    """
    process = launcher(base=tmp_main_config(tmp_path, body))  # grace_seconds 1
    started = time.monotonic()
    process.terminate()
    assert process.wait(timeout=8) == 0
    assert time.monotonic() - started < 5  # grace 1 s + the 2 s margin
    assert "not today" in process.log()
    assert "the app's main() did not end after the stop: exiting now" in process.log()


def test_a_signal_before_the_app_listens_stops_it_at_once(launcher, tmp_path):
    body = """
    print("connecting to the database", flush=True)
    time.sleep(30)
    """
    process = launcher(base=tmp_main_config(tmp_path, body), wait=False)
    process.wait_for_log("connecting to the database")
    started = time.monotonic()
    process.terminate()
    assert process.wait(timeout=5) == 0
    assert time.monotonic() - started < 1.5
    assert "stopped before listening" in process.log()


def test_a_signal_before_the_app_listens_ends_it_even_if_the_app_swallows_the_exit(launcher, tmp_path):
    body = """
    print("connecting to the database", flush=True)
    while True:
        try:
            time.sleep(30)
        except SystemExit:
            print("retrying", flush=True)
    """
    process = launcher(base=tmp_main_config(tmp_path, body), wait=False)
    process.wait_for_log("connecting to the database")
    started = time.monotonic()
    process.terminate()
    assert process.wait(timeout=6) == 0
    assert time.monotonic() - started < 4
    assert "retrying" in process.log()


def test_the_apps_own_autoreload_restarts_the_launcher_not_the_app_alone(launcher, tmp_path):
    # debug=True of the app's own (the deployment did not set it) turns autoreload on: a change
    # must start the app again under the launcher, on the assigned port, with its guarantees.
    body = """
    def main():
        tornado.web.Application([(r"/env", Env)], debug=True).listen(8888)
        tornado.ioloop.IOLoop.current().start()
    if __name__ == "__main__":
        main()
    """
    process = launcher(base=tmp_main_config(tmp_path, body, health_path="/healthz"))
    time.sleep(1.2)  # autoreload notes every file's mtime on its first scan, 0.5 s after start
    later = time.time() + 5
    os.utime(tmp_path / "tmp_app.py", (later, later))
    process.wait_listening(count=2, timeout=10)
    health = requests.get(process.url("/healthz"), headers={"Connection": "close"}, timeout=TIMEOUT)
    assert health.json()["name"] == "tmp"  # the launcher's answer: it runs under the launcher again
    assert health.json()["pid"] == process.proc.pid  # re-executed in place
    process.terminate()
    assert process.wait(timeout=5) == 0


@pytest.mark.parametrize("then, status", [("make_app().listen(8888)", 0), ("raise RuntimeError('no database')", 2)],
                         ids=["listens", "fails"])
def test_a_thread_the_app_started_does_not_hold_the_check(write_config, tmp_path, then, status):
    body = f"""
    import threading
    threading.Thread(target=time.sleep, args=(3600,), name="metrics-pusher").start()  # not a daemon
    {then}
    tornado.ioloop.IOLoop.current().start()
    """
    started = time.monotonic()
    result = run_launcher(write_config(base=tmp_main_config(tmp_path, body)), "--check", timeout=20)
    assert result.returncode == status, result.stderr
    assert time.monotonic() - started < 10
