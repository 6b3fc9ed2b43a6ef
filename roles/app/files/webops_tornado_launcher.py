# Copyright: webops.tornado maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one Tornado application process the way Tornado's "Running and deploying" guide describes.

supervisord starts one of these per port::

    <venv>/bin/python webops_tornado_launcher.py --config /etc/tornado/<app>/launcher.json --port 8000

and, for development (restart on every change to the app's modules or the config)::

    <venv>/bin/python -m tornado.autoreload webops_tornado_launcher.py --config ... --port 8000

Before a release becomes current, Ansible validates it without listening::

    <venv>/bin/python webops_tornado_launcher.py --config ... --app-path <release>/src --check

The config file is one JSON object (mode 0600: it holds the cookie secret and the environment):

    name            the app's name (required)
    app_path        directory prepended to sys.path (required; ``--app-path`` overrides it)
    entry           how the app is started: "factory" (default), "main" or "command" (see below)
    factory         for "factory": "module:callable", a function returning a tornado.web.Application,
                    or an Application subclass; called with no arguments
    main            for "main": the app's own entry point, one of
                      "pkg.module:callable"  imported and called; a returned coroutine is run with asyncio.run
                      "pkg.module"           run as ``python -m pkg.module`` would (its ``__main__`` guard runs)
                      "relative/path.py"     a script inside app_path, run as ``python path.py`` would
    args            for "main": the app's command line, a list of strings given as sys.argv[1:]
                    (sys.argv[0] is the module or script name); "{port}" in each becomes --port
    command         for "command": an argv list, "{port}" in each element becomes --port
    environment     object of environment variables (string to string) set in os.environ before
                    anything of the app is imported or executed, for every entry; values are never logged
    address         listen address, default "127.0.0.1" ("" means every interface)
    settings        Application settings applied over the app's own, default {}
    xheaders        trust X-Real-IP / X-Forwarded-For / X-Scheme from nginx, default true
    access_log      log every request (``tornado.access`` at INFO), default true; false keeps only the
                    requests answered 4xx (WARNING) and 5xx (ERROR): nginx logs every request already
    grace_seconds   how long a stopping process lets in-flight requests finish, default 10
    health_path     answered by the launcher unless the app routes it itself, default "/healthz";
                    null turns the launcher's answer off
    process_model   "ports" (default: one process per port), "reuse_port" (several processes share
                    one port through SO_REUSEPORT) or "fork" (bind, then fork ``processes`` children;
                    "factory" only)
    processes       for "fork": how many children, 0 (default) meaning one per CPU; 1 serves in the
                    process itself, without forking (what ``HTTPServer.start(1)`` does)
    version         optional string reported by the health answer
    static_versions absolute path of the app's store of static files by version (the app role's
                    ``<app_home>/static-versions``), or null (default): see "Versioned static URLs"

The launcher adds two settings of its own, so the app can read them from ``self.settings``:

    webops_port       the port this process listens on (behind nginx, request.host carries nginx's)
    webops_draining   False while serving, True once the process is stopping (for an app's own health check)

Entry "factory": the launcher imports the factory, builds the Application with the deployment's
settings, serves it with its own HTTPServer and drains it on a stop.

Entry "main": for apps written the guide's way, with a main() that builds the Application and
listens itself (``app.listen(options.port)``, ``HTTPServer(app).listen(...)``, ``server.bind(port);
server.start(n)``, ``bind_sockets`` + ``add_sockets``) and runs the loop (``asyncio.run(main())``
or ``IOLoop.current().start()``). Before anything of the app is imported, the launcher hooks
Tornado's classes (nothing is undone: the process is the app's), so that for the app's HTTPServer:

- the port is the assigned ``--port`` and the address the config's, whatever the app asks for
  (its own 8888, its ``--port`` option, "0.0.0.0"); reuse_port follows process_model;
- ``xheaders`` is the config's on every HTTPServer (remote_ip and the access log show the client);
- every Application gets the deployment's settings merged before ``Application.__init__``, as a
  factory's does (cookie_secret shared by every process, debug and serve_traceback as the config
  says); the cookie-secret check, the autoreload refusal and the health answer apply as for a factory;
- ``server.start(n)`` and ``tornado.process.fork_processes(n)`` do not fork: the deployment chooses
  the processes (process_model), so a warning is logged and the app serves in this process;
- SIGTERM/SIGINT drain as for a factory. The app owns the event loop, so the launcher's signal
  handler (a Python one) schedules the drain on the loop the server accepts on
  (``call_soon_threadsafe``); once the drain is over, a callback on that loop raises
  ``SystemExit(0)``: ``IOLoop.start()``/``asyncio.run()`` unwind through the app's main() (its
  ``finally`` blocks and atexit handlers run; asyncio.run cancels its tasks). A watchdog thread ends
  the process with status 0 at grace_seconds + 2 s after the signal (2 s after a second signal)
  whatever the app does with that SystemExit. A signal before the app listens exits at once
  (nothing is in flight). The app's own SIGTERM/SIGINT handlers (``signal.signal`` and the loop's
  ``add_signal_handler``) are not installed, with a warning: put clean-up in ``finally`` or atexit.
