"""GET one URL from many threads at once and report which pids answered (its JSON "pid").

Usage: pids_through_nginx.py URL WANT [MIN_REQUESTS MAX_REQUESTS SECONDS THREADS]

nginx keeps idle upstream connections, so a handful of sequential requests would all reach the
process that accepted the first connection. Many requests at once make nginx open new upstream
connections all the time, which the kernel hands to every process listening on the port.
Stops after MIN_REQUESTS once WANT distinct pids answered, and always after MAX_REQUESTS or
SECONDS. Prints {"pids": {pid: answers}, "statuses": {status: count}, "requests": n}.
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.request


def main(url, want, min_requests=300, max_requests=6000, seconds=30.0, threads=96):
    lock = threading.Lock()
    pids, statuses = {}, {}
    sent = [0]
    deadline = time.monotonic() + seconds

    def done():
        return (sent[0] >= max_requests or time.monotonic() > deadline
                or (len(pids) >= want and sent[0] >= min_requests))

    def worker():
        while True:
            with lock:
                if done():
                    return
                sent[0] += 1
            pid = None
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    status = response.status
                    pid = json.load(response)["pid"]
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (OSError, ValueError, KeyError) as exc:
                status = type(exc).__name__
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if pid is not None:
                    pids[str(pid)] = pids.get(str(pid), 0) + 1

    workers = [threading.Thread(target=worker) for thread_number in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    print(json.dumps({"pids": pids, "statuses": statuses, "requests": sent[0]}))


if __name__ == "__main__":
    ARGS = sys.argv[1:]
    main(ARGS[0], int(ARGS[1]), *[int(a) for a in ARGS[2:4]], *[float(a) for a in ARGS[4:5]], *[int(a) for a in ARGS[5:6]])
