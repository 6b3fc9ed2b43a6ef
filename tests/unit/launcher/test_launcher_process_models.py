"""The guide's process models at their edges: fork with one process, autoreload refused with several,
fork children stopped as a group (supervisord's stopasgroup), and recovery from a syntax error under
`python -m tornado.autoreload`."""

import os
import shutil
import signal
import threading
import time

import pytest
import requests

from launcher_testlib import DEMO_SRC, SECRET, run_launcher

TIMEOUT = 5
DEBUG = {"cookie_secret": SECRET, "debug": True}


@pytest.mark.parametrize("model, processes", [("reuse_port", 0), ("reuse_port", 1), ("fork", 0), ("fork", 2)])
def test_autoreload_with_several_processes_is_refused(write_config, model, processes):
    result = run_launcher(write_config(process_model=model, processes=processes, settings=DEBUG), "--check")
    assert result.returncode == 2, result.stderr
    assert "autoreload" in result.stderr and "one process only" in result.stderr


@pytest.mark.parametrize("model", ["ports", "fork"])
def test_autoreload_with_one_process_is_accepted(write_config, model):
    result = run_launcher(write_config(process_model=model, processes=1, settings=DEBUG), "--check")
    assert result.returncode == 0, result.stderr


def test_debug_with_autoreload_off_may_use_several_processes(write_config):
    settings = dict(DEBUG, autoreload=False)
    result = run_launcher(write_config(process_model="reuse_port", settings=settings), "--check")
    assert result.returncode == 0, result.stderr


def test_fork_with_one_process_serves_without_forking(launcher):
    # HTTPServer.start(1) does not fork: neither does the launcher, so autoreload can work.
    process = launcher(process_model="fork", processes=1)
    for _attempt in range(3):
        body = requests.get(process.url("/whoami"), headers={"Connection": "close"}, timeout=TIMEOUT).json()
        assert body["pid"] == process.proc.pid
    process.terminate()
    assert process.wait(timeout=5) == 0


def test_fork_children_signalled_with_their_parent_still_drain(launcher):
    # supervisord's stopasgroup sends SIGTERM to the whole process group: each child gets it and
    # then sees the parent's pipe close. That is one stop, not a second "hurry" signal.
    process = launcher(process_model="fork", processes=2, grace_seconds=10, wait=False).wait_listening(count=2)
    session = requests.Session()
    session.get(process.url("/whoami"), timeout=TIMEOUT)
    outcome = {}

    def slow():
        outcome["response"] = session.get(process.url("/slow?seconds=2"), timeout=15)

    thread = threading.Thread(target=slow, daemon=True)
    thread.start()
    time.sleep(0.5)
    os.killpg(process.proc.pid, signal.SIGTERM)
    thread.join(10)
    assert outcome.get("response") is not None and outcome["response"].status_code == 200, process.log()
    assert process.wait(timeout=10) == 0
    assert "closing connections with requests still in flight" not in process.log()


def test_a_syntax_error_under_the_autoreload_wrapper_recovers_once_fixed(launcher, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(DEMO_SRC, src)
    module = src / "demo_app" / "__init__.py"
    good = module.read_text()
    process = launcher(app_path=str(src), python_args=("-m", "tornado.autoreload"))
    assert requests.get(process.url("/healthz"), timeout=TIMEOUT).status_code == 200

    time.sleep(1.2)  # autoreload notes every file's mtime on its first scan, 0.5 s after start
    module.write_text(good + "\ndef broken(:\n")
    deadline = time.monotonic() + 10
    while "SyntaxError" not in process.log():
        assert time.monotonic() < deadline, process.log()
        time.sleep(0.1)
    assert process.proc.poll() is None, "the wrapper must wait for a fix, not exit"

    time.sleep(1.2)  # the wrapper's own first scan
    module.write_text(good)
    process.wait_listening(count=2, timeout=15)
    assert requests.get(process.url("/healthz"), timeout=TIMEOUT).status_code == 200
    process.terminate()
    assert process.wait(timeout=5) == 0
