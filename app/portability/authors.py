"""The accounts of imported authors: they cannot log in (no password), and they reserve no e-mail
address (``email_key`` stays NULL, so the person can still register with it)."""
import hashlib

from sqlalchemy import or_, select

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
from .bulk import insert_many
from .records import Author, plain_name

FALLBACK_USERNAME = "reader"
LOOKUP_CHUNK = 400  # names per query of the names in use


def author_source_id(key: str) -> str:
    """What imported_objects keeps of an author: a hash, not the name and address themselves
    (deleting the account must leave no copy of them behind)."""
    return "a:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def wanted_username(author: Author) -> str:
    """A valid username to start from (``check_username`` accepts it): the source's login, else the
    name, else the address's local part, else FALLBACK_USERNAME."""
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


class _NamesInUse:
    """The skeletons (usernames' and display names') and username keys that a new username must not
    match: ``free_username``'s rules, with the accounts looked up once for a whole batch."""

    def __init__(self, usernames: list[str]):
        self.skeletons: set[str] = set()
        self.keys: set[str] = set()
        wanted = sorted({(skeleton(name), username_key(name)) for name in usernames})
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            skeletons, keys = zip(*wanted[start:start + LOOKUP_CHUNK])
            query = select(User.name_skeleton, User.display_skeleton, User.username_key).where(or_(
                User.name_skeleton.in_(skeletons), User.display_skeleton.in_(skeletons),
                User.username_key.in_(keys)))
            for name_skeleton, display_skeleton, key in db.session.execute(query):
                self.skeletons.update((name_skeleton, display_skeleton))
                self.keys.add(key)

    def free(self, username: str) -> bool:
        """For a username ``check_username`` accepts: no account has it or looks like it."""
        name_skeleton = skeleton(username)
        return not (name_skeleton and name_skeleton in self.skeletons) and username_key(username) not in self.keys

    def add(self, row: dict) -> None:
        self.skeletons.update((row["name_skeleton"], row["display_skeleton"]))
        self.keys.add(row["username_key"])


def _account(author: Author, username: str, source: str) -> dict:
    name = display_name(author, username)
    return dict(username=username, username_key=username_key(username), email=kept_email(author),
                email_key=None, display_name=name, password_hash=None, role=Role.READER.value,
                created_at=utcnow(), name_skeleton=skeleton(username), display_skeleton=skeleton(name),
                language="en", imported_from=source)


def create_accounts(authors: list[Author], source: str) -> list[int]:
    """Insert the accounts of imported authors, in order; their ids. The caller holds the write lock.

    The names in use are looked up once for all of them; only an author whose wanted username is
    taken goes through ``free_username`` (after the accounts before it are inserted, so it sees them).
    """
    wanted = [wanted_username(author) for author in authors]
    in_use = _NamesInUse(wanted)
    ids, rows = [], []
    for author, username in zip(authors, wanted):
        if not in_use.free(username):
            ids += insert_many(User.__table__, rows)
            rows = []
            username = free_username(username)
        row = _account(author, username, source)
        in_use.add(row)
        rows.append(row)
    return ids + insert_many(User.__table__, rows)
