"""Causerie: the comment and discussion service. ``create_app`` builds the Flask application."""
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask

from . import database  # noqa: F401  (its hooks set up every SQLite connection)
from .config import DEFAULTS
from .extensions import db, limiter, login_manager, migrate
from .notifications import models as _notification_tables  # noqa: F401  (known to Alembic and the ORM)
from .portability import models as _import_tables  # noqa: F401  (known to Alembic and the ORM)
from .spam import models as _spam_tables  # noqa: F401  (known to Alembic and the ORM)
from .web import error_handlers


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure(app, test_config)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    limiter._key_prefix = ""  # Flask-Limiter would keep the first app's RATELIMIT_KEY_PREFIX for every later one
    limiter.init_app(app)
    error_handlers.init_app(app)

    from .web import caller, security
    caller.init_app(app)
    app.after_request(security.add_security_headers)

    from .views import register_blueprints
    register_blueprints(app)

    from .cli import register_commands
    register_commands(app)
    _warn_if_limits_are_per_worker(app)
    return app


def _warn_if_limits_are_per_worker(app: Flask) -> None:
    """Several gunicorn workers on memory:// each count alone: every limit, log-in failures included,
    is that many times looser (gunicorn.conf.py tells the workers how many they are)."""
    workers = os.environ.get("CAUSERIE_GUNICORN_WORKERS", "")
    workers = int(workers) if workers.isdigit() else 1
    if workers > 1 and app.config["RATELIMIT_ENABLED"] and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        app.logger.warning(
            "WARNING: %d gunicorn workers keep rate limits in RATELIMIT_STORAGE_URI=memory://: each worker "
            "counts alone, so every limit (failed log-ins included) is %d times looser. "
            "Set RATELIMIT_STORAGE_URI=redis://host:6379/0.", workers, workers)


def _configure(app: Flask, test_config: dict | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name, default in DEFAULTS.items():
        if name in os.environ:
            app.config[name] = _parse_env(os.environ[name], default)
    if test_config:
        app.config.update(test_config)

    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    else:
        # No pre-ping: it costs a round trip on every checkout, as much as the one query of an anonymous
        # page view. A connection the server dropped fails once, SQLAlchemy then empties the pool, and
        # database.run retries its reads once (so page views never see it).
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_recycle": 3600})
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URI"] or "memory://"
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)

    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=app.config["REMEMBER_DAYS"])
    app.config["SESSION_COOKIE_NAME"] = "causerie_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config["SESSION_COOKIE_SECURE"]:
        # The widget runs in a third-party frame: its cookie must be sent cross-site
        # (SameSite=None), which browsers only accept on Secure, partitioned cookies.
        app.config["SESSION_COOKIE_SAMESITE"] = "None"
        app.config["SESSION_COOKIE_PARTITIONED"] = True
    else:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.json.sort_keys = False
    app.json.ensure_ascii = False


def _parse_env(raw: str, default):
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def _instance_secret(app: Flask) -> str:
    """The secret key saved in instance/secret_key, created on first run (never committed)."""
    path = Path(app.instance_path) / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or just now by another worker
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    for _ in range(50):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty")


def _database_url(app: Flask) -> str:
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    if not url:
        return "sqlite:///" + str(Path(app.instance_path) / "causerie.sqlite3")
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