- ``sys.argv`` is ``[module or script] + args``, so ``tornado.options.parse_command_line()`` and
  argparse see only ``args``; autoreload (the app's own debug=True) re-executes the launcher, not
  the app alone.

Its limits: one HTTP server per process (a second listen or bind, or a socket the launcher did not
bind given to ``add_sockets``, is refused with exit 2); no fork (process_model "fork" is refused);
a TCPServer that is not an HTTPServer is refused; an app that bypasses Tornado's HTTPServer
entirely (another server library, raw asyncio servers, uvloop's own signal handling) is not
instrumented, and a refusal raised inside a plain loop callback may be logged by asyncio instead of
ending the process. Environment variables that Python reads at start-up (PYTHONPATH,
PYTHONWARNINGS, ...) cannot take effect for "factory" and "main": the interpreter is running already.

Entry "command": programs the launcher cannot instrument. It sets ``environment``, replaces
"{port}" in ``command`` and executes it (``os.execvp``): no drain, no settings, no health answer,
no xheaders, no address or port enforcement. process_model must be "ports".

Release check (``--check``): for "factory", build the app; for "main", run the app's main() with
every hook until its server would start listening (the first ``add_sockets``, which listen() and
start() reach too; ``bind_sockets`` gives it a loopback socket that never listens), then stop it
(a private BaseException, so ``except Exception`` in the app does not swallow it). The process
changes into app_path first, as supervisord's program does, and "{port}" is ``--port`` or 65535.
An exception, an exit before listening (whatever its status) or no listen within
``--check-timeout`` seconds (default 30) exits 2 with the app's traceback on stderr (for a timeout,
the stacks of the waiting tasks) and a one-line summary. On success the last line on stdout is one
JSON object describing the served Application with the deployment's settings applied::

    {"status": "ok", "static_path": "/abs/static" or null, "static_url_prefix": "/static/",
     "template_path": "/abs/templates" or null, "health_routed_by_app": true or false,
     "static_hash": "sha512", "md5" or null}

static_hash is the digest of a file's bytes the app's static handler class (static_handler_class,
default StaticFileHandler) puts in ``?v=``: "sha512" (Tornado 6.6 and later), "md5" (older), null
when the class versions files its own way or there is no static_path (the role then keeps no
store of static versions for the app).

For "main", the process ends as soon as the verdict is out (and when the app's main() fails
while serving), without waiting for threads the app started or running its atexit handlers: a
thread that is not a daemon would otherwise keep the check, and Ansible's task, waiting forever.
For "command", ``--check`` validates the config and finds the program; its status is "unchecked"
and the other values are null.

Versioned static URLs: ``static_url()`` writes ``?v=<version of the file>``, and Tornado's
StaticFileHandler answers any ``v`` with ten years of caching, whatever the file holds: in a
rolling deploy, a page of one release asks another for its files, and the wrong bytes would be
cached for ten years. For every app the launcher serves ("factory" and "main", every process
model), StaticFileHandler (and its subclasses that do not override these methods) instead:

- gives the long lifetime only when ``v`` is the version of the bytes served; any other ``v``
  gets the current file without Cache-Control or Expires;
- with ``static_versions`` set, answers a ``v`` that is not the current file's version (or a file
  this release no longer has) from ``<static_versions>/<v>/<path under static_path>`` when that is
  a regular file inside that directory whose content has version ``v`` (the handler class hashes
  it, once per process), with the long lifetime; ``v`` must be 32 to 128 lowercase hex digits,
  so it names nothing but a directory of the store. Tornado's own checks of the path still apply.

Without ``v`` Tornado's behaviour is unchanged.

Autoreload (``autoreload=True``, or ``debug=True`` without ``autoreload=False``) restarts the
process on every source change, so Tornado's guide rules it out with several processes: an app
whose effective settings turn it on is refused under "reuse_port", and under "fork" unless
``processes`` is 1. Under ``python -m tornado.autoreload`` an app that fails to import (a syntax
error) reaches the wrapper as the app's own exception: the wrapper then watches the broken file
(a module that failed to import is not in sys.modules) and starts the app again once it is fixed.
The re-executed process gets ``sys.executable`` and ``sys.argv`` only, so nothing here depends on
interpreter flags such as ``-u`` (the role sets PYTHONUNBUFFERED in the environment instead).

Stopping (SIGTERM or SIGINT): the listening socket closes at once (new connections are refused,
nginx moves on to the other processes), every open WebSocket is sent a close frame with code 1001
("going away"), every response still going out says ``Connection: close``, and the process waits
up to grace_seconds for requests in flight to finish, for the WebSocket clients to complete the
close and for the peer to close its idle keep-alive connections (closing them from this side could
race with a request nginx is sending). A second signal cuts the wait short. What is still open at
the end of the grace period is closed.

