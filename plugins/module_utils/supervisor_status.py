# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether supervisord runs a group's programs as configured: parse `supervisorctl status`, compare the
command line of each running process with the configured one.

Kept free of AnsibleModule so the unit tests can drive it with fake supervisorctl output and /proc.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import shlex
import time

_STATUS_LINE = re.compile(r'^(?P<name>\S+)\s+(?P<state>[A-Z]+)\s*(?P<rest>.*)$')
_PID = re.compile(r'\bpid (\d+)')
# The state a program does not leave by itself (BACKOFF is retried up to startretries, then FATAL).
# EXITED comes back with autorestart, and a group just added may show STOPPED (or not show yet) for a
# moment: those are waited for, and named when the time is up.
FINAL_BAD = ('FATAL',)


def parse_status(text, group):
    """{program: (state, pid or None, rest)} for the lines of ``group`` in `supervisorctl status` output."""
    programs = {}
    prefix = group + ':'
    for line in text.splitlines():
        match = _STATUS_LINE.match(line.strip())
        if not match or not match.group('name').startswith(prefix):
            continue
        pid = _PID.search(match.group('rest'))
        programs[match.group('name')[len(prefix):]] = (match.group('state'), int(pid.group(1)) if pid else None,
                                                       match.group('rest').strip())
    return programs


def expected_argv(command):
    """The argv supervisord execs for a `command=` value (it splits it like a POSIX shell)."""
    return shlex.split(command)


def check_once(status, programs, cmdline_of, final=False):
    """(done, problems): done when every program runs its configured command; problems are final.

    A program that executes another (the launcher of a command entry, with ``expect_argv``) may still be the
    launcher when supervisord counts it RUNNING (``startsecs`` after its spawn, sooner than a loaded host gets
    to the exec): not done yet, and a problem only when ``final`` (the wait is over).
    """
    done = True
    problems = []
    for program in programs:
        name = program['name']
        state, pid, rest = status.get(name, ('MISSING', None, ''))
        if state == 'RUNNING' and pid:
            actual = cmdline_of(pid)
            wanted = list(program.get('expect_argv') or []) or expected_argv(program['command'])
            # No command line at all: the process is between two programs (inside execve) or has just exited
            # and is not reaped yet; the next look tells.
            if actual is not None and not any(actual) and not final:
                done = False
                continue
            if actual is not None and actual != wanted:
                if program.get('expect_argv') and actual == expected_argv(program['command']) and not final:
                    done = False
                    continue
                problems.append('%s runs %r, not the configured %r' % (name, ' '.join(actual), ' '.join(wanted)))
            continue
        done = False
        if state in FINAL_BAD:
            problems.append('%s is %s %s' % (name, state, rest))
    return done and not problems, problems


def wait_running(programs, status_text, cmdline_of, timeout, interval=0.5, clock=time.monotonic, sleep=time.sleep):
    """Poll until every program runs as configured, a program fails for good, or ``timeout`` passes.

    ``status_text()`` returns the current `supervisorctl status` output for the group (already parsed
    by the caller into {program: (state, pid, rest)}); ``cmdline_of(pid)`` the argv of a process or None.
    Returns (ok, problems, last_status).
    """
    deadline = clock() + timeout
    status = {}
    while True:
        status = status_text()
        ok, problems = check_once(status, programs, cmdline_of)
        if ok:
            return True, [], status
        if problems or clock() >= deadline:
            problems = problems or check_once(status, programs, cmdline_of, final=True)[1]
            if not problems:
                problems = ['%s is %s %s' % (p['name'], status.get(p['name'], ('MISSING', None, ''))[0],
                                             status.get(p['name'], ('', None, ''))[2])
                            for p in programs if status.get(p['name'], ('MISSING',))[0] != 'RUNNING']
                problems.insert(0, 'not every program was RUNNING after %ss' % timeout)
            return False, problems, status
        sleep(interval)
