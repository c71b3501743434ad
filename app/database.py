"""The database connection: SQLite's settings and its write lock, and ``run``, the one way to run SQL
outside the ORM.

SQLite has a single write lock for the whole file. A transaction that began deferred (``BEGIN``) and
has read cannot wait for that lock: its first write fails at once with "database is locked". So an
operation says when it is about to write (``with writing():``) and its transaction then begins with
the lock (``BEGIN IMMEDIATE``), waiting for it; every other transaction begins deferred. PostgreSQL
locks rows, and ``writing()`` does nothing there.
"""
import json
import logging
import sqlite3
import time
from contextlib import contextmanager
from functools import lru_cache

import click
from flask import current_app, has_request_context
from sqlalchemy import (
    Integer,
    any_,
    bindparam,
    event,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, make_transient_to_detached

from .extensions import db

BUSY_TIMEOUT_MS = 30000
# How long a writer sleeps between two tries for SQLite's write lock (see _begin_immediate).
WRITE_LOCK_POLL_SECONDS = 0.0002
# Execution option of a connection whose transactions begin with the write lock (BEGIN IMMEDIATE).
WRITE_LOCK = "causerie_write_lock"
# Execution option of a session's deferred transaction whose writes are checked (_check_write).
_CHECKED = "causerie_checked_writes"

log = logging.getLogger(__name__)


@contextmanager
def writing():
    """Enter where an operation's reads end and its writes begin (usable as a decorator too).

    On SQLite it ends the session's read transaction, if one is open (a commit: loaded objects stay
    usable, ``expire_on_commit`` is off), and begins the next one with the write lock, which it keeps
    until the view commits. Nested uses, and every use on PostgreSQL, do nothing.
    """
    session = db.session()  # this app context's Session, not the scoped proxy
    if db.engine.dialect.name == "sqlite" and not _holds_write_lock(session):
        session.commit()
        session.connection(execution_options={WRITE_LOCK: True})
    yield


def _holds_write_lock(session: Session) -> bool:
    if session.get_transaction() is None:
        return False
    return bool(session.connection().get_execution_options().get(WRITE_LOCK))


def run(statement, params: dict | None = None, *, own_connection: bool = False):
    """Run a Core statement, with none of the ORM's per-statement bookkeeping (hot paths).

    By default on the session's connection, inside its transaction; returns SQLAlchemy's result.
    ``own_connection=True``: on a pooled connection of its own, outside the session's transaction,
    for the hottest reads (a thread page's head, the user of a login session) and for a write that
    commits at once whatever the request does (a token's last use; on SQLite it takes the write lock).
    The statement must be built once (compilations are cached per statement object); returns a list of
    tuples, each column converted as the session would (a datetime, a boolean).
    """
    if not own_connection:
        return db.session.connection().execute(statement, params)
    engine = db.engine  # Flask-SQLAlchemy looks it up at each use
    dialect = engine.dialect
    sql, names, processors, writes, fetches, results, written = _compiled(statement, dialect)
    values = {name: processors[name](value) if name in processors else value
              for name, value in ({**written, **(params or {})} if written else params or {}).items()}
    arguments = tuple(values[name] for name in names) if names is not None else values
    try:
        rows = _run_raw(engine, sql, arguments, writes, fetches)
    except DBAPIError as error:
        if writes or not error.connection_invalidated:
            raise
        rows = _run_raw(engine, sql, arguments, writes, fetches)  # a read on a dropped connection: once more
    if results is not None:
        rows = [tuple(convert(value) if convert else value for convert, value in zip(results, row))
                for row in rows]
    return rows


def run_side_by_side(statements: tuple, params: dict) -> list[tuple | None]:
    """Reads that each find at most one row, as one statement on a connection of its own (one round
    trip on PostgreSQL): the row of each, or None where it found none.

    Each statement must be built once (as for ``run``), its parameters' names apart from the others',
    and its first column never NULL in a row it finds (an id)."""
    row = run(_side_by_side(statements), params, own_connection=True)[0]
    found, at = [], 0
    for statement in statements:
        width = len(statement.selected_columns)
        found.append(row[at:at + width] if row[at] is not None else None)
        at += width
    return found


def one_of(column, name: str, dialect: str):
    """``column`` among the values of the list parameter ``name``, in SQL that stays the same whatever
    their number (``run`` compiles it once): ``= ANY(array)`` on PostgreSQL, ``IN (SELECT value FROM
    json_each(list))`` on SQLite. Give the parameter as ``list_param`` makes it."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name))))


def list_param(values, dialect: str):
    """The value of a list parameter (``one_of``): an array on PostgreSQL, a JSON list on SQLite."""
    return list(values) if dialect == "postgresql" else json.dumps(list(values))


@lru_cache(maxsize=16)
def _side_by_side(statements: tuple):
    """``SELECT a.*, b.* FROM (SELECT 1) LEFT JOIN (a) ON true LEFT JOIN (b) ON true``: always one row."""
    combined = select().select_from(select(literal_column("1").label("one")).subquery())
    for statement in statements:
        found = statement.subquery()
        combined = combined.outerjoin(found, true()).add_columns(*found.c)
    return combined


class RowLoader:
    """Instances of a model from rows of all its columns (``columns``), read as Core (``run``).

    Filled as the ORM's loader fills an instance (straight into its ``__dict__``: no validators, no
    change events), then attached to the session; a third of what building it with ``Model(...)`` and
    ``Session.merge`` cost (docs/performance.md). ``attach=False`` leaves it detached, with every column
    loaded, for a request that only reads: no session is opened for it."""

    def __init__(self, model):
        mapper = sa_inspect(model)
        self.fields = tuple(attribute.key for attribute in mapper.column_attrs)
        self.columns = tuple(getattr(model, name) for name in self.fields)
        self._manager = mapper.class_manager

    def load(self, values, attach: bool = True):
        """The instance of a row of ``columns``."""
        return self.load_mapping(zip(self.fields, values), attach)

    def load_mapping(self, values, attach: bool = True):
        """The instance of every column's value, by name (a dict, or pairs)."""
        instance = self._manager.new_instance()
        instance.__dict__.update(values)
        make_transient_to_detached(instance)  # persistent as if just loaded: nothing to write back
        if not attach:
            return instance
        session = db.session()
        if sa_inspect(instance).key in session.identity_map:
            return session.merge(instance, load=False)  # already in this session: that one, refreshed
        session.add(instance)
        return instance


