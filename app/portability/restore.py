"""Loading a JSONL export (``export.py``) into an empty database of either kind:
``flask --app app import jsonl FILE``.

The database must be empty and at the export's schema revision (``flask --app app db upgrade REV``
first, then ``db upgrade`` to the newest after the restore). Every record is checked against its
column (type, length, NULL) before anything is written, with the line number in the error; rows are
inserted in batches with their own primary keys, all in one transaction: an error anywhere leaves
the database as it was. On PostgreSQL the id sequences are then moved past the restored ids.

Columns the export never writes come back empty (``password_hash``: NULL, the user sets a new
password through "forgot password"), or new (a webhook's ``secret``: a new ``whsec_`` secret,
reported once to the operator).
"""
import base64
import binascii
import json
from datetime import datetime
from typing import Callable

from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import JSON

from ..database import writing
from ..extensions import db
from ..notifications.endpoints import new_secret
from ..timeutil import UTCDateTime
from .export import (
    BATCH,
    END,
    FORMAT,
    VERSION,
    ExportError,
    exported_tables,
    schema_revision,
    written_columns,
)

# New values for the dropped columns a row cannot go without, by (table, column).
FILLERS: dict[tuple[str, str], Callable[[], object]] = {("webhooks", "secret"): new_secret}


class RestoreError(ExportError):
    """A file or a database the restore refuses, and why (with the line number when there is one)."""


def _time(value):
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 time")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("expected a UTC time (ending in Z)")
    return parsed


def _number(value):
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError("expected a number")
    return float(value)


def _base64(value):
    if not isinstance(value, str):
        raise ValueError("expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("expected base64 text") from None


def _checked(kind: type, what: str):
    def check(value):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"expected {what}")
        return value
    return check


def _string(length: int | None):
    def check(value):
        if not isinstance(value, str):
            raise ValueError("expected a string")
        if length is not None and len(value) > length:
            raise ValueError(f"longer than {length} characters")
        return value
    return check


def _reader(column) -> Callable:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _time
    if isinstance(kind, Boolean):
        return _checked(bool, "true or false")
    if isinstance(kind, Integer):
        return _checked(int, "an integer")
    if isinstance(kind, Float):
        return _number
    if isinstance(kind, LargeBinary):
        return _base64
    if isinstance(kind, (String, Text)):
        return _string(getattr(kind, "length", None))
    if isinstance(kind, JSON):
        return lambda value: value
    raise RestoreError(f"column {column.table.name}.{column.name}: cannot read {kind!r}")


class _Records:
    """How the records of one type become rows of its table."""

    def __init__(self, table: Table, policy):
        self.table, self.type = table, policy.type
        self.fields = {name: (column, _reader(column)) for name, column in written_columns(table, policy)}
        self.fillers = {name: FILLERS[(table.name, name)] for name in policy.dropped
                        if (table.name, name) in FILLERS}
        self.primary = [column.name for column in table.primary_key.columns]

    def row(self, record: dict, number: int) -> dict:
        unknown = sorted(set(record) - set(self.fields) - {"type"})
        missing = sorted(set(self.fields) - set(record))
        if unknown or missing:
            problems = [f"{what} fields {names}" for what, names in (("unknown", unknown), ("missing", missing))
                        if names]
            raise RestoreError(f"line {number}: {self.type}: {', '.join(problems)}")
        row = {}
        for name, (column, read) in self.fields.items():
            value = record[name]
            if value is None:
                if not column.nullable:
                    raise RestoreError(f"line {number}: {self.type}.{name} must not be null")
                row[column.name] = None
                continue
            try:
                row[column.name] = read(value)
            except ValueError as error:
                raise RestoreError(f"line {number}: {self.type}.{name}: {error}") from None
        for name, fill in self.fillers.items():
            row[name] = fill()
        return row


def _header(line: str | None, revision: str) -> None:
    try:
        header = json.loads(line or "")
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("type") != FORMAT:
        raise RestoreError("line 1: not a Causerie export (no causerie_export header)")
    if header.get("version") != VERSION:
        raise RestoreError(f"line 1: export format version {header.get('version')!r}; this release "
                           f"reads version {VERSION}")
    if header.get("schema") != revision:
        raise RestoreError(
            f"the export is of schema revision {header.get('schema')!r}, the database is at {revision!r}: "
            f"create the database with 'flask --app app db upgrade {header.get('schema')}', restore, "
            "then run 'flask --app app db upgrade'")


