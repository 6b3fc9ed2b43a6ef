"""Kill every backend at once (SIGKILL) and time what nginx answers until the service is back.

Usage: all_down.py URL SECONDS BACKEND_URLS PID...

Sends SIGKILL to every PID, then GETs URL (nginx, from inside the host) every 50 ms: the first
answer that is not 200 must be nginx's 502, and the first 200 after it is the recovery (supervisord
restarted the backends, nginx sends to them again). Until every backend answers its own health URL
(BACKEND_URLS, comma-separated) with 200, those are polled too: the difference between the two times
is nginx waiting out fail_timeout. Gives up after SECONDS. Prints JSON: the first error's status and
how long after the kills it came, when the backends and the service were back, and the status counts.
"""

import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request


def get(url, timeout):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError) as error:
        return "%s: %s" % (type(error).__name__, error)


def main(url, seconds, backends, pids):
    killed_at = time.monotonic()
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    first_error, recovered, backends_up, statuses = None, None, None, {}
    while time.monotonic() - killed_at < seconds:
        status = get(url, 5)
        answered = time.monotonic() - killed_at
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if backends_up is None and first_error is not None and all(get(backend, 1) == 200 for backend in backends):
            backends_up = round(time.monotonic() - killed_at, 2)
        if status != 200 and first_error is None:
            first_error = {"status": status, "seconds_after_kill": round(answered, 3)}
        elif status == 200 and first_error is not None:
            recovered = round(answered, 2)
            break
        time.sleep(0.05)
    print(json.dumps({"killed": len(pids), "first_error": first_error, "backends_up_after_seconds": backends_up,
                      "recovered_after_seconds": recovered, "statuses": statuses}))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3].split(","), [int(pid) for pid in sys.argv[4:]])