Exit status: 0 after a clean stop (SIGTERM or SIGINT, then a drain of at most grace_seconds),
2 when the config, the factory, the app's main or the cookie secret is unusable (and for a failed
``--check``), 1 when the port cannot be bound or the app's main fails while serving.
"""

# One file, copied to every host as it is: long, on purpose.
# pylint: disable=too-many-lines

import argparse
import asyncio
import contextlib
import faulthandler
import functools
import hashlib
import importlib
import importlib.util
import inspect
import io
import ipaddress
import json
import logging
import os
import re
import runpy
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref

import tornado.autoreload
import tornado.httpserver
import tornado.httputil
import tornado.ioloop
import tornado.log
import tornado.netutil
import tornado.process
import tornado.tcpserver
import tornado.web
import tornado.websocket

# Tornado's documentation shows this value as the cookie secret; apps copied from it keep it.
# Anyone can forge a signed cookie for an app that runs with it, so the launcher refuses to.
PLACEHOLDER_COOKIE_SECRET = "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__"
MIN_COOKIE_SECRET_BYTES = 32

ENTRIES = ("factory", "main", "command")
PROCESS_MODELS = ("ports", "reuse_port", "fork")

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_CONFIG = 2

# How often the drain looks at the connections it waits for.
_DRAIN_POLL_SECONDS = 0.05
# How long an app's main() may take to unwind after its drain before the process is ended anyway.
_EXIT_MARGIN_SECONDS = 2
# What the WebSocket clients are told on a stop (RFC 6455 7.4.1: the server is going down).
_GOING_AWAY = (1001, "going away")
# --check of an entry "main" without --port: "{port}" in args becomes a valid port nothing binds.
_CHECK_PORT = 65535
_CHECK_TIMEOUT_SECONDS = 30
# After --check-timeout, how long the check waits for the app to unwind before it ends the process.
_CHECK_HARD_MARGIN_SECONDS = 5

# Tornado's own functions, kept before any hook replaces them.
_TORNADO_BIND_SOCKETS = tornado.netutil.bind_sockets
_SIGNAL_SIGNAL = signal.signal

_LOG = logging.getLogger("webops.launcher")


class LauncherError(Exception):
    """A problem the launcher explains in one line and exits on, with ``exit_code``."""

    def __init__(self, message, exit_code=EXIT_CONFIG, show_traceback=False):
        super().__init__(message)
        self.exit_code = exit_code
        self.show_traceback = show_traceback


class _ListenReached(BaseException):
    """--check of an entry "main": the app's server is about to listen; unwind the app's main().

    A BaseException, so an app's ``except Exception`` around its start-up does not swallow it.
    """


class _CheckTimeout(BaseException):
    """--check: the app did not reach its listen within --check-timeout (raised by SIGALRM)."""


# --- The config file ---------------------------------------------------------------------------

_OPTIONAL_DEFAULTS = {
    "entry": "factory",
    "factory": None,
    "main": None,
    "args": [],
    "command": None,
    "environment": {},
    "address": "127.0.0.1",
    "settings": {},
    "xheaders": True,
    "access_log": True,
    "grace_seconds": 10,
    "health_path": "/healthz",
    "process_model": "ports",
    "processes": 0,
    "version": None,
    "static_versions": None,
}
_REQUIRED_KEYS = ("name", "app_path")

_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\Z")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_factory_spec(value):
    module_name, _colon, attribute = value.partition(":") if isinstance(value, str) else ("", "", "")
    return bool(module_name.strip() and attribute.strip())


def _is_main_spec(value):
    """"pkg.module:callable", "pkg.module" or a relative path ending in .py inside app_path."""
    if not isinstance(value, str) or not value:
        return False
    if value.endswith(".py"):
        return not os.path.isabs(value) and not os.path.normpath(value).split(os.sep)[0] == ".."
    module_name, colon, attribute = value.partition(":")
    return bool(_DOTTED_NAME.match(module_name)) and (not colon or bool(_DOTTED_NAME.match(attribute)))


def _is_string_list(value, non_empty=False):
    return isinstance(value, list) and all(isinstance(item, str) for item in value) and (bool(value) or not non_empty)


def _environment_problem(value):
    """Why ``value`` is not a usable environment object (naming keys only, never values), or None."""
    if not isinstance(value, dict):
        return f"got {type(value).__name__}"
    for name, item in value.items():
        if not name or "=" in name or "\0" in name:
            return f"got the name {name!r}"
        if not isinstance(item, str) or "\0" in item:
            return f"the value of {name!r} is not a string"  # the value itself may be a secret
    return None


# key: (test, what the key must be): one line per key, in the order the docstring lists them.
_CONFIG_CHECKS = {
    "name": (lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty string"),
    "app_path": (lambda v: isinstance(v, str) and bool(v), "a directory path"),
    "entry": (lambda v: v in ENTRIES, "one of " + ", ".join(ENTRIES)),
    "factory": (lambda v: v is None or _is_factory_spec(v), "'module:callable', for example 'demo_app:make_app'"),
    "main": (lambda v: v is None or _is_main_spec(v),
             "'pkg.module:callable', 'pkg.module' or a relative path ending in .py inside app_path"),
    "args": (_is_string_list, "a list of strings"),
    "command": (lambda v: v is None or (_is_string_list(v, non_empty=True) and bool(v[0])), "a non-empty list of strings (an argv)"),
    "environment": (lambda v: _environment_problem(v) is None, "an object of string values with names without '='"),
    "address": (lambda v: isinstance(v, str), "a string ('' for every interface)"),
    "settings": (lambda v: isinstance(v, dict), "an object of Application settings"),
    "xheaders": (lambda v: isinstance(v, bool), "true or false"),
    "access_log": (lambda v: isinstance(v, bool), "true or false"),
    "grace_seconds": (lambda v: _is_number(v) and v >= 0, "a number of seconds >= 0"),
    "health_path": (lambda v: v is None or (isinstance(v, str) and v.startswith("/")), "a path starting with '/' (or null)"),
    "process_model": (lambda v: v in PROCESS_MODELS, "one of " + ", ".join(PROCESS_MODELS)),
    "processes": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0 (0: one per CPU)"),
    "version": (lambda v: v is None or isinstance(v, str), "a string (or null)"),
    "static_versions": (lambda v: v is None or (isinstance(v, str) and os.path.isabs(v)), "an absolute directory path (or null)"),
}


def _what_was_given(key, value):
    """The end of a config error message; never the values of keys that may hold secrets."""
    if key == "environment":
        return _environment_problem(value)
    if key in ("args", "command"):
        # An app's arguments may carry a password: say what is wrong, not what it is.
        if not isinstance(value, list):
            return f"got {type(value).__name__}"
        bad = [index for index, item in enumerate(value) if not isinstance(item, str)]
        return f"item {bad[0]} is {type(value[bad[0]]).__name__}" if bad else "got an empty list or an empty program name"
    return f"got {value!r}"


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
            raise LauncherError(f"{source}: {key!r} must be {expected}, {_what_was_given(key, config[key])}")
    entry = config["entry"]
    if config[entry] is None:
        # The key named like the entry says what to start: "factory", "main" or "command".
        raise LauncherError(f"{source}: {entry!r} is required (entry {entry!r})")
    if entry == "main" and config["process_model"] == "fork":
        raise LauncherError(f"{source}: 'process_model' 'fork' cannot run entry 'main': the app's main() builds its app and "
                            "listens itself, so nothing can be bound and forked before it; use 'ports' or 'reuse_port'")
    if entry == "command" and config["process_model"] != "ports":
        raise LauncherError(f"{source}: 'process_model' {config['process_model']!r} cannot run entry 'command': the launcher "
                            "only executes the command; use 'ports' (or entry 'main' or 'factory')")
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

def _missing_module(exc, module_name):
    """The name of the module an ImportError says is missing, when it is ``module_name`` or a parent of it."""
    missing = getattr(exc, "name", None)
    if isinstance(exc, ModuleNotFoundError) and missing and (module_name == missing or module_name.startswith(missing + ".")):
        return missing
    return None


def _load_callable(spec, app_path, key="factory"):
    """Import "module:callable" with ``app_path`` first on sys.path; return the callable.

    ``key`` ("factory" or "main") names the config key in error messages.
    """
    module_name, _colon, attribute = spec.partition(":")
    if app_path not in sys.path:
        sys.path.insert(0, app_path)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = _missing_module(exc, module_name)
        if missing:
            raise LauncherError(
                f"{key} {spec!r}: no module named {missing!r} in app_path {app_path} or the virtualenv") from exc
        raise LauncherError(f"{key} {spec!r}: importing {module_name!r} failed: {exc}", show_traceback=True) from exc
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # The app's own code failed at import time (SyntaxError, a missing setting, ...).
        raise LauncherError(f"{key} {spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}",
                            show_traceback=True) from exc
    target = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise LauncherError(f"{key} {spec!r}: module {module_name!r} has no attribute {attribute!r}") from None
    if not callable(target):
        raise LauncherError(f"{key} {spec!r}: {attribute!r} is not callable")
    return target


def _merge_settings_into_every_application(overrides, constructed):
    """Replace Application.__init__ so every Application built from now on gets ``overrides``; return the original.

    Changing ``app.settings`` after the app is built would be too late: Application.__init__
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
    return original_init


@contextlib.contextmanager
def _settings_applied_over_the_apps(overrides, constructed):
    """Merge ``overrides`` into the keyword arguments of every Application built inside the block."""
    original_init = _merge_settings_into_every_application(overrides, constructed)
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


def _finish_app(app, config, port):
    """What every served Application gets, from a factory or an app's main(): the checks, the health answer, the drain transform."""
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


def build_app(config, port):
    """Import the factory, build the Application with the deployment's settings, check it, return it.

    Runs inside the event loop that will serve the app: Application.__init__ starts autoreload on
    IOLoop.current(), and a factory may schedule callbacks there too.
    """
    spec = config["factory"]
    factory = _load_callable(spec, os.path.abspath(config["app_path"]))
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
    _finish_app(app, config, port)
    return app


