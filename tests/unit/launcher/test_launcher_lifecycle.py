"""Stopping and the process models: graceful drain on SIGTERM, fork, reuse_port, autoreload."""

import os
import signal
import struct
import time

import pytest
import requests
import websocket

from launcher_testlib import free_port, main_config, pids_seen, refused, slow_request_in_flight, wait_refused

TIMEOUT = 5
# The same stop, for the demo's factory and for an app with its own main() (asyncio.run(main())).
APPS = {"factory": {}, "main": {"base": main_config("httpserver_asyncio")}}


def test_sigterm_lets_the_request_in_flight_finish(launcher):
    process = launcher(grace_seconds=5)
    slow = slow_request_in_flight(process, 2)
    process.terminate()
    stopped_at = time.monotonic()

    assert wait_refused(process.port), "still accepting connections after SIGTERM"
    assert slow["thread"].is_alive(), "the slow request should still be in flight"

    slow["thread"].join(10)
    response = slow.get("result")
    assert response is not None, slow.get("error")
    assert response.status_code == 200
    assert response.json()["slept"] == 2
    assert response.headers["Connection"] == "close"  # nginx must not reuse the connection

    assert process.wait(timeout=5) == 0
    assert time.monotonic() - stopped_at < 5  # well within the grace period
    assert "SIGTERM: draining" in process.log()


def test_a_request_on_an_idle_keepalive_connection_during_the_stop_is_answered(launcher):
    # nginx may send a request (a POST it never retries) on an idle upstream connection just as the
    # process starts draining: the connection is not closed under it; the request is answered with
    # Connection: close, and the stop completes once the peer has closed the connection.
    process = launcher(grace_seconds=10)
    session = requests.Session()  # keeps its connection open after the answer, as nginx does
    assert session.get(process.url("/whoami"), timeout=TIMEOUT).status_code == 200
    started = time.monotonic()
    process.terminate()
    time.sleep(0.5)
    response = session.post(process.url("/login"), data={"name": "late"}, timeout=TIMEOUT)
    assert response.status_code in (200, 302, 403)  # answered by the app (xsrf may refuse it), not reset
    assert response.headers.get("Connection", "").lower() == "close"
    assert process.wait(timeout=5) == 0
    assert time.monotonic() - started < 4
    session.close()


def test_an_idle_connection_the_peer_keeps_open_is_bounded_by_the_grace_period(launcher):
    process = launcher(grace_seconds=2)
    session = requests.Session()
    assert session.get(process.url("/whoami"), timeout=TIMEOUT).status_code == 200
    started = time.monotonic()
    process.terminate()
    assert process.wait(timeout=8) == 0
    assert 1.5 <= time.monotonic() - started < 5
    session.close()


@pytest.mark.parametrize("app", sorted(APPS))
def test_grace_period_bounds_the_stop(launcher, app):
    # A long poll (a request that waits for an event) cannot finish: the grace period's end closes
    # its connection (no reset, no answer from a half-dead process), and the process exits 0.
    process = launcher(grace_seconds=1, **APPS[app])
    slow = slow_request_in_flight(process, 20)
    started = time.monotonic()
    process.terminate()
    assert process.wait(timeout=6) == 0
    assert time.monotonic() - started < 4
    slow["thread"].join(5)
    assert isinstance(slow.get("error"), requests.ConnectionError)
    assert "Connection aborted" in str(slow["error"]) and "reset" not in str(slow["error"]).lower()
    assert "closed 1 connection(s) with a request still in flight" in process.log()


@pytest.mark.parametrize("app", sorted(APPS))
def test_second_signal_stops_at_once(launcher, app):
    process = launcher(grace_seconds=20, **APPS[app])
    slow_request_in_flight(process, 20)
    started = time.monotonic()
    process.terminate()
    time.sleep(0.3)
    process.proc.send_signal(signal.SIGINT)
    assert process.wait(timeout=5) == 0
    assert time.monotonic() - started < 3


