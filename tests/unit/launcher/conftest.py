"""Fixtures for the launcher tests: real launcher processes on free loopback ports, always killed."""

import json
import os
import sys

import pytest

# The tests import their helpers as a top-level module. Make that work whatever pytest's import
# mode (ansible-test imports test files as collection packages and adds no test directory).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from launcher_testlib import LauncherProcess, base_config, free_port  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def write_config(tmp_path):
    """Write a launcher config (base_config plus overrides) to a fresh file; return its path."""
    counter = [0]

    def write(raw=None, base=None, **overrides):
        """``base``: another config than the demo's (main_config(...)); ``overrides`` go over it."""
        counter[0] += 1
        path = tmp_path / f"launcher-{counter[0]}.json"
        config = dict(base_config() if base is None else base, **overrides)
        path.write_text(raw if raw is not None else json.dumps(config))
        return path

    return write


@pytest.fixture
def launcher(tmp_path, write_config):
    """Start launchers; every one still running at teardown is killed."""
    started = []

    def start(port=None, extra_args=(), python_args=(), wait=True, **config_overrides):
        config_path = write_config(**config_overrides)
        log_path = tmp_path / f"launcher-{len(started)}.log"
        process = LauncherProcess(config_path, port or free_port(), log_path, extra_args, python_args)
        started.append(process)
        if wait:
            process.wait_listening()
        return process

    yield start
    for process in started:
        process.kill()