def _health_routed_by_app(app, config):
    """Whether a GET of health_path reaches a handler of the app's own rather than the launcher's."""
    if not config["health_path"]:
        return False
    request = tornado.httputil.HTTPServerRequest(
        start_line=tornado.httputil.RequestStartLine("GET", config["health_path"], "HTTP/1.1"),
        headers=tornado.httputil.HTTPHeaders({"Host": "127.0.0.1"}))
    try:
        delegate = app.default_router.find_handler(request)
    except Exception:  # pylint: disable=broad-exception-caught
        return True  # a rule of the app's matched and its target wanted a real connection
    return delegate is not None and getattr(delegate, "handler_class", None) is not _HealthHandler


# The digests Tornado's StaticFileHandler.get_content_version has used: SHA-512 since 6.6, MD5 before.
_STATIC_HASHES = ("sha512", "md5")


def _static_hash(app):
    """"sha512" or "md5" when the app's static handler class versions a file by that digest of its bytes, else None.

    The role keeps its store of static files by version (``static_versions``) only for these; a
    class with versions of its own (an override of get_content_version) gets none. Asked of the
    class itself, on a file of known bytes, so an override that still hashes the same way counts.
    """
    if not app.settings.get("static_path"):
        return None
    handler_class = app.settings.get("static_handler_class", tornado.web.StaticFileHandler)
    probe = b"webops.tornado: which digest versions static files?\n"
    try:
        with tempfile.TemporaryDirectory(prefix="webops-static-hash-") as directory:
            path = os.path.join(directory, "probe.txt")
            with open(path, "wb") as handle:
                handle.write(probe)
            try:
                version = handler_class.get_content_version(path)
            except Exception:  # pylint: disable=broad-exception-caught
                return None  # a class that cannot version a plain file has a scheme of its own
    except OSError as exc:
        _LOG.warning("cannot tell how static files are versioned (no temporary file: %s): no store of static versions", exc)
        return None
    for name in _STATIC_HASHES:
        if version == hashlib.new(name, probe, usedforsecurity=False).hexdigest():
            return name
    return None


def describe_app(app, config):
    """The --check JSON: what nginx and the role need to know of the served Application."""
    description = {"status": "ok", "static_path": None, "static_url_prefix": None, "template_path": None,
                   "health_routed_by_app": False, "static_hash": None}
    if app is None:
        return description
    # Relative paths are relative to the working directory: app_path, as supervisord's program has.
    static_path = app.settings.get("static_path")
    template_path = app.settings.get("template_path")
    description.update(
        static_path=os.path.abspath(os.fspath(static_path)) if static_path else None,
        static_url_prefix=app.settings.get("static_url_prefix", "/static/"),
        template_path=os.path.abspath(os.fspath(template_path)) if template_path else None,
        health_routed_by_app=_health_routed_by_app(app, config),
        static_hash=_static_hash(app),
    )
    return description


# --- WebSockets ------------------------------------------------------------------------------------

# Every WebSocket connection of this process (tornado.websocket.WebSocketProtocol objects), kept
# weakly: a closed one goes away with its handler.
_WEBSOCKETS = weakref.WeakSet()


def _track_websockets():
    """Note every WebSocket connection from now on, whatever the app's handler classes.

    ``get_websocket_protocol`` is where WebSocketHandler.get creates the connection object (apps
    override open/on_message/on_close, not this), so the hook is on the base class.
    """
    original = tornado.websocket.WebSocketHandler.get_websocket_protocol
    if getattr(original, "webops_tracks_websockets", False):
        return

    @functools.wraps(original)
    def get_websocket_protocol(self):
        protocol = original(self)
        if protocol is not None:
            _WEBSOCKETS.add(protocol)
        return protocol

    get_websocket_protocol.webops_tracks_websockets = True
    tornado.websocket.WebSocketHandler.get_websocket_protocol = get_websocket_protocol


def _open_websockets():
    """WebSocket connections past their handshake whose stream is still open."""
    return [protocol for protocol in list(_WEBSOCKETS) if protocol.stream is not None and not protocol.stream.closed()]


def _close_websockets():
    """Send a close frame (1001, going away) on every open WebSocket that has not been sent one; return how many."""
    sent = 0
    for protocol in _open_websockets():
        if protocol.server_terminated:
            continue  # a close frame went out already (ours, or the app's own close())
        handler = protocol.handler
        try:
            if getattr(handler, "ws_connection", None) is protocol:
                handler.close(*_GOING_AWAY)  # through the handler, so it forgets the connection as usual
            else:
                protocol.close(*_GOING_AWAY)
        except Exception:  # pylint: disable=broad-exception-caught
            _LOG.debug("closing a WebSocket failed", exc_info=True)
        sent += 1
    return sent


def _cut_websockets():
    """Close the streams of the WebSockets whose client never completed the close; return how many."""
    remaining = _open_websockets()
    for protocol in remaining:
        protocol.stream.close()
    return len(remaining)


# --- Versioned static URLs -------------------------------------------------------------------------

# What static_url() writes as ``v``: a hex digest (MD5 in older Tornado, SHA-512 since 6.6). Only such a
# value names a directory of the store; anything else (``..``, a slash) never reaches a path.
_STATIC_VERSION = re.compile(r"[0-9a-f]{32,128}\Z")


def _requested_version(handler):
    """The request's ``v`` argument: None without one, "" when it cannot be a version (given twice, not ASCII)."""
    values = handler.request.arguments.get("v")
    if values is None:
        return None
    if len(values) != 1:
        return ""
    try:
        return values[0].decode("ascii")
    except UnicodeDecodeError:
        return ""


def _inside(path, directory):
    return (path + os.sep).startswith(directory.rstrip(os.sep) + os.sep)


def _version_entry(handler, root, written, version):
    """(``<store>/<version>/<path under root>``, its stat) when that is a regular file whose content has ``version``, else None.

    ``written`` is the requested file as get_absolute_path wrote it: only its name under root is
    used, the name the store keeps it by (the file itself may be gone from this release).
    """
    store = type(handler).webops_static_versions
    if not store or not _STATIC_VERSION.match(version):
        return None
    relative = os.path.relpath(written, os.path.abspath(root))
    if relative == os.curdir or relative.split(os.sep)[0] == os.pardir:
        return None
    directory = os.path.normpath(os.path.join(store, version))
    entry = os.path.normpath(os.path.join(directory, relative))
    if not _inside(entry, directory):
        return None
    try:
        stat_result = os.stat(entry)
    except OSError:
        return None
    # The store holds regular files (hard links or copies): a symlink out of the version's directory is not one.
    if not stat.S_ISREG(stat_result.st_mode) or not _inside(os.path.realpath(entry), os.path.realpath(directory)):
        return None
    # A name in the store is only what its writer meant: the bytes decide. The class's cache (the one
    # its ETag reads) keeps the hash, so an entry is read once per process.
    if type(handler)._get_cached_version(entry) != version:  # pylint: disable=protected-access
        return None
    return entry, stat_result


