"""Accounts: registration, authentication, login sessions, API tokens, roles and single sign-on.

Operations flush and never commit; the view commits once.
"""
import hashlib
import logging
import re
import secrets
import sqlite3
import unicodedata
from datetime import datetime, timedelta

import jwt
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.security import check_password_hash, generate_password_hash

from . import identities, names
from .errors import ApiError, not_found, validation_error
from .extensions import WRITE_LOCK_OPTION, db
from .lifecycle import touch_article
from .models import ApiToken, Comment, LoginSession, Role, User
from .timeutil import utcnow
from .validation import clean_line

USERNAME_RE = re.compile(r"[A-Za-z0-9_.\-]{3,32}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
RESERVED_USERNAMES = {
    "admin", "administrator", "moderator", "mod", "system", "root", "support", "staff", "null",
    "undefined", "none", "deleted", "anonymous", "me", "api", "login", "logout", "register",
    "causerie", "sso", "owner", "webmaster", "security",
}
COMMON_PASSWORDS = {
    "password", "password1", "password12", "password123", "1234567890", "12345678910", "qwertyuiop",
    "iloveyou12", "letmein123", "passw0rd12", "administrator", "0123456789", "1q2w3e4r5t",
    "qwerty1234", "abcdefghij", "aaaaaaaaaa", "welcome123", "changeme12", "football12",
}


def hash_secret(raw: str) -> str:
    """SHA-256 of a high-entropy random secret (tokens, session keys): safe to store and to look up."""
    return hashlib.sha256(raw.encode()).hexdigest()


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


# Verified against unknown logins so that they take as long as wrong passwords.
_DUMMY_HASH = generate_password_hash("causerie-dummy-password", method="scrypt")


def username_key(username: str) -> str:
    return username.casefold()


def email_key(email: str) -> str:
    return email.lower()


def check_username(username: str, staff: bool = False) -> str | None:
    """Why ``username`` cannot be used (``staff``: by a moderator or admin), or None."""
    if not USERNAME_RE.fullmatch(username):
        return "must be 3 to 32 characters from A-Z a-z 0-9 _ . -"
    if username_key(username).strip("._-") in RESERVED_USERNAMES:
        return "is reserved"
    if not any(ch.isalnum() for ch in username):
        return "must contain a letter or a digit"
    if not staff and names.looks_like_staff(username):
        return "looks like a staff name"
    return None


def normalize_email(email: str) -> str:
    """The address as stored (domain lower-cased, IDNA); ValueError saying why it is not one."""
    if len(email) > 254:
        raise ValueError("must be at most 254 characters")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid e-mail address: {exc}") from None


def clean_display_name(name: str, staff: bool = False) -> str:
    """The name as shown (NFC, trimmed); ValueError saying why it cannot be shown."""
    name = clean_line(name)
    if not 1 <= len(name) <= 64:
        raise ValueError("must be 1 to 64 characters")
    if reason := names.display_name_problem(name):
        raise ValueError(reason)
    if not staff and names.looks_like_staff(name):
        raise ValueError("looks like a staff name")
    return name


def _lookalikes(fields: dict[str, str], except_username: str | None = None) -> dict[str, str]:
    """The fields whose value looks like another account's username or display name (one query)."""
    skeletons = {field: names.skeleton(value) for field, value in fields.items()}
    wanted = {value for value in skeletons.values() if value}
    if not wanted:
        return {}
    query = select(User.name_skeleton, User.display_skeleton).where(
        or_(User.name_skeleton.in_(wanted), User.display_skeleton.in_(wanted))).limit(20)
    if except_username is not None:  # the very same username is a 409, not a look-alike
        query = query.where(User.username_key != username_key(except_username))
    taken = {value for row in db.session.execute(query) for value in row}
    return {field: "looks too much like another user's name"
            for field, value in skeletons.items() if value and value in taken}


def _refusal(clean, *args) -> str | None:
    """Why ``clean(*args)`` refuses its value, or None."""
    try:
        clean(*args)
    except ValueError as exc:
        return str(exc)
    return None


def registration_problems(username: str | None, email: str | None, password: str | None,
                          display_name: str | None, staff: bool = False) -> dict[str, str]:
    """Every reason the fields cannot make an account, by field, all found at once (None: not given)."""
    username = username.strip() if username is not None else None
    problems = {}
    if username is not None and (reason := check_username(username, staff)):
        problems["username"] = reason
    if email is not None and (reason := _refusal(normalize_email, email)):
        problems["email"] = reason
    if password is not None and (reason := check_password(password, username or "", email or "")):
        problems["password"] = reason
    if display_name is not None and (reason := _refusal(clean_display_name, display_name, staff)):
        problems["display_name"] = reason
    names_shown = {field: value for field, value in (("username", username), ("display_name", display_name))
                   if value is not None and field not in problems}
    problems.update(_lookalikes(names_shown, except_username=username))
    return problems


def check_password(password: str, username: str = "", email: str = "") -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must be at most {MAX_PASSWORD} characters"
    lowered = password.casefold()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 3:
        return "is too common; choose a less guessable password"
    if lowered in {username.casefold(), email.casefold(), email.casefold().split("@")[0]}:
        return "must not be your username or e-mail address"
    return None


def set_password(user: User, password: str, method: str) -> None:
    user.password_hash = generate_password_hash(normalize_password(password), method=method)


def register(username: str, email: str, password: str, display_name: str | None,
             hash_method: str, role: Role = Role.READER) -> User:
    """Create an account. Raises 422 naming every invalid field, 409 when the name or e-mail is taken."""
    username = username.strip()
    staff = Role(role) != Role.READER
    if problems := registration_problems(username, email, password, display_name, staff):
        raise validation_error(problems)
    email = normalize_email(email)
    display_name = clean_display_name(display_name, staff) if display_name is not None else username
    taken = db.session.scalar(
        select(User.id).where(
            (User.username_key == username_key(username)) | (User.email_key == email_key(email))
        ).limit(1)
    )
    if taken:
        raise ApiError(409, "conflict", "That username or e-mail address is already registered.")
    user = User(username=username, username_key=username_key(username), email=email,
                email_key=email_key(email), display_name=display_name, role=role)
    set_password(user, password, hash_method)
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise ApiError(409, "conflict", "That username or e-mail address is already registered.") from None
    identities.inherit_ban(user)
    return user


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
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


# -- login sessions -------------------------------------------------------

def start_session(user: User, remember: bool, remember_days: int) -> str:
    """Open a server-side login session for ``user``; returns the key kept in the signed cookie."""
    key = secrets.token_urlsafe(32)
    lifetime = timedelta(days=remember_days) if remember else timedelta(days=1)
    db.session.add(LoginSession(key_hash=hash_secret(key), user_id=user.id,
                                expires_at=utcnow() + lifetime))
    db.session.flush()
    user.session_key = key
    return key


def load_session_user(key: str) -> User | None:
    row = db.session.scalar(
        select(LoginSession).where(LoginSession.key_hash == hash_secret(key),
                                   LoginSession.expires_at > utcnow())
    )
    if row is None:
        return None
    row.user.session_key = key
    return row.user


def end_session(key: str | None) -> None:
    if key:
        db.session.execute(delete(LoginSession).where(LoginSession.key_hash == hash_secret(key)))


def end_all_sessions(user: User) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


# -- API tokens -------------------------------------------------------------

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


# -- roles ----------------------------------------------------------------------

def ensure_admin_remains(leaving: User) -> None:
    """409 when ``leaving`` is the last admin (demoted or deleted).

    The admins' rows stay locked until the transaction ends, so two admins demoting each other
    at once are serialized and the second sees the first's change (SQLite has one writer anyway).
    """
    admins = db.session.scalars(select(User.id).where(User.role == Role.ADMIN)
                                .order_by(User.id).with_for_update()).all()
    if leaving.id in admins and len(admins) == 1:
        raise ApiError(409, "conflict", "This is the last administrator; make another one first.")


def set_role(user_id: int, role: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise not_found("No such user.")
    if Role(role) != Role.ADMIN:
        ensure_admin_remains(user)
    was_staff = user.is_moderator
    user.role = Role(role)
    if user.is_moderator != was_staff:  # the staff badge on their comments: cached pages must go
        for article_id in sorted(db.session.scalars(
                select(Comment.article_id).where(Comment.author_id == user.id).distinct())):
            touch_article(article_id)
    db.session.flush()
    return user


# -- single sign-on ---------------------------------------------------------------

# Longest life of a sign-on token (exp after iat, or after now without iat): a leaked one dies soon.
SSO_MAX_LIFETIME = timedelta(hours=24)


def sso_login(token: str, secret: str) -> User:
    """The host site's user named by a signed HS256 token, created on first use."""
    if not secret:
        raise ApiError(401, "unauthorized", "Single sign-on is not configured.")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"],
                            options={"require": ["exp", "sub"]}, leeway=10)
    except jwt.PyJWTError:
        raise ApiError(401, "unauthorized", "The sign-on token is invalid or expired.") from None
    sub = _sso_subject(claims)
    _check_sso_lifetime(claims)
    user = db.session.scalar(select(User).where(User.sso_sub == sub))
    if user is not None:
        return user
    wanted = re.sub(r"[^A-Za-z0-9_.\-]", "", str(claims.get("username") or ""))[:28]
    if len(wanted) < 3:
        wanted = (wanted + "___")[:3]
    username = _free_username(wanted if not check_username(wanted) else "reader")
    # The address is kept to write to them but claims nothing (no email_key): a local account may
    # still register it, and logging in by e-mail never reaches this account.
    user = User(username=username, username_key=username_key(username), email=_sso_email(claims.get("email")),
                email_key=None, display_name=(_sso_display_name(claims.get("name")) or username), sso_sub=sub)
    db.session.add(user)
    db.session.flush()
    identities.inherit_ban(user)
    return user


def _sso_subject(claims: dict) -> str:
    """The host's user id; 401 when it is empty or too long (never cut: two ids would share an account)."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255 or "\x00" in sub:
        raise ApiError(401, "unauthorized", "The sign-on token names no valid user.")
    return sub


def _check_sso_lifetime(claims: dict) -> None:
    """401 for a token valid longer than SSO_MAX_LIFETIME (PyJWT checked that exp and iat are numbers)."""
    start = int(claims["iat"]) if "iat" in claims else utcnow().timestamp()
    if int(claims["exp"]) - start > SSO_MAX_LIFETIME.total_seconds():
        raise ApiError(401, "unauthorized", "The sign-on token lives too long (at most 24 hours).")


def _free_username(wanted: str) -> str:
    """``wanted``, or it with a number: a valid username no one has or looks like."""
    candidate = wanted
    suffix = 1
    while check_username(candidate) or _lookalikes({"username": candidate}) or db.session.scalar(
        select(User.id).where(User.username_key == username_key(candidate))
    ):
        suffix += 1
        candidate = f"{wanted[:28]}{suffix}" if suffix < 1000 else f"{wanted[:20]}{secrets.token_hex(4)}"
    return candidate


def _sso_display_name(name) -> str | None:
    """The ``name`` claim when it is fit to show, else None (the username is shown instead)."""
    if not isinstance(name, str):
        return None
    try:
        name = clean_display_name(clean_line(name)[:64])
    except ValueError:
        return None
    return None if _lookalikes({"display_name": name}) else name


def _sso_email(email) -> str | None:
    try:
        return normalize_email(email) if isinstance(email, str) else None
    except ValueError:
        return None
