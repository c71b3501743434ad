"""The tokens in the links we mail: signed, bound to a purpose and a user, and single use where it matters.

A token is an itsdangerous signature (with SECRET_KEY, salted by its purpose, so a token made for one
purpose is refused for every other) over a few claims: the user's id, a random nonce and whatever
binds it further (the comment and the action of a moderator's link, the address being verified, a
fingerprint of the password hash for a reset: a password changed in any way kills older reset links).
Using a single-use token records its nonce (``used_tokens``) in the transaction that acts on it: a
second use is refused, even by a concurrent request (the nonce is the table's primary key).
"""
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import UsedToken
from ..timeutil import utcnow


class BadLink(Exception):
    """The token is not ours, was made for something else, has expired or was used already."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"causerie.link.{purpose}")


def make(purpose: str, user_id: int, **claims) -> str:
    """A token for ``purpose`` and ``user_id``, carrying ``claims`` (short keys, JSON values)."""
    return _serializer(purpose).dumps({"u": user_id, "n": secrets.token_urlsafe(12), **claims})


def read(purpose: str, token: str, max_age: timedelta | None) -> dict:
    """The claims of a valid token for ``purpose``, younger than ``max_age`` (None: any age); BadLink."""
    if not isinstance(token, str) or not token or len(token) > 2000:
        raise BadLink("malformed")
    try:
        claims = _serializer(purpose).loads(
            token, max_age=None if max_age is None else max_age.total_seconds())
    except SignatureExpired:
        raise BadLink("expired") from None
    except BadSignature:
        raise BadLink("bad signature") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("u"), int) or not claims.get("n"):
        raise BadLink("malformed")
    return claims


def _nonce(claims: dict, purpose: str) -> str:
    return hashlib.sha256(f"{purpose}:{claims['n']}".encode()).hexdigest()


def is_used(claims: dict, purpose: str) -> bool:
    """Whether a single-use token was used already (a page shows so before its form is sent)."""
    return db.session.get(UsedToken, _nonce(claims, purpose)) is not None


def use_once(claims: dict, purpose: str, valid_for: timedelta) -> None:
    """Record the token as used, in the current transaction; BadLink when it was used already."""
    nonce = _nonce(claims, purpose)
    try:
        with db.session.begin_nested():
            db.session.add(UsedToken(nonce=nonce, expires_at=utcnow() + valid_for))
    except IntegrityError:
        raise BadLink("used") from None


def fingerprint(value: str | None) -> str:
    """A short, one-way digest of a secret (a password hash) to bind a token to its current value."""
    return hashlib.sha256((value or "").encode()).hexdigest()[:16]


def forget_expired(now: datetime | None = None) -> int:
    """Drop the records of used tokens that could not be used any more anyway (the worker's tidying)."""
    result = db.session.execute(delete(UsedToken).where(UsedToken.expires_at < (now or utcnow())))
    return result.rowcount or 0