def _serve_static_by_version(store):
    """Make StaticFileHandler answer ``?v=`` with the bytes that have that version, or say they may not be cached.

    Tornado gives any ``v`` ten years of caching, whatever the file holds now: during a rolling
    deploy a page of the previous release asks this one for its versions, and browsers and caches
    would keep the wrong bytes for ten years. So, on the class (its subclasses get it unless they
    override these methods), before any app is built:

    - ``validate_absolute_path``: after Tornado's own checks (the root, symlinks, 403s), a ``v`` that
      is not the current file's version serves ``<store>/<v>/<path>`` instead when that file's
      content has that version, also when this release has no such file (Tornado's 404);
      Last-Modified, Content-Length and the ETag then describe those bytes, as Tornado reads them
      from the path returned;
    - ``get_cache_time``: the long lifetime only when ``v`` is the version of the file served, 0 otherwise.

    Without ``v`` nothing changes. Installed once per process; ``store`` (None: no store) is kept on the class.
    """
    handler_class = tornado.web.StaticFileHandler
    handler_class.webops_static_versions = store
    original_validate = handler_class.validate_absolute_path
    if getattr(original_validate, "webops_serves_by_version", False):
        return
    original_cache_time = handler_class.get_cache_time

    @functools.wraps(original_validate)
    def validate_absolute_path(self, root, absolute_path):
        version = _requested_version(self)
        try:
            validated = original_validate(self, root, absolute_path)
        except tornado.web.HTTPError as exc:
            found = _version_entry(self, root, absolute_path, version) if version and exc.status_code == 404 else None
            if found is None:
                raise
        else:
            if validated is None or not version or version == self._get_cached_version(validated):  # pylint: disable=protected-access
                return validated
            found = _version_entry(self, root, absolute_path, version)
            if found is None:
                return validated
        entry, stat_result = found
        # Tornado's get() reads the size and modification time from this stat (older Tornado fills it lazily).
        self._stat_result = stat_result  # pylint: disable=protected-access
        return entry

    @functools.wraps(original_cache_time)
    def get_cache_time(self, path, modified, mime_type):
        version = _requested_version(self)
        if version is None:
            return original_cache_time(self, path, modified, mime_type)
        matches = bool(version) and version == self._get_cached_version(self.absolute_path)  # pylint: disable=protected-access
        return self.CACHE_MAX_AGE if matches else 0

    validate_absolute_path.webops_serves_by_version = True
    handler_class.validate_absolute_path = validate_absolute_path
    handler_class.get_cache_time = get_cache_time


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
    An app's own HTTPServer (entry "main") becomes one of these when it starts listening
    (``_make_draining``), before it has accepted any connection.
    """

    _open_conns = None
    _busy_conns = None

    def initialize(self, *args, **kwargs):  # pylint: disable=arguments-differ
        super().initialize(*args, **kwargs)
        self.start_tracking()

    def start_tracking(self):
        """Start counting connections (none may have been accepted yet)."""
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
        """Stop accepting; say goodbye to WebSockets; let requests in flight finish for up to ``grace_seconds``; close everything.

        Returns how many requests were still in flight when the connections were closed.
        """
        self.stop()  # closes the listening sockets: new connections are refused from here on
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_seconds
        # WebSockets first: their clients reconnect elsewhere at once, instead of seeing the
        # connection cut (1006) when the process exits.
        going_away = _close_websockets()
        if going_away:
            _LOG.info("sent %d WebSocket(s) a close frame (1001 going away)", going_away)
        # Idle keep-alive connections are NOT closed from this side: nginx may be writing a request
        # (a POST it will never retry) into one at that very moment. A request that still arrives
        # on one is answered with `Connection: close`, and nginx closes idle upstream connections
        # itself after its upstream keepalive_timeout, which webops.tornado.nginx keeps shorter
        # than this grace period. So the drain ends when the peer has closed every connection.
        while True:
            _close_websockets()  # one whose upgrade was in flight when the drain began
            if (not self._open_conns and not _open_websockets()) or hurry.is_set() or loop.time() >= deadline:
                break
            await asyncio.sleep(_DRAIN_POLL_SECONDS)
        cut_short = len(self._busy_conns)
        websockets_cut = _cut_websockets()
        if websockets_cut:
            _LOG.warning("closed %d WebSocket(s) whose client did not complete the close", websockets_cut)
        await self.close_all_connections()
        return cut_short


def _make_draining(server):
    """Turn an app's HTTPServer (or an instance of its subclass of it) into a _DrainingHTTPServer."""
    cls = type(server)
    if not issubclass(cls, _DrainingHTTPServer):
        if cls is tornado.httpserver.HTTPServer:
            draining = _DrainingHTTPServer
        else:
            # The app's subclass keeps its own methods; ours come first and call them through super().
            draining = type(f"Draining{cls.__name__}", (_DrainingHTTPServer, cls), {"__module__": __name__})
        server.__class__ = draining
    server.start_tracking()


def _bind(config, port, **options):
    """Listening sockets for ``port`` (what HTTPServer.listen does, split so fork can bind first)."""
    reuse_port = config["process_model"] == "reuse_port"
    try:
        return _TORNADO_BIND_SOCKETS(port, config["address"] or None, reuse_port=reuse_port, **options)
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


# --- Entry "main": the app's own main(), with the launcher's guarantees -----------------------------

def _exit_status(exc):
    """The process status a SystemExit stands for, as the interpreter computes it."""
    code = exc.code
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message"): Python prints it and exits 1
    return EXIT_RUNTIME


def _raise_system_exit():
    """A loop callback: unwind the app's IOLoop.start() / asyncio.run() and its main()."""
    raise SystemExit(EXIT_OK)


