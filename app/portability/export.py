"""The full JSONL export: every table of the database, one object a line, parents before children.

The first line is the header ``{"type": "causerie_export", "version": 1, "exported_at": ...,
"schema": "<alembic revision of the database>"}``; the last is ``{"type": "causerie_export_end",
"rows": N}``, so a truncated file is refused by the restore. In between, the rows of each table in
``POLICIES`` order (foreign keys' order: parents first), each one ``{"type": "<its type>",
"<column>": value, ...}``, ordered by primary key (comments by depth, then id: a reply is never
written before its parent, even when an import gave it a lower id).

Values are written the same whichever database holds them: times as ISO 8601 UTC with microseconds
(``2026-11-27T09:30:00.123456Z``), JSON columns as JSON, booleans as JSON booleans. So exporting a
database, restoring it into the other kind and exporting again gives the same file, the header's
``exported_at`` aside.

Every table of the metadata must have a policy (``policy_of`` raises otherwise): a table a later
release adds is never left out silently. Credentials are never written: password hashes, webhook
secrets, login sessions, API tokens, and the outbox (whose messages carry signed reset links).
"""
import base64
import json
import os
from dataclasses import dataclass, field
from datetime import timezone
from typing import Iterator

from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.types import JSON

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow

FORMAT = "causerie_export"
END = "causerie_export_end"
VERSION = 1
BATCH = 2000


@dataclass(frozen=True)
class Policy:
    """What the export does with one table: its ``type`` (None: the table is not exported, for the
    reason ``why``), the columns it never writes, renamed columns, and the order of its rows."""
    type: str | None
    why: str = ""
    dropped: tuple[str, ...] = ()
    renamed: dict[str, str] = field(default_factory=dict)
    order: tuple[str, ...] = ()  # empty: the primary key


POLICIES: dict[str, Policy] = {
    "users": Policy("user", dropped=("password_hash",),
                    why="without password hashes: restored accounts set a new password "
                        "through 'forgot password' (or SSO)"),
    "banned_identities": Policy("banned_identity", why="SHA-256 of a deleted account's identity"),
    "articles": Policy("article"),
    "comments": Policy("comment", order=("depth", "id"), why="source, HTML and status"),
    "votes": Policy("vote"),
    "flags": Policy("flag"),
    "moderation_events": Policy("moderation_event", why="the audit log"),
    "moderation_settings": Policy("settings"),
    "used_tokens": Policy("used_token", why="nonces of used single-use links, so they stay used"),
    "notification_settings": Policy("notification_settings"),
    "subscriptions": Policy("subscription"),
    "notices": Policy("notice", why="what digests still have to tell"),
    "events": Policy("event", renamed={"type": "event_type"},
                     why="unprocessed ones are fanned out by the new database's worker"),
    "webhooks": Policy("webhook", dropped=("secret",),
                       why="without its secret: the restore gives each one a new secret"),
    "webhook_attempts": Policy("webhook_attempt", why="the deliveries log the API shows"),
    "imported_objects": Policy("imported_object",
                               why="which Disqus/WordPress/Isso object became which row: "
                                   "importing the same file again still adds nothing"),
    "login_sessions": Policy(None, why="credentials: everyone logs in again"),
    "api_tokens": Policy(None, why="credentials (token hashes): integrations get new tokens"),
    "outbox": Policy(None, why="delivery state whose messages hold signed links (credentials): "
                               "drain it (flask worker --drain) before exporting"),
    "spam_models": Policy("spam_model", why="the spam filter's trained versions (weights in base64; "
                                            "older versions keep only their counts and metrics)"),
    "spam_filter": Policy("spam_filter", why="the spam filter's settings and figures"),
}


class ExportError(Exception):
    """Something that stops an export or a restore, with a message for the operator."""


def policy_of(table: Table) -> Policy:
    try:
        return POLICIES[table.name]
    except KeyError:
        raise ExportError(f"table {table.name} has no export policy: add it to "
                          "app/portability/export.py POLICIES") from None


