# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks of the webops.tornado stack in one fresh container; run by ./scripts/bench.

scripts/bench prepares the machine, starts the systemd container and writes its inventory; this
helper does the rest: times site.yml (first converge, idempotent re-run), measures with wrk inside
the container against 127.0.0.1 only (dynamic page through nginx vs one backend, a 100 KB static
file through nginx vs Tornado's StaticFileHandler, upstream keepalive off, fork mode), runs a
rolling deploy under load (tests/load/loadgen.py from the controller to the container's address),
prints a table and writes docs/benchmarks.md with a plot of the deploy.

Every load is bounded: wrk runs a fixed number of seconds at a fixed number of connections, the
load generator has a time limit and only talks to the container.
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "roles", "app", "files", "demo")
STATIC_NAME = "bench-100k.bin"
STATIC_SIZE = 100 * 1024
# deploy.yml after the rolling deploy, one new copy of the demo each (v3, v4, ...): (plays key, app_installer).
# From v4 on the copies require EXTRA_REQUIREMENT, so v4 resolves with uv; v5 switches to pip (resolves:
# the installer is part of the fingerprint) and v6 is a code-only change with pip.
INSTALLER_DEPLOYS = (("deploy_uv_code", "uv"), ("deploy_uv_reqs", "uv"), ("deploy_pip_reqs", "pip"),
                     ("deploy_pip_code", "pip"))
INSTALLER_LABELS = {"deploy_uv_code": "code-only change", "deploy_uv_reqs": "requirements changed",
                    "deploy_pip_reqs": "installer switched (resolves)", "deploy_pip_code": "code-only change"}
REQUIREMENTS_FROM = 4
EXTRA_REQUIREMENT = "six==1.16.0"
# SSH as users connect: an unprivileged user with passwordless sudo and a key, sshd in the same container.
# Each row is the idempotent site.yml re-run with these settings (plays key, label, environment).
SSH_USER = "bench"
SSH_RERUNS = (
    ("ssh_defaults", "site.yml, idempotent re-run, SSH (Ansible's defaults)", {"ANSIBLE_PIPELINING": "False"}),
    ("ssh_pipelining", "site.yml, idempotent re-run, SSH + pipelining", {"ANSIBLE_PIPELINING": "True"}),
    ("ssh_mitogen", "site.yml, idempotent re-run, SSH + Mitogen", {"ANSIBLE_PIPELINING": "True",
                                                                   "ANSIBLE_STRATEGY": "mitogen_linear"}),
)
# Rounds of the three re-runs over SSH (one of each per round): each row is the run of median wall time.
SSH_RERUN_ROUNDS = 3
# Code-only deploys over SSH: one more copy of the demo each after INSTALLER_DEPLOYS (plays key, label, environment).
SSH_DEPLOYS = (
    ("ssh_deploy", "deploy.yml, code-only change, SSH + pipelining", {"ANSIBLE_PIPELINING": "True"}),
    ("ssh_deploy_mitogen", "deploy.yml, code-only change, SSH + Mitogen",
     {"ANSIBLE_PIPELINING": "True", "ANSIBLE_STRATEGY": "mitogen_linear"}),
)
# Proxy overhead: the dynamic page through nginx again after site.yml with each of these (plays key, label, -e).
PROXY_OPTIONS = (
    ("proxy_base", "dynamic page, nginx -> 4 backends (ports), again", {}),
    ("proxy_log_buffer", "dynamic page, nginx, access log buffered (64k, flush 1s)", {"nginx_access_log_buffer": "64k"}),
    ("proxy_log_off", "dynamic page, nginx, access log off", {"nginx_access_log": "off"}),
    # The role's default on a host that runs the app too is the guide's one worker; this is one per CPU.
    ("proxy_auto_workers", "dynamic page, nginx, one worker per CPU (nginx_worker_processes=auto)",
     {"nginx_worker_processes": "auto"}),
    # The role's balancing is least_conn; this is nginx's own default.
    ("proxy_round_robin", "dynamic page, nginx, round robin (nginx_upstream_balancing=round_robin)",
     {"nginx_upstream_balancing": "round_robin"}),
    # Not nginx's: each Tornado process logging every request (off by default since it measured this).
    ("proxy_app_access_log", "dynamic page, nginx, Tornado's access log on (app_access_log=true)", {"app_access_log": True}),
)
# Deploys that scale with the fleet: containers of their own on a network of their own, one load balancer
# and four app hosts with two processes each (as the multihost scenario). Each row is a code-only
# deploy.yml (plays key, label, app hosts, -e); the 1-host row runs first, on the first app host only.
FLEET_NETWORK = "wt-bench-fleet"
# The machine's CPUs, shared by the controller, Docker and every container.
CPUS = os.cpu_count() or 1
# site.yml's first converge over SSH, on a fresh container of its own.
SSH_FIRST = "wt-bench-ssh-first"
FLEET_LB = "wt-bench-fleet-lb"
FLEET_APPS = tuple("wt-bench-fleet-app%d" % n for n in range(1, 5))
FLEET_DEPLOYS = (
    ("fleet_1", "deploy.yml, code-only change, 1 app host", 1, {}),
    ("fleet_4", "deploy.yml, code-only change, 4 app hosts (deploy_serial=1)", 4, {}),
    ("fleet_4_serial_2", "deploy.yml, code-only change, 4 app hosts (deploy_serial=2)", 4, {"deploy_serial": 2}),
)
# One process: SIGTERM (supervisorctl stop: it drains) to healthy again, by webops.tornado.rolling_restart.
RESTART_SAMPLES = 5
# The demo app's home page: a template rendered per request (about 3 KB of HTML).
DYNAMIC_PATH = "/"
STATIC_PATH = "/static/" + STATIC_NAME
BACKEND = "127.0.0.1:8000"
NGINX = "127.0.0.1:80"


class Bench(object):
    def __init__(self, args):
        self.args = args
        self.work = os.path.abspath(args.work)
        self.log_path = os.path.join(self.work, "bench.log")
        self.results = []  # rows of the table
        self.plays = {}  # name -> {seconds, rc, recap}
        self.commands = []  # every command that produced a figure, as run
        self.src = None
        self.notes = []
        self.restart_samples = []

    # --- plumbing ----------------------------------------------------------------------------

    def say(self, text):
        print("==> " + text, file=sys.stderr, flush=True)

    def log(self, text):
        with open(self.log_path, "a") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")

    def run(self, argv, check=True, env=None, timeout=900):
        self.log("$ " + " ".join(shlex.quote(a) for a in argv))
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                              env=env, timeout=timeout, check=False)
        self.log(proc.stdout)
        if check and proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-30:])
            raise SystemExit("bench: command failed (exit %d): %s\n%s" % (proc.returncode, " ".join(argv), tail))
        return proc

    def in_container(self, command, check=True, timeout=300):
        return self.run(["docker", "exec", self.args.container, "sh", "-c", command], check=check, timeout=timeout)

    # --- the app's source: the demo, plus a 100 KB static file; v2 differs by its VERSION ------

    def make_sources(self):
        for version in ("1", "2") + tuple(str(n) for n in range(3, 3 + len(INSTALLER_DEPLOYS) + len(SSH_DEPLOYS))):
            dest = os.path.join(self.work, "src", "v" + version)
            if os.path.exists(dest):
                shutil.rmtree(dest)
            shutil.copytree(DEMO, dest)
            with open(os.path.join(dest, "VERSION"), "w") as handle:
                handle.write(version + "\n")
            # Incompressible and the same on every run (a fixed seed).
            with open(os.path.join(dest, "static", STATIC_NAME), "wb") as handle:
                handle.write(random.Random(100).randbytes(STATIC_SIZE))
            if int(version) >= REQUIREMENTS_FROM:
                with open(os.path.join(dest, "requirements.txt"), "w") as handle:
                    handle.write(EXTRA_REQUIREMENT + "\n")
        self.src = os.path.join(self.work, "src", "v1")

    # --- playbooks -----------------------------------------------------------------------------

    def playbook(self, key, playbook, extra=None, profile=False, check=True, inventory=None, env_extra=None):
        variables = {"app_source": "dir", "app_src_dir": self.src, "limits_nofile": 16384}
        variables.update(extra or {})
        argv = ["ansible-playbook", "-i", inventory or self.args.inventory, os.path.join("playbooks", playbook), "-e",
                json.dumps(variables)]
        env = dict(os.environ)
        env.update(env_extra or {})
        remote_calls = os.path.join(self.work, "remote-calls-%s.json" % key)
        if profile:
            # remote_calls (tests/bench/callback_plugins) counts the tasks of each play that ran on the host.
            env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks,remote_calls"
            env["ANSIBLE_CALLBACK_PLUGINS"] = os.path.join(ROOT, "tests", "bench", "callback_plugins")
            env["WT_REMOTE_CALLS_OUT"] = remote_calls
        self.say("ansible-playbook %s %s" % (playbook, " ".join("%s=%s" % kv for kv in (extra or {}).items())))
        began, busy = time.monotonic(), busy_cpu_seconds()
        proc = self.run(argv, check=False, env=env, timeout=1200)
        seconds, cpu = time.monotonic() - began, busy_cpu_seconds() - busy
        match = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", proc.stdout)
        recap = dict(zip(("ok", "changed", "unreachable", "failed", "skipped"), map(int, match.groups()))) if match else {}
        self.plays[key] = {"seconds": seconds, "cpu": cpu, "rc": proc.returncode, "recap": recap, "output": proc.stdout}
        if profile and os.path.exists(remote_calls):
            with open(remote_calls) as handle:
                self.plays[key]["remote"] = json.load(handle)
        self.commands.append(" ".join(shlex.quote(a) for a in argv))
        if check and proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-30:])
            raise SystemExit("bench: %s failed (exit %d; log %s)\n%s" % (playbook, proc.returncode, self.log_path, tail))
        return self.plays[key]

    def roundtrip(self, tasks=20):
        """Seconds one remote task costs here: a playbook of 1 ping, then one of 1 + `tasks` pings."""
        times = []
        for count in (1, 1 + tasks):
            path = os.path.join(self.work, "roundtrip-%d.yml" % count)
            with open(path, "w") as handle:
                handle.write("- hosts: all\n  gather_facts: false\n  become: true\n  tasks:\n")
                handle.write("    - ansible.builtin.ping:\n" * count)
            began = time.monotonic()
            self.run(["ansible-playbook", "-i", self.args.inventory, path])
            times.append(time.monotonic() - began)
        self.round_trip = max(times[1] - times[0], 0.001) / tasks
        self.say("one remote task (ansible.builtin.ping) costs %.3f s here" % self.round_trip)

    @staticmethod
    def top_tasks(output, count=10):
        """The slowest tasks from profile_tasks' recap."""
        recap = output.split("TASKS RECAP", 1)[-1]
        rows = re.findall(r"^(.+?) -{2,} ?(\d+\.\d+)s$", recap, re.M)
        return [(name.strip(), float(secs)) for name, secs in rows][:count]

    def restart_one(self):
        """Seconds from `supervisorctl stop` (SIGTERM, drain) of one process to its health check passing again."""
        args = {"group": "demo", "backends": [{"name": "demo-8000", "port": 8000}], "health_path": "/healthz"}
        argv = ["ansible", "-i", self.args.inventory, "all", "-b", "-m", "webops.tornado.rolling_restart", "-a",
                json.dumps(args)]
        env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="True", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
        samples = []
        for _index in range(RESTART_SAMPLES):
            proc = self.run(argv, check=False, env=env)
            try:
                result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]
                samples.append(float(list(result.values())[0]["results"][0]["seconds"]))
            except (ValueError, KeyError, IndexError, TypeError):
                self.notes.append("the restart of one process could not be measured (exit %d)" % proc.returncode)
                break
        self.commands.append(" ".join(shlex.quote(a) for a in argv) + "  # %d times" % RESTART_SAMPLES)
        self.restart_samples = samples
        if samples:
            self.say("one process, SIGTERM to healthy: %s s" % ", ".join("%.2f" % s for s in samples))

    def proxy_options(self):
        for key, label, extra in PROXY_OPTIONS:
            self.playbook(key, "site.yml", extra)
            self.wrk(label, NGINX, DYNAMIC_PATH, " ".join("%s=%s" % kv for kv in extra.items()))

    def haproxy(self):
        """HAProxy in front of the same 4 backends (site.yml -e tornado_load_balancer=haproxy, back to the ports
        model), measured the same way as nginx earlier in this run. Last: it takes the ports over from nginx."""
        label = "dynamic page, HAProxy -> 4 backends (ports)"
        play = self.playbook("haproxy", "site.yml", {"tornado_load_balancer": "haproxy"}, check=False)
        if play["rc"] != 0:
            why = (re.findall(r'FAILED! => .*?"msg": "(.*?)"', play["output"]) or ["site.yml failed (see the log)"])[0]
            self.unavailable(label, "http://%s%s" % (NGINX, DYNAMIC_PATH), "tornado_load_balancer=haproxy: " + " ".join(why.split())[:150])
            return
        self.wrk(label, NGINX, DYNAMIC_PATH, "tornado_load_balancer=haproxy")

    # --- wrk -------------------------------------------------------------------------------------

    def install_wrk(self):
        self.say("installing wrk in the container (Debian package)")
        self.in_container("command -v wrk >/dev/null || { export DEBIAN_FRONTEND=noninteractive; "
                          "apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; }")

    @staticmethod
    def to_ms(text):
        number, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    def wrk(self, label, target, path, note=""):
        """Warm up, then one bounded wrk run inside the container against loopback."""
        url = "http://%s%s" % (target, path)
        base = "wrk -t%d -c%d --timeout 5s" % (self.args.threads, self.args.connections)
        self.in_container("%s -d2s %s >/dev/null" % (base, url), check=False)
        command = "%s -d%ds --latency %s" % (base, self.args.seconds, url)
        self.say("%s: %s" % (label, command))
        out = self.in_container(command, timeout=self.args.seconds + 60).stdout
        self.commands.append("docker exec %s %s" % (self.args.container, command))
        socket_errors = (re.search(r"Socket errors:.*", out) or [""])[0]
        row = {"label": label, "url": url, "note": note,
               "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
               "requests": int(re.search(r"(\d+) requests in", out).group(1)),
               "p50": self.to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
               "p99": self.to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
               "non2xx": int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1]),
               "errors": sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", socket_errors))}
        self.results.append(row)
        return row

    def child_ticks(self):
        """CPU time (clock ticks, user + system) of each launcher process of fork mode, by pid."""
        out = self.in_container("for p in $(pgrep -f '[w]ebops_tornado_launcher'); do "
                                "echo $p $(cut -d' ' -f14,15 /proc/$p/stat); done", check=False).stdout
        return {int(f[0]): int(f[1]) + int(f[2]) for f in (line.split() for line in out.splitlines()) if len(f) == 3}

    def fork_directly(self, note, attempts=5):
        """Fork mode reached directly, on a run where every child worked. Its children share one listening socket
        and wrk opens all its connections at once: in about half the runs on this machine one child accepted all
        of them and the other stayed idle, which halves the figure (by hand, 2026-12-05: 3934-4229 requests/s
        against 7084-7819). The children's CPU time over each run says which it was; the runs where one child
        did (nearly) everything are listed in the row's note, and after ``attempts`` the last run counts."""
        label = "dynamic page, fork mode directly (1 port)"
        lopsided = []
        for attempt in range(1, attempts + 1):
            before = self.child_ticks()
            row = self.wrk(label, BACKEND, DYNAMIC_PATH, note)
            after = self.child_ticks()
            work = sorted(after[pid] - before[pid] for pid in after if pid in before)
            # The parent accepts nothing: its few ticks are left out with the idle end of the list.
            busy = [ticks for ticks in work if ticks > 0.2 * work[-1]] if work and work[-1] > 0 else []
            if len(busy) >= 2 or attempt == attempts:
                break
            lopsided.append("%.0f" % row["rps"])
            self.results.remove(row)
        self.fork_runs = {"busy": len(busy), "lopsided": lopsided, "attempts": attempt}
        return row

    def unavailable(self, label, url, why):
        self.results.append({"label": label, "url": url, "note": "not available: " + why, "rps": None})

    # --- the rolling deploy under load -----------------------------------------------------------

    def rolling_deploy(self):
        address = self.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                            self.args.container]).stdout.split()[0]
        report_path = os.path.join(self.work, "rolling-deploy.json")
        stop_file = os.path.join(self.work, "rolling-deploy.stop")
        for path in (report_path, stop_file):
            if os.path.exists(path):
                os.remove(path)
        argv = [sys.executable, os.path.join(ROOT, "tests", "load", "loadgen.py"), "--url", "http://%s" % address,
                "--rate", str(self.args.deploy_rate), "--clients", "16", "--seconds", "600", "--timeout", "10",
                "--stop-file", stop_file, "--out", report_path]
        self.commands.append(" ".join(shlex.quote(a) for a in argv))
        self.say("rolling deploy of v2 under load (%s requests/s from the controller to %s)" % (self.args.deploy_rate, address))
        loadgen = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        try:
            time.sleep(5)
            deploy_start = time.time()
            self.src = os.path.join(self.work, "src", "v2")
            play = self.playbook("deploy", "deploy.yml")
            deploy_end = time.time()
            time.sleep(5)
        finally:
            with open(stop_file, "w"):
                pass
            out, _err = loadgen.communicate(timeout=60)
            self.log(out)
        with open(report_path) as handle:
            report = json.load(handle)
        versions = self.in_container("for p in 8000 8001 8002 8003; do python3 -c \"import json, urllib.request; "
                                     "print(json.load(urllib.request.urlopen('http://127.0.0.1:'+'$p'+'/healthz'))['version'])\"; "
                                     "done").stdout.split()
        # When each backend started (supervisord's uptime, read right after the deploy): the restarts.
        status = self.in_container("date +%s; supervisorctl status", check=False).stdout.splitlines()
        restarts = {}
        for line in status[1:]:
            match = re.search(r"-(\d+)\s+RUNNING\s+pid \d+, uptime (\d+):(\d+):(\d+)", line)
            if match:
                port, hours, minutes, secs = (int(g) for g in match.groups())
                restarts[port] = int(status[0]) - (hours * 3600 + minutes * 60 + secs) - report["started_at"]
        report.update(deploy_from=deploy_start - report["started_at"], deploy_to=deploy_end - report["started_at"],
                      deploy_seconds=play["seconds"], served_after=versions, restarts=restarts)
        return report

    # --- what builds a release: uv against pip, code-only and with new requirements ---------------

    def installer_deploys(self):
        """deploy.yml once per row of INSTALLER_DEPLOYS (no load), each from a new copy of the demo."""
        for number, (key, installer) in enumerate(INSTALLER_DEPLOYS, start=3):
            self.src = os.path.join(self.work, "src", "v%d" % number)
            play = self.playbook(key, "deploy.yml", {"app_installer": installer})
            release = self.in_container("cat /srv/demo/current/RELEASE.json").stdout
            play["venv"] = json.loads(release).get("venv", {})

    # --- SSH, as users connect --------------------------------------------------------------------

    def address(self, container=None):
        return self.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                         container or self.args.container]).stdout.split()[0]

    def install_sshd(self, container):
        """sshd in ``container``, a user with a key and passwordless sudo; returns the key's path. The apt lists
        are left as they were (a fresh image has none): a first converge after this one pays for its own update."""
        key = os.path.join(self.work, "id_ed25519")
        if not os.path.exists(key):
            self.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "webops-tornado-bench", "-f", key])
        with open(key + ".pub") as handle:
            public = handle.read().strip()
        self.say("sshd and the user %s (sudo, key only) in %s" % (SSH_USER, container))
        self.run(["docker", "exec", container, "sh", "-c",
                  "set -e; lists=$(ls /var/lib/apt/lists | grep -c _ || true); "
                  "if [ \"$lists\" = 0 ]; then apt-get update -q >/dev/null; fi; "
                  "DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server sudo >/dev/null; "
                  "if [ \"$lists\" = 0 ]; then rm -rf /var/lib/apt/lists/*; fi; "
                  "id {user} >/dev/null 2>&1 || useradd -m -s /bin/bash {user}; "
                  "install -d -m 0700 -o {user} -g {user} /home/{user}/.ssh; "
                  "printf '%s\\n' {key} > /home/{user}/.ssh/authorized_keys; "
                  "chown {user}: /home/{user}/.ssh/authorized_keys; chmod 0600 /home/{user}/.ssh/authorized_keys; "
                  "echo '{user} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/{user}; chmod 0440 /etc/sudoers.d/{user}; "
                  "systemctl enable --now ssh >/dev/null 2>&1".format(user=SSH_USER, key=shlex.quote(public))],
                 timeout=600)
        return key

    def ssh_inventory(self, path, container, key):
        """An inventory reaching ``container`` over SSH, in both groups, under its own name (so a container the
        docker connection reached before is the same deployment)."""
        host = {"ansible_host": self.address(container)}
        with open(path, "w") as handle:
            json.dump({"all": {
                "children": {"tornado_app": {"hosts": {container: host}},
                             "tornado_lb": {"hosts": {container: host}}},
                "vars": {"ansible_connection": "ssh", "ansible_user": SSH_USER, "ansible_ssh_private_key_file": key,
                         "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
                         "ansible_python_interpreter": "/usr/bin/python3", "limits_nofile": 16384}}}, handle, indent=2)
        return path

    def setup_ssh(self):
        """sshd in the bench's container and an inventory that reaches the same host over SSH."""
        key = self.install_sshd(self.args.container)
        return self.ssh_inventory(os.path.join(self.work, "inventory-ssh.yml"), self.args.container, key)

    def ssh_first(self):
        """site.yml's first converge over SSH + pipelining, on a container of its own (the bench's is converged
        already), started from the same image with nothing but sshd and the user added."""
        self.run(["docker", "rm", "-f", SSH_FIRST], check=False)
        try:
            # scripts/lib/common.sh knows how systemd runs in a container on this machine.
            self.run(["bash", "-c", '. scripts/lib/common.sh && wt_start_systemd_container "$1" "$2"',
                      "start", SSH_FIRST, self.args.image])
            key = self.install_sshd(SSH_FIRST)
            inventory = self.ssh_inventory(os.path.join(self.work, "inventory-ssh-first.yml"), SSH_FIRST, key)
            self.src = os.path.join(self.work, "src", "v1")
            play = self.playbook("ssh_first", "site.yml", inventory=inventory, check=False,
                                 env_extra={"ANSIBLE_PIPELINING": "True", "ANSIBLE_HOST_KEY_CHECKING": "False"})
            if play["rc"] != 0:
                self.notes.append("ssh_first failed (exit %d; see the log)" % play["rc"])
        finally:
            self.run(["docker", "rm", "-f", SSH_FIRST], check=False)

    def ssh_runs(self):
        inventory = self.setup_ssh()
        mitogen = {"ANSIBLE_STRATEGY_PLUGINS": os.path.join(ROOT, ".build", "mitogen", "strategy")}
        # A fresh container's host key every run: Mitogen checks host keys itself (not through ssh's options).
        fresh_key = {"ANSIBLE_HOST_KEY_CHECKING": "False"}
        # The first run over SSH may record what differs from the docker connection (nothing should).
        self.playbook("ssh_warmup", "site.yml", inventory=inventory, env_extra=dict(fresh_key, ANSIBLE_PIPELINING="True"))
        # A single run of a few seconds varies by a second from one to the next on a shared machine: rounds of
        # the three, interleaved, and the median of each.
        samples = {}
        for _round in range(SSH_RERUN_ROUNDS):
            for key, _label, env in SSH_RERUNS:
                env = dict(env, **fresh_key)
                env = dict(env, **mitogen) if "ANSIBLE_STRATEGY" in env else env
                play = self.playbook(key, "site.yml", inventory=inventory, env_extra=env, check=False)
                samples.setdefault(key, []).append(play)
                if play["rc"] != 0:
                    self.notes.append("%s failed (exit %d; see the log)" % (key, play["rc"]))
                elif play["recap"].get("changed"):
                    self.notes.append("%s reported %d changed tasks (expected 0)" % (key, play["recap"]["changed"]))
        for key, plays in samples.items():
            median = dict(sorted(plays, key=lambda play: play["seconds"])[len(plays) // 2])
            median["samples"] = [play["seconds"] for play in plays]
            self.plays[key] = median
        for index, (key, _label, env) in enumerate(SSH_DEPLOYS):
            self.src = os.path.join(self.work, "src", "v%d" % (3 + len(INSTALLER_DEPLOYS) + index))
            env = dict(env, **fresh_key)
            env = dict(env, **mitogen) if "ANSIBLE_STRATEGY" in env else env
            play = self.playbook(key, "deploy.yml", inventory=inventory, env_extra=env, check=False)
            if play["rc"] != 0:
                self.notes.append("%s failed (exit %d; see the log)" % (key, play["rc"]))

    # --- deploys that scale with the fleet: 1 app host against 4 ---------------------------------------

    def fleet_inventory(self, apps):
        path = os.path.join(self.work, "inventory-fleet-%d.yml" % apps)
        with open(path, "w") as handle:
            json.dump({"all": {
                "children": {"tornado_app": {"hosts": {name: {} for name in FLEET_APPS[:apps]}},
                             "tornado_lb": {"hosts": {FLEET_LB: {}}}},
                "vars": {"ansible_connection": "community.docker.docker", "ansible_user": "root",
                         "ansible_python_interpreter": "/usr/bin/python3", "ansible_pipelining": True,
                         "limits_nofile": 16384, "app_ports": [8000, 8001]}}}, handle, indent=2)
        return path

    def fleet(self):
        """site.yml on four app hosts behind one load balancer, then each row of FLEET_DEPLOYS, each from a
        copy of the demo the hosts do not run yet (v2, v3, then v2 again: a new release each time)."""
        names = (FLEET_LB,) + FLEET_APPS
        self.say("starting %s on the network %s" % (", ".join(names), FLEET_NETWORK))
        self.cleanup_fleet()
        self.run(["docker", "network", "create", FLEET_NETWORK])
        try:
            for name in names:
                # scripts/lib/common.sh knows how systemd runs in a container on this machine.
                self.run(["bash", "-c", '. scripts/lib/common.sh && wt_start_systemd_container "$1" "$2" --network "$3"',
                          "start", name, self.args.image, FLEET_NETWORK])
            self.src = os.path.join(self.work, "src", "v1")
            self.playbook("fleet_site", "site.yml", inventory=self.fleet_inventory(4))
            for (key, _label, apps, extra), version in zip(FLEET_DEPLOYS, ("v2", "v3", "v2")):
                self.src = os.path.join(self.work, "src", version)
                # profile_tasks' timestamps tell where each play began: the phases' seconds.
                play = self.playbook(key, "deploy.yml", extra, inventory=self.fleet_inventory(apps),
                                     env_extra={"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks"})
                play["phases"] = self.play_seconds(play["output"])
        finally:
            self.cleanup_fleet()

    @staticmethod
    def play_seconds(output):
        """Seconds per play name (the batches of a serial play added up), from profile_tasks' running total,
        printed before each task: a play lasts from its first stamp to the next play's first one."""
        starts, play = [], None
        for line in output.splitlines():
            name = re.match(r"^PLAY \[(.*)\] \*", line)
            if name:
                play = name.group(1)
                continue
            stamp = re.search(r"\) +(\d+):(\d+):(\d+(?:\.\d+)?) \*+\s*$", line)
            if stamp and play is not None:
                hours, minutes, secs = stamp.groups()
                starts.append((play, int(hours) * 3600 + int(minutes) * 60 + float(secs)))
                play = None
        seconds = {}
        for (name, began), (_next, ended) in zip(starts, starts[1:]):
            seconds[name] = seconds.get(name, 0.0) + ended - began
        return seconds

    def cleanup_fleet(self):
        self.run(["docker", "rm", "-f", FLEET_LB] + list(FLEET_APPS), check=False)
        self.run(["docker", "network", "rm", FLEET_NETWORK], check=False)

    def fleet_table(self):
        lines = ["| run | wall time (s) | against 1 app host | prepare (s) | switch (s) | CPU busy, whole machine (s) "
                 "| shortest wall time that CPU allows (s) |", "|---|---:|---:|---:|---:|---:|---:|"]
        one = self.plays.get("fleet_1")

        def phase(play, word):
            found = [secs for name, secs in play.get("phases", {}).items() if name.startswith(word)]
            return "%.1f" % sum(found) if found else "-"

        for key, label, _apps, _extra in FLEET_DEPLOYS:
            play = self.plays.get(key)
            if play:
                lines.append("| %s | %.1f | %s | %s | %s | %.1f | %.1f |" % (
                    label, play["seconds"], "%.2f×" % (play["seconds"] / one["seconds"]) if one else "-",
                    phase(play, "Prepare"), phase(play, "Switch to"), play["cpu"], play["cpu"] / CPUS))
        return "\n".join(lines)

    def fleet_floor(self):
        """What the machine's CPUs allow the four-host deploy at best, against the one-host one (both measured)."""
        one, four = self.plays.get("fleet_1"), self.plays.get("fleet_4")
        if not (one and four):
            return ""
        floor = four["cpu"] / CPUS
        return (
            "What this machine allows (written by the bench from the rows above): the controller, Docker and the "
            "containers share %d CPUs, so no deploy can take less wall time than the CPU time it needs divided by "
            "%d. The one-host deploy kept the machine busy for %.1f CPU-seconds in %.1f s (%.0f%% of the %d CPUs); "
            "the four-host one (`deploy_serial=1`) needed %.1f CPU-seconds, so even with every CPU busy "
            "throughout it could not take less than %.1f s: %.2f× the one-host deploy, against the goal of 1.5×. "
            "The work grows with the hosts (each host's tasks cost the controller a worker process and the host a "
            "Python process: about %.1f CPU-seconds more per added app host here); on a fleet each host brings its own CPUs "
            "and only the controller's share stays." % (
                CPUS, CPUS, one["cpu"], one["seconds"], 100.0 * one["cpu"] / (CPUS * one["seconds"]), CPUS,
                four["cpu"], floor, floor / one["seconds"], (four["cpu"] - one["cpu"]) / 3.0))

    def plot(self, report, path):
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

        timeline = report["timeline"]
        # The last second is partial (the generator stopped in it): leave it out.
        timeline = timeline[:-1] if len(timeline) > 1 else timeline
        seconds = [slot["second"] for slot in timeline]
        figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 5.5), dpi=100)
        top.plot(seconds, [slot["ok"] for slot in timeline], color="tab:blue", label="answered (2xx/3xx)")
        failed = [(slot["second"], slot["failed"]) for slot in timeline if slot["failed"]]
        top.scatter([f[0] for f in failed], [f[1] for f in failed], color="tab:red", marker="x", zorder=3,
                    label="failed (%d in all)" % report["failed"])
        top.set_ylabel("requests / s")
        top.set_ylim(bottom=0)
        top.set_title("deploy.yml (v1 -> v2, rolling, 4 backends) under %s requests/s through nginx: %d requests, %d failed"
                      % (self.args.deploy_rate, report["total"], report["failed"]), fontsize=10)
        bottom.plot(seconds, [slot["p50_ms"] for slot in timeline], color="tab:green", label="p50")
        bottom.plot(seconds, [slot["p99_ms"] for slot in timeline], color="tab:orange", label="p99")
        bottom.set_ylabel("latency (ms)")
        bottom.set_xlabel("seconds since the load started")
        bottom.set_ylim(bottom=0)
        for axes in (top, bottom):
            axes.axvspan(report["deploy_from"], report["deploy_to"], color="0.9", label="deploy.yml running")
            for number, (port, second) in enumerate(sorted(report["restarts"].items(), key=lambda item: item[1])):
                axes.axvline(second, color="0.4", linestyle=":", linewidth=1,
                             label="a backend restarted (supervisord)" if number == 0 else None)
                if axes is top:
                    axes.annotate(str(port), (second, 0), xytext=(2, 2), textcoords="offset points", fontsize=7, color="0.3")
            axes.legend(loc="upper right", fontsize=8)
            axes.grid(True, alpha=0.3)
        figure.tight_layout()
        figure.savefig(path)
        plt.close(figure)

    # --- facts about the machine and the versions --------------------------------------------------

    def machine(self):
        with open("/proc/meminfo") as handle:
            mem_kb = int(re.search(r"MemTotal:\s+(\d+)", handle.read()).group(1))
        with open("/proc/cpuinfo") as handle:
            model = (re.search(r"model name\s*:\s*(.+)", handle.read()) or [None, platform.processor() or "unknown"])[1]
        return {"cpus": os.cpu_count(), "cpu": model.strip(), "memory": "%.1f GiB" % (mem_kb / 1048576.0),
                "kernel": platform.release(), "load": "%.2f %.2f %.2f" % os.getloadavg()}

    def versions(self):
        def first_line(text):
            return text.strip().splitlines()[0] if text.strip() else "unknown"
        return {
            "nginx": first_line(self.in_container("nginx -v 2>&1").stdout).replace("nginx version: ", ""),
            "Tornado": first_line(self.in_container("/srv/demo/current/venv/bin/python -c 'import tornado; print(tornado.version)'").stdout),
            "Python (container)": first_line(self.in_container("python3 -V").stdout),
            "ansible-core": first_line(self.run(["ansible", "--version"]).stdout),
            "wrk": first_line(self.in_container("wrk -v 2>&1 || true").stdout),
            "Docker": first_line(self.run(["docker", "version", "-f", "{{.Server.Version}}"]).stdout),
            "Debian (container)": first_line(self.in_container("cat /etc/debian_version").stdout),
        }

    # --- the whole run ---------------------------------------------------------------------------

    def main(self):
        os.makedirs(self.work, exist_ok=True)
        if os.path.exists(self.log_path):
            os.remove(self.log_path)
        started = time.monotonic()
        machine = self.machine()
        self.make_sources()

        self.playbook("first", "site.yml")
        self.playbook("rerun", "site.yml", profile=True)
        self.roundtrip()
        if self.plays["rerun"]["recap"].get("changed"):
            self.notes.append("the re-run of site.yml reported %d changed tasks (expected 0)" % self.plays["rerun"]["recap"]["changed"])

        self.install_wrk()
        self.wrk("dynamic page, nginx -> 4 backends (ports)", NGINX, DYNAMIC_PATH)
        self.wrk("dynamic page, one Tornado process directly", BACKEND, DYNAMIC_PATH)
        self.wrk("100 KB static file, nginx", NGINX, STATIC_PATH)
        self.wrk("100 KB static file, Tornado StaticFileHandler", BACKEND, STATIC_PATH)

        deploy = self.rolling_deploy()
        self.plot(deploy, self.args.plot)
        self.restart_one()
        self.installer_deploys()
        self.ssh_runs()
        self.ssh_first()
        self.fleet()

        self.playbook("keepalive_off", "site.yml", {"nginx_upstream_keepalive": 0})
        upstream = self.in_container("nginx -T 2>/dev/null | sed -n '/^upstream /,/^}/p'").stdout
        if re.search(r"^\s*keepalive \d+;", upstream, re.M):
            self.unavailable("dynamic page, nginx, upstream keepalive off", "http://%s%s" % (NGINX, DYNAMIC_PATH),
                             "nginx_upstream_keepalive=0 left keepalive in the upstream")
        else:
            self.wrk("dynamic page, nginx, upstream keepalive off", NGINX, DYNAMIC_PATH)
        self.proxy_options()

        play = self.playbook("fork", "site.yml", {"app_process_model": "fork", "app_processes": 0}, check=False)
        if play["rc"] == 0:
            children = self.in_container("pgrep -c -f '[w]ebops_tornado_launcher' || true").stdout.strip()
            note = "%s launcher processes (parent + one child per CPU)" % children
            self.wrk("dynamic page, nginx -> fork mode (1 port)", NGINX, DYNAMIC_PATH, note)
            self.fork_directly(note)
        else:
            why = (re.findall(r'FAILED! => .*?"msg": "(.*?)"', play["output"]) or ["site.yml failed (see the log)"])[0]
            why = " ".join(why.split())[:150]
            for label, target in (("dynamic page, nginx -> fork mode (1 port)", NGINX),
                                  ("dynamic page, fork mode directly (1 port)", BACKEND)):
                self.unavailable(label, "http://%s%s" % (target, DYNAMIC_PATH), "app_process_model=fork: " + why)

        self.haproxy()

        versions = self.versions()
        total = time.monotonic() - started
        table = self.table()
        print("\n" + table + "\n")
        print(self.plays_table())
        print(self.installer_table())
        print(self.fleet_table())
        print("rolling deploy: %(total)d requests, %(failed)d failed, %(rate)s/s; backends serve %(served_after)s after it" % deploy)
        with open(self.args.doc, "w") as handle:
            handle.write(self.document(machine, versions, table, deploy, total))
        self.say("wrote %s and %s (%.0f s; log %s)" % (
            os.path.relpath(self.args.doc, ROOT), os.path.relpath(self.args.plot, ROOT), total, self.log_path))

    # --- output ------------------------------------------------------------------------------------

    def table(self):
        lines = ["| measurement | requests/s | p50 (ms) | p99 (ms) | requests | non-2xx | socket errors |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        for row in self.results:
            if row["rps"] is None:
                lines.append("| %s | %s | | | | | |" % (row["label"], row["note"]))
                continue
            lines.append("| %s | %.0f | %.1f | %.1f | %d | %d | %d |" % (
                row["label"], row["rps"], row["p50"], row["p99"], row["requests"], row["non2xx"], row["errors"]))
        return "\n".join(lines)

    def plays_table(self):
        names = {"first": "site.yml, first converge", "ssh_first": "site.yml, first converge, SSH + pipelining (a fresh container)",
                 "rerun": "site.yml, idempotent re-run, docker connection + pipelining",
                 "deploy": "deploy.yml, v1 -> v2 (rolling, under load)",
                 "keepalive_off": "site.yml -e nginx_upstream_keepalive=0",
                 "fork": "site.yml -e app_process_model=fork",
                 "haproxy": "site.yml -e tornado_load_balancer=haproxy (nginx replaced by HAProxy)"}
        lines = ["| run | wall time (s) | CPU busy, whole machine (s) | ok | changed | failed |", "|---|---:|---:|---:|---:|---:|"]
        names.update((key, label) for key, label, _env in SSH_RERUNS)
        names.update((key, label) for key, label, _env in SSH_DEPLOYS)
        order = ("first", "ssh_first", "rerun") + tuple(key for key, _label, _env in SSH_RERUNS) + ("deploy",) + tuple(
            key for key, _label, _env in SSH_DEPLOYS) + ("keepalive_off", "fork", "haproxy")
        for key in order:
            play = self.plays.get(key)
            if play:
                recap = play["recap"]
                lines.append("| %s | %.1f | %.1f | %s | %s | %s |" % (
                    names[key], play["seconds"], play["cpu"], recap.get("ok", "-"), recap.get("changed", "-"),
                    recap.get("failed", "-")))
        return "\n".join(lines)

    def rerun_samples(self):
        """Every run's wall time of the re-runs over SSH, in the order they ran (rounds interleave the three)."""
        found = ["%s: %s s" % (key.replace("ssh_", ""), ", ".join("%.1f" % secs for secs in self.plays[key]["samples"]))
                 for key, _label, _env in SSH_RERUNS if "samples" in self.plays.get(key, {})]
        return "; ".join(found) or "not run"

    def remote_table(self):
        remote = self.plays.get("rerun", {}).get("remote") or {}
        lines = ["| play | tasks on the host |", "|---|---:|"]
        for play, counts in remote.items():
            lines.append("| %s | %d |" % (play.replace("|", "\\|"), counts["tasks"]))
        lines.append("| **total** | %d |" % sum(counts["tasks"] for counts in remote.values()))
        return "\n".join(lines)

    def installer_table(self):
        lines = ["| deploy.yml (no load, 4 processes) | installer | wall time (s) | virtualenv (s) | set reused |",
                 "|---|---|---:|---:|---|"]
        for key, installer in INSTALLER_DEPLOYS:
            play = self.plays.get(key)
            if play:
                venv = play.get("venv", {})
                lines.append("| %s | %s | %.1f | %s | %s |" % (
                    INSTALLER_LABELS[key], venv.get("installer", installer), play["seconds"], venv.get("seconds", "?"),
                    "yes" if str(venv.get("reused")).lower() == "true" else "no"))
        return "\n".join(lines)

    def row(self, label):
        return next((r for r in self.results if r["label"].startswith(label) and r["rps"]), None)

    def ratio(self, first, second):
        one, two = self.row(first), self.row(second)
        return one["rps"] / two["rps"] if one and two and two["rps"] else None

    def fork_note(self):
        """Which run of fork mode reached directly the figure is (see fork_directly)."""
        runs = getattr(self, "fork_runs", None)
        if not runs:
            return ""
        lopsided = ("; the %s before it (%s requests/s) had one child accept every connection and the other idle, "
                    "and are not counted" % ("run" if len(runs["lopsided"]) == 1 else "%d runs" % len(runs["lopsided"]),
                                             ", ".join(runs["lopsided"]))) if runs["lopsided"] else ""
        if runs["busy"] >= 2:
            return ("The fork mode figure is a run in which %d of its processes worked (their CPU time over the run)%s: "
                    "its children share one listening socket, and one of them may accept all of wrk's connections."
                    % (runs["busy"], lopsided))
        return ("In each of the %d runs of fork mode reached directly one child accepted every connection (their CPU "
                "time over the run): its figure is one process's, and the ratios against it overstate nginx."
                % runs["attempts"])

    def interpretation(self, deploy):
        points = []
        nginx_vs_one = self.ratio("dynamic page, nginx -> 4", "dynamic page, one Tornado")
        if nginx_vs_one:
            points.append(
                "Dynamic page: nginx in front of 4 Tornado processes served %.1fx the requests/s of one Tornado process "
                "on its own. One Tornado process is one Python thread: it uses one CPU at most, so the gain is bounded by "
                "the number of CPUs (%d here), and nginx, wrk and the backends share those same CPUs in this test."
                % (nginx_vs_one, os.cpu_count()))
        fork_vs_ports = self.ratio("dynamic page, nginx -> fork", "dynamic page, nginx -> 4")
        if fork_vs_ports:
            points.append(
                "Fork mode (one port, HTTPServer.start(0): one child per CPU, the kernel spreads connections) reached "
                "%.2fx the requests/s of the one-port-per-process layout through nginx: both use every CPU; the port "
                "layout is what allows rolling restarts." % fork_vs_ports)
        static = self.ratio("100 KB static file, nginx", "100 KB static file, Tornado")
        if static:
            points.append(
                "100 KB static file: nginx (sendfile, no Python) served %.1fx the requests/s of Tornado's "
                "StaticFileHandler, which is why the guide puts static files on nginx." % static)
        overhead = self.ratio("dynamic page, nginx -> 4", "dynamic page, fork mode directly")
        if overhead:
            options = []
            for _key, label, _extra in PROXY_OPTIONS[1:]:
                ratio = self.ratio(label, "dynamic page, fork mode directly")
                if ratio:
                    options.append("%s: %.2fx" % (label.split(", ", 2)[-1], ratio))
            again = self.ratio(PROXY_OPTIONS[0][1], "dynamic page, fork mode directly")
            points.append(
                "Proxy overhead: nginx in front of 4 backends served %.2fx the requests/s of fork mode reached directly "
                "(the same CPUs, no proxy)%s. With each option, against the same fork mode figure: %s. nginx "
                "needs CPU of its own, which on %d CPUs shared with wrk and the backends is taken from Python; "
                "differences of a few percent are within this machine's run-to-run noise (compare the two figures "
                "of the same configuration). %s"
                % (overhead, "; %.2fx when measured again just before the options" % again if again else "",
                   "; ".join(options) or "not measured", os.cpu_count(), self.fork_note()))
        balancing = self.ratio(PROXY_OPTIONS[0][1], "dynamic page, nginx, round robin")
        if balancing:
            points.append(
                "Balancing: least_conn (the role's default) served %.2fx the requests/s of round robin (nginx's own "
                "default) over the same 4 backends: each Tornado process is one thread, so the one that holds "
                "requests in flight (a slow handler, or a CPU taken by another process) gets no new ones until it "
                "catches up, instead of a queue." % balancing)
        access_log = self.ratio(PROXY_OPTIONS[0][1], "dynamic page, nginx, Tornado's access log on")
        if access_log:
            points.append(
                "Tornado's access log: with it off (app_access_log=false, the default), nginx in front of 4 backends "
                "served %.2fx the requests/s of the same layout with every request logged by Tornado (a formatted "
                "line per request in Python, which supervisord, Python too, reads from a pipe and writes to the "
                "process's log). The requests answered 4xx and 5xx are still logged, and nginx's access log has every "
                "request." % access_log)
        haproxy = self.ratio("dynamic page, HAProxy -> 4", "dynamic page, nginx -> 4")
        if haproxy:
            points.append(
                "HAProxy in front of the same 4 backends (tornado_load_balancer=haproxy, measured last in the same run) "
                "served %.2fx the requests/s of nginx (%.2fx of fork mode reached directly). HAProxy buys active "
                "health checks per process, drain before a restart and a stats page; it serves no static file, so "
                "static URLs go to Tornado." % (haproxy, self.ratio("dynamic page, HAProxy -> 4", "dynamic page, fork mode directly") or 0))
        keepalive = self.ratio("dynamic page, nginx -> 4", "dynamic page, nginx, upstream keepalive off")
        if keepalive:
            points.append(
                "Upstream keepalive: on served %.2fx the requests/s of off (a new TCP connection to a backend for "
                "every request). On loopback a handshake is cheap; across a network the difference grows." % keepalive)
        points.append(
            "Rolling deploy: %d requests at %s/s while deploy.yml restarted the 4 backends one by one, %d failed; "
            "every backend served version %s afterwards."
            % (deploy["total"], deploy["rate"], deploy["failed"], "/".join(sorted(set(deploy["served_after"])))))
        rerun = self.plays.get("rerun")
        if rerun:
            trips = rerun["seconds"] / self.round_trip
            points.append(
                "site.yml re-run: %.1f s for %s tasks (ok) with 0 expected changes. One remote task (a no-op "
                "`ansible.builtin.ping`: `docker exec`, Python, ansible-core's per-task work on the controller) costs "
                "%.2f s on this machine, so the re-run is worth about %.0f such round trips (%s of them ran on the host, "
                "counted above); the goal of 15 s over this connection would allow about %.0f. Every remaining one "
                "checks something a re-run must check (a file's content and mode, a running service, what a release "
                "is); most files are checked in one call per role with their directories (`webops.tornado.files`), "
                "and the host is read once per run (`webops.tornado.host_facts`: addresses, ports, accounts, installed "
                "packages, a few small files), which later tasks consult instead of asking again. The slowest tasks are "
                "listed above."
                % (rerun["seconds"], rerun["recap"].get("ok", "?"), self.round_trip, trips,
                   sum(play["tasks"] for play in (rerun.get("remote") or {}).values()) or "?", 15 / self.round_trip))
            remote = sum(play["tasks"] for play in (rerun.get("remote") or {}).values())
            others = rerun["recap"].get("ok", 0) + rerun["recap"].get("skipped", 0) - remote
            if remote and others > 0:
                controller = rerun["seconds"] - remote * self.round_trip
                points.append(
                    "Where the re-run's time goes: at %.2f s each, its %d remote tasks account for about %.0f s; the "
                    "other %.0f s are ansible-core's work on the controller for its %d other tasks (ok and skipped: "
                    "input checks, set_fact, includes, conditions), about %.2f s each. That is where a further cut "
                    "has to come from, or from Mitogen (the SSH + Mitogen row above)."
                    % (self.round_trip, remote, remote * self.round_trip, controller, others, controller / others))
        return "\n".join("- " + p for p in points)

    def document(self, machine, versions, table, deploy, total):
        rerun = self.plays["rerun"]
        slow = "\n".join("| %s | %.2f |" % (name.replace("|", "\\|"), secs) for name, secs in self.top_tasks(rerun["output"]))
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        out = [
            "# Benchmarks",
            "",
            "Generated by `./scripts/bench` on %s in %.0f s (not part of `./scripts/test`). Run it again to "
            "regenerate this page and the plot; numbers from a shared or busy machine are noisy (the load "
            "average when it started is below)." % (now, total),
            "",
            "## Machine",
            "",
            "| | |", "|---|---|",
            "| CPUs (nproc) | %s (%s) |" % (machine["cpus"], machine["cpu"]),
            "| memory | %s |" % machine["memory"],
            "| kernel | %s |" % machine["kernel"],
            "| load average at the start | %s |" % machine["load"],
            "",
            "Everything runs on this one machine: the container `%s` (systemd, `--ulimit nofile=16384:16384`, "
            "`limits_nofile=16384`) holds nginx, supervisord with 4 Tornado processes (ports 8000-8003) and wrk, "
            "so the load generator competes with the server for the same CPUs." % self.args.container,
            "",
            "## Versions",
            "",
            "| | |", "|---|---|",
        ] + ["| %s | %s |" % item for item in versions.items()] + [
            "",
            "## Results",
            "",
            "wrk inside the container against 127.0.0.1, %d s per row after a 2 s warm-up, %d thread(s), %d connections. "
            "Dynamic page: `%s` of the bundled demo app (a template rendered per request, about 3 KB); static file: "
            "`%s` (%d bytes, incompressible) in the app's static directory, served by nginx from disk or by the "
            "backend's StaticFileHandler on port 8000."
            % (self.args.seconds, self.args.threads, self.args.connections, DYNAMIC_PATH, STATIC_PATH, STATIC_SIZE),
            "",
            table,
            "",
            "### Playbook wall times",
            "",
            "Single host, no fact gathering. `community.docker.docker` connection with pipelining, except the SSH "
            "rows: the same container and deployment reached over SSH as users do (sshd in the container, the "
            "user `%s` with a key and passwordless sudo, `become`), with Ansible's defaults, with pipelining, and "
            "with Mitogen's `mitogen_linear` strategy (pinned in requirements-dev.txt); each re-run over SSH is the "
            "median of %d (%s). \"CPU busy\" is the CPU time "
            "the whole machine spent during the run (`/proc/stat`: the controller, Docker and the container "
            "together); a single-host run that keeps it near its wall time is one CPU's worth of serial work." % (
                SSH_USER, SSH_RERUN_ROUNDS, self.rerun_samples()),
            "",
            self.plays_table(),
            "",
            "Slowest tasks of the idempotent re-run (`ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks`):",
            "",
            "| task | seconds |", "|---|---:|",
            slow,
            "",
            "Tasks of the idempotent re-run that ran on the host, per play (a loop counts once per item; skipped "
            "tasks and controller-only actions such as `set_fact`, `assert` and `webops.tornado.check_inputs` are "
            "not counted; `tests/bench/callback_plugins/remote_calls.py`):",
            "",
            self.remote_table(),
            "",
            "One process, from its stop (SIGTERM, asked of supervisord over its socket: the launcher drains) to its health check passing "
            "again, measured by `webops.tornado.rolling_restart` on `demo-8000` %d times: %s s (median %s s). "
            "The module goes on as soon as the health check passes; supervisord's `supervisor_startsecs` (1 s) is "
            "waited for in the background, once per call after the last process."
            % (len(self.restart_samples), ", ".join("%.2f" % s for s in self.restart_samples) or "not measured",
               ("%.2f" % sorted(self.restart_samples)[len(self.restart_samples) // 2]) if self.restart_samples else "-"),
            "",
            "### What builds a release: uv and pip",
            "",
            "`deploy.yml` four more times after the rolling deploy, each from a new copy of the demo (a code-only "
            "change), with `app_installer` as shown; from the second row on the copies also require `%s`. "
            "\"virtualenv\" is what `webops.tornado.release_env` took (`venv.seconds` in `RELEASE.json`); \"set "
            "reused\" means the current release's exact set was installed again without resolving "
            "(docs/playbooks/deploy.md). Switching the installer changes the fingerprint, so the first pip row "
            "resolves." % EXTRA_REQUIREMENT,
            "",
            self.installer_table(),
            "",
            "### Deploys that scale with the fleet",
            "",
            "Five more containers on a network of their own: one load balancer and four app hosts with two "
            "processes each (the `multihost` scenario's layout), after `site.yml` on all of them. Each row is "
            "`deploy.yml` from a copy of the demo the hosts do not run yet (a code-only change). The release is "
            "prepared on every app host at once, then the hosts switch `deploy_serial` at a time, each one "
            "process at a time (docs/playbooks/deploy.md#across-hosts-prepare-then-switch). `app_rolling_pause` is "
            "left unset: with one app host (two backends) a host waits 2 s between its two processes, with four "
            "(eight backends: a share of six per host one at a time, three two at a time) it does not. The goal "
            "is 4 hosts within 1.5× of one.",
            "",
            self.fleet_table(),
            "",
            self.fleet_floor(),
            "",
            "### Rolling deploy under load",
            "",
            "`deploy.yml` with `app_source: dir` moving from a copy of the demo with `VERSION` 1 to one with `VERSION` 2, "
            "while `tests/load/loadgen.py` sends GET / and xsrf-protected POST /login through nginx from the controller "
            "at %s requests/s: %d requests, **%d failed**, backends serving version %s afterwards. The deploy took %.1f s "
            "(shaded)." % (self.args.deploy_rate, deploy["total"], deploy["failed"], "/".join(deploy["served_after"]),
                           deploy["deploy_seconds"]),
            "",
            "![requests/s, failures and latency during a rolling deploy](%s)" % os.path.basename(self.args.plot),
            "",
            "## What it shows",
            "",
            self.interpretation(deploy),
        ]
        if self.notes:
            out += ["", "Notes: " + "; ".join(self.notes) + "."]
        out += [
            "",
            "## Faults",
            "",
            "Failure behaviour (backends killed with SIGKILL under load, all backends down, a container restart, a "
            "rejected nginx value) is tested, not benchmarked: `molecule test -s faults` (see "
            "`molecule/faults/verify.yml`), which prints its own figures.",
            "",
            "## Commands",
            "",
            "```sh",
            "./scripts/bench",
            "# which runs, against the container %s:" % self.args.container,
        ] + [c.replace(sys.executable, "python").replace(ROOT + "/", "") for c in self.commands] + ["```", ""]
        return "\n".join(out)


def busy_cpu_seconds():
    """CPU time the whole machine spent busy since boot (user, nice, system, irq, softirq of /proc/stat's cpu line):
    the controller, Docker and every container together, as the containers share the machine's CPUs."""
    with open("/proc/stat") as handle:
        fields = handle.readline().split()
    return sum(int(fields[index]) for index in (1, 2, 3, 6, 7)) / float(os.sysconf("SC_CLK_TCK"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--container", required=True)
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--work", required=True, help="scratch directory (sources, reports, log)")
    parser.add_argument("--doc", required=True, help="markdown report to write")
    parser.add_argument("--plot", required=True, help="PNG of the rolling deploy")
    parser.add_argument("--image", required=True, help="the Debian image of the fleet's containers")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per row (at most 30)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (at most 256)")
    parser.add_argument("--deploy-rate", type=int, default=100, help="requests/s during the rolling deploy (at most 400)")
    args = parser.parse_args()
    args.seconds = max(1, min(args.seconds, 30))
    args.connections = max(1, min(args.connections, 256))
    args.deploy_rate = max(1, min(args.deploy_rate, 400))
    os.chdir(ROOT)
    Bench(args).main()


if __name__ == "__main__":
    main()
