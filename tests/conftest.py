"""Fixtures: one migrated database per test session (SQLite, or PostgreSQL when DATABASE_URL
says so), emptied after every test; an app per test; factories for users, articles, comments."""
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from app import create_app
from app.extensions import db
from app.models import Article, Role, User
from app.timeutil import utcnow

from .factories import World, new_comment, set_status

PASSWORD = "correct horse battery staple"
ALLOWED_ORIGIN = "https://news.example"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _postgres_database(base_url: str):
    """Create a throw-away database next to the one DATABASE_URL names; yields its URL."""
    url = sa.engine.make_url(base_url).set(drivername="postgresql+psycopg")
    name = f"causerie_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def app_on_own_postgres(**config):
    """An app on a migrated PostgreSQL database of its own, on DATABASE_URL's server or the local one:
    for what only PostgreSQL does, tested in both suites."""
    base = os.environ.get("DATABASE_URL", "")
    for url in _postgres_database(base if base.startswith("postgres") else POSTGRES_URL):
        app = create_app({"TESTING": True, "DATABASE_URL": url, "RATELIMIT_ENABLED": False,
                          "SPAM_FILTER": False, **config})
        with app.app_context():
            upgrade()
        try:
            yield app
        finally:
            with app.app_context():
                db.engine.dispose()


