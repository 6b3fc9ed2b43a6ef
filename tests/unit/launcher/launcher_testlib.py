"""Helpers for the launcher tests: real launcher processes on free loopback ports."""

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

# roles/app/files is copied to hosts as it is: importing from it must not leave __pycache__ behind.
sys.dont_write_bytecode = True

REPO = Path(__file__).resolve().parents[3]
LAUNCHER = REPO / "roles" / "app" / "files" / "webops_tornado_launcher.py"
DEMO_SRC = REPO / "roles" / "app" / "files" / "demo"
MAIN_APPS = REPO / "tests" / "fixtures" / "main_apps"
SECRET = "launcher-tests-" + "0123456789abcdef" * 2  # 47 bytes, the same for every instance
PLACEHOLDER = "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__"

START_TIMEOUT = 15
TIMEOUT = 5
CHILD_ENV = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
# Deliberately no PYTHONUNBUFFERED: the launcher's log lines must arrive without it.
CHILD_ENV.pop("PYTHONUNBUFFERED", None)


def free_port():
    """A port nothing listens on right now (the launcher binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_config(**overrides):
    """The launcher config for the demo app, as the app role writes it."""
    config = {
        "name": "demo",
        "app_path": str(DEMO_SRC),
        "factory": "demo_app:make_app",
        "address": "127.0.0.1",
        "settings": {"cookie_secret": SECRET},
        "grace_seconds": 5,
        "version": "test-1",
    }
    config.update(overrides)
    return config


# The apps with their own main() (tests/fixtures/main_apps/README.md): app_path, main, args.
MAIN_STYLES = {
    "options_listen": ("options_listen", "server.py", ["--port={port}"]),
    "httpserver_asyncio": ("httpserver_asyncio", "app.py", []),
    "bind_start": ("bind_start", "bind_start_server", []),
    "argparse_port": ("argparse_port", "argparse_server:main", ["--port", "{port}"]),
    "module_main": ("module_main", "module_main_app", ["--port={port}"]),
    "package_entry": ("package_entry/src", "package_entry_app.cli:main", ["--port={port}"]),
}


def main_config(style, **overrides):
    """The launcher config for one of the apps with their own main(), as the app role would write it."""
    app_dir, main, args = MAIN_STYLES[style]
    config = {
        "name": style,
        "app_path": str(MAIN_APPS / app_dir),
        "entry": "main",
        "main": main,
        "args": args,
        "address": "127.0.0.1",
        # What the role writes outside development: the app's own debug=True must not survive.
        "settings": {"cookie_secret": SECRET, "debug": False, "serve_traceback": False},
        "grace_seconds": 5,
        "version": "test-1",
    }
    config.update(overrides)
    return config


def listening_addresses(pid):
    """{(address, port)} of the TCP sockets process ``pid`` listens on, read from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            match = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if match:
            inodes.add(match.group(1))
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        with open(table, encoding="ascii") as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state != "0A" or inode not in inodes:  # 0A: LISTEN
                    continue
                address, port = local.split(":")
                raw = bytes.fromhex(address)
                # The kernel prints each 32-bit word in host (little-endian) order.
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.add((socket.inet_ntop(family, raw), int(port, 16)))
    return found


def refused(port, host="127.0.0.1"):
    """True when nothing accepts connections on the port any more. A reset while connecting counts: the
    listening socket was closed with this connection still in its backlog (seen on a loaded machine)."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return False
    except (ConnectionRefusedError, ConnectionResetError):
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


def load_launcher_module():
    """Import the launcher file as a module, as tests and tools may (it runs nothing on import)."""
    spec = importlib.util.spec_from_file_location("webops_tornado_launcher", LAUNCHER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_launcher(config_path, *args, timeout=30):
    """Run the launcher to completion (for --check and the start-up errors)."""
    return subprocess.run(
        [sys.executable, str(LAUNCHER), "--config", str(config_path), *args],
        capture_output=True, text=True, timeout=timeout, env=CHILD_ENV, check=False)


class LauncherProcess:
    """One launcher started in its own session, so teardown can kill it and any forked children."""

    def __init__(self, config_path, port, log_path, extra_args=(), python_args=()):
        self.port = port
        self.config_path = config_path
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, *python_args, str(LAUNCHER), "--config", str(config_path), "--port", str(port), *extra_args],
                stdout=log, stderr=subprocess.STDOUT, env=CHILD_ENV, start_new_session=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_listening(self, count=1, timeout=START_TIMEOUT):
        """Wait for ``count`` "listening on" log lines (one per serving process)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(" listening on ") >= count:
                return self
            if self.proc.poll() is not None:
                pytest.fail(f"launcher exited with {self.proc.returncode} before listening:\n{self.log()}")
            time.sleep(0.05)
        pytest.fail(f"launcher not listening after {timeout}s:\n{self.log()}")
        return self

    def wait_for_log(self, text, timeout=5):
        """Wait for ``text`` in the log (an access log line is written just after the response)."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} not logged within {timeout}s:\n{self.log()}")
            time.sleep(0.05)

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"launcher still running {timeout}s later:\n{self.log()}")
            return None

    def kill(self):
        """Kill the launcher's whole session (forked children included); only ours, by its id."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
