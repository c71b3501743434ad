"""Bans that outlive the account: a banned reader may delete their account (their data goes),
but the ban stays on the account's identities -- username, e-mail address, SSO subject, each
kept as a SHA-256 only -- and an account registered later with any of them starts banned.

Plain functions that flush, never commit.
"""
import hashlib

from sqlalchemy import delete, or_, select, tuple_

from ..extensions import db
from ..models import BannedIdentity, User
from ..timeutil import utcnow

CARRIED_OVER = "ban carried over from a deleted account"


def _identities(user: User) -> list[tuple[str, str]]:
    """(kind, SHA-256 of the normalised key) of every identity ``user`` has."""
    keys = [("username", user.username_key)]
    if user.email:
        keys.append(("email", user.email.lower()))  # accounts.email_key, including an SSO address
    if user.sso_sub:
        keys.append(("sso", user.sso_sub))
    return [(kind, hashlib.sha256(key.encode()).hexdigest()) for kind, key in keys]


def _matching(user: User):
    pairs = _identities(user)
    return or_(*(tuple_(BannedIdentity.kind, BannedIdentity.key_hash) == pair for pair in pairs))


def keep_ban(user: User) -> None:
    """Before ``user`` is deleted: keep their running ban on their identities."""
    now = utcnow()
    if not user.is_banned(now):
        return
    db.session.execute(delete(BannedIdentity).where(BannedIdentity.banned_until <= now))
    existing = {(row.kind, row.key_hash): row for row in db.session.scalars(
        select(BannedIdentity).where(_matching(user)))}
    for kind, key_hash in _identities(user):
        row = existing.get((kind, key_hash))
        if row is None:
            db.session.add(BannedIdentity(kind=kind, key_hash=key_hash, banned_until=user.banned_until))
        else:
            row.banned_until = max(row.banned_until, user.banned_until)
    db.session.flush()


def inherit_ban(user: User) -> None:
    """A new account (flushed) with an identity of a banned, deleted account starts banned as long."""
    until = db.session.scalar(select(BannedIdentity.banned_until).where(
        _matching(user), BannedIdentity.banned_until > utcnow()).order_by(BannedIdentity.banned_until.desc())
        .limit(1))
    if until is None:
        return
    from ..moderation.audit import record_event
    user.banned_until = until
    user.ban_reason = CARRIED_OVER
    record_event("ban", actor=None, user_id=user.id, reason=CARRIED_OVER)
    db.session.flush()


def forget_ban(user: User) -> None:
    """A moderator lifted ``user``'s ban: their identities no longer carry one."""
    db.session.execute(delete(BannedIdentity).where(_matching(user)))
