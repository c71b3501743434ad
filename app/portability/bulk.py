"""Inserting many rows and learning their ids, in order, in a few statements.

PostgreSQL: ``INSERT ... RETURNING`` in batches, SQLAlchemy keeping the order (sort_by_parameter_order).
SQLite: there SQLAlchemy can only keep RETURNING's order by sending one row per statement, a third of
an import's writing time. So the ids are given: max(id) + 1 onwards, what SQLite itself would give,
under the write lock the caller holds (no other writer can take them), and the rows go in one
``executemany``.
"""
from functools import cache

from sqlalchemy import Table, func, insert, select

from ..extensions import db


@cache
def _returning(table: Table):
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


@cache
def _plain(table: Table):
    return insert(table), select(func.max(table.c.id))


def insert_many(table: Table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` (the caller holds the write lock); their new ids, in order."""
    if not rows:
        return []
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return list(connection.execute(_returning(table), rows).scalars())
    statement, last = _plain(table)
    start = (connection.execute(last).scalar() or 0) + 1
    ids = list(range(start, start + len(rows)))
    for row, new_id in zip(rows, ids):
        row["id"] = new_id
    connection.execute(statement, rows)
    return ids