def throwaway_database(directory: Path):
    """Yields the URL of a database nobody else uses: a SQLite file in ``directory``, or, when
    env DATABASE_URL names PostgreSQL, a new database beside it that is dropped afterwards."""
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("postgres"):
        yield from _postgres_database(base)
    else:
        yield "sqlite:///" + str(Path(directory) / "causerie.sqlite3")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    yield from throwaway_database(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def migrated(database_url, tmp_path_factory):
    """Build the schema once, through the real migrations."""
    from flask_migrate import upgrade
    app = create_app(_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


@pytest.fixture(scope="session")
def password_hash():
    """The stored password of every factory-made account: real scrypt, at a work factor (N=2^10) that
    lets a login cost about a millisecond. Thousands of tests log in; at the app's own factor (N=2^15,
    about 0.1 s each) those logins alone took a third of the suite. Accounts made through the API still
    get the app's PASSWORD_HASH_METHOD (test_auth checks it)."""
    return generate_password_hash(PASSWORD, method="scrypt:1024:8:1")


def _config(database_url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-" + uuid.uuid4().hex,
        "ALLOWED_ORIGINS": ALLOWED_ORIGIN,
        "RATELIMIT_ENABLED": False,
        # The learned spam filter scores every post; tests of other features must not depend on what a
        # model learned (tests/test_spam_filter.py and the browser tests of the filter turn it on).
        "SPAM_FILTER": False,
        "SSO_SECRET": "sso-test-secret-0123456789abcdef",
    }


@pytest.fixture
def config(migrated, tmp_path):
    """Settings for this test's app; a test may change them before asking for ``app``."""
    return _config(migrated, tmp_path)


@pytest.fixture
def app(config, request):
    if "mail_sink" in request.fixturenames:
        request.getfixturevalue("mail_sink")  # its settings first, whatever the order of the arguments
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables():
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# -- factories ------------------------------------------------------------------

@pytest.fixture
def make_user(app, password_hash):
    counter = iter(range(1, 10_000))

    def make_user(username=None, role=Role.READER, email=None, **fields) -> User:
        username = username or f"user{next(counter)}"
        with app.app_context():
            user = User(username=username, username_key=username.casefold(),
                        email=email or f"{username}@example.org",
                        email_key=(email or f"{username}@example.org").lower(),
                        display_name=fields.pop("display_name", username.title()),
                        # Verified unless a test says otherwise (email_verified_at=None).
                        email_verified_at=fields.pop("email_verified_at", utcnow()),
                        password_hash=password_hash, role=role, **fields)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
        return user

    return make_user


@pytest.fixture
def make_article(app):
    def make_article(key="a1", **fields) -> Article:
        with app.app_context():
            article = Article(key=key, title=fields.pop("title", f"Article {key}"),
                              url=fields.pop("url", f"{ALLOWED_ORIGIN}/{key}"), **fields)
            db.session.add(article)
            db.session.commit()
            db.session.refresh(article)
            db.session.expunge(article)
        return article

    return make_article


# Cast of the HTTP tests: two readers, a moderator, an admin and an article.
@pytest.fixture
def admin(make_user):
    return make_user("root", role="admin")


@pytest.fixture
def mod(make_user):
    return make_user("mod", role="moderator")


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def article(make_article):
    return make_article("a1", title="The first article")


class ApiClient:
    """A test client logged in through the real login endpoint, sending its CSRF token."""

    def __init__(self, client, user: User | None = None):
        self.client = client
        self.user = user
        self.csrf = client.get("/api/v1/auth/me").get_json()["csrf_token"]
        if user is not None:
            response = self.post("/api/v1/auth/login", {"login": user.username, "password": PASSWORD})
            assert response.status_code == 200, response.get_json()
            self.csrf = response.get_json()["csrf_token"]

    def _send(self, method, path, json=None, **kwargs):
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, json=json, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self._send("POST", path, json, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self._send("PUT", path, json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self._send("PATCH", path, json, **kwargs)

    def delete(self, path, **kwargs):
        return self._send("DELETE", path, None, **kwargs)


@pytest.fixture
def login(app):
    """``login(user)`` -> an ApiClient with its own cookie jar, logged in as ``user``."""
    def login(user: User | None = None) -> ApiClient:
        return ApiClient(app.test_client(), user)

    return login


@pytest.fixture
def make_comment(app, login):
    """``make_comment(author, article="a1", body=..., parent=None, status=None, **fields)`` -> the comment's
    JSON, posted through the real API as ``author`` (a User, logged in once, or an ApiClient); ``status``
    then moves it (pending, rejected, spam ...) through the same lifecycle operation moderators use."""
    clients: dict[int, ApiClient] = {}
    counter = iter(range(1, 1_000_000))

    def make_comment(author, article="a1", body=None, parent=None, status=None, **fields) -> dict:
        api = author
        if isinstance(author, User):
            api = clients.get(author.id) or clients.setdefault(author.id, login(author))
        if parent is not None:
            fields["parent_id"] = parent
        comment = new_comment(api, body or f"comment number {next(counter)}", article, **fields)
        if status is not None:
            set_status(app, comment["id"], status)
            comment["status"] = status
        return comment

    return make_comment


@pytest.fixture
def world(app, login, make_user, make_article, make_comment):
    """The attack tests' cast (factories.World): alice's comments live, on a2, pending, rejected, spam and
    deleted, and one of bob's; ``world.hidden`` are the ones a stranger must not see."""
    make_article("a1")
    make_article("a2")
    w = World(app=app, login=login, alice=make_user("alice"), bob=make_user("bob"),
              mod=make_user("mod1", role="moderator"), admin=make_user("boss", role="admin"))
    alice = w.as_alice
    w.live = make_comment(alice, body="alice live")["id"]
    w.other_article = make_comment(alice, "a2", "alice on a2")["id"]
    w.pending = make_comment(alice, body="pending secret", status="pending")["id"]
    w.rejected = make_comment(alice, body="rejected secret", status="rejected")["id"]
    w.spam = make_comment(alice, body="spam secret", status="spam")["id"]
    w.deleted = make_comment(alice, body="deleted secret")["id"]
    assert alice.delete(f"/api/v1/comments/{w.deleted}").status_code == 204
    w.bobs = make_comment(w.as_bob, body="bob's own")["id"]
    w.hidden = (w.pending, w.rejected, w.spam, w.deleted)
    w.missing = 987_654
    return w

@pytest.fixture
def redis_client():
    """The Redis server the rate-limit tests share; they fail, never skip, when it does not answer."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis does not answer at {REDIS_URL} ({exc}): start it (.ci/run does: "
                    "redis-server --daemonize yes --port 6379) or set REDIS_URL.")
    yield client
    client.close()


@pytest.fixture
def redis_key_prefix(redis_client):
    """A prefix of our own for the limiter's keys, so other runs sharing this Redis never count with us."""
    prefix = f"causerie-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"*{prefix}*", count=500))
    if keys:
        redis_client.delete(*keys)


# -- mail and the worker ----------------------------------------------------------

@pytest.fixture
def mail_sink(config):
    """A real SMTP server (aiosmtpd) that this test's app sends its mail to."""
    from .mailsink import MailSink
    with MailSink() as sink:
        config.update(sink.config())
        config.setdefault("PUBLIC_URL", "http://comments.test")
        yield sink


@pytest.fixture
def deliver(app):
    """``deliver()``: run the worker until nothing is due (fan out events, send mail and webhooks)."""
    from app.notifications.worker import Worker

    def deliver() -> int:
        return Worker(app, name="test-worker").drain()
    return deliver
