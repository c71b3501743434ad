"""What a user wants to be told: their notification settings, their choice per discussion (followed or
muted), unsubscribing through a mailed link, and who may receive mail at all."""
from functools import cache

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..database import writing
from ..errors import forbidden
from ..extensions import db
from ..models import Article, User
from ..timeutil import utcnow
from . import links
from .models import Notice, NotificationSettings, Subscription

REPLY_MODES = ("off", "instant", "daily")
MODERATION_MODES = ("off", "instant", "hourly")
REPLY, MODERATION = "reply", "moderation"


def _insert_ignore(model, **values) -> None:
    """INSERT a row unless its key exists (two requests may create it at the same moment)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(model).values(**values).on_conflict_do_nothing())


def record_notices(rows: list[dict], mailed: set[tuple[int, str, int]]) -> set[tuple[int, str, int]]:
    """Write the notices (user_id, kind, comment_id, article_id) that do not exist yet, in one statement;
    those keyed in ``mailed`` as told now. Returns the (user_id, kind, comment_id) written."""
    now = utcnow()
    params = [row | {"created_at": now, "mailed_at": now if (row["user_id"], row["kind"], row["comment_id"]) in mailed
                     else None} for row in rows]
    written = db.session.execute(_insert_notices(db.engine.dialect.name), params).all()
    return {(row.user_id, row.kind, row.comment_id) for row in written}


@cache
def _insert_notices(dialect_name: str):
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (dialect.insert(Notice).on_conflict_do_nothing()
            .returning(Notice.user_id, Notice.kind, Notice.comment_id))


# -- settings ----------------------------------------------------------------------------

def settings_json(row: NotificationSettings | None) -> dict:
    return {"replies": row.replies if row else "off", "moderation": row.moderation if row else "off"}


def get_settings(user: User) -> dict:
    return settings_json(db.session.get(NotificationSettings, user.id))


def locked_settings(user_id: int, skip_locked: bool = False) -> NotificationSettings | None:
    """The user's settings row (created when missing), locked for this transaction; None when another
    transaction holds it and ``skip_locked``. Call under ``writing()``."""
    _insert_ignore(NotificationSettings, user_id=user_id, replies="off", moderation="off")
    return db.session.scalar(
        select(NotificationSettings).where(NotificationSettings.user_id == user_id)
        .with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True))


def update_settings(user: User, changes: dict) -> dict:
    """Change any of ``replies`` and ``moderation`` (values checked by the view); the whole settings.

    Only staff may turn moderation messages on (403)."""
    if changes.get("moderation", "off") != "off" and not user.is_moderator:
        raise forbidden("Only moderators and administrators can receive moderation messages.")
    with writing():
        row = locked_settings(user.id)
        for name, value in changes.items():
            setattr(row, name, value)
        if changes.get("moderation") == "off":
            _drop_unmailed(user.id, MODERATION)
        db.session.flush()
    return settings_json(row)


# -- following or muting one discussion ----------------------------------------------------

def subscription_state(user: User, article: Article) -> bool:
    row = db.session.get(Subscription, (user.id, article.id))
    return bool(row and row.subscribed)


def set_subscription(user: User, article: Article, subscribed: bool) -> bool:
    """Follow every reply in the discussion (True), or mute it, own comments included (False)."""
    with writing():
        _set_subscription(user.id, article.id, subscribed)
        if not subscribed:
            _drop_unmailed(user.id, REPLY, article.id)
        db.session.flush()
    return subscribed


def _set_subscription(user_id: int, article_id: int, subscribed: bool) -> None:
    _insert_ignore(Subscription, user_id=user_id, article_id=article_id, subscribed=subscribed,
                   created_at=utcnow())
    db.session.execute(update(Subscription).where(Subscription.user_id == user_id,
                                                  Subscription.article_id == article_id)
                       .values(subscribed=subscribed), execution_options={"synchronize_session": False})


def _drop_unmailed(user_id: int, kind: str, article_id: int | None = None) -> None:
    """Notices still waiting for a digest that the user no longer wants: never sent."""
    query = update(Notice).where(Notice.user_id == user_id, Notice.kind == kind, Notice.mailed_at.is_(None))
    if article_id is not None:
        query = query.where(Notice.article_id == article_id)
    db.session.execute(query.values(mailed_at=utcnow()), execution_options={"synchronize_session": False})


# -- unsubscribing by a mailed link -------------------------------------------------------

def describe_unsubscribe(token: str) -> tuple[str, str]:
    """(scope kind: replies | thread | moderation, article title or "") of a valid token; BadLink.

    Reads only: the page a link opens (GET) never changes anything."""
    _, scope = links.read_unsubscribe(token)
    article_id = links.thread_of(scope)
    if article_id is None:
        return scope, ""
    article = db.session.get(Article, article_id)
    return "thread", links.article_title(article) if article else ""


def unsubscribe(token: str) -> tuple[str, str]:
    """Act on an unsubscribe link (again and again: the same result); what it did, as describe_unsubscribe.

    ``replies``: reply messages off and every followed discussion unfollowed; ``thread:<id>``: that
    discussion muted; ``moderation``: moderation messages off. A deleted account or article: nothing to do.
    """
    user_id, scope = links.read_unsubscribe(token)
    described = describe_unsubscribe(token)
    if db.session.get(User, user_id) is None:
        return described
    with writing():
        article_id = links.thread_of(scope)
        if article_id is not None:
            if db.session.get(Article, article_id) is not None:
                _set_subscription(user_id, article_id, False)
                _drop_unmailed(user_id, REPLY, article_id)
        elif scope == links.SCOPE_REPLIES:
            locked_settings(user_id).replies = "off"
            db.session.execute(delete(Subscription).where(Subscription.user_id == user_id,
                                                          Subscription.subscribed.is_(True)))
            _drop_unmailed(user_id, REPLY)
        else:
            locked_settings(user_id).moderation = "off"
            _drop_unmailed(user_id, MODERATION)
        db.session.flush()
    return described


# -- who may receive mail -----------------------------------------------------------------

def reachable(user: User | None) -> bool:
    """An account that exists, is not banned, has an address (verified, when REQUIRE_VERIFIED_EMAIL)."""
    if user is None or not user.email or user.is_banned():
        return False
    return user.email_verified or not current_app.config["REQUIRE_VERIFIED_EMAIL"]


def muted_articles(user_id: int) -> set[int]:
    """The discussions ``user_id`` muted, in one query."""
    return set(db.session.scalars(select(Subscription.article_id).where(
        Subscription.user_id == user_id, Subscription.subscribed.is_(False))))
