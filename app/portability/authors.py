"""The accounts of imported authors: they cannot log in (no password), and they reserve no e-mail
address (``email_key`` stays NULL, so the person can still register with it)."""
import hashlib

from sqlalchemy import insert

from ..accounts.names import skeleton
from ..accounts.registration import (
    check_username,
    clean_display_name,
    free_username,
    normalize_email,
    username_key,
)
from ..extensions import db
from ..models import Role, User
from ..timeutil import utcnow
from .records import Author, plain_name

FALLBACK_USERNAME = "reader"
_INSERT_USER = insert(User.__table__).returning(User.__table__.c.id)


def author_source_id(key: str) -> str:
    """What imported_objects keeps of an author: a hash, not the name and address themselves
    (deleting the account must leave no copy of them behind)."""
    return "a:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def wanted_username(author: Author) -> str:
    """A valid username to start from: the source's login, else the name, else the address's local part."""
    for raw in (author.login, author.name, author.email.partition("@")[0]):
        candidate = plain_name(raw or "")
        if len(candidate) < 3 and candidate:
            candidate = (candidate + "___")[:3]
        if candidate and check_username(candidate) is None:
            return candidate
    return FALLBACK_USERNAME


def display_name(author: Author, username: str) -> str:
    """The source's name, cleaned by our display-name rules; the username when they refuse it."""
    try:
        return clean_display_name(" ".join(author.name.split())[:64])
    except ValueError:
        return username


def kept_email(author: Author) -> str | None:
    try:
        return normalize_email(author.email.strip()) if author.email.strip() else None
    except ValueError:
        return None


def create_account(author: Author, source: str) -> int:
    """Insert the account of an imported author; its id. The caller holds the write lock."""
    username = free_username(wanted_username(author))
    name = display_name(author, username)
    values = dict(username=username, username_key=username_key(username), email=kept_email(author),
                  email_key=None, display_name=name, password_hash=None, role=Role.READER.value,
                  created_at=utcnow(), name_skeleton=skeleton(username), display_skeleton=skeleton(name),
                  language="en", imported_from=source)
    return db.session.connection().execute(_INSERT_USER, values).scalar_one()