def open_websocket(process):
    conn = websocket.create_connection(f"ws://127.0.0.1:{process.port}/ws", timeout=TIMEOUT, origin=f"http://127.0.0.1:{process.port}")
    conn.send("before the stop")
    assert conn.recv() == "before the stop"
    return conn


@pytest.mark.parametrize("app", sorted(APPS))
def test_an_open_websocket_is_told_going_away_before_the_requests_finish(launcher, app):
    process = launcher(grace_seconds=10, **APPS[app])
    conn = open_websocket(process)
    slow = slow_request_in_flight(process, 2)
    process.terminate()
    started = time.monotonic()
    # recv_data_frame answers the close frame, as browsers do.
    opcode, frame = conn.recv_data_frame(control_frame=True)
    assert time.monotonic() - started < 1, "the close frame must not wait for the requests in flight"
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert struct.unpack("!H", frame.data[:2])[0] == 1001  # going away: not 1006 (cut without a close frame)
    assert frame.data[2:] == b"going away"
    conn.close()

    slow["thread"].join(10)
    assert slow.get("result") is not None and slow["result"].status_code == 200, slow.get("error")
    assert process.wait(timeout=5) == 0
    assert time.monotonic() - started < 4
    assert "sent 1 WebSocket(s) a close frame (1001 going away)" in process.log()
    assert "did not complete the close" not in process.log()


@pytest.mark.parametrize("app", sorted(APPS))
def test_a_websocket_client_that_never_answers_the_close_is_bounded_by_the_grace_period(launcher, app):
    process = launcher(grace_seconds=1, **APPS[app])
    conn = open_websocket(process)
    process.terminate()
    started = time.monotonic()
    frame = conn.recv_frame()  # the close frame, read without answering it
    assert frame.opcode == websocket.ABNF.OPCODE_CLOSE
    assert process.wait(timeout=6) == 0
    assert time.monotonic() - started < 4
    assert "closed 1 WebSocket(s) whose client did not complete the close" in process.log()
    conn.shutdown()


def test_fork_serves_from_two_children_and_stops_cleanly(launcher):
    process = launcher(process_model="fork", processes=2, wait=False).wait_listening(count=2)
    pids = pids_seen(process.url("/whoami"), want=2)
    assert len(pids) == 2, f"only {pids} answered:\n{process.log()}"
    assert process.proc.pid not in pids  # the parent only supervises
    body = requests.get(process.url("/whoami"), timeout=TIMEOUT).json()
    assert body["port"] == process.port

    slow = slow_request_in_flight(process, 1)
    process.terminate()
    assert process.wait(timeout=10) == 0
    slow["thread"].join(5)
    assert slow.get("result") is not None and slow["result"].status_code == 200, slow.get("error")
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert refused(process.port)


def test_reuse_port_lets_two_launchers_share_a_port(launcher):
    port = free_port()
    first = launcher(port=port, process_model="reuse_port")
    second = launcher(port=port, process_model="reuse_port")
    pids = pids_seen(first.url("/whoami"), want=2)
    assert pids == {first.proc.pid, second.proc.pid}

    # Stopping one leaves the port served by the other: a rolling restart.
    first.terminate()
    assert first.wait(timeout=5) == 0
    for _attempt in range(5):
        assert requests.get(second.url("/whoami"), headers={"Connection": "close"}, timeout=TIMEOUT).json()["pid"] == second.proc.pid


def test_runs_under_tornado_autoreload(launcher):
    process = launcher(python_args=("-m", "tornado.autoreload"))
    assert requests.get(process.url("/whoami"), timeout=TIMEOUT).json()["pid"] == process.proc.pid

    # An edited config (or source file) restarts the process in place, from sys.argv alone:
    # nothing depended on interpreter flags.
    time.sleep(1.2)  # autoreload notes every file's mtime on its first scan, 0.5 s after start
    later = time.time() + 5
    os.utime(process.config_path, (later, later))
    process.wait_listening(count=2, timeout=10)
    assert requests.get(process.url("/healthz"), timeout=TIMEOUT).status_code == 200

    # A stop is a stop, although the autoreload wrapper would otherwise wait for the next change.
    process.terminate()
    assert process.wait(timeout=5) == 0
