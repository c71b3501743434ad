"""Keyset pagination: opaque signed cursors and the SQL conditions that resume after one."""
from datetime import datetime, timezone

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Boolean, and_, false, or_

from .errors import ApiError, bad_request


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="causerie.cursor")


def encode(kind: str, *values) -> str:
    return _serializer().dumps([kind, *[_plain(v) for v in values]])


def decode(kind: str, token: str | None) -> list | None:
    """The values of a cursor made by ``encode(kind, ...)``; 400 for anything else."""
    if not token:
        return None
    try:
        data = _serializer().loads(token)
    except (BadSignature, ValueError, UnicodeError):
        raise invalid() from None
    if not isinstance(data, list) or not data or data[0] != kind:
        raise invalid()
    return data[1:]


def _plain(value):
    if isinstance(value, datetime):
        return int(value.timestamp() * 1_000_000)
    return value


def to_datetime(micros: int) -> datetime:
    if not isinstance(micros, int):
        raise invalid()
    return datetime.fromtimestamp(micros / 1_000_000, tz=timezone.utc)


def invalid() -> ApiError:
    return bad_request("The cursor is not valid.")


def order_by(order):
    """ORDER BY clauses for (column, descending) pairs."""
    return [column.desc() if descending else column.asc() for column, descending in order]


def keyset_after(order, values):
    """Keyset condition: rows strictly after ``values`` in the (column, descending) ``order``."""
    clauses = []
    for i, (column, descending) in enumerate(order):
        same = [col == value for (col, _), value in zip(order[:i], values[:i])]
        if isinstance(column.type, Boolean):
            # Booleans order false < true and take no < or >: after a true row (descending) comes a false one.
            step = column.is_(False) if values[i] else false()
        else:
            step = column < values[i] if descending else column > values[i]
        clauses.append(and_(*same, step))
    return or_(*clauses)


