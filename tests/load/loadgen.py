# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded load against the demo app through nginx, counting every failed request.

Mixes GET / with xsrf-protected POST /login (a form with the _xsrf token, as a browser sends it),
at a fixed total rate, until a stop file appears or the time limit passes (--get-only: GET / only,
for faults where nginx may retry a request on another backend, which it never does for a POST).
Writes a JSON report: totals, failures by kind, the app versions seen (X-App-Version), and a
per-second timeline (requests ok and failed, p50/p99 latency).

--assets also fetches, from every second page, each versioned URL the page names (static_url()'s
?v=<digest>) and hashes the body: a body whose digest is not the v= it was asked for counts as wrong,
and as wrong and long-lived when the answer lets it be cached for a day or more (Cache-Control
max-age, or Expires), the asset version skew a rolling deploy must never cause.

--websockets N also holds N WebSockets open on /ws, each echoing a message every second. When the
server closes one, the report counts the close code (1001 "going away" from a draining process; 1006
when the connection dropped without a close frame), and the holder reconnects and checks the echo
again, as a browser's reconnect logic would.

--url https://ADDRESS with --cafile (and --server-name, the name the certificate is for, sent as SNI and
Host and checked against the certificate) loads nginx over TLS, verifying every connection's certificate; the
WebSockets then go over wss, checked the same way.

Like a browser, a client retries a request once on a new connection when the server closed its kept-alive
connection before answering (nginx closes its idle connections when it reloads); the report counts these
(retried_on_closed_keepalive). Any other error, and a second failure, is a failed request.

