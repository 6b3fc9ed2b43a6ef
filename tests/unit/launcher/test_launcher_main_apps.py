"""Apps with their own main() (entry "main"), written the guide's way, under real launcher processes.

Each app (tests/fixtures/main_apps) asks for port 8888 on every interface, debug=True and a random
cookie secret of its own; the launcher must give it the assigned port, the config's address, the
deployment's settings, xheaders, a health answer and the drain.
"""

import json
import re

import pytest
import requests
import tornado.web

from launcher_testlib import (
    MAIN_APPS, MAIN_STYLES, SECRET, TIMEOUT, free_port, listening_addresses, main_config, refused, run_launcher,
    slow_request_in_flight, wait_refused,
)

STYLES = sorted(MAIN_STYLES)


def get(url, headers=None, **kwargs):
    """GET on a connection of its own that the server closes after the answer.

    A Response kept in a variable keeps its keep-alive connection open, and a draining process
    rightly waits for the peer to close those (up to grace_seconds): nginx does, after its
    keepalive_timeout; a test should not make every stop wait for the whole grace period.
    """
    return requests.get(url, headers=dict(headers or {}, Connection="close"), timeout=TIMEOUT, **kwargs)


@pytest.mark.parametrize("style", STYLES)
def test_the_launcher_gives_the_app_its_guarantees(launcher, style):
    first = launcher(base=main_config(style))
    second = launcher(base=main_config(style))  # same config, another port: another process of the deployment

    # Only the assigned port on the config's address: not the app's 8888, not every interface.
    assert listening_addresses(first.proc.pid) == {("127.0.0.1", first.port)}

    # xheaders, even where the app turned them off: the client's address, in the app and in the access log.
    whoami = get(first.url("/whoami"), headers={"X-Real-IP": "203.0.113.7"}).json()
    assert whoami == {"remote_ip": "203.0.113.7", "pid": first.proc.pid, "port": first.port, "debug": False, "serve_traceback": False}
    first.wait_for_log("GET /whoami (203.0.113.7)")

    # The app's own page and static files, unchanged.
    page = get(first.url("/"))
    assert page.status_code == 200
    static_url = re.search(r'href="(/static/app\.css\?v=[0-9a-f]+)"', page.text).group(1)
    css = get(first.url(static_url))
    assert css.status_code == 200 and b"font-family" in css.content

    # debug and serve_traceback off: a plain 500, no stack trace for the client.
    boom = get(first.url("/boom"))
    assert boom.status_code == 500
    assert "Traceback" not in boom.text and "RuntimeError" not in boom.text

    # The launcher answers the health path the app does not route, for this process and port.
    health = get(first.url("/healthz"))
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "pid": first.proc.pid, "port": first.port, "version": "test-1", "name": style}

    # The deployment's cookie secret, not the app's random one: signed by one process, read by the other.
    cookie = get(first.url("/cookie/set?value=hello")).cookies["visitor"]
    assert tornado.web.decode_signed_value(SECRET, "visitor", cookie.strip('"')) == b"hello"  # the jar keeps the quotes
    assert get(second.url("/cookie/get"), cookies={"visitor": cookie}).json() == {"value": "hello"}

    # SIGTERM drains: the port closes at once, health turns 503 (on a connection nginx already has),
    # the request in flight completes, the process exits 0.
    balancer = requests.Session()
    assert balancer.get(first.url("/healthz"), timeout=TIMEOUT).status_code == 200
    slow = slow_request_in_flight(first, 1)
    first.terminate()
    assert wait_refused(first.port), "still accepting connections after SIGTERM"
    draining = balancer.get(first.url("/healthz"), timeout=TIMEOUT)
    assert (draining.status_code, draining.json(), draining.headers["Connection"]) == (503, {"status": "draining"}, "close")
    slow["thread"].join(10)
    assert slow.get("result") is not None, slow.get("error")
    assert slow["result"].status_code == 200
    assert slow["result"].headers["Connection"] == "close"
    assert first.wait(timeout=8) == 0
    assert "SIGTERM: draining" in first.log()
    assert f"{style}: pid {first.proc.pid} stopped" in first.log()
    second.terminate()
    assert second.wait(timeout=8) == 0


@pytest.mark.parametrize("style", STYLES)
def test_check_runs_the_main_up_to_its_listen_and_reports_the_static_path(write_config, style):
    port = free_port()
    result = run_launcher(write_config(base=main_config(style)), "--port", str(port), "--check")
    assert result.returncode == 0, result.stderr
    description = json.loads(result.stdout.splitlines()[-1])
    app_dir = MAIN_APPS / MAIN_STYLES[style][0]
    package = {"module_main": "module_main_app", "package_entry": "package_entry_app"}.get(style, "")
    assert description == {
        "status": "ok",
        "static_path": str(app_dir / package / "static") if package else str(app_dir / "static"),
        "static_url_prefix": "/static/",
        "template_path": str(app_dir / package / "templates") if package else str(app_dir / "templates"),
        "health_routed_by_app": False,
        "static_hash": "sha512",  # for "main" too: the app's own Application, inspected at its listen
    }
    assert refused(port), "--check must not listen"
    assert " listening on " not in result.stderr


def test_the_address_is_the_configs(launcher):
    # 127.0.0.2 is loopback too: the app asks for every interface, 127.0.0.1 must stay closed.
    process = launcher(base=main_config("argparse_port", address="127.0.0.2"), wait=True)
    assert listening_addresses(process.proc.pid) == {("127.0.0.2", process.port)}
    assert refused(process.port, host="127.0.0.1")
    whoami = get(f"http://127.0.0.2:{process.port}/whoami").json()
    assert whoami["port"] == process.port
    process.terminate()
    assert process.wait(timeout=8) == 0


def test_start_with_several_processes_serves_in_this_process(launcher):
    process = launcher(base=main_config("bind_start"))
    for _attempt in range(3):
        body = get(process.url("/whoami")).json()
        assert body["pid"] == process.proc.pid
    assert "the app asked for 0 (one per CPU) processes" in process.log()
    assert "not forking" in process.log()
    process.terminate()
    assert process.wait(timeout=8) == 0


def test_reuse_port_lets_two_main_apps_share_a_port(launcher):
    port = free_port()
    first = launcher(port=port, base=main_config("httpserver_asyncio", process_model="reuse_port"))
    second = launcher(port=port, base=main_config("httpserver_asyncio", process_model="reuse_port"))
    pids = set()
    for _attempt in range(200):
        pids.add(get(first.url("/whoami")).json()["pid"])
        if len(pids) == 2:
            break
    assert pids == {first.proc.pid, second.proc.pid}
    first.terminate()
    assert first.wait(timeout=8) == 0
    assert get(second.url("/whoami")).json()["pid"] == second.proc.pid