class _MainRun:  # pylint: disable=too-many-instance-attributes
    """Runs an app's own main() (entry "main") with the hooks that give it a factory's guarantees.

    The hooks go on Tornado's classes and functions before the app is imported; every path to a
    listening HTTPServer goes through two of them: ``bind_sockets`` (Tornado's listen(), bind() and
    the app's own calls), which binds the assigned port on the config's address instead of what the
    app asked for, and ``TCPServer.add_sockets`` (listen(), start() and the app's own calls), where
    the launcher adopts the server: one per process, xheaders, the drain, the health answer.
    """

    def __init__(self, config, port, check=False):
        self.config = config
        self.port = port
        self.check = check
        self.spec = config["main"]
        self.constructed = []  # every Application the app built (all get the settings)
        self.bound = []  # the sockets the launcher bound for the app
        self.server = None  # the app's HTTPServer, once adopted
        self.app = None  # the Application it serves (None for a plain callable)
        self.io_loop = None  # the IOLoop the server accepts on
        self.hurry = None  # asyncio.Event, on that loop, once the drain began
        self.drain_task = None
        self.stopped = False  # the drain is over and the launcher raised SystemExit
        self.stopped_before_listening = False
        self.signals = 0
        self.stop_signalled = threading.Event()  # for the watchdog thread
        self.hurry_signalled = threading.Event()
        self.warned_about_signals = set()
        self.launcher_argv = list(sys.argv)
        self.launcher_main_module = sys.modules.get("__main__")

    # -- Installing the hooks -------------------------------------------------------------------

    def install(self):
        """Hook Tornado (and, when serving, the stop signals) before anything of the app runs."""
        overrides = dict(self.config["settings"])
        overrides["webops_port"] = self.port
        overrides["webops_draining"] = False
        _merge_settings_into_every_application(overrides, self.constructed)

        # tornado.tcpserver imported bind_sockets by name: both places, and every later
        # `from tornado.netutil import bind_sockets` in the app gets the hook too.
        tornado.netutil.bind_sockets = self.bind_sockets
        tornado.tcpserver.bind_sockets = self.bind_sockets
        tornado.process.fork_processes = self.fork_processes
        original_add_sockets = tornado.tcpserver.TCPServer.add_sockets
        run = self

        @functools.wraps(original_add_sockets)
        def add_sockets(server, sockets):
            sockets = list(sockets)
            run.adopt(server, sockets)
            original_add_sockets(server, sockets)

        tornado.tcpserver.TCPServer.add_sockets = add_sockets
        # The app's own debug=True turns autoreload on: its re-execution must start the launcher
        # again, not the app's module with the app's args (which would run it unguarded).
        tornado.autoreload.add_reload_hook(self.restore_launcher_command)
        if self.check:
            return

        for signum in (signal.SIGTERM, signal.SIGINT):
            _SIGNAL_SIGNAL(signum, self.on_signal)
        # The drain is the stop: an app's own handler would replace it (or race it), so it is not installed.
        signal.signal = self.app_sets_signal
        original_add_signal_handler = asyncio.SelectorEventLoop.add_signal_handler

        @functools.wraps(original_add_signal_handler)
        def add_signal_handler(loop, sig, callback, *args):
            if sig in (signal.SIGTERM, signal.SIGINT):
                run.warn_about_signal(sig, "loop.add_signal_handler")
                return None
            return original_add_signal_handler(loop, sig, callback, *args)

        asyncio.SelectorEventLoop.add_signal_handler = add_signal_handler

    def restore_launcher_command(self):
        """autoreload's reload hook: re-execute ``python launcher.py --config ... --port ...``."""
        sys.argv = list(self.launcher_argv)
        if self.launcher_main_module is not None:
            sys.modules["__main__"] = self.launcher_main_module

    def app_sets_signal(self, signalnum, handler):
        """signal.signal as the app sees it: SIGTERM and SIGINT stay the launcher's."""
        if signalnum in (signal.SIGTERM, signal.SIGINT):
            self.warn_about_signal(signalnum, "signal.signal")
            return signal.getsignal(signalnum)
        return _SIGNAL_SIGNAL(signalnum, handler)

    def warn_about_signal(self, signalnum, how):
        """Say once per signal that the app's own handler is not installed."""
        name = signal.Signals(signalnum).name
        if name not in self.warned_about_signals:
            self.warned_about_signals.add(name)
            _LOG.warning("the app's own %s handler (%s) is not installed: the launcher drains on %s; "
                         "put clean-up in finally blocks or atexit", name, how, name)

    # -- The hooks ------------------------------------------------------------------------------

    # The signature is tornado.netutil.bind_sockets's, so every call the app makes still fits.
    def bind_sockets(self, port, address=None, family=socket.AF_UNSPEC,  # pylint: disable=too-many-arguments,too-many-positional-arguments
                     backlog=tornado.netutil._DEFAULT_BACKLOG, flags=None, reuse_port=False):  # pylint: disable=protected-access
        """tornado.netutil.bind_sockets for the app: the assigned port on the config's address, once."""
        del family, reuse_port  # the config's address and process model decide
        asked = f"{address or '*'}:{port}"
        if self.bound:
            raise LauncherError(f"main {self.spec!r} asked to listen again (on {asked}): the launcher serves one HTTP server "
                                "per process, on the assigned port; serve other apps from their own programs")
        if self.check:
            # A socket the app can look at, which never listens: nothing may connect to a check.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.bind(("127.0.0.1", 0))
            self.bound.append(sock)
            return [sock]
        _LOG.info("the app asked to listen on %s: binding the assigned %s:%d", asked, self.config["address"] or "*", self.port)
        sockets = _bind(self.config, self.port, backlog=backlog, flags=flags)
        self.bound.extend(sockets)
        return sockets

    def fork_processes(self, num_processes, max_restarts=None):
        """tornado.process.fork_processes for the app: never forks; the deployment chooses the processes.

        Returns None, as in a process that HTTPServer.start(1) left unforked (task_id() stays None).
        """
        del max_restarts
        if num_processes != 1:
            asked = num_processes if num_processes and num_processes > 0 else f"{num_processes} (one per CPU)"
            _LOG.warning("the app asked for %s processes (HTTPServer.start or fork_processes): not forking, process_model %r "
                         "chooses the processes; serving in this process", asked, self.config["process_model"])

    def adopt(self, server, sockets):
        """The app's server starts accepting on ``sockets``: make it the launcher's, or refuse."""
        if server is self.server:
            return
        if not isinstance(server, tornado.httpserver.HTTPServer):
            raise LauncherError(f"main {self.spec!r} listens with {type(server).__name__!r}, a TCPServer that is not a tornado "
                                "HTTPServer: the launcher cannot drain it or apply the deployment's settings (use entry 'command')")
        if any(not any(sock is ours for ours in self.bound) for sock in sockets):
            raise LauncherError(f"main {self.spec!r} gave add_sockets a socket the launcher did not bind (a unix socket, or one "
                                "made by hand): only listen(), bind()/start() and tornado.netutil.bind_sockets are supported")
        if self.server is not None:
            raise LauncherError(f"main {self.spec!r} started a second HTTP server: the launcher serves one per process")
        app = server.request_callback if isinstance(server.request_callback, tornado.web.Application) else None
        if app is None:
            _LOG.warning("the app's HTTPServer serves a %s, not a tornado.web.Application: no health answer, no "
                         "Connection: close while draining", type(server.request_callback).__name__)
        else:
            _finish_app(app, self.config, self.port)
        self.app = app
        if self.check:
            raise _ListenReached()

        _make_draining(server)
        server.xheaders = self.config["xheaders"]
        self.io_loop = tornado.ioloop.IOLoop.current()  # where add_accept_handler registers the sockets
        self.server = server
        threading.Thread(target=self.watchdog, name="webops-launcher-watchdog", daemon=True).start()
        _LOG.info("%s: pid %d listening on %s:%d (process model %s, entry main %s)", self.config["name"], os.getpid(),
                  self.config["address"] or "*", self.port, self.config["process_model"], self.spec)

    # -- Stopping -------------------------------------------------------------------------------

    def on_signal(self, signum, _frame):
        """SIGTERM/SIGINT (a Python handler: it runs in the main thread, between two bytecodes)."""
        self.signals += 1
        if self.server is None:
            # Nothing listens yet, so nothing is in flight: stop at once; and for certain, even if
            # the app swallows the SystemExit or hangs in its clean-up.
            self.stopped_before_listening = True
            if self.signals == 1:
                deadline = threading.Timer(_EXIT_MARGIN_SECONDS, _end_now, (EXIT_OK,))
                deadline.daemon = True
                deadline.start()
            raise SystemExit(EXIT_OK)
        (self.hurry_signalled if self.signals > 1 else self.stop_signalled).set()
        try:
            self.io_loop.asyncio_loop.call_soon_threadsafe(self.stop_in_loop, signal.Signals(signum).name)
        except RuntimeError:
            pass  # the loop is closed: the process is on its way out

    def stop_in_loop(self, reason):
        """On the server's loop: begin the drain, or hurry it on a second signal."""
        if self.hurry is None:
            self.hurry = asyncio.Event()
            _LOG.info("%s: draining (up to %ss for requests in flight)", reason, self.config["grace_seconds"])
            self.drain_task = asyncio.get_running_loop().create_task(self.drain())
        elif not self.hurry.is_set():
            _LOG.warning("%s again: closing connections with requests still in flight", reason)
            self.hurry.set()

    async def drain(self):
        """As a factory's: health 503 and Connection: close, WebSockets told, requests finished; then exit."""
        for app in self.constructed:
            app.settings["webops_draining"] = True
        cut_short = await self.server.drain(self.config["grace_seconds"], self.hurry)
        if cut_short:
            _LOG.warning("closed %d connection(s) with a request still in flight", cut_short)
        _LOG.info("%s: pid %d stopped", self.config["name"], os.getpid())
        self.stopped = True
        # From a plain callback, not from this task: the SystemExit leaves run_forever() at once
        # and no task is left holding an exception nobody retrieves.
        asyncio.get_running_loop().call_soon(_raise_system_exit)

    def watchdog(self):
        """Whatever the app does with the SystemExit, the process ends soon after the grace period."""
        self.stop_signalled.wait()
        if self.hurry_signalled.wait(self.config["grace_seconds"] + _EXIT_MARGIN_SECONDS):
            time.sleep(_EXIT_MARGIN_SECONDS)
        _LOG.warning("%s: the app's main() did not end after the stop: exiting now", self.config["name"])
        _end_now(EXIT_OK)

    # -- Running the app ------------------------------------------------------------------------

    def _target(self):
        """("script", path), ("module", name) or ("callable", spec), checked before anything runs."""
        app_path = self.config["app_path"]
        if self.spec.endswith(".py"):
            path = os.path.join(app_path, self.spec)
            if not os.path.isfile(path):
                raise LauncherError(f"main {self.spec!r}: no such script in app_path {app_path}")
            return "script", path
        if ":" in self.spec:
            return "callable", self.spec
        return "module", self.spec

    def _find_module(self, module_name):
        """A missing module is a config error; importing its parent packages runs app code (hooked already)."""
        try:
            found = importlib.util.find_spec(module_name)
        except ImportError as exc:
            if not _missing_module(exc, module_name):
                raise
            found = None
        if found is None:
            raise LauncherError(f"main {self.spec!r}: no module named {module_name!r} in app_path "
                                f"{self.config['app_path']} or the virtualenv")

    def _run_target(self, kind, target):
        if kind == "script":
            # As `python path.py`: the script's directory first on sys.path, argv[0] the script.
            sys.path.insert(0, os.path.dirname(target))
            runpy.run_path(target, run_name="__main__")
        elif kind == "module":
            self._find_module(target)
            runpy.run_module(target, run_name="__main__", alter_sys=True)  # as `python -m`
        else:
            function = _load_callable(target, self.config["app_path"], key="main")
            result = function()
            if inspect.iscoroutine(result):
                asyncio.run(result)

    def run(self):
        """Run the app's main(); return its exit status (serving) or the --check description."""
        app_path = self.config["app_path"]
        kind, target = self._target()
        if app_path not in sys.path:
            sys.path.insert(0, app_path)
        self.install()
        port = str(self.port)
        sys.argv = [target if kind == "script" else target.partition(":")[0]] + [arg.replace("{port}", port) for arg in self.config["args"]]
        try:
            self._run_target(kind, target)
        except _ListenReached:
            return describe_app(self.app, self.config)
        except SystemExit as exc:
            return self._after_exit(exc)
        except (LauncherError, KeyboardInterrupt):
            raise
        except _CheckTimeout as exc:
            raise LauncherError(f"main {self.spec!r} did not start listening within the check timeout (--check-timeout)",
                                show_traceback=True) from exc
        except BaseException as exc:  # pylint: disable=broad-exception-caught
            if self.server is None:
                raise LauncherError(f"main {self.spec!r} raised {type(exc).__name__} before listening: {exc}",
                                    show_traceback=True) from exc
            raise LauncherError(f"main {self.spec!r} raised {type(exc).__name__} while serving: {exc}",
                                exit_code=EXIT_RUNTIME, show_traceback=True) from exc
        return self._after_return()

    def _after_exit(self, exc):
        if self.stopped:
            return EXIT_OK
        if self.stopped_before_listening:
            _LOG.info("%s: pid %d stopped before listening", self.config["name"], os.getpid())
            return EXIT_OK
        status = _exit_status(exc)
        if self.check or self.server is None:
            raise LauncherError(f"main {self.spec!r} exited with status {status} before listening",
                                exit_code=EXIT_CONFIG if self.check or not status else status)
        _LOG.warning("main %r exited with status %s while serving (not stopped by a signal)", self.spec, status)
        return status

    def _after_return(self):
        if self.stopped:
            return EXIT_OK  # the app caught the launcher's SystemExit and returned
        if self.check or self.server is None:
            raise LauncherError(f"main {self.spec!r} returned without listening")
        _LOG.warning("main %r returned while serving (not stopped by a signal)", self.spec)
        return EXIT_OK


