"""The demo app served by a real launcher process: what nginx and a browser would see."""

import socket

import pytest
import requests
import tornado.web
import websocket

from launcher_testlib import DEMO_SRC, PLACEHOLDER, SECRET

TIMEOUT = 5


@pytest.fixture
def demo(launcher):
    return launcher()


def test_health_answer_from_the_app(demo):
    response = requests.get(demo.url("/healthz"), timeout=TIMEOUT)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["port"] == demo.port
    assert body["pid"] == demo.proc.pid
    assert body["hostname"] == socket.gethostname()  # which app host answered, behind a load balancer
    assert body["version"] == "1"  # the demo's VERSION file
    assert "name" not in body  # the demo's own /healthz, not the launcher's (which would say "name")
    assert response.headers["X-App-Version"] == "1"
    assert response.headers["Cache-Control"] == "no-store"


def test_launcher_answers_health_when_the_app_does_not_route_it(launcher):
    process = launcher(health_path="/launcher-health")
    response = requests.get(process.url("/launcher-health"), timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "pid": process.proc.pid, "port": process.port, "version": "test-1", "name": "demo"}


def test_whoami_reports_this_process_and_port(demo):
    body = requests.get(demo.url("/whoami"), timeout=TIMEOUT).json()
    assert body["pid"] == demo.proc.pid
    assert body["port"] == demo.port
    assert body["hostname"] == socket.gethostname()
    assert body["remote_ip"] == "127.0.0.1"
    assert body["protocol"] == "http"
    assert body["host"] == f"127.0.0.1:{demo.port}"
    assert body["version"] == "1"
    assert body["x_real_ip_header"] is None


def test_xheaders_give_the_client_address_and_scheme(demo):
    headers = {"X-Real-IP": "1.2.3.4", "X-Scheme": "https", "Host": "www.example.org"}
    body = requests.get(demo.url("/whoami"), headers=headers, timeout=TIMEOUT).json()
    assert body["remote_ip"] == "1.2.3.4"
    assert body["protocol"] == "https"
    assert body["host"] == "www.example.org"
    assert body["x_real_ip_header"] == "1.2.3.4"
    # The access log names the client, not nginx's loopback address.
    demo.wait_for_log("GET /whoami (1.2.3.4)")


