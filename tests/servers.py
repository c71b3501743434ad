"""Real app servers for the tests that need processes: gunicorn on a free loopback port.

``AppServer`` migrates a database (``flask db upgrade`` in a subprocess) when
asked, starts gunicorn in its own process group with a controlled environment,
waits for ``/healthz``, and always stops it (a SIGKILL of the whole group in
the end, so no worker outlives a test). ``fresh_database_url`` gives a SQLite
file or a throw-away PostgreSQL database (when env DATABASE_URL is postgres).
``Api`` and ``register_user`` are small ``requests`` helpers, each request
with a timeout.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from app.config import DEFAULTS

from .conftest import throwaway_database

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
# Shared by every server of a test, so a session cookie made by one is valid on the others.
SECRET_KEY = "servers-test-secret-" + uuid.uuid4().hex
ALLOWED_ORIGIN = "https://news.example"
REQUEST_TIMEOUT = 15


def _bin(name: str) -> str:
    """A console script of this virtualenv (the interpreter's own bin directory first)."""
    for folder in (Path(sys.executable).parent, ROOT / ".venv" / "bin"):
        if (folder / name).exists():
            return str(folder / name)
    raise RuntimeError(f"{name} is not installed next to {sys.executable}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- databases ------------------------------------------------------------------

def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


@contextmanager
def fresh_database_url(tmp_path: Path):
    """A database nobody else uses: a SQLite file under ``tmp_path``, or a new PostgreSQL
    database next to the one env DATABASE_URL names, dropped afterwards."""
    yield from throwaway_database(tmp_path)


@pytest.fixture
def fresh_database(tmp_path):
    """Fixture form of ``fresh_database_url`` (import it into a test module to use it)."""
    with fresh_database_url(tmp_path) as url:
        yield url


@contextmanager
def database_engine(url: str):
    """A plain SQLAlchemy engine on ``url`` for checking rows behind the server's back."""
    if is_postgres(url):
        url = sa.engine.make_url(url).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


# -- environment and command line -------------------------------------------------

def server_environment(database_url: str, *, ratelimit_enabled: bool = False,
                       storage_uri: str = "memory://", allowed_origins: str = ALLOWED_ORIGIN,
                       secret_key: str = SECRET_KEY, extra: dict | None = None) -> dict:
    """The environment of a server or CLI process: ours for every setting the app reads, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if k not in DEFAULTS and not k.startswith("FLASK_")}
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "RATELIMIT_ENABLED": "true" if ratelimit_enabled else "false",
        "RATELIMIT_STORAGE_URI": storage_uri,
        "ALLOWED_ORIGINS": allowed_origins,
        # As in tests/conftest.py: what a model learned must not decide other features' tests.
        "SPAM_FILTER": "false",
        "PYTHONUNBUFFERED": "1",
    })
    env.update({k: str(v) for k, v in (extra or {}).items()})
    return env


def flask_cli(env: dict, *args: str, timeout: float = 120) -> str:
    """Run ``flask --app app ARGS`` with ``env``; returns its output, raises with it on failure."""
    result = subprocess.run([_bin("flask"), "--app", "app", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({result.returncode}):\n"
                           f"{result.stdout}\n{result.stderr}")
    return result.stdout


# -- the server -------------------------------------------------------------------

class AppServer:
    """gunicorn serving ``create_app()`` on 127.0.0.1:<free port>, in its own process group.

    gunicorn reads the repository's gunicorn.conf.py (the production settings:
    JSON access log, worker recycling); the command line here sets the bind,
    the number of workers and the timeouts. Use as a context manager;
    ``start()`` may be called again after ``kill()`` to restart on the same
    database (on a new port).
    """

    def __init__(self, database_url: str, *, workers: int = 2, migrate: bool = False,
                 ratelimit_enabled: bool = False, storage_uri: str = "memory://",
                 allowed_origins: str = ALLOWED_ORIGIN, secret_key: str = SECRET_KEY,
                 env: dict | None = None, app_config: dict | None = None,
                 startup_timeout: float = 60, log_dir: Path | None = None):
        self.database_url = database_url
        self.workers = workers
        self.migrate = migrate
        self.env = server_environment(database_url, ratelimit_enabled=ratelimit_enabled,
                                      storage_uri=storage_uri, allowed_origins=allowed_origins,
                                      secret_key=secret_key, extra=env)
        # Settings the environment cannot carry go to the factory as literals (gunicorn allows it).
        self.app_spec = f"app:create_app({app_config!r})" if app_config else "app:create_app()"
        self.startup_timeout = startup_timeout
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="causerie-server-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.log_path: Path | None = None
        self._starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "AppServer":
        try:
            if self.migrate:
                flask_cli(self.env, "db", "upgrade")
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def cli(self, *args: str) -> str:
        """``flask --app app ARGS`` against this server's database and settings."""
        return flask_cli(self.env, *args)

    def start(self) -> None:
        if self.running:
            raise RuntimeError("the server is already running")
        self._starts += 1
        self.port = free_port()
        self.log_path = self.log_dir / f"gunicorn-{self._starts}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [_bin("gunicorn"), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                 "--timeout", "60", "--graceful-timeout", "5", "--no-control-socket",
                 "--error-logfile", "-", self.app_spec],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: master and workers die together
            )
        self._wait_until_healthy()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"no healthy /healthz within {self.startup_timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        """Everything every run of this server logged."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("gunicorn-*.log")))

    def tracebacks(self) -> list[str]:
        """The last line of every traceback the server logged (the exception), for failure messages."""
        found, inside = [], False
        for line in self.log_text().splitlines():
            if line.startswith("Traceback (most recent call last)"):
                inside = True
            elif inside and line and not line.startswith((" ", "\t")):
                if not line.startswith(("The above exception", "During handling")):
                    found.append(line)
                    inside = False
        return found

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the master and every worker at once (the whole process group)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        if sig == signal.SIGKILL:
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Quick stop (SIGINT: gunicorn's immediate shutdown), then SIGKILL of the group for
        anything left (the master itself, if still lingering): always terminates."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGINT)
                # Workers exit at once; the master lingers a few seconds more for nothing.
                self.process.wait(timeout=2)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # stray workers, if any
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass


# -- HTTP helpers -------------------------------------------------------------------

class HttpVerbs:
    """get/post/put/patch/delete over the subclass's ``request(method, path, json=None, **kwargs)``."""

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.request("PUT", path, json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.request("PATCH", path, json, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


class Api(HttpVerbs):
    """A ``requests`` session against one server: bearer token, or cookie + CSRF token."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = REQUEST_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()
        self.csrf: str | None = None
        self.user: dict | None = None

    def on(self, base_url: str) -> "Api":
        """The same credentials (token or cookies) against another server."""
        other = Api(base_url, self.token, self.timeout)
        other.session.cookies.update(self.session.cookies)
        other.csrf, other.user = self.csrf, self.user
        return other

    def request(self, method: str, path: str, json=None, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        elif self.csrf and method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
            headers.setdefault("X-CSRF-Token", self.csrf)
        kwargs.setdefault("timeout", self.timeout)
        return self.session.request(method, self.base_url + path, json=json, headers=headers, **kwargs)

    def fetch_csrf(self) -> str:
        response = self.get("/api/v1/auth/me")
        response.raise_for_status()
        self.csrf = response.json()["csrf_token"]
        return self.csrf


def _expect(response: requests.Response, status: int, what: str) -> dict:
    if response.status_code != status:
        raise AssertionError(f"{what}: expected {status}, got {response.status_code}: {response.text[:500]}")
    return response.json()


def register_user(base_url: str, username: str, password: str = PASSWORD, bearer: bool = True) -> Api:
    """Register ``username`` through the API; returns an Api holding a bearer token
    (``bearer=True``) or the logged-in cookie session with its CSRF token."""
    api = Api(base_url)
    api.fetch_csrf()
    data = _expect(api.post("/api/v1/auth/register", {
        "username": username, "email": f"{username}@example.org", "password": password}),
        201, f"register {username}")
    api.csrf, api.user = data["csrf_token"], data["user"]
    if not bearer:
        return api
    token = _expect(api.post("/api/v1/auth/tokens", {"name": "tests"}), 201, "create token")["token"]
    client = Api(base_url, token=token)
    client.user = api.user
    return client


def login_user(base_url: str, login: str, password: str = PASSWORD) -> Api:
    """A cookie session logged in through ``POST /auth/login``."""
    api = Api(base_url)
    api.fetch_csrf()
    data = _expect(api.post("/api/v1/auth/login", {"login": login, "password": password}), 200, f"login {login}")
    api.csrf, api.user = data["csrf_token"], data["user"]
    return api


def bearer_for(base_url: str, login: str, password: str = PASSWORD) -> Api:
    """A bearer-token Api for an existing account (made e.g. with ``flask users create``)."""
    session = login_user(base_url, login, password)
    token = _expect(session.post("/api/v1/auth/tokens", {"name": "tests"}), 201, "create token")["token"]
    client = Api(base_url, token=token)
    client.user = session.user
    return client