def _run_raw(engine, sql: str, arguments, writes: bool, fetches: bool) -> list:
    dialect = engine.dialect
    connection = engine.raw_connection()
    # A read on PostgreSQL runs in autocommit: one round trip, where a transaction would cost three
    # (BEGIN, the statement, the pool's ROLLBACK).
    autocommit = not writes and dialect.name == "postgresql"
    try:
        if writes and dialect.name == "sqlite":
            _begin_immediate(connection.dbapi_connection)
        if autocommit:
            connection.dbapi_connection.autocommit = True
        cursor = connection.cursor()
        cursor.execute(sql, arguments)
        # Whether rows come back is known from the statement: psycopg builds cursor.description anew
        # at each call (a fifth of a page head's own cost).
        rows = cursor.fetchall() if fetches else []
        cursor.close()
        if writes:
            connection.commit()
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, connection.dbapi_connection, None)
        if invalidated:  # the server dropped it (a restart): so it did the pool's other connections
            connection.invalidate(error)
            engine.dispose()
        raise DBAPIError.instance(sql, arguments, error, dialect.loaded_dbapi.Error, dialect=dialect,
                                  connection_invalidated=invalidated) from error
    finally:
        if autocommit and connection.dbapi_connection is not None:
            connection.dbapi_connection.autocommit = False  # as the pool hands it to the session
        connection.close()  # back to the pool, which rolls back whatever the driver began
    return rows


@lru_cache(maxsize=64)
def _compiled(statement, dialect) -> tuple[str, tuple | None, dict, bool, bool, tuple | None, dict]:
    """The SQL of a statement built once, the order of its parameters when the driver's are
    positional, its parameters' conversions, whether it writes, whether it returns rows, its
    columns' conversions (None when the driver's values are the right ones), and the values written
    in the statement itself (``status == "approved"``, ``LIMIT 1``), which the caller does not give."""
    compiled = statement.compile(dialect=dialect)
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in getattr(statement, "selected_columns", ()))
    processors = {name: processor for name, bind in compiled.binds.items()
                  if (processor := bind.type.bind_processor(dialect)) is not None}
    names = tuple(compiled.positiontup) if compiled.positiontup else None
    writes = bool(compiled.isinsert or compiled.isupdate or compiled.isdelete)
    fetches = not writes or bool(compiled.returning)
    written = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
    return str(compiled), names, processors, writes, fetches, results if any(results) else None, written


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
    if conn.get_execution_options().get(WRITE_LOCK):
        _begin_immediate(conn.connection.dbapi_connection)
    else:
        conn.connection.dbapi_connection.execute("BEGIN")


def _begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, trying for the write lock every 0.2 ms for up to the busy timeout.

    SQLite's own busy handler sleeps 1, 2, 5, 10 ... ms between tries, so a writer queued behind a
    short transaction would idle after the lock is free. Other statements keep the busy handler.
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


# -- the safety net: a write in a deferred transaction is a forgotten writing() -----------------

@event.listens_for(Session, "after_begin")
def _check_writes_of(session, _transaction, connection):
    # Only the app's own operations (requests, CLI commands): tests' fixtures write directly, and
    # migrations run on a connection of their own.
    if (connection.dialect.name == "sqlite" and not connection.get_execution_options().get(WRITE_LOCK)
            and (has_request_context() or click.get_current_context(silent=True) is not None)):
        connection.execution_options(**{_CHECKED: True})


@event.listens_for(Engine, "before_cursor_execute")
def _check_write(conn, _cursor, statement, _parameters, context, _executemany):
    if context is None or not (context.isinsert or context.isupdate or context.isdelete):
        return
    if not conn.get_execution_options().get(_CHECKED):
        return
    message = f"a write in a transaction that began without SQLite's write lock (use writing()): {statement}"
    if current_app.config.get("TESTING"):
        raise RuntimeError(message)
    log.warning(message)
