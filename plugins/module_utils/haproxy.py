# -*- coding: utf-8 -*-
# Copyright: webops.tornado contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy's runtime API (its admin stats socket): one command per connection, and the servers' state."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import socket


def command(path, line, timeout=5.0):
    """One runtime API command on a fresh connection (the non-interactive mode): its whole answer."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    try:
        conn.connect(path)
        conn.sendall((line + "\n").encode("ascii"))
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        conn.close()
    return b"".join(chunks).decode("utf-8", "replace")


def servers(show_stat):
    """{(backend, server): {status, sessions, check}} from ``show stat``'s CSV, servers only (no FRONTEND or
    BACKEND rows). ``status`` is HAProxy's (UP, DOWN, MAINT, DRAIN, "UP 1/2" going down...)."""
    found = {}
    for row in csv.DictReader(show_stat.lstrip("# ").splitlines()):
        if not row.get("pxname") or row.get("svname") in ("FRONTEND", "BACKEND"):
            continue
        found[(row["pxname"], row["svname"])] = {
            "status": row.get("status") or "",
            "sessions": int(row.get("scur") or 0),
            "check": " ".join(part for part in (row.get("check_status"), row.get("check_desc")) if part) or None,
        }
    return found