def test_front_page_is_big_enough_to_gzip_and_uses_versioned_static_urls(demo):
    response = requests.get(demo.url("/"), headers={"X-Real-IP": "5.6.7.8"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert len(response.content) > 1000
    assert response.headers["X-App-Version"] == "1"
    assert "5.6.7.8" in response.text
    assert "version 1" in response.text
    for static in ("/static/css/site.css?v=", "/static/img/tornado.png?v=", "/static/js/demo.js?v="):
        assert static in response.text
    css = requests.get(demo.url("/static/css/site.css"), timeout=TIMEOUT)
    assert css.status_code == 200
    assert css.headers["X-App-Version"] == "1"


@pytest.mark.parametrize("name, content_type", [
    ("favicon.ico", "image/"),
    ("robots.txt", "text/plain"),
    ("apple-touch-icon.png", "image/png"),
])
def test_site_root_files_come_from_the_static_path(demo, name, content_type):
    response = requests.get(demo.url("/" + name), timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(content_type)
    assert response.content == (DEMO_SRC / "static" / name).read_bytes()


def test_login_flow_with_xsrf(demo):
    session = requests.Session()
    assert session.get(demo.url("/me"), allow_redirects=False, timeout=TIMEOUT).headers["Location"].startswith("/login?next=")
    form = session.get(demo.url("/login"), timeout=TIMEOUT)
    assert 'name="_xsrf"' in form.text
    token = session.cookies["_xsrf"]

    refused = session.post(demo.url("/login"), data={"name": "alice"}, allow_redirects=False, timeout=TIMEOUT)
    assert refused.status_code == 403

    login = session.post(demo.url("/login"), data={"name": "alice", "_xsrf": token}, allow_redirects=False, timeout=TIMEOUT)
    assert login.status_code == 302
    assert login.headers["Location"] == "/me"
    assert "user" in session.cookies
    me = session.get(demo.url("/me"), allow_redirects=False, timeout=TIMEOUT)
    assert me.status_code == 200
    assert "Hello, alice" in me.text

    logout = session.post(demo.url("/logout"), data={"_xsrf": token}, allow_redirects=False, timeout=TIMEOUT)
    assert logout.status_code == 302
    assert session.get(demo.url("/me"), allow_redirects=False, timeout=TIMEOUT).status_code == 302


def test_cookie_secret_comes_from_the_config_not_the_app(launcher):
    first = launcher()
    second = launcher()  # same settings, as every process and host of a deployment has
    session = requests.Session()
    session.get(first.url("/login"), timeout=TIMEOUT)
    session.post(first.url("/login"), data={"name": "bob", "_xsrf": session.cookies["_xsrf"]}, allow_redirects=False, timeout=TIMEOUT)
    user_cookie = session.cookies["user"]

    on_second = requests.get(second.url("/me"), cookies={"user": user_cookie}, allow_redirects=False, timeout=TIMEOUT)
    assert on_second.status_code == 200
    assert "Hello, bob" in on_second.text

    # A cookie signed with the placeholder the demo hard-codes is worthless: the secret was replaced.
    forged = tornado.web.create_signed_value(PLACEHOLDER, "user", "mallory").decode()
    assert requests.get(first.url("/me"), cookies={"user": forged}, allow_redirects=False, timeout=TIMEOUT).status_code == 302
    genuine = tornado.web.create_signed_value(SECRET, "user", "carol").decode()
    assert "Hello, carol" in requests.get(first.url("/me"), cookies={"user": genuine}, timeout=TIMEOUT).text


def test_websocket_echo(demo):
    url = f"ws://127.0.0.1:{demo.port}/ws"
    conn = websocket.create_connection(url, timeout=TIMEOUT, origin=f"http://127.0.0.1:{demo.port}")
    try:
        conn.send("hello")
        assert conn.recv() == "hello"
        conn.send_binary(b"\x00\x01\x02")
        assert conn.recv() == b"\x00\x01\x02"
    finally:
        conn.close()
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(url, timeout=TIMEOUT, origin="http://elsewhere.example")


def test_large_upload_is_counted(demo):
    session = requests.Session()
    session.get(demo.url("/login"), timeout=TIMEOUT)
    token = session.cookies["_xsrf"]
    body = b"\x5a" * (60 * 1024 * 1024)
    response = session.post(demo.url("/upload"), data=body, headers={"X-XSRFToken": token}, timeout=30)
    assert response.status_code == 200
    assert response.json() == {"bytes": len(body)}
    assert session.post(demo.url("/upload"), data=b"x", timeout=TIMEOUT).status_code == 403


def test_slow_answers_after_the_delay_and_bounds_it(demo):
    response = requests.get(demo.url("/slow?seconds=0.2"), timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["slept"] == 0.2
    for bad in ("31", "-1", "nan", "soon"):
        assert requests.get(demo.url("/slow?seconds=" + bad), timeout=TIMEOUT).status_code == 400


def test_static_files_match_their_version_hash(demo):
    page = requests.get(demo.url("/"), timeout=TIMEOUT).text
    start = page.index("/static/css/site.css?v=") + len("/static/css/site.css?v=")
    version = page[start:page.index('"', start)]
    digest = tornado.web.StaticFileHandler.get_content_version(str(DEMO_SRC / "static" / "css" / "site.css"))
    assert version == digest  # a hash of the file: a changed file gets a new URL, caches never go stale


@pytest.mark.parametrize("access_log", [True, False])
def test_the_access_log_is_every_request_or_the_errors_only(launcher, access_log):
    process = launcher(access_log=access_log)
    assert requests.get(process.url("/"), timeout=TIMEOUT).status_code == 200
    assert requests.get(process.url("/no-such-page"), timeout=TIMEOUT).status_code == 404
    # Logged after the 200's line (one request after the other): once it is there, the 200's would be too.
    process.wait_for_log("404 GET /no-such-page")
    assert ("200 GET / (" in process.log()) == access_log
