"""Versioned static URLs through a real launcher: ``?v=`` is cached for long only with bytes of that version.

Tornado's StaticFileHandler caches any ``v`` for ten years; in a rolling deploy a page of one release asks
another for its files. The launcher answers a ``v`` it does not hold now from the store of static versions
(``<static_versions>/<v>/<path>``, when the bytes there have that version) or without a lifetime.
"""

import email.utils
import hashlib
import http.client
import itertools
import json
import os
import textwrap

import pytest
import requests
import tornado.web
from hypothesis import given, note, settings
from hypothesis import strategies as st

from launcher_testlib import SECRET, TIMEOUT, LauncherProcess, base_config, free_port, load_launcher_module, main_config

launcher_module = load_launcher_module()

LONG = tornado.web.StaticFileHandler.CACHE_MAX_AGE
CURRENT = b"body { color: green }  /* this release */\n"
OLD = b"body { color: red }  /* the previous release */\n"
GONE = b"console.log('only the previous release has me');\n"
DECOY = b"outside the static directory and the store\n"

FACTORY_APP = """\
import tornado.web

class StaticUrl(tornado.web.RequestHandler):
    def get(self):
        self.write(self.static_url(self.get_argument("path")))

def make_app():
    return tornado.web.Application([(r"/static-url", StaticUrl)])
"""

MAIN_APP = FACTORY_APP + """
import asyncio

async def main():
    make_app().listen(8888)
    await asyncio.Event().wait()

if __name__ == "__main__":
    asyncio.run(main())
"""


def sha512(data):
    return hashlib.sha512(data).hexdigest()


def long_lived(response):
    """Cache-Control and Expires of Tornado's long lifetime."""
    if response.headers.get("Cache-Control") != f"max-age={LONG}" or "Expires" not in response.headers:
        return False
    expires = email.utils.parsedate_to_datetime(response.headers["Expires"])
    date = email.utils.parsedate_to_datetime(response.headers["Date"])
    return (expires - date).days > 3000


def not_cached_for_long(response):
    """No lifetime at all: neither header (Tornado's answer for a cache time of 0)."""
    return "Cache-Control" not in response.headers and "Expires" not in response.headers


