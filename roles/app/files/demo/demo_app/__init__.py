# Copyright: webops.tornado maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's demo app: every feature Tornado's "Running and deploying" guide relies on, in one small app.

The launcher imports ``demo_app:make_app`` with this source directory (the one holding VERSION,
static/ and templates/) first on sys.path, and applies the deployment's settings over the ones
below. To run it on a workstation, give the launcher a config of your own::

    {"name": "demo", "app_path": "/path/to/demo", "factory": "demo_app:make_app",
     "settings": {"cookie_secret": "<32 random bytes or more>", "debug": true}}

    python -m tornado.autoreload webops_tornado_launcher.py --config demo.json --port 8000

Settings the launcher adds and this app reads: ``webops_port`` (the port this process listens
on; behind nginx, request.host carries nginx's) and ``webops_draining`` (True while stopping).
"""

import asyncio
import os
import socket
import urllib.parse

import tornado.web
import tornado.websocket

SRC_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read_version():
    try:
        with open(os.path.join(SRC_DIR, "VERSION"), encoding="utf-8") as handle:
            return handle.read().strip() or "unknown"
    except OSError:
        return "unknown"


# Read once, at import: a release is a new directory and a new process, never a changed file.
VERSION = _read_version()

# The value Tornado's documentation shows, kept here ON PURPOSE: many real apps ship it. The
# launcher must replace it with the deployment's generated secret (settings.cookie_secret in
# launcher.json), and refuses to start an app whose effective secret is still this one.
PLACEHOLDER_COOKIE_SECRET = "__TODO:_GENERATE_YOUR_OWN_RANDOM_VALUE_HERE__"

MAX_SLOW_SECONDS = 30
MAX_NAME_LENGTH = 64


def _server_port(handler):
    """The port this process listens on (the launcher says; else ask the socket)."""
    port = handler.settings.get("webops_port")
    if port:
        return port
    stream = getattr(handler.request.connection, "stream", None)
    try:
        return stream.socket.getsockname()[1]
    except (AttributeError, OSError):
        return None


class VersionHeader(tornado.web.OutputTransform):
    """X-App-Version on every response (pages, JSON, static files, errors), to see which release answered."""

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        headers["X-App-Version"] = VERSION
        return status_code, headers, chunk


class BaseHandler(tornado.web.RequestHandler):  # pylint: disable=abstract-method
    """Signed-cookie login and the values every template shows."""

    def get_current_user(self):
        # get_signed_cookie is Tornado 6.3's name for get_secure_cookie; support both.
        getter = getattr(self, "get_signed_cookie", None) or self.get_secure_cookie
        user = getter("user")
        return user.decode("utf-8") if user else None

    def get_template_namespace(self):
        namespace = super().get_template_namespace()
        namespace.update(version=VERSION, pid=os.getpid(), port=_server_port(self))
        return namespace


class MainHandler(BaseHandler):  # pylint: disable=abstract-method
    """The demo page: what this process sees of the request, and links to everything else."""

    def get(self):
        self.render("index.html", x_real_ip=self.request.headers.get("X-Real-Ip"))


class LoginHandler(BaseHandler):  # pylint: disable=abstract-method
    """login_url: a form protected by xsrf_cookies; a name is all it takes."""

    def get(self):
        self.render("login.html", error=None)

    def post(self):
        name = self.get_body_argument("name", "").strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            self.set_status(400)
            self.render("login.html", error=f"Give a name of 1 to {MAX_NAME_LENGTH} characters.")
            return
        setter = getattr(self, "set_signed_cookie", None) or self.set_secure_cookie
        # Behind nginx with xheaders, request.protocol is the client's: Secure only where it holds.
        setter("user", name, httponly=True, samesite="Lax", secure=self.request.protocol == "https")
        self.redirect("/me")


class MeHandler(BaseHandler):  # pylint: disable=abstract-method
    """Only for signed-in users: the signed cookie must verify on every process and host."""

    @tornado.web.authenticated
    def get(self):
        self.render("me.html")


class LogoutHandler(BaseHandler):  # pylint: disable=abstract-method
    """Forget the user (POST from the form on /me; GET too, for a plain link)."""

    def get(self):
        self.clear_cookie("user")
        self.redirect("/")

    def post(self):
        self.get()


class WhoAmIHandler(BaseHandler):  # pylint: disable=abstract-method
    """What this process sees: with xheaders, remote_ip and protocol are the client's, not nginx's."""

    def get(self):
        self.set_header("Cache-Control", "no-store")
        self.write({
            "remote_ip": self.request.remote_ip,
            "protocol": self.request.protocol,
            "host": self.request.host,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "port": _server_port(self),
            "version": VERSION,
            "x_real_ip_header": self.request.headers.get("X-Real-Ip"),
        })


class HealthHandler(BaseHandler):  # pylint: disable=abstract-method
    """The app's own health answer (so the launcher's stays unused): 503 once the process drains."""

    def get(self):
        self.set_header("Cache-Control", "no-store")
        if self.settings.get("webops_draining"):
            self.set_status(503)
            self.write({"status": "draining"})
            return
        # hostname: behind a load balancer with several app hosts, which host answered.
        self.write({"status": "ok", "hostname": socket.gethostname(), "port": _server_port(self), "pid": os.getpid(),
                    "version": VERSION})

    def head(self):
        self.get()

    def compute_etag(self):
        return None


@tornado.web.stream_request_body
class UploadHandler(BaseHandler):
    """Counts a large body without holding it in memory. HTTPServer's default max_body_size (100 MB)
    applies. Streamed bodies are not parsed, so the XSRF token comes in the X-XSRFToken header."""

    received = 0

    def prepare(self):
        self.received = 0

    def data_received(self, chunk):
        self.received += len(chunk)

    def post(self):
        self.write({"bytes": self.received})


class EchoWebSocket(tornado.websocket.WebSocketHandler):  # pylint: disable=abstract-method
    """Echoes every message. nginx must pass the Upgrade and Connection headers for this to work."""

    def check_origin(self, origin):
        # Same host only. Behind nginx, Host is the client's (proxy_set_header Host $host).
        return urllib.parse.urlparse(origin).netloc.lower() == self.request.host.lower()

    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


class SlowHandler(BaseHandler):  # pylint: disable=abstract-method
    """Answers after ?seconds=N (at most 30) without blocking the process: a request to stop on."""

    async def get(self):
        try:
            seconds = float(self.get_argument("seconds", "1"))
        except ValueError:
            raise tornado.web.HTTPError(400, "seconds must be a number") from None
        if not 0 <= seconds <= MAX_SLOW_SECONDS:  # also rejects nan
            raise tornado.web.HTTPError(400, f"seconds must be between 0 and {MAX_SLOW_SECONDS}")
        await asyncio.sleep(seconds)
        self.write({"slept": seconds, "pid": os.getpid(), "port": _server_port(self)})


class RootStaticHandler(tornado.web.StaticFileHandler):  # pylint: disable=abstract-method
    """Files browsers look for at the site root, served from the effective static_path.

    The path is read from the settings per request rather than fixed in the route, because the
    deployment's static_path (applied by the launcher) may differ from the default below.
    """

    def initialize(self, path=None, default_filename=None):  # pylint: disable=arguments-differ
        super().initialize(path or self.settings["static_path"], default_filename)


def make_app(**settings):
    """Build the demo Application; keyword arguments override the defaults below."""
    app_settings = {
        # Defaults next to the package, so the source directory runs as it is.
        "static_path": os.path.join(SRC_DIR, "static"),
        "template_path": os.path.join(SRC_DIR, "templates"),
        "cookie_secret": PLACEHOLDER_COOKIE_SECRET,  # see PLACEHOLDER_COOKIE_SECRET: replaced on purpose
        "login_url": "/login",
        "xsrf_cookies": True,
    }
    app_settings.update(settings)
    app = tornado.web.Application([
        (r"/", MainHandler),
        (r"/login", LoginHandler),
        (r"/logout", LogoutHandler),
        (r"/me", MeHandler),
        (r"/whoami", WhoAmIHandler),
        (r"/healthz", HealthHandler),
        (r"/upload", UploadHandler),
        (r"/ws", EchoWebSocket),
        (r"/slow", SlowHandler),
        # Tornado serves favicon.ico and robots.txt from static_path by itself; this route adds the
        # touch icon and keeps the three together.
        (r"/(favicon\.ico|robots\.txt|apple-touch-icon\.png)", RootStaticHandler),
    ], **app_settings)
    app.add_transform(VersionHeader)
    return app
