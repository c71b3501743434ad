"""Single sign-on: the host site's signed-in user, from an HS256 token."""
import re
from datetime import timedelta

import jwt
from sqlalchemy import select

from ..database import writing
from ..errors import unauthorized
from ..extensions import db
from ..models import User
from ..text import clean_line
from ..timeutil import utcnow
from . import identity_bans
from .registration import (
    check_username,
    clean_display_name,
    free_username,
    lookalikes,
    normalize_email,
    username_key,
)

# Longest life of a sign-on token (exp after iat, or after now without iat): a leaked one dies soon.
SSO_MAX_LIFETIME = timedelta(hours=24)


def sso_login(token: str, secret: str) -> User:
    """The host site's user named by a signed HS256 token, created on first use."""
    if not secret:
        raise unauthorized("Single sign-on is not configured.")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"],
                            options={"require": ["exp", "sub"]}, leeway=10)
    except jwt.PyJWTError:
        raise unauthorized("The sign-on token is invalid or expired.") from None
    sub = _sso_subject(claims)
    _check_sso_lifetime(claims)
    user = _sso_user(sub)
    if user is not None:
        return user
    with writing():
        # Looked up again under the lock: a first sign-on may have created it meanwhile.
        return _sso_user(sub) or _create_sso_user(sub, claims)


def _sso_user(sub: str) -> User | None:
    return db.session.scalar(select(User).where(User.sso_sub == sub))


def _create_sso_user(sub: str, claims: dict) -> User:
    wanted = re.sub(r"[^A-Za-z0-9_.\-]", "", str(claims.get("username") or ""))[:28]
    if len(wanted) < 3:
        wanted = (wanted + "___")[:3]
    username = free_username(wanted if not check_username(wanted) else "reader")
    # The address is kept to write to them but claims nothing (no email_key): a local account may
    # still register it, and logging in by e-mail never reaches this account.
    user = User(username=username, username_key=username_key(username), email=_sso_email(claims.get("email")),
                email_key=None, display_name=(_sso_display_name(claims.get("name")) or username), sso_sub=sub,
                email_verified_at=utcnow())  # the host site vouches for its readers
    db.session.add(user)
    db.session.flush()
    identity_bans.inherit_ban(user)
    return user


def _sso_subject(claims: dict) -> str:
    """The host's user id; 401 when it is empty or too long (never cut: two ids would share an account)."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255 or "\x00" in sub:
        raise unauthorized("The sign-on token names no valid user.")
    return sub


def _check_sso_lifetime(claims: dict) -> None:
    """401 for a token valid longer than SSO_MAX_LIFETIME (PyJWT checked that exp and iat are numbers)."""
    start = int(claims["iat"]) if "iat" in claims else utcnow().timestamp()
    if int(claims["exp"]) - start > SSO_MAX_LIFETIME.total_seconds():
        raise unauthorized("The sign-on token lives too long (at most 24 hours).")


def _sso_display_name(name) -> str | None:
    """The ``name`` claim when it is fit to show, else None (the username is shown instead)."""
    if not isinstance(name, str):
        return None
    try:
        name = clean_display_name(clean_line(name)[:64])
    except ValueError:
        return None
    return None if lookalikes({"display_name": name}) else name


def _sso_email(email) -> str | None:
    try:
        return normalize_email(email) if isinstance(email, str) else None
    except ValueError:
        return None


