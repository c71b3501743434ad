"""Browser-test fixtures: a live gunicorn server on a fresh, migrated database, and Playwright
driving Debian's /usr/bin/chromium (never a downloaded browser).

Fixtures:
- ``live_server`` (session): the running app; ``.url``, ``.origin``, ``.sso_secret``,
  ``.host_origin``, ``.unique()``, ``.create_user()``, ``.register()``, ``.login()``, ``.token()``,
  ``.bearer()``, ``.anonymous()``, ``.flask(...)``, ``.log_tail()``.
- ``browser`` (session), ``new_context`` (function, a factory), ``page`` (function, 1280x800,
  ``page.console_errors`` collects console errors and uncaught exceptions), ``watch_console``
  (the same collection for pages you open yourself).
- ``artifacts``: tests/artifacts/, where screenshots go (git-ignored).
"""
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.servers import HttpVerbs

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PASSWORD = "correct horse battery staple"
SSO_SECRET = "sso-browser-test-secret-0123456789abcdef"
HOST_ORIGIN = "https://news.example"
START_TIMEOUT = 60


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


# -- HTTP clients of the live server ---------------------------------------------------------

class ApiSession(HttpVerbs):
    """A ``requests`` session on the live server's /api/v1, either cookie-authenticated (sends
    the session's X-CSRF-Token on writes) or bearer-authenticated."""

    def __init__(self, base_url: str, token: str | None = None):
        self.base_url = base_url
        self.http = requests.Session()
        self.csrf: str | None = None
        self.user: dict | None = None
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/api/") else "/api/v1" + path)

    def request(self, method: str, path: str, json=None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if method in ("POST", "PUT", "PATCH", "DELETE") and "Authorization" not in self.http.headers:
            if self.csrf is None:
                self.csrf = self.http.get(self.url("/auth/me"), timeout=10).json()["csrf_token"]
            headers = {"X-CSRF-Token": self.csrf, **headers}
        return self.http.request(method, self.url(path), json=json, headers=headers,
                                 timeout=kwargs.pop("timeout", 30), **kwargs)

    def cookies_for_browser(self) -> list[dict]:
        """This session's cookies in the form ``BrowserContext.add_cookies`` takes."""
        return [{"name": c.name, "value": c.value, "url": self.base_url} for c in self.http.cookies]


@dataclass
class Account:
    id: int
    username: str
    password: str
    role: str
    email: str


class LiveServer:
    def __init__(self, url: str, env: dict, log_path: Path, process: subprocess.Popen):
        self.url = url
        self.origin = url
        self.env = env
        self.database_url = env["DATABASE_URL"]
        self.sso_secret = env["SSO_SECRET"]
        self.host_origin = HOST_ORIGIN  # a second allowed origin, for host pages that embed us
        self.log_path = log_path
        self.process = process
        self._names = itertools.count(1)
        self._run = uuid.uuid4().hex[:6]

    def unique(self, prefix: str = "u") -> str:
        """A name no other test of this session uses (usernames, article keys)."""
        return f"{prefix}{self._run}{next(self._names)}"

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``flask --app app ARGS`` against the live server's database."""
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args],
                                cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def anonymous(self) -> ApiSession:
        return ApiSession(self.url)

    def login(self, username: str, password: str = PASSWORD) -> ApiSession:
        """A cookie session logged in through POST /auth/login."""
        api = ApiSession(self.url)
        response = api.post("/auth/login", {"login": username, "password": password})
        assert response.status_code == 200, response.text
        api.csrf = response.json()["csrf_token"]
        api.user = response.json()["user"]
        return api

    def create_user(self, username: str | None = None, role: str = "reader",
                    password: str = PASSWORD, email: str | None = None) -> Account:
        """An account made with ``flask users create`` (the way to get moderators and admins)."""
        username = username or self.unique(role[:3])
        email = email or f"{username}@example.org"
        self.flask("users", "create", username, "--email", email, "--password", password,
                   "--role", role)
        user = self.login(username, password).user
        return Account(user["id"], username, password, role, email)

    def register(self, username: str | None = None, password: str = PASSWORD) -> ApiSession:
        """A reader registered over HTTP; the returned session is logged in."""
        username = username or self.unique("r")
        api = ApiSession(self.url)
        response = api.post("/auth/register", {"username": username, "password": password,
                                               "email": f"{username}@example.org"})
        assert response.status_code == 201, response.text
        api.csrf = response.json()["csrf_token"]
        api.user = response.json()["user"]
        return api

    def token(self, username: str, password: str = PASSWORD) -> str:
        response = self.login(username, password).post("/auth/tokens", {"name": "browser tests"})
        assert response.status_code == 201, response.text
        return response.json()["token"]

    def bearer(self, username: str, password: str = PASSWORD) -> ApiSession:
        """A bearer-token client for ``username`` (no cookies, no CSRF)."""
        api = ApiSession(self.url, self.token(username, password))
        api.user = api.get("/auth/me").json()["user"]
        return api

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# -- the server ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_database_url(tmp_path_factory):
    """A database nobody else uses: a SQLite file, or a throw-away PostgreSQL database."""
    from tests.conftest import throwaway_database
    yield from throwaway_database(tmp_path_factory.mktemp("live-db"))


