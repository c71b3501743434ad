"""Bearer tokens for integrations; only their SHA-256 is stored."""
import logging
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..database import run, writing
from ..errors import not_found
from ..extensions import db
from ..models import ApiToken, User
from ..timeutil import utcnow
from .sessions import USER_COLUMNS, as_loaded, end_all_sessions, hash_secret

MAX_TOKEN_DAYS = 3650


# A token's last use is written at most this often, so bearer reads do not each write a row.
TOKEN_USE_PRECISION = timedelta(seconds=60)


@writing()
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


TOKEN_IN_FORCE = (select(*USER_COLUMNS, ApiToken.id, ApiToken.last_used_at)
                  .join(ApiToken, ApiToken.user_id == User.id)
                  .where(ApiToken.token_hash == bindparam("token_hash"),
                         or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > bindparam("now"))))


class FoundToken(NamedTuple):
    User: User
    id: int
    last_used_at: datetime | None


def token_params(raw: str) -> dict:
    """The parameters of ``TOKEN_IN_FORCE`` for the token ``raw``."""
    return {"token_hash": hash_secret(raw), "now": utcnow()}


def found_token(row, attach: bool = True) -> FoundToken | None:
    """The token of a ``TOKEN_IN_FORCE`` row (its user, id and last use), or None; ``attach``: see
    ``sessions.as_loaded``."""
    if row is None:
        return None
    *user, token_id, last_used_at = row
    return FoundToken(as_loaded(user, attach), token_id, last_used_at)


def find_token(raw: str) -> FoundToken | None:
    """The unexpired token ``raw``, or None: one query on a connection of its own, as a login
    session's (sessions.load_session_user)."""
    rows = run(TOKEN_IN_FORCE, token_params(raw), own_connection=True)
    return found_token(rows[0] if rows else None)


_TOKENS = ApiToken.__table__
_RECORD_USE = update(_TOKENS).values(last_used_at=bindparam("now", type_=_TOKENS.c.last_used_at.type)).where(
    _TOKENS.c.id == bindparam("token_id"),
    or_(_TOKENS.c.last_used_at.is_(None), _TOKENS.c.last_used_at <= bindparam("stale")))


def record_token_use(token_id: int, last_used_at: datetime | None) -> None:
    """Keep ``last_used_at`` to the minute, in a short transaction of its own (whatever the request
    does, even a GET); failing to record it is logged, never the request's failure."""
    now = utcnow()
    stale = now - TOKEN_USE_PRECISION
    if last_used_at is not None and last_used_at > stale:
        return
    try:
        run(_RECORD_USE, {"now": now, "token_id": token_id, "stale": stale}, own_connection=True)
    except SQLAlchemyError:
        logging.getLogger(__name__).warning("could not record the use of API token %s", token_id, exc_info=True)


@writing()
def end_all_tokens(user: User) -> None:
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


@writing()
def end_all_access(user: User) -> None:
    """Log ``user`` out everywhere: every login session and every API token."""
    end_all_sessions(user)
    end_all_tokens(user)


@writing()
def revoke_token(user: User, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise not_found("No such token.")
    db.session.delete(token)
    db.session.flush()