Only for the project's own test containers or loopback: the target host must be a loopback or
private address, and both the duration and the request count are capped.
"""

import argparse
import email.utils
import hashlib
import http.client
import struct
import ipaddress
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse

MAX_SECONDS = 900
MAX_REQUESTS = 200000
# A versioned URL in a page: src="..." or href="..." with ?v=<hex digest> (SHA-512, or MD5 before Tornado 6.6).
VERSIONED_URL = re.compile(r'(?:src|href)="(/[^"?]*\?v=([0-9a-f]{32}|[0-9a-f]{128}))"')
LONG_LIVED_SECONDS = 86400


def long_lived(response):
    """Whether a cache may keep this answer for a day or more."""
    match = re.search(r"max-age=(\d+)", response.getheader("Cache-Control", ""))
    if match:
        return int(match.group(1)) >= LONG_LIVED_SECONDS
    expires = response.getheader("Expires")
    if not expires:
        return False
    try:
        return email.utils.parsedate_to_datetime(expires).timestamp() - time.time() >= LONG_LIVED_SECONDS
    except (TypeError, ValueError):
        return False


class AssetStats(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {"checked": 0, "long_lived": 0, "wrong": 0, "wrong_long_lived": 0, "failed": 0}
        self.details = []

    def add(self, *fields, detail=None):
        with self.lock:
            for field in fields:
                self.counts[field] += 1
            if detail and len(self.details) < 20:
                self.details.append(detail)


class Stats(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.total = 0
        self.failed = 0
        self.by_kind = {}
        self.failures = []
        self.versions = {}
        self.timeline = {}
        self.latencies = {}

    def record(self, kind, ok, detail, version, second, seconds_taken):
        with self.lock:
            self.latencies.setdefault(second, []).append(seconds_taken)
            self.total += 1
            key = "%s %s" % (kind, "ok" if ok else "failed")
            self.by_kind[key] = self.by_kind.get(key, 0) + 1
            slot = self.timeline.setdefault(second, {"ok": 0, "failed": 0})
            slot["ok" if ok else "failed"] += 1
            if not ok:
                self.failed += 1
                if len(self.failures) < 50:
                    self.failures.append({"t": second, "kind": kind, "detail": detail})
            if version:
                self.versions[version] = self.versions.get(version, 0) + 1


# What a request on a kept-alive connection meets when the server closed that connection before reading it.
CLOSED_BEFORE_ANSWER = (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError)


class Client(object):
    """One keep-alive connection, like one browser tab."""

    def __init__(self, host, port, timeout, tls=None):
        self.host, self.port, self.timeout = host, port, timeout
        # (ssl context, server name) for HTTPS: the name is sent and checked, the connection goes to host.
        self.tls = tls
        self.conn = None
        self.retried = 0
        self.xsrf = None

    def connect(self):
        if self.tls is None:
            return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        context, name = self.tls
        conn = http.client.HTTPSConnection(name, self.port, timeout=self.timeout, context=context)
        # As a browser whose DNS answers this address for the name.
        conn._create_connection = lambda address, *rest, **kwargs: socket.create_connection((self.host, address[1]), *rest, **kwargs)
        return conn

    def request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = self.connect()
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
            except CLOSED_BEFORE_ANSWER:
                self.conn.close()
                self.conn = None
                # As browsers do: a kept-alive connection the server closed before answering (nginx closes
                # its idle ones when it reloads) is retried once on a new connection. Counted, never hidden.
                if reused and attempt == 1:
                    self.retried += 1
                    continue
                raise
            except Exception:
                self.conn.close()
                self.conn = None
                raise
            break
        try:
            data = response.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response, data

    def get_home(self, assets=None):
        response, data = self.request("GET", "/")
        if assets is not None and response.status == 200:
            self.check_assets(data.decode("utf-8", "replace"), assets)
        return response.status == 200, "status %d" % response.status, response.getheader("X-App-Version")

    def check_assets(self, page, assets):
        for url, version in VERSIONED_URL.findall(page):
            try:
                response, data = self.request("GET", url)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                assets.add("checked", "failed", detail="%s: %s: %s" % (url, type(exc).__name__, exc))
                continue
            if response.status != 200:
                assets.add("checked", "failed", detail="%s: status %d" % (url, response.status))
                continue
            digest = hashlib.new("sha512" if len(version) == 128 else "md5", data).hexdigest()
            cached = long_lived(response)
            fields = ["checked"] + (["long_lived"] if cached else [])
            if digest != version:
                fields += ["wrong"] + (["wrong_long_lived"] if cached else [])
                detail = "%s: body digest %s, Cache-Control %r" % (url, digest[:12], response.getheader("Cache-Control"))
                assets.add(*fields, detail=detail)
            else:
                assets.add(*fields)

    def post_login(self):
        if self.xsrf is None:
            response, _data = self.request("GET", "/login")
            match = re.search(r"_xsrf=([^;]+)", response.getheader("Set-Cookie", ""))
            if response.status != 200 or not match:
                return False, "no _xsrf cookie (status %d)" % response.status, None
            self.xsrf = match.group(1)
        body = urllib.parse.urlencode({"name": "load", "_xsrf": self.xsrf})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "_xsrf=" + self.xsrf}
        response, _data = self.request("POST", "/login", body=body, headers=headers)
        return response.status == 302, "status %d" % response.status, response.getheader("X-App-Version")


class WebSocketStats(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.opened = 0
        self.closes = {}
        self.echo_failures = 0
        self.reconnect_failures = 0
        self.details = []

    def add(self, field, detail=None, code=None):
        with self.lock:
            if code is not None:
                self.closes[str(code)] = self.closes.get(str(code), 0) + 1
            else:
                setattr(self, field, getattr(self, field) + 1)
            if detail and len(self.details) < 20:
                self.details.append(detail)


def websocket_holder(url, origin, stats, stop, deadline, index, sslopt=None):
    """Hold one WebSocket open, echo every second; on a server close record the code and reconnect."""
    import websocket  # websocket-client, from requirements-dev.txt; only needed with --websockets
    ws = None
    failures_in_a_row = 0
    while not stop.is_set() and time.monotonic() < deadline:
        if ws is None:
            try:
                ws = websocket.create_connection(url, timeout=5, origin=origin, sslopt=sslopt)
                stats.add("opened")
                failures_in_a_row = 0
            except Exception as exc:  # the backend may be restarting: retry, give up after 10 s
                failures_in_a_row += 1
                if failures_in_a_row == 20:
                    stats.add("reconnect_failures", "%s: %s" % (type(exc).__name__, exc))
                time.sleep(0.5)
                continue
        try:
            message = "holder-%d-%f" % (index, time.monotonic())
            ws.send(message)
            while True:
                frame = ws.recv_data_frame(control_frame=True)[1]
                if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
                    code = struct.unpack("!H", frame.data[:2])[0] if len(frame.data) >= 2 else 1005
                    stats.add("closes", code=code)
                    ws.close()
                    ws = None
                    break
                if frame.opcode == websocket.ABNF.OPCODE_TEXT:
                    if frame.data.decode("utf-8", "replace") != message:
                        stats.add("echo_failures", "echo mismatch")
                    break
            if ws is not None:
                stop.wait(1.0)
        except Exception as exc:  # dropped without a close frame: what a client sees as 1006
            stats.add("closes", code=1006)
            stats.add("echo_failures", "%s: %s" % (type(exc).__name__, exc))
            try:
                ws.close()
            except Exception:  # pylint: disable=broad-exception-caught
                pass
            ws = None
    if ws is not None:
        ws.close()


def percentile_ms(values, fraction):
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1) if ordered else None


def worker(client, stats, start, interval, offset, stop, deadline, max_requests, get_only, assets):
    next_at = start + offset
    n = 0
    while not stop.is_set() and time.monotonic() < deadline and stats.total < max_requests:
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        next_at += interval
        kind = "POST" if n % 4 == 3 and not get_only else "GET"
        n += 1
        began = time.monotonic()
        second = int(began - start)
        try:
            ok, detail, version = client.post_login() if kind == "POST" else client.get_home(assets if n % 2 else None)
        except Exception as exc:  # a connection error is a failed request, never a crash
            ok, detail, version = False, "%s: %s" % (type(exc).__name__, exc), None
        stats.record(kind, ok, detail, version, second, time.monotonic() - began)


def check_target(host):
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            sys.exit("loadgen: target must be an IP address of a test container or loopback, got %s" % host)
        return
    if not (address.is_loopback or address.is_private):
        sys.exit("loadgen: refusing to load %s: only loopback or the project's own test containers" % host)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="http://HOST[:PORT] or https://HOST[:PORT] of nginx")
    parser.add_argument("--cafile", help="with https: the CA certificates that verify nginx's certificate")
    parser.add_argument("--server-name", help="with https: the name sent (SNI, Host) and checked (default: HOST)")
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second in total")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument("--seconds", type=float, default=300.0, help="stop after this long (at most %d)" % MAX_SECONDS)
    parser.add_argument("--stop-file", help="stop as soon as this file exists")
    parser.add_argument("--out", required=True, help="JSON report path")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout")
    parser.add_argument("--get-only", action="store_true", help="only GET / (no xsrf-protected POSTs)")
    parser.add_argument("--assets", action="store_true", help="check the versioned URLs pages name (see above)")
    parser.add_argument("--websockets", type=int, default=0, help="WebSockets held open on /ws (at most 20)")
    args = parser.parse_args()

    target = urllib.parse.urlsplit(args.url)
    check_target(target.hostname)
    tls = None
    if target.scheme == "https":
        tls = (ssl.create_default_context(cafile=args.cafile), args.server_name or target.hostname)
    seconds = min(args.seconds, MAX_SECONDS)
    stats = Stats()
    assets = AssetStats() if args.assets else None
    stop = threading.Event()
    started_at = time.time()
    start = time.monotonic()
    deadline = start + seconds
    interval = args.clients / args.rate
    clients = [Client(target.hostname, target.port or (443 if tls else 80), args.timeout, tls) for _i in range(args.clients)]
    threads = [threading.Thread(target=worker, daemon=True, args=(
        client, stats, start, interval, interval * i / args.clients, stop, deadline, MAX_REQUESTS, args.get_only, assets))
        for i, client in enumerate(clients)]
    ws_stats = WebSocketStats()
    host = target.hostname + ("" if target.port in (None, 80) else ":%d" % target.port)
    if tls:
        # wss: the certificate checked as for the requests, for the name sent as SNI.
        host = target.hostname + ("" if target.port in (None, 443) else ":%d" % target.port)
        urls = ("wss://%s/ws" % host, "https://%s" % host)
        sslopt = {"ca_certs": args.cafile, "server_hostname": tls[1], "check_hostname": True}
    else:
        urls, sslopt = ("ws://%s/ws" % host, "http://%s" % host), None
    threads += [threading.Thread(target=websocket_holder, daemon=True, args=urls + (ws_stats, stop, deadline, i, sslopt))
                for i in range(min(args.websockets, 20))]
    for thread in threads:
        thread.start()
    while time.monotonic() < deadline and any(t.is_alive() for t in threads):
        if args.stop_file and os.path.exists(args.stop_file):
            break
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(args.timeout + 5)
    elapsed = time.monotonic() - start
    report = {
        "url": args.url, "started_at": round(started_at, 3), "seconds": round(elapsed, 1), "total": stats.total, "failed": stats.failed,
        "rate": round(stats.total / elapsed, 1) if elapsed else 0, "by_kind": stats.by_kind,
        "versions": stats.versions, "failures": stats.failures,
        # requests sent again on a new connection because the server had closed the kept-alive one (see Client.request)
        "retried_on_closed_keepalive": sum(client.retried for client in clients),
        "assets": dict(assets.counts, details=assets.details) if assets else None,
        "websockets": {"held": min(args.websockets, 20), "opened": ws_stats.opened, "closes": ws_stats.closes,
                       "echo_failures": ws_stats.echo_failures, "reconnect_failures": ws_stats.reconnect_failures,
                       "details": ws_stats.details},
        "timeline": [dict(second=s, p50_ms=percentile_ms(stats.latencies[s], 0.5),
                          p99_ms=percentile_ms(stats.latencies[s], 0.99), **stats.timeline[s])
                     for s in sorted(stats.timeline)],
    }
    with open(args.out, "w") as handle:
        json.dump(report, handle, indent=1)
    print("%(total)d requests in %(seconds)ss (%(rate)s/s), %(failed)d failed, versions %(versions)s" % report)


if __name__ == "__main__":
    main()
