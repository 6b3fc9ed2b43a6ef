# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count the tasks of each play that reached a host, for ./scripts/bench (not shipped with the collection).

A task "reaches a host" when its action runs a module there: skipped tasks and actions that only work
on the controller (set_fact, assert, include_*, meta...) are not counted; a loop counts once per item
it ran. The counts go to the JSON file named by WT_REMOTE_CALLS_OUT: {play: {"tasks": n, "by_task": {...}}}.
"""
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: remote_calls
type: aggregate
short_description: count the tasks of each play that ran on a host
description: Writes the counts to the JSON file named by WT_REMOTE_CALLS_OUT.
requirements: [enabled in ANSIBLE_CALLBACKS_ENABLED]
"""

CONTROLLER_ONLY = {
    "add_host", "assert", "check_inputs", "debug", "fail", "group_by", "import_role", "import_tasks", "include_role",
    "include_tasks", "include_vars", "meta", "pause", "set_fact", "set_stats", "validate_argument_spec",
}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "remote_calls"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._plays = {}
        self._play = None

    def v2_playbook_on_play_start(self, play):
        self._play = self._plays.setdefault(play.get_name().strip() or "(play)", {"tasks": 0, "by_task": {}})

    def _count(self, result):
        action = result._task.action.rsplit(".", 1)[-1]
        if action in CONTROLLER_ONLY or self._play is None:
            return
        # A loop's items are in "results"; so are a module's own results (webops.tornado.files lists each file it
        # wrote in one call), which are not items.
        looped = result._task.loop is not None or bool(getattr(result._task, "loop_with", None))
        items = result._result.get("results") if looped else None
        ran = 1 if items is None else sum(1 for item in items if isinstance(item, dict) and not item.get("skipped"))
        if not ran:
            return
        name = result._task.get_name().strip()
        self._play["tasks"] += ran
        self._play["by_task"][name] = self._play["by_task"].get(name, 0) + ran

    def v2_runner_on_ok(self, result):
        self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("WT_REMOTE_CALLS_OUT")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self._plays, handle, indent=1, sort_keys=True)