def exported_tables() -> list[tuple[Table, Policy]]:
    """The exported tables and their policies, parents first (the metadata's foreign-key order)."""
    pairs = [(table, policy_of(table)) for table in db.metadata.sorted_tables]
    return [(table, policy) for table, policy in pairs if policy.type is not None]


def written_columns(table: Table, policy: Policy) -> list[tuple[str, object]]:
    """(field name in the file, column) of every column written, in the table's order."""
    columns = [(policy.renamed.get(c.name, c.name), c) for c in table.columns if c.name not in policy.dropped]
    if any(name == "type" for name, _ in columns):
        raise ExportError(f"table {table.name}: a column named 'type' needs a rename in its policy")
    return columns


def schema_revision(connection) -> str:
    """The Alembic revision the database is at."""
    if not inspect(connection).has_table("alembic_version"):
        raise ExportError("the database has no schema revision: run 'flask --app app db upgrade'")
    revisions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(revisions) != 1:
        raise ExportError(f"the database is at {len(revisions)} schema revisions, expected one")
    return revisions[0]


def iso(value) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _writer(column):
    """The function turning a column's value into its JSON value; checks the type is known."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return lambda value: None if value is None else iso(value)
    if isinstance(kind, Boolean):
        return lambda value: None if value is None else bool(value)
    if isinstance(kind, LargeBinary):
        return lambda value: base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(kind, (Integer, Float, String, Text, JSON)):
        return None
    raise ExportError(f"column {column.table.name}.{column.name}: no JSON form for {kind!r}")


def dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _rows(connection, table: Table, policy: Policy) -> Iterator[str]:
    columns = written_columns(table, policy)
    names = [name for name, _ in columns]
    writers = [_writer(column) for _, column in columns]
    order_names = policy.order or tuple(c.name for c in table.primary_key.columns)
    statement = select(*(column for _, column in columns)).order_by(*(table.c[n] for n in order_names))
    result = connection.execution_options(yield_per=BATCH).execute(statement)
    positions = sorted(range(len(names)), key=lambda i: names[i])  # fields sorted by name
    for row in result:
        record = {"type": policy.type}
        for i in positions:
            value, writer = row[i], writers[i]
            record[names[i]] = value if writer is None or value is None else writer(value)
        yield dumps(record)


def export_lines(connection) -> Iterator[tuple[str, str | None]]:
    """(line, the row's type) for every line of the export, header first, end line last, read in
    the one transaction of ``connection`` (a consistent snapshot)."""
    header = {"type": FORMAT, "version": VERSION, "exported_at": iso(utcnow()),
              "schema": schema_revision(connection)}
    yield dumps(header), None
    rows = 0
    for table, policy in exported_tables():
        for line in _rows(connection, table, policy):
            rows += 1
            yield line, policy.type
    yield dumps({"type": END, "rows": rows}), None


def undelivered_messages(connection) -> int:
    """Outbox messages still to send, which the export does not carry."""
    outbox = db.metadata.tables.get("outbox")
    if outbox is None:
        return 0
    return connection.execute(select(func.count()).select_from(outbox).where(outbox.c.state == "pending")).scalar()


def export_file(path: str) -> tuple[dict[str, int], int]:
    """Write the whole database to ``path`` (through ``path + '.partial'``, renamed when complete);
    returns the number of rows of each type, and of outbox messages left behind undelivered."""
    counts: dict[str, int] = {}
    engine = db.engine
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    partial = path + ".partial"
    try:
        with engine.connect().execution_options(**options) as connection, connection.begin():
            with open(partial, "w", encoding="utf-8", newline="\n") as out:
                for line, kind in export_lines(connection):
                    out.write(line + "\n")
                    if kind is not None:
                        counts[kind] = counts.get(kind, 0) + 1
            undelivered = undelivered_messages(connection)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    os.replace(partial, path)
    return counts, undelivered
