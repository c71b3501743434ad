"""Logging in: checking credentials and server-side login sessions (logging out deletes the row)."""
import functools
import hashlib
import secrets
import unicodedata
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import RowLoader, run, writing
from ..extensions import db
from ..models import LoginSession, User
from ..timeutil import utcnow
from .passwords import normalize_password
from .registration import email_key, username_key


def hash_secret(raw: str) -> str:
    """SHA-256 of a high-entropy random secret (tokens, session keys): safe to store and to look up."""
    return hashlib.sha256(raw.encode()).hexdigest()


@functools.cache
def _dummy_hash(method: str) -> str:
    """Verified against unknown logins so that they take as long as wrong passwords: a hash made the
    way this site hashes passwords (PASSWORD_HASH_METHOD), so its cost is theirs."""
    return generate_password_hash("causerie-dummy-password", method=method)


def login_key(login: str) -> str:
    """What a typed login is compared as: trimmed, NFC, any case."""
    return unicodedata.normalize("NFC", login.strip()).casefold()


def find_account(login: str) -> User | None:
    """The account whose username or e-mail address is ``login`` (any case), or None."""
    login = unicodedata.normalize("NFC", login.strip())
    if "\x00" in login:
        return None  # no name holds NUL, and PostgreSQL refuses it in a query
    if "@" in login:
        where = User.email_key == email_key(login)
    else:
        where = User.username_key == username_key(login)
    return db.session.scalar(select(User).where(where))


def authenticate(login: str, password: str) -> User | None:
    """The user whose username or e-mail is ``login`` and whose password matches, else None."""
    user = find_account(login)
    password = normalize_password(password)
    if user is None or user.password_hash is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


@writing()
def start_session(user: User, remember: bool, remember_days: int) -> str:
    """Open a server-side login session for ``user``; returns the key kept in the signed cookie."""
    key = secrets.token_urlsafe(32)
    lifetime = timedelta(days=remember_days) if remember else timedelta(days=1)
    db.session.add(LoginSession(key_hash=hash_secret(key), user_id=user.id,
                                expires_at=utcnow() + lifetime))
    db.session.flush()
    user.session_key = key
    return key


# Who calls is read on a connection of its own (database.run): one round trip on PostgreSQL, where the
# session's transaction would add its BEGIN and ROLLBACK to every logged-in page view.
_USERS = RowLoader(User)
USER_COLUMNS = _USERS.columns


def as_loaded(values, attach: bool = True) -> User:
    """The User of a row of ``USER_COLUMNS``, put in the session as if it had loaded it
    (``database.RowLoader``; ``attach=False``: left detached, for a request that only reads)."""
    return _USERS.load(values, attach)


# Every logged-in request runs it (alone, or beside a page's head: web.caller.caller_and): built once.
SESSION_USER = (select(*USER_COLUMNS).join(LoginSession, LoginSession.user_id == User.id)
                .where(LoginSession.key_hash == bindparam("key_hash"), LoginSession.expires_at > bindparam("now")))


def session_user_params(key: str) -> dict:
    """The parameters of ``SESSION_USER`` for the session ``key``."""
    return {"key_hash": hash_secret(key), "now": utcnow()}


def session_user(row, key: str, attach: bool = True) -> User | None:
    """The user of the session ``key`` from its ``SESSION_USER`` row (None: no live session);
    ``attach``: see ``as_loaded``."""
    if row is None:
        return None
    user = as_loaded(row, attach)
    user.session_key = key
    return user


def load_session_user(key: str) -> User | None:
    """The user of the live session ``key`` (one query)."""
    rows = run(SESSION_USER, session_user_params(key), own_connection=True)
    return session_user(rows[0] if rows else None, key)


def end_session(key: str | None) -> None:
    if key:
        with writing():
            db.session.execute(delete(LoginSession).where(LoginSession.key_hash == hash_secret(key)))


@writing()
def end_all_sessions(user: User) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