@pytest.fixture(scope="session")
def live_server(live_database_url, tmp_path_factory):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": live_database_url,
        "SECRET_KEY": "browser-tests-" + uuid.uuid4().hex,
        "RATELIMIT_ENABLED": "false",
        "ALLOWED_ORIGINS": f"{url},{HOST_ORIGIN}",
        "PUBLIC_URL": url,  # our own origin (the demo pages), as make run sets it
        "SSO_SECRET": SSO_SECRET,
        "AUTO_CREATE_ARTICLES": "true",
        "PYTHONUNBUFFERED": "1",
    }
    upgrade = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if upgrade.returncode != 0:
        pytest.fail(f"flask db upgrade failed:\n{upgrade.stdout}\n{upgrade.stderr}")

    log_path = tmp_path_factory.mktemp("live-server") / "gunicorn.log"
    with open(log_path, "wb") as log:
        # Command-line options win over gunicorn.conf.py, which gunicorn reads from the cwd.
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
             "--timeout", "60", "--no-control-socket", "app:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = LiveServer(url, env, log_path, process)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        _stop(process)


def _wait_until_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"the live server exited ({server.process.returncode}):\n{server.log_tail()}")
        try:
            if requests.get(server.url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"the live server did not answer /healthz in {START_TIMEOUT}s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to gunicorn's master (it stops its workers), then SIGKILL the whole group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # stray workers, if the master died first
    except (ProcessLookupError, PermissionError):
        pass
    if process.poll() is None:
        process.wait(timeout=5)


# -- the browser -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    # Never skipped: a missing browser must fail the run (make test and .ci/run install it).
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    from playwright.sync_api import expect, sync_playwright
    expect.set_options(timeout=10_000)  # a loaded CI machine is slower than a laptop
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live_server):
    """``new_context(**options)`` -> a fresh BrowserContext (own cookies) on the live server,
    1280x800 unless told otherwise; all are closed after the test."""
    contexts = []

    def new_context(**options):
        options.setdefault("base_url", live_server.url)
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("locale", "en-US")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield new_context
    for context in contexts:
        context.close()


def _watch_console(page) -> list[str]:
    """Collect console errors and uncaught exceptions of ``page`` into ``page.console_errors``."""
    if hasattr(page, "console_errors"):
        return page.console_errors
    errors: list[str] = []
    def on_console(msg):
        if msg.type == "error":
            errors.append(f"{msg.text} ({msg.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.console_errors = errors
    return errors


@pytest.fixture
def watch_console():
    """``watch_console(page)``: start collecting ``page.console_errors`` on a page of your own."""
    return _watch_console


@pytest.fixture
def page(new_context):
    page = new_context().new_page()
    _watch_console(page)
    return page


# The framed thread on a host page.
FRAME = "#causerie-thread iframe"


def thread_frame(page):
    """The thread's frame once the loader has attached it."""
    from playwright.sync_api import expect
    expect(page.locator(FRAME)).to_be_attached()
    for _ in range(100):
        frame = next((f for f in page.frames if "/embed/thread" in f.url), None)
        if frame is not None:
            return frame
        time.sleep(0.05)
    raise AssertionError("no thread frame")


def wait_ready(page):
    """The framed thread (a FrameLocator), once its script has run and knows who is reading."""
    from playwright.sync_api import expect
    frame = page.frame_locator(FRAME)
    expect(frame.locator("html")).not_to_have_class(re.compile("no-js"))
    expect(frame.locator(".cz-auth, .cz-me").locator("visible=true")).to_have_count(1)
    return frame


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = ROOT / "tests" / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


