# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the service_master module: a real process as the unit's main process (its /proc read as is), a
fake systemctl; generated values for the environment variable compared."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import resource
import subprocess
import sys

import pytest
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.webops.tornado.plugins.modules import service_master as mod

VARIABLE = 'WEBOPS_TORNADO_STATS_AUTH'


@pytest.fixture
def master():
    """Start a process with a known environment and open-file limit; yields a function that starts it."""
    started = []

    # Limits at or below 1024 can be set on any host: a process may only lower its hard limit without privilege.
    def start(environment, nofile=(500, 1000)):
        process = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], env=environment,
                                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, nofile))
        started.append(process)
        return process.pid

    yield start
    for process in started:
        process.kill()
        process.wait()


def run(monkeypatch, capsys, pid, **params):
    calls = []

    def run_command(_module, argv, **kwargs):
        calls.append(argv)
        assert argv[:2] == ['systemctl', 'show'] and argv[-1] == params['service']
        return 0, '%d\n' % pid, ''

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    with patch_module_args(params):
        with pytest.raises(SystemExit) as exit_info:
            mod.main()
    out = capsys.readouterr().out
    return exit_info.value.code, json.loads(out), out


def env_file(tmp_path, text):
    path = tmp_path / 'environment'
    path.write_bytes(text)
    return str(path)


def test_a_running_master_with_the_files_password(monkeypatch, capsys, tmp_path, master):
    pid = master({VARIABLE: 'admin:s3cret=+/', 'PATH': '/usr/bin'})
    rc, result, out = run(monkeypatch, capsys, pid, service='haproxy', variable=VARIABLE,
                          environment_file=env_file(tmp_path, b'# written by the role\n' + VARIABLE.encode() + b'=admin:s3cret=+/\n'))
    assert rc == 0
    assert (result['running'], result['pid'], result['nofile'], result['nofile_hard']) == (True, pid, 500, 1000)
    assert result['environment_same'] is True and result['changed'] is False


def test_another_password_in_the_file_differs_and_neither_value_comes_back(monkeypatch, capsys, tmp_path, master):
    pid = master({VARIABLE: 'admin:started-with'})
    rc, result, out = run(monkeypatch, capsys, pid, service='haproxy', variable=VARIABLE,
                          environment_file=env_file(tmp_path, VARIABLE.encode() + b'=admin:written-since\n'))
    assert rc == 0 and result['environment_same'] is False
    assert 'started-with' not in out and 'written-since' not in out


def test_unset_in_both_is_the_same_and_unset_in_one_differs(monkeypatch, capsys, tmp_path, master):
    pid = master({'PATH': '/usr/bin'})
    dummy, result, dummy = run(monkeypatch, capsys, pid, service='haproxy', variable=VARIABLE,
                               environment_file=env_file(tmp_path, b'OTHER=1\n'))
    assert result['environment_same'] is True
    dummy, result, dummy = run(monkeypatch, capsys, pid, service='haproxy', variable=VARIABLE,
                               environment_file=env_file(tmp_path, VARIABLE.encode() + b'=\n'))
    assert result['environment_same'] is False


def test_no_main_process(monkeypatch, capsys, tmp_path):
    rc, result, dummy = run(monkeypatch, capsys, 0, service='haproxy', variable=VARIABLE,
                            environment_file=env_file(tmp_path, b''))
    assert rc == 0
    assert result == dict(result, running=False, pid=0, nofile=None, nofile_hard=None, environment_same=None)


def test_without_a_variable_only_the_limit(monkeypatch, capsys, master):
    pid = master({}, nofile=(300, 300))
    rc, result, dummy = run(monkeypatch, capsys, pid, service='nginx')
    assert rc == 0 and result['nofile'] == 300 and 'environment_same' not in result


def test_a_variable_needs_the_file(monkeypatch, capsys):
    rc, result, dummy = run(monkeypatch, capsys, 1, service='haproxy', variable=VARIABLE)
    assert rc == 1 and 'environment_file' in result['msg']


VALUES = st.binary(min_size=0, max_size=40).filter(lambda value: b'\0' not in value and b'\n' not in value
                                                   and b'\r' not in value)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(started=VALUES, written=VALUES)
def test_the_comparison_is_equality_of_the_values_whatever_they_hold(tmp_path, started, written):
    proc = tmp_path / 'proc' / '42'
    proc.mkdir(parents=True, exist_ok=True)
    (proc / 'environ').write_bytes(b'A=1\0' + VARIABLE.encode() + b'=' + started + b'\0Z=2\0')
    path = env_file(tmp_path, b'A=2\n' + VARIABLE.encode() + b'=' + written + b'\nZ=3\n')
    same = mod.process_variable(42, VARIABLE, proc=str(tmp_path / 'proc')) == mod.file_variable(path, VARIABLE)
    assert same == (started == written)


def test_limits_of_a_process_that_is_gone():
    assert mod.procs.nofile_limits(2 ** 22 + 1) == (None, None)
    assert os.path.exists('/proc/self/limits')
