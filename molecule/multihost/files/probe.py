"""Network probes the multihost scenario runs inside its containers (Python standard library only).

    probe.py spread URL CAFILE WANT TRIES   distinct [hostname, port] pairs answering URL (/healthz)
    probe.py tls HOST PORT CAFILE           TLS version, ALPN and cipher negotiated, certificate verified
    probe.py connect HOST:PORT...           {HOST:PORT: connected | refused | timeout | error: ...}
    probe.py versions URL CAFILE TRIES      distinct [hostname, version] pairs answering URL (/healthz)
    probe.py assets URL CAFILE TRIES        the page at URL, TRIES times, and every versioned URL
                                            (?v=<digest>) it names: bodies whose digest is not their v=

Every probe is bounded: TRIES requests at most, 5 s per connection.
"""

import hashlib
import json
import re
import socket
import ssl
import sys
import urllib.request
import warnings

TIMEOUT = 5


def _answers(url, cafile, tries):
    """The JSON bodies of up to TRIES requests to URL, one at a time."""
    context = ssl.create_default_context(cafile=cafile) if url.startswith("https:") else None
    for _attempt in range(int(tries)):
        with urllib.request.urlopen(url, context=context, timeout=TIMEOUT) as response:
            yield json.load(response)


def spread(url, cafile, want, tries):
    """Ask URL up to TRIES times until WANT distinct backends answered; print them."""
    seen = set()
    for body in _answers(url, cafile, tries):
        seen.add((body["hostname"], int(body["port"])))
        if len(seen) >= int(want):
            break
    print(json.dumps(sorted(seen)))


def versions(url, cafile, tries):
    """Ask URL TRIES times; print which version each app host answered with."""
    print(json.dumps(sorted({(body["hostname"], str(body["version"])) for body in _answers(url, cafile, tries)})))


def assets(url, cafile, tries):
    """Fetch the page at URL TRIES times and each versioned URL it names, through the same load balancer;
    print the counts: a body whose digest is not the v= it was asked for is wrong, and wrong_long_lived
    when a cache may keep it for a day or more (the asset skew a rolling deploy must never cause)."""
    context = ssl.create_default_context(cafile=cafile) if url.startswith("https:") else None
    base = re.match(r"[a-z]+://[^/]+", url).group(0)
    counts = {"pages": 0, "checked": 0, "long_lived": 0, "wrong": 0, "wrong_long_lived": 0, "failed": 0}
    named = set()
    for _attempt in range(int(tries)):
        with urllib.request.urlopen(url, context=context, timeout=TIMEOUT) as response:
            page = response.read().decode("utf-8", "replace")
        counts["pages"] += 1
        for path, version in re.findall(r'(?:src|href)="(/[^"?]*\?v=([0-9a-f]{32}|[0-9a-f]{128}))"', page):
            named.add(version)
            try:
                with urllib.request.urlopen(base + path, context=context, timeout=TIMEOUT) as response:
                    body, cache_control = response.read(), response.headers.get("Cache-Control", "")
            except OSError:
                counts["failed"] += 1
                continue
            max_age = re.search(r"max-age=(\d+)", cache_control)
            long_lived = bool(max_age) and int(max_age.group(1)) >= 86400
            wrong = hashlib.new("sha512" if len(version) == 128 else "md5", body).hexdigest() != version
            counts["checked"] += 1
            counts["long_lived"] += long_lived
            counts["wrong"] += wrong
            counts["wrong_long_lived"] += wrong and long_lived
    counts["versions_named"] = len(named)
    print(json.dumps(counts))


def _handshake(host, port, context):
    try:
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                return {"version": tls.version(), "alpn": tls.selected_alpn_protocol(), "cipher": tls.cipher()[0]}
    except (ssl.SSLError, OSError) as exc:
        return {"error": str(exc)}


def tls(host, port, cafile):
    """Handshakes: the default (verified, ALPN h2), TLS 1.2 only, and TLS 1.1 only (must be refused)."""
    best = ssl.create_default_context(cafile=cafile)
    best.set_alpn_protocols(["h2", "http/1.1"])
    tls12 = ssl.create_default_context(cafile=cafile)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # TLSVersion.TLSv1_1, on purpose
    tls11 = ssl.create_default_context(cafile=cafile)
    tls11.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
    tls11.minimum_version = ssl.TLSVersion.TLSv1_1
    tls11.maximum_version = ssl.TLSVersion.TLSv1_1
    print(json.dumps({name: _handshake(host, port, ctx) for name, ctx in
                      (("default", best), ("tls12", tls12), ("tls11", tls11))}))


def _connect(target):
    host, _colon, port = target.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=TIMEOUT).close()
        return "connected"
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"
    except OSError as exc:
        return f"error: {exc}"


def connect(*targets):
    """Open a TCP connection to each HOST:PORT and say what happened."""
    print(json.dumps({target: _connect(target) for target in targets}))


if __name__ == "__main__":
    {"spread": spread, "tls": tls, "connect": connect, "versions": versions, "assets": assets}[sys.argv[1]](*sys.argv[2:])
