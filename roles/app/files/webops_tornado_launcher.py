# Copyright: webops.tornado maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one Tornado application process the way Tornado's "Running and deploying" guide describes.

supervisord starts one of these per port::

    <venv>/bin/python webops_tornado_launcher.py --config /etc/tornado/<app>/launcher.json --port 8000

and, for development (restart on every change to the app's modules or the config)::

    <venv>/bin/python -m tornado.autoreload webops_tornado_launcher.py --config ... --port 8000

Before a release becomes current, Ansible validates it without listening::

    <venv>/bin/python webops_tornado_launcher.py --config ... --app-path <release>/src --check

The config file is one JSON object:

    name            the app's name (required)
    app_path        directory prepended to sys.path (required; ``--app-path`` overrides it)
    factory         "module:callable" (required): a function returning a tornado.web.Application,
                    or an Application subclass; called with no arguments
    address         listen address, default "127.0.0.1" ("" means every interface)
    settings        Application settings applied over the app's own, default {}
    xheaders        trust X-Real-IP / X-Forwarded-For / X-Scheme from nginx, default true
    grace_seconds   how long a stopping process lets in-flight requests finish, default 10
    health_path     answered by the launcher unless the app routes it itself, default "/healthz";
                    null turns the launcher's answer off
    process_model   "ports" (default: one process per port), "reuse_port" (several processes share
                    one port through SO_REUSEPORT) or "fork" (bind, then fork ``processes`` children)
    processes       for "fork": how many children, 0 (default) meaning one per CPU; 1 serves in the
                    process itself, without forking (what ``HTTPServer.start(1)`` does)
    version         optional string reported by the health answer

The launcher adds two settings of its own, so the app can read them from ``self.settings``:

    webops_port       the port this process listens on (behind nginx, request.host carries nginx's)
    webops_draining   False while serving, True once the process is stopping (for an app's own health check)

Autoreload (``autoreload=True``, or ``debug=True`` without ``autoreload=False``) restarts the
process on every source change, so Tornado's guide rules it out with several processes: an app
whose effective settings turn it on is refused under "reuse_port", and under "fork" unless
``processes`` is 1. Under ``python -m tornado.autoreload`` an app that fails to import (a syntax
error) reaches the wrapper as the app's own exception: the wrapper then watches the broken file
(a module that failed to import is not in sys.modules) and starts the app again once it is fixed.
The re-executed process gets ``sys.executable`` and ``sys.argv`` only, so nothing here depends on
interpreter flags such as ``-u`` (the role sets PYTHONUNBUFFERED in the environment instead).

Stopping (SIGTERM or SIGINT): the listening socket closes at once (new connections are refused,
nginx moves on to the other processes), every response still going out says ``Connection:
close``, and the process waits up to grace_seconds for requests in flight to finish and for the
peer to close its idle keep-alive connections (closing them from this side could race with a
request nginx is sending). A second signal cuts the wait short.

Exit status: 0 after a clean stop (SIGTERM or SIGINT, then a drain of at most grace_seconds),
2 when the config, the factory or the cookie secret is unusable, 1 when the port cannot be bound.
"""

import argparse
import asyncio
import contextlib
import functools
import importlib
import ipaddress
import json
import logging
import os
import re
import signal
import subprocess
import sys

import tornado.autoreload
import tornado.httpserver
import tornado.httputil
import tornado.log
import tornado.netutil
import tornado.process
import tornado.web

# Tornado's documentation shows this value as the cookie secret; apps copied from it keep it.
# Anyone can forge a signed cookie for an app that runs with it, so the launcher refuses to.
PLACEHOLDER_COOKIE_SECRET = "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__"
MIN_COOKIE_SECRET_BYTES = 32

PROCESS_MODELS = ("ports", "reuse_port", "fork")

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_CONFIG = 2

# How often the drain looks at the connections it waits for.
_DRAIN_POLL_SECONDS = 0.05

_LOG = logging.getLogger("webops.launcher")


class LauncherError(Exception):
    """A problem the launcher explains in one line and exits on, with ``exit_code``."""

    def __init__(self, message, exit_code=EXIT_CONFIG, show_traceback=False):
        super().__init__(message)
        self.exit_code = exit_code
        self.show_traceback = show_traceback


# --- The config file ---------------------------------------------------------------------------

_OPTIONAL_DEFAULTS = {
    "address": "127.0.0.1",
    "settings": {},
    "xheaders": True,
    "grace_seconds": 10,
    "health_path": "/healthz",
    "process_model": "ports",
    "processes": 0,
    "version": None,
}
_REQUIRED_KEYS = ("name", "app_path", "factory")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_factory_spec(value):
    module_name, _colon, attribute = value.partition(":") if isinstance(value, str) else ("", "", "")
    return bool(module_name.strip() and attribute.strip())


# key: (test, what the key must be): one line per key, in the order the docstring lists them.
_CONFIG_CHECKS = {
    "name": (lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty string"),
    "app_path": (lambda v: isinstance(v, str) and bool(v), "a directory path"),
    "factory": (_is_factory_spec, "'module:callable', for example 'demo_app:make_app'"),
    "address": (lambda v: isinstance(v, str), "a string ('' for every interface)"),
    "settings": (lambda v: isinstance(v, dict), "an object of Application settings"),
    "xheaders": (lambda v: isinstance(v, bool), "true or false"),
    "grace_seconds": (lambda v: _is_number(v) and v >= 0, "a number of seconds >= 0"),
    "health_path": (lambda v: v is None or (isinstance(v, str) and v.startswith("/")), "a path starting with '/' (or null)"),
    "process_model": (lambda v: v in PROCESS_MODELS, "one of " + ", ".join(PROCESS_MODELS)),
    "processes": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0 (0: one per CPU)"),
    "version": (lambda v: v is None or isinstance(v, str), "a string (or null)"),
}


def validate_config(raw, source="config"):
    """Check a decoded config object; return a complete dict with every default filled in."""
    if not isinstance(raw, dict):
        raise LauncherError(f"{source}: must be a JSON object, got {type(raw).__name__}")
    for key in _REQUIRED_KEYS:
        if key not in raw:
            raise LauncherError(f"{source}: {key!r} is required")
    config = dict(_OPTIONAL_DEFAULTS)
    config.update(raw)
    for key, (test, expected) in _CONFIG_CHECKS.items():
        if not test(config[key]):
            raise LauncherError(f"{source}: {key!r} must be {expected}, got {config[key]!r}")
    unknown = sorted(set(raw) - set(_CONFIG_CHECKS))
    if unknown:
        # A newer role may write keys this launcher does not know yet: say so, but keep serving.
        _LOG.warning("%s: ignoring unknown keys %s", source, ", ".join(unknown))
    return config


def load_config(path):
    """Read and validate the JSON config file at ``path``."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        raise LauncherError(f"cannot read config {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise LauncherError(f"config {path} is not valid JSON: {exc}") from exc
    # Under `python -m tornado.autoreload` (development) an edited config restarts the process like
    # edited code does; otherwise nothing reads the watch list.
    tornado.autoreload.watch(path)
    return validate_config(raw, source=f"config {path}")


# --- Building the Application --------------------------------------------------------------------

def _load_factory(spec, app_path):
    """Import "module:callable" with ``app_path`` first on sys.path; return the callable."""
    module_name, _colon, attribute = spec.partition(":")
    if app_path not in sys.path:
        sys.path.insert(0, app_path)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = getattr(exc, "name", None)
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise LauncherError(
                f"factory {spec!r}: no module named {missing!r} in app_path {app_path} or the virtualenv") from exc
        raise LauncherError(f"factory {spec!r}: importing {module_name!r} failed: {exc}", show_traceback=True) from exc
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # The app's own code failed at import time (SyntaxError, a missing setting, ...).
        raise LauncherError(f"factory {spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}",
                            show_traceback=True) from exc
    target = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise LauncherError(f"factory {spec!r}: module {module_name!r} has no attribute {attribute!r}") from None
    if not callable(target):
        raise LauncherError(f"factory {spec!r}: {attribute!r} is not callable")
    return target


@contextlib.contextmanager
def _settings_applied_over_the_apps(overrides, constructed):
    """Merge ``overrides`` into the keyword arguments of every Application built inside the block.

    Changing ``app.settings`` after the factory returns would be too late: Application.__init__
    turns ``debug`` into autoreload/compiled_template_cache/static_hash_cache/serve_traceback (an
    explicit flag beats debug, and only a merge before __init__ keeps that rule), adds the static
    routes from ``static_path``, and starts autoreload. Merging first makes the deployment's
    settings count exactly as if the app had written them.
    """
    original_init = tornado.web.Application.__init__

    @functools.wraps(original_init)
    def init_with_overrides(self, handlers=None, default_host=None, transforms=None, **settings):
        settings.update(overrides)
        constructed.append(self)
        original_init(self, handlers, default_host, transforms, **settings)

    tornado.web.Application.__init__ = init_with_overrides
    try:
        yield
    finally:
        tornado.web.Application.__init__ = original_init


def _cookie_secret_problem(secret):
    """Why ``secret`` (the effective cookie_secret setting) is unsafe, or None when it is fine."""
    # A dict is Tornado's key-rotation form: {version: secret}.
    for value in (secret.values() if isinstance(secret, dict) else [secret]):
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if raw == PLACEHOLDER_COOKIE_SECRET.encode("ascii"):
            return (f"cookie_secret is the placeholder {PLACEHOLDER_COOKIE_SECRET!r} from Tornado's documentation: "
                    "anyone could forge signed cookies; set settings.cookie_secret in the launcher config")
        if len(raw) < MIN_COOKIE_SECRET_BYTES:
            return (f"cookie_secret is {len(raw)} bytes long; at least {MIN_COOKIE_SECRET_BYTES} are required "
                    "(generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return None


class _HealthHandler(tornado.web.RequestHandler):  # pylint: disable=abstract-method
    """The launcher's health answer, for apps that do not route ``health_path`` themselves."""

    _name = _version = _port = None

    def initialize(self, name, version, port):  # pylint: disable=arguments-differ
        """Route kwargs: what the answer reports."""
        self._name = name
        self._version = version
        self._port = port

    def get(self):
        """200 with who answers while serving, 503 once draining (so balancers stop sending)."""
        # Load balancers and supervisors poll this: never serve it from a cache.
        self.set_header("Cache-Control", "no-store")
        if self.settings.get("webops_draining"):
            self.set_status(503)
            self.write({"status": "draining"})
            return
        self.write({"status": "ok", "pid": os.getpid(), "port": self._port, "version": self._version, "name": self._name})

    def head(self):
        """Same status as GET; Tornado drops the body."""
        self.get()

    def compute_etag(self):
        """No ETag: a 304 would hide the status."""
        return None


class _ConnectionCloseWhileDraining(tornado.web.OutputTransform):
    """While the process drains, end every keep-alive connection after its response.

    nginx reuses idle upstream connections; ``Connection: close`` makes it drop this one instead
    of sending the next request to a process that is about to exit.
    """

    def __init__(self, settings, request):
        super().__init__(request)
        self._settings = settings
        self._request = request

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        # 101 is a WebSocket upgrade: its Connection header must stay "Upgrade".
        if self._settings.get("webops_draining") and status_code != 101:
            headers["Connection"] = "close"
            # Tornado decides to close from the request's headers only; this private flag (guarded,
            # it may go away) makes the server close its side too instead of waiting for nginx.
            connection = self._request.connection
            if hasattr(connection, "_disconnect_on_finish"):
                connection._disconnect_on_finish = True  # pylint: disable=protected-access
        return status_code, headers, chunk


def _runs_several_processes(config):
    """reuse_port (several programs on one port) and fork with anything but one process."""
    return config["process_model"] == "reuse_port" or (config["process_model"] == "fork" and config["processes"] != 1)


def build_app(config, port):
    """Import the factory, build the Application with the deployment's settings, check it, return it.

    Runs inside the event loop that will serve the app: Application.__init__ starts autoreload on
    IOLoop.current(), and a factory may schedule callbacks there too.
    """
    spec = config["factory"]
    factory = _load_factory(spec, os.path.abspath(config["app_path"]))
    overrides = dict(config["settings"])
    overrides["webops_port"] = port
    overrides["webops_draining"] = False
    constructed = []
    try:
        with _settings_applied_over_the_apps(overrides, constructed):
            app = factory()
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise LauncherError(f"factory {spec!r} raised {type(exc).__name__}: {exc}", show_traceback=True) from exc
    if not isinstance(app, tornado.web.Application):
        raise LauncherError(f"factory {spec!r} returned {type(app).__name__}, not a tornado.web.Application")
    if app not in constructed:
        # The factory returned an Application built before it was called (at import time, say):
        # settings read per request (cookie_secret, login_url, ...) still follow, routes do not.
        _LOG.warning("factory %r returned an Application built before the call: "
                     "settings were applied afterwards, static_path routes and debug flags were not", spec)
        app.settings.update(overrides)

    if app.settings.get("autoreload") and _runs_several_processes(config):
        # Tornado's guide: autoreload is not compatible with the multi-process mode (each process
        # would restart on its own, and a forked child cannot re-execute itself at all).
        raise LauncherError(
            f"refusing to start {config['name']!r}: the app's settings turn autoreload on (autoreload=True, or "
            f"debug=True without autoreload=False) and process_model {config['process_model']!r} runs several "
            "processes; Tornado's autoreload works with one process only (set autoreload=False, or use one process)")

    secret = app.settings.get("cookie_secret")
    if secret is not None:
        problem = _cookie_secret_problem(secret)
        if problem:
            raise LauncherError(f"refusing to start {config['name']!r}: {problem}")

    if config["health_path"]:
        # Appended last, so a route of the app's own for the same path is found first.
        app.wildcard_router.add_rules([(
            re.escape(config["health_path"]),
            _HealthHandler,
            {"name": config["name"], "version": config["version"], "port": port},
        )])
    app.add_transform(functools.partial(_ConnectionCloseWhileDraining, app.settings))
    return app


# --- Serving and draining ------------------------------------------------------------------------

class _InFlight(tornado.httputil.HTTPMessageDelegate):
    """Marks a connection busy from the moment a request's headers arrive."""

    def __init__(self, delegate, busy, server_conn):
        self._delegate = delegate
        self._busy = busy
        self._server_conn = server_conn

    def headers_received(self, start_line, headers):
        self._busy.add(self._server_conn)
        return self._delegate.headers_received(start_line, headers)

    def data_received(self, chunk):
        return self._delegate.data_received(chunk)

    def finish(self):
        self._delegate.finish()

    def on_connection_close(self):
        self._delegate.on_connection_close()


class _DrainingHTTPServer(tornado.httpserver.HTTPServer):
    """HTTPServer that tells connections with a request in flight from idle keep-alive ones.

    The drain waits for the peer to close every connection (nginx closes idle upstream ones after
    its upstream keepalive_timeout); requests in flight finish, and only the grace period's end
    closes what is left.
    Tornado calls start_request when a connection starts waiting for its next request (so the
    previous response is complete) and on_close when the connection is gone.
    """

    _open_conns = None
    _busy_conns = None

    def initialize(self, *args, **kwargs):  # pylint: disable=arguments-differ
        super().initialize(*args, **kwargs)
        self._open_conns = set()
        self._busy_conns = set()

    def start_request(self, server_conn, request_conn):
        self._open_conns.add(server_conn)
        self._busy_conns.discard(server_conn)
        return _InFlight(super().start_request(server_conn, request_conn), self._busy_conns, server_conn)

    def on_close(self, server_conn):
        self._open_conns.discard(server_conn)
        self._busy_conns.discard(server_conn)
        super().on_close(server_conn)

    async def drain(self, grace_seconds, hurry):
        """Stop accepting; let requests in flight finish for up to ``grace_seconds``; close everything.

        Returns how many requests were still in flight when the connections were closed.
        """
        self.stop()  # closes the listening sockets: new connections are refused from here on
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_seconds
        # Idle keep-alive connections are NOT closed from this side: nginx may be writing a request
        # (a POST it will never retry) into one at that very moment. A request that still arrives
        # on one is answered with `Connection: close`, and nginx closes idle upstream connections
        # itself after its upstream keepalive_timeout, which webops.tornado.nginx keeps shorter
        # than this grace period. So the drain ends when the peer has closed every connection.
        while True:
            if not self._open_conns or hurry.is_set() or loop.time() >= deadline:
                break
            await asyncio.sleep(_DRAIN_POLL_SECONDS)
        cut_short = len(self._busy_conns)
        await self.close_all_connections()
        return cut_short


def _bind(config, port):
    """Listening sockets for ``port`` (what HTTPServer.listen does, split so fork can bind first)."""
    reuse_port = config["process_model"] == "reuse_port"
    try:
        return tornado.netutil.bind_sockets(port, config["address"] or None, reuse_port=reuse_port)
    except OSError as exc:
        raise LauncherError(f"cannot listen on {config['address'] or '*'}:{port}: {exc.strerror or exc}",
                            exit_code=EXIT_RUNTIME) from exc


def _warn_if_xheaders_exposed(config):
    """X-Real-IP is only trustworthy when nginx is the only client that can reach the port."""
    if not config["xheaders"]:
        return
    address = config["address"]
    try:
        loopback = address == "localhost" or ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        _LOG.warning("xheaders is on and the app listens on %r: any client that reaches it directly can "
                     "set its own X-Real-IP; keep it reachable from nginx only", address or "*")


def _started_by_autoreload_wrapper():
    """True under `python -m tornado.autoreload`, which waits for a file change after we exit."""
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return bool(getattr(tornado.autoreload, "_autoreload_is_main", False)) or (
        main_spec is not None and main_spec.name == "tornado.autoreload")


async def _serve(config, port, sockets=None, parent_pipe=None, stop_requested=None):
    """Build the app, serve until SIGTERM/SIGINT (or the fork parent going away), drain; return exit status."""
    loop = asyncio.get_running_loop()
    app = build_app(config, port)
    if _started_by_autoreload_wrapper():
        # The wrapper itself only watches files once the script has exited; a developer who
        # started it wants a restart on every change while serving, whatever the debug setting.
        tornado.autoreload.start()
    server = _DrainingHTTPServer(app, xheaders=config["xheaders"])
    server.add_sockets(sockets if sockets is not None else _bind(config, port))

    stopping = asyncio.Event()
    hurry = asyncio.Event()

    signals_received = []

    def request_stop(reason, is_signal=True):
        if is_signal:
            signals_received.append(reason)
        if stopping.is_set():
            # A second signal means "now": an impatient Ctrl-C, or a second kill. The fork parent's
            # pipe closing is not a signal: supervisord's stopasgroup sends SIGTERM to the parent and
            # its children at once, and a child sees that SIGTERM and the pipe, in either order, as one stop.
            if len(signals_received) < 2:
                return
            if not hurry.is_set():
                _LOG.warning("%s again: closing connections with requests still in flight", reason)
                hurry.set()
            return
        _LOG.info("%s: draining (up to %ss for requests in flight)", reason, config["grace_seconds"])
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request_stop, signal.Signals(signum).name)
    if parent_pipe is not None:
        loop.add_reader(parent_pipe, _on_parent_pipe, loop, parent_pipe, request_stop)

    _LOG.info("%s: pid %d listening on %s:%d (process model %s)", config["name"], os.getpid(),
              config["address"] or "*", port, config["process_model"])
    if stop_requested is not None and stop_requested():
        request_stop("stop requested during start-up")  # a signal came before the handlers above
    await stopping.wait()

    # Order matters: health turns 503 and responses carry Connection: close before the drain starts.
    app.settings["webops_draining"] = True
    cut_short = await server.drain(config["grace_seconds"], hurry)
    if cut_short:
        _LOG.warning("closed %d connection(s) with a request still in flight", cut_short)
    _LOG.info("%s: pid %d stopped", config["name"], os.getpid())
    return EXIT_OK


def _on_parent_pipe(loop, fd, request_stop):
    """The fork parent closed its end of the pipe (it is stopping, or it died): stop too."""
    if os.read(fd, 64):
        return  # nobody writes; ignore stray bytes rather than guess
    loop.remove_reader(fd)
    # supervisord's stopasgroup signals the children too: that SIGTERM and this EOF are one stop.
    request_stop("parent process stopping", is_signal=False)


def _run_single(config, port):
    """ports, reuse_port and fork with one process: this process binds, serves and drains by itself."""
    return asyncio.run(_serve(config, port))


def _run_forked(config, config_path, app_path_override, port):
    """fork: bind once, fork ``processes`` children that share the sockets, supervise them.

    Nothing here may create an event loop, import the app or call the factory before the fork: an
    IOLoop (or an epoll object, a thread, a database client) made in the parent would be shared by
    every child and break in all of them. So the parent binds and forks only; each child builds
    its own app in its own loop.
    """
    # A broken release would make every child exit at start-up and fork_processes restart it a
    # hundred times. Build the app once in a throwaway process (the --check mode) to fail once.
    check = [sys.executable, os.path.abspath(__file__), "--config", config_path, "--port", str(port), "--check"]
    if app_path_override:
        check[-1:-1] = ["--app-path", app_path_override]
    status = subprocess.run(check, stdout=subprocess.DEVNULL, check=False).returncode
    if status != EXIT_OK:
        return status

    sockets = _bind(config, port)
    # fork_processes keeps its children's pids to itself, so the parent tells them to stop by
    # closing this pipe: every child watches the read end and drains on EOF, which also happens if
    # the parent is killed outright. No pid is signalled, so a recycled pid can never be hit.
    read_end, write_end = os.pipe()
    parent_pid = os.getpid()
    stop = {"requested": False}

    def on_signal(signum, _frame):
        if stop["requested"]:
            return
        stop["requested"] = True
        if os.getpid() != parent_pid:
            return  # a child that has not installed its own handlers yet: it reads the flag
        _LOG.info("%s: forwarding the stop to the children", signal.Signals(signum).name)
        os.close(write_end)
        for sock in sockets:
            sock.close()  # the children close theirs as they drain: then nothing accepts on the port

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Returns only in the children. The parent stays inside, restarting children that crash, and
    # exits 0 once every child has exited 0 (each does after its drain).
    tornado.process.fork_processes(config["processes"])
    if stop["requested"]:
        return EXIT_OK  # forked after the parent began stopping: the sockets are closed already
    os.close(write_end)
    return asyncio.run(_serve(config, port, sockets=sockets, parent_pipe=read_end,
                              stop_requested=lambda: stop["requested"]))


# --- Command line --------------------------------------------------------------------------------

def _configure_logging():
    """Access and app logs to stderr, one flushed line per record (supervisord collects them).

    logging.StreamHandler flushes after every record, so nothing depends on ``python -u``
    (autoreload re-executes sys.executable with sys.argv, dropping interpreter flags).
    """
    if not logging.getLogger().handlers:
        tornado.log.enable_pretty_logging()


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="webops_tornado_launcher.py",
        description="Serve a Tornado application behind nginx (one process per port), with graceful drain.")
    parser.add_argument("--config", required=True, help="launcher JSON config (see the module docstring)")
    parser.add_argument("--port", type=int, help="port to listen on (required unless --check)")
    parser.add_argument("--app-path", help="use this directory instead of the config's app_path (validate a release before it is current)")
    parser.add_argument("--check", action="store_true", help="build the app, print 'ok' and exit 0 without listening")
    args = parser.parse_args(argv)
    if args.port is None and not args.check:
        parser.error("--port is required (unless --check)")
    if args.port is not None and not 0 < args.port < 65536:
        parser.error(f"--port must be 1-65535, got {args.port}")
    return args


async def _check(config, port):
    build_app(config, port)


def launcher_main(argv=None):
    """Run the command line; return the exit status."""
    args = _parse_args(argv)
    _configure_logging()
    try:
        config = load_config(args.config)
        if args.app_path:
            config["app_path"] = args.app_path
        if not os.path.isdir(config["app_path"]):
            raise LauncherError(f"app_path {config['app_path']!r} is not a directory")
        if args.check:
            # In a loop, as when serving: an app with autoreload on attaches it to IOLoop.current().
            asyncio.run(_check(config, args.port or 0))
            print("ok", flush=True)
            return EXIT_OK
        _warn_if_xheaders_exposed(config)
        if config["process_model"] == "fork" and config["processes"] != 1:
            status = _run_forked(config, args.config, args.app_path, args.port)
        else:
            status = _run_single(config, args.port)
    except LauncherError as exc:
        cause = exc.__cause__
        if cause is not None and exc.show_traceback and _started_by_autoreload_wrapper():
            # The wrapper watches the files of an uncaught exception's traceback (and a
            # SyntaxError's file) and restarts once one changes: hand it the app's own error.
            # cause is the app's own exception (pylint cannot infer it is one)
            raise cause from None  # pylint: disable=raising-non-exception
        _LOG.error("%s", exc, exc_info=exc.show_traceback)
        return exc.exit_code
    if _started_by_autoreload_wrapper():
        # Returning would leave the wrapper waiting for a source change forever; a stop is a stop.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)  # pylint: disable=protected-access
    return status


# `python -m tornado.autoreload` runs this file with __name__ == "__main__" too (it executes the
# script rather than importing it), so this one guard covers both ways of starting; importing the
# file (tests, tools) runs nothing. Top-level names avoid those of tornado.autoreload (main, wait,
# watch, start, ...), which older Tornado versions execute this script alongside.
if __name__ == "__main__":
    sys.exit(launcher_main())
