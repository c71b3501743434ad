"""Extensions, created unbound and attached in create_app; the SQLite connection setup."""
import sqlite3
import time
from contextlib import contextmanager

from flask import g, has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# A naming convention gives every constraint a stable name, so Alembic batch
# migrations on SQLite can find and alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Views commit once and then serialize what they wrote: keep loaded attributes after commit.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
# Limits name their own keys (web/ratelimits.py); the socket peer is the default.
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


BUSY_TIMEOUT_MS = 30000
# How long a writer sleeps between two tries for SQLite's write lock (see _begin_immediate).
WRITE_LOCK_POLL_SECONDS = 0.0002
# Execution option of a side connection that writes from a read request (a token's last use):
# it takes the write lock up front, whatever the request's method.
WRITE_LOCK_OPTION = "causerie_write_lock"


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" hook below emit BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(conn):
    if conn.dialect.name != "sqlite":
        return
    # A deferred transaction that reads and then writes can fail at once with
    # "database is locked" (SQLite cannot wait without risking deadlock).
    # Writers therefore take the write lock up front and wait for it.
    dbapi_connection = conn.connection.dbapi_connection
    if conn.get_execution_options().get(WRITE_LOCK_OPTION):
        _begin_immediate(dbapi_connection)
    elif has_request_context() and not g.get("write_phase") and (
            request.method in ("GET", "HEAD", "OPTIONS") or g.get("read_phase")):
        dbapi_connection.execute("BEGIN")
    else:
        _begin_immediate(dbapi_connection)


def _begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, trying for the write lock every 0.2 ms for up to the busy timeout.

    SQLite's own busy handler sleeps 1, 2, 5, 10 ... ms between tries, so a writer queued behind
    a 2 ms transaction would often idle several milliseconds after the lock is free, time in
    which no post is written. Other statements keep the busy handler.
    """
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(WRITE_LOCK_POLL_SECONDS)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


@contextmanager
def read_phase():
    """Run the reads (and CPU work) that precede a write request's writes outside its write lock.

    On SQLite a write request's transaction takes the database's single write lock when it begins,
    so looking up the caller or rendering Markdown inside it would make every other writer wait.
    Inside this block transactions begin deferred; on leaving it the read transaction ends (a
    commit that keeps what was loaded), and the request's next statement begins the write
    transaction. Only reads belong here: a write would have to upgrade a deferred transaction.
    """
    already = g.get("read_phase", False)
    g.read_phase = True
    try:
        yield
        if not already:
            db.session.commit()
    finally:
        g.read_phase = already


@contextmanager
def write_phase():
    """For a read request that must write (the widget's first view creates its article).

    Ends the request's read transaction and begins the next one with the write lock, so on
    SQLite the write waits for other writers instead of failing to upgrade a stale read.
    """
    db.session.commit()
    already = g.get("write_phase", False)
    g.write_phase = True
    try:
        yield
    finally:
        g.write_phase = already


def run_core(statement, params=None):
    """Run a Core statement on the session's connection, inside its transaction.

    For hot paths (the statements of every post, /counts): ``Session.execute`` adds ORM
    bookkeeping that costs about twice the statement itself on SQLite (~90 us against ~30 us).
    """
    return db.session.connection().execute(statement, params)