# --- Entry "command" -------------------------------------------------------------------------------

def _exec_command(config, port):
    """Replace this process with the app's own command: nothing of the launcher stays."""
    argv = [part.replace("{port}", str(port)) for part in config["command"]]
    _LOG.info("%s: executing %s (entry command: no drain, no settings, no health answer)", config["name"], argv[0])
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        raise LauncherError(f"command {argv[0]!r} cannot be executed: {exc.strerror or exc}") from exc
    return EXIT_RUNTIME  # not reached: execvp replaces this process or raises


def _check_command(config):
    program = config["command"][0]
    if shutil.which(program) is None:
        raise LauncherError(f"command {program!r}: not found on PATH or not executable")
    return {"status": "unchecked", "static_path": None, "static_url_prefix": None, "template_path": None,
            "health_routed_by_app": None, "static_hash": None}


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
    parser.add_argument("--check", action="store_true",
                        help="build the app (entry main: run it up to its listen), print one JSON line describing it, exit 0 without listening")
    parser.add_argument("--check-timeout", type=float, default=_CHECK_TIMEOUT_SECONDS, metavar="SECONDS",
                        help=f"--check fails when the app has not reached its listen by then (default {_CHECK_TIMEOUT_SECONDS})")
    args = parser.parse_args(argv)
    if args.port is None and not args.check:
        parser.error("--port is required (unless --check)")
    if args.port is not None and not 0 < args.port < 65536:
        parser.error(f"--port must be 1-65535, got {args.port}")
    if not args.check_timeout > 0:
        parser.error(f"--check-timeout must be a number of seconds > 0, got {args.check_timeout}")
    return args


