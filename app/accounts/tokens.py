"""Bearer tokens for integrations; only their SHA-256 is stored."""
import logging
import secrets
import sqlite3
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..errors import not_found
from ..extensions import WRITE_LOCK_OPTION, db
from ..models import ApiToken, User
from ..timeutil import utcnow
from .sessions import hash_secret

MAX_TOKEN_DAYS = 3650


# A token's last use is written at most this often, so bearer reads do not each write a row.
TOKEN_USE_PRECISION = timedelta(seconds=60)


def create_token(user: User, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    raw = "cz_" + secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(raw), expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    return token, raw


def list_tokens(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (expired ones included, so they can be seen and deleted)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


_TOKEN_IN_FORCE = (select(User, ApiToken.id, ApiToken.last_used_at)
                   .join(ApiToken, ApiToken.user_id == User.id)
                   .where(ApiToken.token_hash == bindparam("token_hash"),
                          or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > bindparam("now"))))


def find_token(raw: str):
    """The row (User, id, last_used_at) of the unexpired token ``raw``, or None."""
    return db.session.execute(_TOKEN_IN_FORCE, {"token_hash": hash_secret(raw), "now": utcnow()}).one_or_none()


def record_token_use(token_id: int, last_used_at: datetime | None) -> None:
    """Keep ``last_used_at`` to the minute, in a short transaction of its own.

    A side connection that takes the write lock up front, so a read request's transaction is never
    upgraded (SQLite); failing to record it is logged, never the request's failure.
    """
    now = utcnow()
    stale = now - TOKEN_USE_PRECISION
    if last_used_at is not None and last_used_at > stale:
        return
    table = ApiToken.__table__
    try:
        with db.engine.execution_options(**{WRITE_LOCK_OPTION: True}).begin() as conn:
            conn.execute(update(table).values(last_used_at=now).where(
                table.c.id == token_id, or_(table.c.last_used_at.is_(None), table.c.last_used_at <= stale)))
    except (SQLAlchemyError, sqlite3.Error):  # SQLite's BEGIN IMMEDIATE runs in an event hook, unwrapped
        logging.getLogger(__name__).warning("could not record the use of API token %s", token_id, exc_info=True)


def end_all_tokens(user: User) -> None:
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def revoke_token(user: User, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise not_found("No such token.")
    db.session.delete(token)
    db.session.flush()