def _refuse_non_empty(connection) -> None:
    for table in db.metadata.sorted_tables:
        if connection.execute(select(text("1")).select_from(table).limit(1)).first() is not None:
            raise RestoreError(f"the database is not empty (table {table.name} has rows): "
                               "restore into a new, empty database")


class _Batch:
    """Rows of one type waiting to be inserted, and the lines they came from."""

    def __init__(self, connection):
        self.connection, self.records, self.rows, self.first = connection, None, [], 0

    def add(self, records: _Records, row: dict, number: int) -> None:
        if records is not self.records or len(self.rows) >= BATCH:
            self.flush()
            self.records, self.first = records, number
        self.rows.append(row)

    def flush(self) -> None:
        if not self.rows:
            return
        try:
            self.connection.execute(self.records.table.insert(), self.rows)
        except DBAPIError as error:
            reason = str(error.orig).strip().splitlines()[0]
            raise RestoreError(f"lines {self.first}-{self.first + len(self.rows) - 1}: the database refused "
                               f"these {self.records.type} rows ({reason}); is a parent missing "
                               "or written after its child?") from None
        self.rows = []


def _load(lines, connection) -> tuple[dict[str, int], list[tuple[str, object, str, str]]]:
    readers = {policy.type: _Records(table, policy) for table, policy in exported_tables()}
    counts: dict[str, int] = {}
    filled: list[tuple[str, object, str, str]] = []
    batch, end = _Batch(connection), None
    for number, line in enumerate(lines, start=2):
        if end is not None:
            raise RestoreError(f"line {number}: a line after the end line")
        try:
            record = json.loads(line)
        except ValueError as error:
            raise RestoreError(f"line {number}: not JSON ({getattr(error, 'msg', error)})") from None
        kind = record.get("type") if isinstance(record, dict) else None
        if kind == END:
            end = record
            continue
        if kind not in readers:
            raise RestoreError(f"line {number}: unknown type {kind!r}")
        records = readers[kind]
        row = records.row(record, number)
        filled += [(kind, row.get(records.primary[0]), name, row[name]) for name in records.fillers]
        batch.add(records, row, number)
        counts[kind] = counts.get(kind, 0) + 1
    batch.flush()
    if end is None:
        raise RestoreError("the file has no end line: it was cut short (restore a complete export)")
    if end.get("rows") != sum(counts.values()):
        raise RestoreError(f"the end line counts {end.get('rows')!r} rows, the file holds {sum(counts.values())}")
    return counts, filled


def _reset_sequences(connection) -> None:
    """PostgreSQL: make each table's id sequence hand out ids above the restored ones."""
    quote = connection.dialect.identifier_preparer.quote
    for table, _policy in exported_tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer) or keys[0].foreign_keys:
            continue
        highest = connection.execute(select(func.max(keys[0]))).scalar()
        connection.execute(text("SELECT setval(pg_get_serial_sequence(:table, :column), :next, false)"),
                           {"table": quote(table.name), "column": keys[0].name, "next": (highest or 0) + 1})


def restore_file(path: str) -> tuple[dict[str, int], list[tuple[str, object, str, str]]]:
    """Load the export at ``path`` into this app's empty database, in one transaction; returns the rows
    restored of each type and the values made anew for dropped columns: (type, id, column, value)."""
    with open(path, encoding="utf-8") as lines:
        _header(next(lines, None), schema_revision(db.session.connection()))
        try:
            with writing():
                connection = db.session.connection()
                _refuse_non_empty(connection)
                counts, filled = _load(lines, connection)
                if connection.dialect.name == "postgresql":
                    _reset_sequences(connection)
            db.session.commit()
        except UnicodeDecodeError:
            db.session.rollback()
            raise RestoreError("the file is not UTF-8 text") from None
        except BaseException:
            db.session.rollback()
            raise
    return counts, filled
