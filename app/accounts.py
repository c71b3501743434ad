"""Accounts: registration, authentication, login sessions, API tokens, roles and single sign-on.

Operations flush and never commit; the view commits once.
"""
import hashlib
import re
import secrets
import unicodedata
from datetime import timedelta

import jwt
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import ApiError, not_found, validation_error
from .extensions import db
from .models import ApiToken, LoginSession, Role, User
from .timeutil import utcnow

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


def check_username(username: str) -> str | None:
    """Why ``username`` cannot be used, or None."""
    if not USERNAME_RE.fullmatch(username):
        return "must be 3 to 32 characters from A-Z a-z 0-9 _ . -"
    if username_key(username).strip("._-") in RESERVED_USERNAMES:
        return "is reserved"
    return None


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
    """Create an account. Raises 422 on invalid fields and 409 when the name or e-mail is taken."""
    problems = {}
    if reason := check_username(username):
        problems["username"] = reason
    if reason := check_password(password, username, email):
        problems["password"] = reason
    if problems:
        raise validation_error(problems)
    taken = db.session.scalar(
        select(User.id).where(
            (User.username_key == username_key(username)) | (User.email_key == email_key(email))
        ).limit(1)
    )
    if taken:
        raise ApiError(409, "conflict", "That username or e-mail address is already registered.")
    user = User(username=username, username_key=username_key(username), email=email,
                email_key=email_key(email), display_name=display_name or username, role=role)
    set_password(user, password, hash_method)
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise ApiError(409, "conflict", "That username or e-mail address is already registered.") from None
    return user


def authenticate(login: str, password: str) -> User | None:
    """The user whose username or e-mail is ``login`` and whose password matches, else None."""
    login = unicodedata.normalize("NFC", login.strip())
    if "@" in login:
        where = User.email_key == email_key(login)
    else:
        where = User.username_key == username_key(login)
    user = db.session.scalar(select(User).where(where))
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

def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    raw = "cz_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(raw))
    db.session.add(token)
    db.session.flush()
    return token, raw


_USER_FOR_TOKEN = (select(User).join(ApiToken, ApiToken.user_id == User.id)
                   .where(ApiToken.token_hash == bindparam("token_hash")))


def user_for_token(raw: str) -> User | None:
    return db.session.scalar(_USER_FOR_TOKEN, {"token_hash": hash_secret(raw)})


def revoke_token(user: User, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise not_found("No such token.")
    db.session.delete(token)
    db.session.flush()


# -- roles ----------------------------------------------------------------------

def set_role(user_id: int, role: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise not_found("No such user.")
    user.role = Role(role)
    db.session.flush()
    return user


# -- single sign-on ---------------------------------------------------------------

def sso_login(token: str, secret: str) -> User:
    """The host site's user named by a signed HS256 token, created on first use."""
    if not secret:
        raise ApiError(401, "unauthorized", "Single sign-on is not configured.")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"],
                            options={"require": ["exp", "sub"]}, leeway=10)
    except jwt.PyJWTError:
        raise ApiError(401, "unauthorized", "The sign-on token is invalid or expired.") from None
    sub = str(claims.get("sub", ""))[:255]
    if not sub:
        raise ApiError(401, "unauthorized", "The sign-on token names no user.")
    user = db.session.scalar(select(User).where(User.sso_sub == sub))
    if user is not None:
        return user
    wanted = re.sub(r"[^A-Za-z0-9_.\-]", "", str(claims.get("username") or ""))[:28] or "reader"
    if len(wanted) < 3:
        wanted = (wanted + "___")[:3]
    username = _free_username(wanted)
    email = claims.get("email")
    email = email if isinstance(email, str) and "@" in email and len(email) <= 254 else None
    if email and db.session.scalar(select(User.id).where(User.email_key == email_key(email))):
        email = None  # an existing local account keeps its address; never merge on e-mail alone
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    user = User(username=username, username_key=username_key(username), email=email,
                email_key=email_key(email) if email else None,
                display_name=(_clean_name(name) or username), sso_sub=sub)
    db.session.add(user)
    db.session.flush()
    return user


def _free_username(wanted: str) -> str:
    candidate = wanted
    suffix = 1
    while check_username(candidate) or db.session.scalar(
        select(User.id).where(User.username_key == username_key(candidate))
    ):
        suffix += 1
        candidate = f"{wanted[:28]}{suffix}" if suffix < 1000 else f"{wanted[:20]}{secrets.token_hex(4)}"
    return candidate


def _clean_name(name: str | None) -> str | None:
    from .validation import clean_line
    if not name:
        return None
    try:
        return clean_line(name)[:64] or None
    except ValueError:
        return None
