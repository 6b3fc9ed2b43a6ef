"""Stopping and the process models: graceful drain on SIGTERM, fork, reuse_port, autoreload."""

import os
import signal
import socket
import threading
import time

import pytest
import requests

from launcher_testlib import free_port

TIMEOUT = 5


def refused(port):
    """True when nothing accepts connections on the port any more."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def wait_refused(port, timeout=2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if refused(port):
            return True
        time.sleep(0.02)
    return False


def in_background(function):
    """Run ``function`` in a thread; the returned dict gets "result" or "error"."""
    outcome = {}

    def run():
        try:
            outcome["result"] = function()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def slow_request_in_flight(process, seconds, timeout=30):
    """Start GET /slow in the background on an already accepted connection; return its outcome.

    The warm-up request makes sure the kernel has handed the connection to the server, so the
    slow request cannot be refused by a SIGTERM that closes the listening socket right after.
    """
    session = requests.Session()
    session.get(process.url("/whoami"), timeout=TIMEOUT)
    outcome = in_background(lambda: session.get(process.url(f"/slow?seconds={seconds}"), timeout=timeout))
    time.sleep(0.5)  # the request reaches the server and sleeps there
    return outcome


def pids_seen(url, want, attempts=300, timeout=15):
    """pids answering ``url`` over fresh connections, until ``want`` distinct ones (bounded)."""
    pids = set()
    deadline = time.monotonic() + timeout
    for _attempt in range(attempts):
        if len(pids) >= want or time.monotonic() > deadline:
            break
        pids.add(requests.get(url, headers={"Connection": "close"}, timeout=TIMEOUT).json()["pid"])
    return pids


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


def test_grace_period_bounds_the_stop(launcher):
    process = launcher(grace_seconds=1)
    slow = slow_request_in_flight(process, 20)
    started = time.monotonic()
    process.terminate()
    assert process.wait(timeout=6) == 0
    assert time.monotonic() - started < 4
    slow["thread"].join(5)
    assert isinstance(slow.get("error"), requests.ConnectionError)
    assert "closed 1 connection(s) with a request still in flight" in process.log()


def test_second_signal_stops_at_once(launcher):
    process = launcher(grace_seconds=20)
    slow_request_in_flight(process, 20)
    started = time.monotonic()
    process.terminate()
    time.sleep(0.3)
    process.proc.send_signal(signal.SIGINT)
    assert process.wait(timeout=5) == 0
    assert time.monotonic() - started < 3


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
