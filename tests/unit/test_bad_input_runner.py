# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for molecule/bad_input's row runner: a row whose module output docker exec lost runs once more."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import importlib.util
import json
import os
import stat

import pytest

RUNNER = os.path.join(os.path.dirname(__file__), '..', '..', 'molecule', 'bad_input', 'files', 'run_cases.py')
ROW = {'id': 'development-with-several-processes', 'class': 'model', 'needs_host': True,
       'vars': {'app_processes': 4}, 'expect': 'app_processes'}


@pytest.fixture
def runner():
    spec = importlib.util.spec_from_file_location('run_cases', RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_playbook(tmp_path, messages):
    """An ansible-playbook that fails its nth run with messages[n] (the json callback's report, rc 2)."""
    script = tmp_path / 'ansible-playbook'
    script.write_text(u'''#!/usr/bin/env python3
import json, os
count = os.path.join(%r, 'calls')
calls = int(open(count).read()) if os.path.exists(count) else 0
open(count, 'w').write(str(calls + 1))
message = %r[min(calls, %d)]
print(json.dumps({'plays': [{'tasks': [{'hosts': {'web1': {'failed': True, 'msg': message}}}]}],
                  'stats': {'web1': {'changed': 0, 'unreachable': 0}}}))
raise SystemExit(2)
''' % (str(tmp_path), messages, len(messages) - 1))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return argparse.Namespace(ansible_playbook=str(script), inventory='inv', host='web1',
                              nowhere_inventory=None, nowhere_host=None)


def calls(tmp_path):
    return int((tmp_path / 'calls').read_text())


def test_a_row_whose_output_was_lost_runs_once_more(runner, tmp_path):
    args = fake_playbook(tmp_path, [runner.LOST_OUTPUT, 'app_processes must be 1 in development mode'])
    outcome = runner.run_row(args, ROW, {})
    assert outcome['ok'] and outcome['where'] == 'host'
    assert outcome['retried'] == [runner.LOST_OUTPUT]
    assert calls(tmp_path) == 2


def test_a_row_whose_output_is_lost_twice_fails(runner, tmp_path):
    args = fake_playbook(tmp_path, [runner.LOST_OUTPUT])
    outcome = runner.run_row(args, ROW, {})
    assert not outcome['ok'] and outcome['messages'] == [runner.LOST_OUTPUT]
    assert calls(tmp_path) == 2


def test_a_row_refused_for_another_reason_runs_once(runner, tmp_path):
    args = fake_playbook(tmp_path, ['nginx_listen_port: not a port'])
    outcome = runner.run_row(args, ROW, {})
    assert not outcome['ok'] and 'retried' not in outcome
    assert calls(tmp_path) == 1
    assert json.dumps(outcome)  # the runner prints every outcome as JSON