def put(path, data, mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


class Site:
    """A launcher serving a tmp static directory, its store of static versions, and a decoy beside them."""

    def __init__(self, root, process):
        self.root = root
        self.static = root / "static"
        self.store = root / "static-versions"
        self.process = process
        self.session = requests.Session()

    def get(self, path, **kwargs):
        return self.session.get(self.process.url(path), timeout=TIMEOUT, **kwargs)

    def raw_get(self, target):
        """GET ``target`` exactly as written: requests would remove the dot segments first."""
        connection = http.client.HTTPConnection("127.0.0.1", self.process.port, timeout=TIMEOUT)
        try:
            connection.request("GET", target)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


def lay_out(root):
    """The files every site starts with; the decoy is one directory above both static and the store."""
    put(root / "static" / "app.css", CURRENT)
    put(root / "static" / "css" / "site.css", CURRENT)
    put(root / "static-versions" / sha512(OLD) / "app.css", OLD, mtime=978307200)  # 2001-01-01
    put(root / "static-versions" / sha512(OLD) / "css" / "site.css", OLD)
    put(root / "static-versions" / sha512(GONE) / "gone.js", GONE)
    put(root / "app.css", DECOY)
    put(root / "static-versions" / "app.css", DECOY)


def start_site(root, config):
    lay_out(root)
    config["settings"] = {"cookie_secret": SECRET, "static_path": str(root / "static")}
    config.setdefault("static_versions", str(root / "static-versions"))
    config_path = root / "launcher.json"
    config_path.write_text(json.dumps(config))
    process = LauncherProcess(config_path, free_port(), root / "launcher.log")
    try:
        process.wait_listening(count=config.get("processes") or 1)
    except BaseException:
        process.kill()
        raise
    return Site(root, process)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("factory-site")
    (root / "src").mkdir()
    (root / "src" / "static_site.py").write_text(FACTORY_APP)
    served = start_site(root, base_config(app_path=str(root / "src"), factory="static_site:make_app", grace_seconds=1))
    yield served
    served.process.kill()


# --- What a browser and nginx see ------------------------------------------------------------------

def test_the_current_version_is_cached_for_long(site):
    url = site.get("/static-url?path=app.css").text
    assert url == f"/static/app.css?v={sha512(CURRENT)}"  # what the app's pages ask for
    response = site.get(url)
    assert response.status_code == 200
    assert response.content == CURRENT
    assert long_lived(response)
    assert response.headers["Etag"] == f'"{sha512(CURRENT)}"'


def test_without_v_tornado_answers_as_it_always_did(site):
    response = site.get("/static/app.css")
    assert response.status_code == 200
    assert response.content == CURRENT
    assert not_cached_for_long(response)
    assert response.headers["Etag"] == f'"{sha512(CURRENT)}"'
    assert site.get("/static/nothing-here.css").status_code == 404


@pytest.mark.parametrize("query", [
    "v=" + sha512(b"a version no release ever had"),
    "v=" + hashlib.md5(CURRENT).hexdigest(),  # the current bytes, but not the digest this Tornado writes
    "v=" + sha512(CURRENT).upper(),
    "v=",
    "v=not-a-version",
    f"v={sha512(CURRENT)}&v={sha512(CURRENT)}",
    f"v={sha512(OLD)}&v={sha512(OLD)}",
    "v=%C3%A9",
])
def test_another_v_gets_the_current_bytes_without_a_lifetime(site, query):
    response = site.get(f"/static/app.css?{query}")
    assert response.status_code == 200
    assert response.content == CURRENT
    assert not_cached_for_long(response)


@pytest.mark.parametrize("path", ["app.css", "css/site.css"])
def test_an_old_version_is_answered_from_the_store(site, path):
    response = site.get(f"/static/{path}?v={sha512(OLD)}")
    assert response.status_code == 200
    assert response.content == OLD
    assert long_lived(response)
    # The headers describe the bytes served, not the current file.
    assert response.headers["Etag"] == f'"{sha512(OLD)}"'
    assert response.headers["Content-Length"] == str(len(OLD))
    if path == "app.css":
        assert response.headers["Last-Modified"] == "Mon, 01 Jan 2001 00:00:00 GMT"
    revalidated = site.get(f"/static/{path}?v={sha512(OLD)}", headers={"If-None-Match": f'"{sha512(OLD)}"'})
    assert revalidated.status_code == 304


def test_a_file_this_release_no_longer_has_is_answered_from_the_store(site):
    response = site.get(f"/static/gone.js?v={sha512(GONE)}")
    assert response.status_code == 200
    assert response.content == GONE
    assert long_lived(response)
    assert site.get("/static/gone.js").status_code == 404
    assert site.get(f"/static/gone.js?v={sha512(OLD)}").status_code == 404


def test_a_store_entry_whose_bytes_do_not_have_its_version_is_not_served(site):
    liar = b"written under a name that is not its version\n"
    put(site.store / sha512(liar + b"!") / "app.css", liar)
    put(site.store / hashlib.md5(liar).hexdigest() / "app.css", liar)  # right bytes, a digest this Tornado does not write
    for version in (sha512(liar + b"!"), hashlib.md5(liar).hexdigest()):
        response = site.get(f"/static/app.css?v={version}")
        assert response.content == CURRENT
        assert not_cached_for_long(response)
    put(site.store / sha512(liar) / "gone-too.js", liar + b"!")
    assert site.get(f"/static/gone-too.js?v={sha512(liar)}").status_code == 404


def test_a_store_entry_that_is_not_a_regular_file_inside_its_version_is_not_served(site):
    # The right bytes, but through a symlink out of the version's directory (the store holds links and copies).
    (site.store / sha512(DECOY)).mkdir(parents=True, exist_ok=True)
    (site.store / sha512(DECOY) / "app.css").symlink_to(site.root / "app.css")
    (site.store / sha512(b"")).mkdir(parents=True, exist_ok=True)
    (site.store / sha512(b"") / "app.css").mkdir()  # a directory
    for version in (sha512(DECOY), sha512(b"")):
        response = site.get(f"/static/app.css?v={version}")
        assert response.content == CURRENT
        assert not_cached_for_long(response)


@pytest.mark.parametrize("target", [
    "/static/app.css?v=..",
    "/static/app.css?v=../..",
    "/static/app.css?v=..%2F..",
    "/static/app.css?v=/",
    f"/static/app.css?v=../{sha512(OLD)}",
    f"/static/app.css?v={sha512(OLD)}/..",
    f"/static/app.css?v={sha512(OLD)}%2F..",
])
def test_no_v_leads_out_of_its_version(site, target):
    status, body = site.raw_get(target)
    assert status == 200
    assert body == CURRENT


@pytest.mark.parametrize("target", [
    "/static/../app.css",
    "/static/..%2Fapp.css",
    "/static/css/..%2F..%2Fapp.css",
    f"/static/..%2Fapp.css?v={sha512(DECOY)}",
    f"/static/..%2Fstatic-versions%2F{sha512(OLD)}%2Fapp.css",
    f"/static/..%2Fstatic-versions%2F{sha512(OLD)}%2Fapp.css?v={sha512(OLD)}",
    f"/static/..%2Fstatic-versions/app.css?v={sha512(DECOY)}",
    f"/static/%2Fapp.css?v={sha512(OLD)}",
])
def test_no_path_leads_out_of_the_static_directory(site, target):
    status, body = site.raw_get(target)
    assert status in (403, 404)
    assert DECOY not in body and OLD not in body


def test_dot_segments_inside_the_static_directory_name_the_same_file(site):
    status, body = site.raw_get(f"/static/css/..%2Fapp.css?v={sha512(OLD)}")
    assert (status, body) == (200, OLD)


# --- Any bytes: a long lifetime always means the bytes have the version asked for ----------------------

_NAMES = itertools.count()


@settings(max_examples=25)
@given(current=st.binary(max_size=512), old=st.binary(max_size=512), stored_as_named=st.booleans(),
       asked=st.sampled_from(["current", "old", "unknown"]), in_this_release=st.booleans())
def test_long_lifetime_only_for_bytes_of_that_version(site, current, old, stored_as_named, asked, in_this_release):
    name = f"generated/{next(_NAMES)}.bin"
    if in_this_release:
        put(site.static / name, current)
    put(site.store / sha512(old) / name, old if stored_as_named else old + b"\0")
    version = {"current": sha512(current), "old": sha512(old), "unknown": sha512(old + current + b"?")}[asked]
    response = site.get(f"/static/{name}?v={version}")
    note(f"{response.status_code} {dict(response.headers)}")
    if long_lived(response):
        assert sha512(response.content) == version
        assert response.headers["Etag"] == f'"{version}"'
    if in_this_release and version == sha512(current):
        assert (response.status_code, response.content, long_lived(response)) == (200, current, True)
    elif version == sha512(old) and stored_as_named:
        assert (response.status_code, response.content, long_lived(response)) == (200, old, True)
    elif in_this_release:
        assert (response.status_code, response.content, not_cached_for_long(response)) == (200, current, True)
    else:
        assert response.status_code == 404


# --- Every way the launcher serves ---------------------------------------------------------------------

@pytest.mark.parametrize("how", ["main", "fork"])
def test_other_entries_and_process_models_serve_by_version_too(tmp_path, how):
    (tmp_path / "src").mkdir()
    if how == "main":
        (tmp_path / "src" / "static_main.py").write_text(MAIN_APP)
        config = main_config("argparse_port", app_path=str(tmp_path / "src"), main="static_main.py", args=[], grace_seconds=1)
    else:
        (tmp_path / "src" / "static_site.py").write_text(FACTORY_APP)
        config = base_config(app_path=str(tmp_path / "src"), factory="static_site:make_app", grace_seconds=1,
                             process_model="fork", processes=2)
    site_ = start_site(tmp_path, config)
    try:
        for _attempt in range(4):  # fork: more than one child answers
            old = site_.get(f"/static/app.css?v={sha512(OLD)}", headers={"Connection": "close"})
            assert (old.content, long_lived(old)) == (OLD, True)
            other = site_.get(f"/static/app.css?v={sha512(DECOY)}", headers={"Connection": "close"})
            assert (other.content, not_cached_for_long(other)) == (CURRENT, True)
    finally:
        site_.process.kill()


def test_without_a_store_only_the_current_version_is_cached_for_long(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "static_site.py").write_text(FACTORY_APP)
    site_ = start_site(tmp_path, base_config(app_path=str(tmp_path / "src"), factory="static_site:make_app",
                                             grace_seconds=1, static_versions=None))
    try:
        old = site_.get(f"/static/app.css?v={sha512(OLD)}")
        assert (old.content, not_cached_for_long(old)) == (CURRENT, True)
        current = site_.get(f"/static/app.css?v={sha512(CURRENT)}")
        assert (current.content, long_lived(current)) == (CURRENT, True)
    finally:
        site_.process.kill()


# --- static_hash in the --check description --------------------------------------------------------------

HASHING_APPS = """\
import hashlib
import tornado.web

class Md5(tornado.web.StaticFileHandler):
    @classmethod
    def get_content_version(cls, abspath):
        with open(abspath, "rb") as handle:
            return hashlib.md5(handle.read()).hexdigest()

class Short(tornado.web.StaticFileHandler):
    @classmethod
    def get_content_version(cls, abspath):
        return super().get_content_version(abspath)[:12]

class Mtime(tornado.web.StaticFileHandler):
    @classmethod
    def get_content_version(cls, abspath):
        import os
        return str(int(os.stat(abspath).st_mtime))

class Sha512AgainHandler(tornado.web.StaticFileHandler):
    @classmethod
    def get_content_version(cls, abspath):
        with open(abspath, "rb") as handle:
            return hashlib.sha512(handle.read()).hexdigest()

def make_app(handler_class=None):
    settings = {"static_handler_class": handler_class} if handler_class else {}
    return tornado.web.Application([], static_path="static", **settings)

def default(): return make_app()
def md5(): return make_app(Md5)
def short(): return make_app(Short)
def mtime(): return make_app(Mtime)
def sha512_again(): return make_app(Sha512AgainHandler)
def no_static(): return tornado.web.Application([])
"""


@pytest.mark.parametrize("factory, expected", [
    ("default", "sha512"),
    ("sha512_again", "sha512"),  # an override that hashes the same way keeps its store
    ("md5", "md5"),  # what Tornado before 6.6 writes
    ("short", None),
    ("mtime", None),
    ("no_static", None),
])
def test_static_hash_says_which_digest_versions_the_files(tmp_path, factory, expected):
    (tmp_path / "hashing_apps.py").write_text(textwrap.dedent(HASHING_APPS))
    config = launcher_module.validate_config(base_config(app_path=str(tmp_path), factory=f"hashing_apps:{factory}"))
    app = launcher_module.build_app(config, 8123)
    assert launcher_module.describe_app(app, config)["static_hash"] == expected