async def _check(config, port):
    return describe_app(build_app(config, port), config)


def _waiting_tasks():
    """The stacks of the asyncio tasks of the running loop (where an app's coroutines wait), as text."""
    try:
        tasks = asyncio.all_tasks(asyncio.get_running_loop())
    except RuntimeError:
        return ""
    text = io.StringIO()
    for task in tasks:
        task.print_stack(file=text)
    return text.getvalue()


@contextlib.contextmanager
def _check_deadline(seconds):
    """Raise _CheckTimeout in the main thread after ``seconds``; end the process a little later if that does not do it."""
    def on_alarm(_signum, _frame):
        exc = _CheckTimeout(f"no listen within {seconds}s")
        waiting = _waiting_tasks()
        if waiting:
            exc.add_note(waiting.rstrip())
        raise exc

    finished = threading.Event()

    def hard_deadline():
        if finished.wait(seconds + _CHECK_HARD_MARGIN_SECONDS):
            return
        faulthandler.dump_traceback(all_threads=True)
        _LOG.error("the check did not end %ss after --check-timeout: the app ignored the timeout; exiting", _CHECK_HARD_MARGIN_SECONDS)
        logging.shutdown()
        os._exit(EXIT_CONFIG)  # pylint: disable=protected-access

    previous = _SIGNAL_SIGNAL(signal.SIGALRM, on_alarm)
    threading.Thread(target=hard_deadline, name="webops-launcher-check-deadline", daemon=True).start()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _SIGNAL_SIGNAL(signal.SIGALRM, previous)
        finished.set()


def _run_check(config, args):
    """--check: build (or run up to its listen) the app without listening; return the JSON description."""
    # As supervisord's program does (directory=app_path): relative paths in the app resolve the same.
    os.chdir(config["app_path"])
    entry = config["entry"]
    if entry == "command":
        return _check_command(config)
    try:
        with _check_deadline(args.check_timeout):
            if entry == "factory":
                # In a loop, as when serving: an app with autoreload on attaches it to IOLoop.current().
                return asyncio.run(_check(config, args.port or 0))
            return _MainRun(config, args.port or _CHECK_PORT, check=True).run()
    except _CheckTimeout as exc:
        raise LauncherError(f"{entry} {config[entry]!r} did not finish within the check timeout (--check-timeout)",
                            show_traceback=True) from exc


def _end_now(status):
    """Flush and exit at once: no waiting for threads (nor atexit handlers) that would keep the process."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # pylint: disable=protected-access


def launcher_main(argv=None):
    """Run the command line; return the exit status."""
    args = _parse_args(argv)
    _configure_logging()
    config = None
    try:
        config = load_config(args.config)
        if not config["access_log"]:
            # A logged request costs its process about an eighth of its throughput, and supervisord, which
            # reads the line, CPU besides (docs/benchmarks.md): errors only, an app's own setting still wins.
            logging.getLogger("tornado.access").setLevel(logging.WARNING)
        if args.app_path:
            config["app_path"] = args.app_path
        config["app_path"] = os.path.abspath(config["app_path"])
        if not os.path.isdir(config["app_path"]):
            raise LauncherError(f"app_path {config['app_path']!r} is not a directory")
        # Before anything of the app is imported or executed, whatever the entry (the app's secrets).
        os.environ.update(config["environment"])
        if config["environment"] and not args.check:
            # Names only, never values: what an operator needs to tell the deployment's variables arrived.
            _LOG.info("environment: %s set from the config", ", ".join(sorted(config["environment"])))
        if args.check:
            print(json.dumps(_run_check(config, args)), flush=True)
            status = EXIT_OK
        elif config["entry"] == "command":
            status = _exec_command(config, args.port)
        else:
            _warn_if_xheaders_exposed(config)
            _track_websockets()
            _serve_static_by_version(config["static_versions"])
            if config["entry"] == "main":
                status = _MainRun(config, args.port).run()
            elif config["process_model"] == "fork" and config["processes"] != 1:
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
        # The summary, then the app's own traceback (not the launcher's frames that re-raised it).
        _LOG.error("%s", exc, exc_info=(cause or True) if exc.show_traceback else False)
        status = exc.exit_code
    if config is not None and config["entry"] == "main" and (args.check or status != EXIT_OK):
        # The app's main() was stopped halfway (a check, or a failure): a thread it started (not a
        # daemon) would keep the process, and Ansible's task or supervisord, waiting forever. The
        # verdict is out: end here. (A clean stop ends normally, atexit handlers included: the
        # watchdog covers threads there.)
        _end_now(status)
    if _started_by_autoreload_wrapper():
        # Returning would leave the wrapper waiting for a source change forever; a stop is a stop.
        _end_now(status)
    return status


# `python -m tornado.autoreload` runs this file with __name__ == "__main__" too (it executes the
# script rather than importing it), so this one guard covers both ways of starting; importing the
# file (tests, tools) runs nothing. Top-level names avoid those of tornado.autoreload (main, wait,
# watch, start, ...), which older Tornado versions execute this script alongside.
if __name__ == "__main__":
    sys.exit(launcher_main())
