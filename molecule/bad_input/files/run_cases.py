# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the real site playbook once per row of bad input, several rows at a time, and report each outcome.

    python run_cases.py --ansible-playbook PATH --inventory INV --host HOST --cases cases.json --extra canary.json \
        [--nowhere-inventory INV2 --nowhere-host HOST2] --jobs 4

Every row is a full `ansible-playbook webops.tornado.site -e <row vars + extra>` with the ansible.posix.json
callback; the rows change nothing on the host when the collection is right, so they may run side by side.

With --nowhere-inventory (the same variables, but its only host is a container that does not exist), each row
runs there first: a row refused there, naming its variable, before the run tried to reach the host, is proven
to change no host, and costs no host round trip. Any other row then runs against the real host. A row marked
needs_host (its refusal needs what the checks read on the host) runs against the real host only.

Prints one JSON list: per row its id, class, expected variable, where it was refused (controller or host), rc,
changed and unreachable counts, its duration, and the messages of the failed results (loop items included),
never the task names or the argument spec; a row whose module output was lost on the way (below) is run once
more, with the first run's messages under "retried".
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import time


def failed_messages(report, host):
    messages = []
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            result = task.get("hosts", {}).get(host)
            if not result or not result.get("failed"):
                continue
            messages.append(str(result.get("msg", "")))
            for item in result.get("results", []) or []:
                if isinstance(item, dict) and item.get("failed"):
                    messages.append(str(item.get("msg", "")))
    return [m for m in messages if m and m != "One or more items failed"]


# What ansible-core says when a module's output never reached it. Over the docker connection, `docker exec` now
# and then loses a command's stdout under load (moby/moby#27289); four rows at a time on two cores meet it. Such a
# row is run once more (it changed nothing: the runs are checked for that) and reported as retried.
LOST_OUTPUT = "Module result deserialization failed: No start of json char found"


def run_row(args, row, extra):
    if args.nowhere_inventory and not row.get("needs_host"):
        outcome = run_once(args, row, extra, args.nowhere_inventory, args.nowhere_host)
        if outcome["ok"] and outcome["unreachable"] == 0:
            return dict(outcome, where="controller")
    outcome = run_once(args, row, extra, args.inventory, args.host)
    if not outcome["ok"] and outcome["changed"] == 0 and LOST_OUTPUT in outcome["messages"]:
        outcome = dict(run_once(args, row, extra, args.inventory, args.host), retried=outcome["messages"])
    return dict(outcome, where="host")


def run_once(args, row, extra, inventory, host):
    # Plain Ansible (not the scenario's mitogen, .config/molecule/config.yml): the refusals are checked
    # exactly as users would meet them.
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACKS_ENABLED="ansible.posix.json",
               ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_STRATEGY="ansible.builtin.linear")
    extra_vars = dict(row["vars"])
    for key, value in extra.items():  # a row that sets the canary's variable itself keeps its own value
        extra_vars.setdefault(key, value)
    started = time.monotonic()
    proc = subprocess.run([args.ansible_playbook, "-i", inventory, "webops.tornado.site", "-e", json.dumps(extra_vars)],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        report = {}
    stats = report.get("stats", {}).get(host, {})
    messages = failed_messages(report, host)
    outcome = {
        "id": row["id"], "class": row.get("class", ""), "expect": row["expect"], "rc": proc.returncode,
        "changed": stats.get("changed", "no recap"), "unreachable": stats.get("unreachable", "no recap"),
        "messages": messages, "seconds": round(time.monotonic() - started, 1),
        "stderr": proc.stderr[-1500:] if not messages else "",
    }
    outcome["ok"] = (proc.returncode != 0 and outcome["changed"] == 0
                     and any(row["expect"] in message for message in messages))
    return outcome


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ansible-playbook", required=True)
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--cases", required=True, help="JSON list of rows: id, class, vars, expect")
    parser.add_argument("--nowhere-inventory", help="an inventory whose only host cannot be reached, tried first")
    parser.add_argument("--nowhere-host", help="that host's name")
    parser.add_argument("--extra", default="{}", help="JSON object added to every row's vars")
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    with open(args.cases, encoding="utf-8") as handle:
        rows = json.load(handle)
    extra = json.loads(args.extra)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda row: run_row(args, row, extra), rows))
    json.dump(outcomes, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
