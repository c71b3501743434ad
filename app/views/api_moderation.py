"""/api/v1/moderation: queues, decisions, bans, the audit log and settings.

Everything needs a moderator who is not banned (readers and banned staff 403,
anonymous 401); changing the settings needs an admin.
"""
from typing import Annotated, Literal

from flask import Blueprint, jsonify, request
from pydantic import AfterValidator, Field, StringConstraints, field_validator

from ..accounts.serialize import user_json
from ..discussion import articles, threads
from ..extensions import db
from ..models import Premoderation, values
from ..moderation import bans, decisions, queues
from ..moderation import settings as moderation_settings
from ..moderation.words import matchable_words
from ..web.caller import require_admin, require_moderator
from ..web.validation import Id, Line, Strict, body, query_choice, query_id, query_int

bp = Blueprint("api_moderation", __name__, url_prefix="/api/v1")

QUEUE_MAX_LIMIT = 100
LOG_MAX_LIMIT = 200
MAX_BAN_DAYS = 36500
MAX_WORDS = 1000
MAX_WORD_LENGTH = 100

Action = Literal[decisions.ACTIONS]  # type: ignore[valid-type]
Reason = Annotated[Line, StringConstraints(max_length=500)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_WORD_LENGTH)]
Words = Annotated[list[Word], Field(max_length=MAX_WORDS)]


class Decision(Strict):
    action: Action
    reason: Reason | None = None


class BulkDecision(Strict):
    ids: Annotated[list[Id], Field(min_length=1, max_length=decisions.MAX_BULK)]
    action: Action
    reason: Reason | None = None


def _required(text: str) -> str:
    if not text:
        raise ValueError("must not be empty")
    return text


class Ban(Strict):
    days: Annotated[int, Field(ge=1, le=MAX_BAN_DAYS)] | None = None
    reason: Annotated[Reason, AfterValidator(_required)]
    purge: bool = False


class SettingsChange(Strict):
    premoderation: Literal[values(Premoderation)] = None  # type: ignore[valid-type]
    trusted_after: Count = None
    max_links: Count = None
    banned_words: Words = None
    suspect_words: Words = None
    flag_threshold: Annotated[int, Field(ge=1, le=1_000_000)] = None
    edit_window_minutes: Annotated[int, Field(ge=0, le=525_600)] = None

    @field_validator("banned_words", "suspect_words")
    @classmethod
    def _matchable(cls, words: list[str]) -> list[str]:
        return matchable_words(words)


@bp.get("/moderation/queue")
def queue():
    moderator = require_moderator()
    name = query_choice("queue", queues.QUEUES, queues.QUEUES[0])
    limit = query_int("limit", 20, QUEUE_MAX_LIMIT, minimum=1)
    article = articles.article_filter(request.args.get("article"))
    items, next_cursor = queues.queue_page(name, moderator, article, limit,
                                               request.args.get("after"))
    return jsonify(comments=items, counts=queues.queue_counts(article), next=next_cursor)


@bp.post("/moderation/comments/<id:comment_id>")
def decide(comment_id: int):
    moderator = require_moderator()
    data = body(Decision)
    comment = decisions.find_for_decision(comment_id)
    decisions.decide(comment, data.action, moderator, data.reason)
    db.session.commit()
    return jsonify(threads.comment_detail(comment_id, moderator))


@bp.post("/moderation/bulk")
def bulk():
    moderator = require_moderator()
    data = body(BulkDecision)
    updated = decisions.bulk_decide(data.ids, data.action, moderator, data.reason)
    db.session.commit()
    return jsonify(updated=updated)


@bp.get("/moderation/log")
def log():
    moderator = require_moderator()
    entries, next_cursor = queues.log_page(
        moderator, comment_id=query_id("comment"), user_id=query_id("user"),
        actor_id=query_id("actor"), limit=query_int("limit", 50, LOG_MAX_LIMIT, minimum=1),
        after=request.args.get("after"))
    return jsonify(entries=entries, next=next_cursor)


@bp.post("/moderation/users/<id:user_id>/ban")
def ban(user_id: int):
    moderator = require_moderator()
    data = body(Ban)
    user = bans.ban_user(user_id, moderator, data.days, data.reason, data.purge)
    db.session.commit()
    return jsonify(user=user_json(user, moderator))


@bp.delete("/moderation/users/<id:user_id>/ban")
def unban(user_id: int):
    moderator = require_moderator()
    bans.unban_user(user_id, moderator)
    db.session.commit()
    return "", 204


@bp.get("/moderation/settings")
def settings():
    require_moderator()
    return jsonify(moderation_settings.effective_settings())


@bp.put("/moderation/settings")
def update_settings():
    require_admin()
    data = body(SettingsChange)
    saved = moderation_settings.update_settings({name: getattr(data, name) for name in data.model_fields_set})
    db.session.commit()
    return jsonify(saved)
