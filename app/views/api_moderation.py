"""/api/v1/moderation: queues, decisions, bans, the audit log and settings.

Everything needs a moderator who is not banned (readers and banned staff 403,
anonymous 401); changing the settings needs an admin. A ban needs a ``reason``
(422 without one, as the contract says). Choices where the contract is silent:
``article=`` naming an unknown article is 404 and, when given, the queue counts
are that article's; in a settings update ``null`` is not a value (422); the
log's ``previous_body`` (what an edit replaced) is shown to admins only.
"""
import re
from typing import Annotated, Literal

from flask import Blueprint, jsonify, request
from pydantic import AfterValidator, Field, StringConstraints, field_validator

from ..accounts.serialize import user_json
from ..discussion import articles, threads
from ..errors import validation_error
from ..extensions import db
from ..moderation import bans as moderation_bans
from ..moderation import decisions as moderation_decisions
from ..moderation import queues, rules
from ..moderation import settings as moderation_settings
from ..web.caller import require_admin, require_moderator
from ..web.validation import MAX_ID, Id, Line, Strict, body, query_choice, query_int

bp = Blueprint("api_moderation", __name__, url_prefix="/api/v1")

QUEUE_MAX_LIMIT = 100
LOG_MAX_LIMIT = 200
MAX_BAN_DAYS = 36500
MAX_WORDS = 1000
MAX_WORD_LENGTH = 100

Action = Literal["approve", "reject", "spam", "pin", "unpin"]
Reason = Annotated[Line, StringConstraints(max_length=500)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_WORD_LENGTH)]
Words = Annotated[list[Word], Field(max_length=MAX_WORDS)]


class Decision(Strict):
    action: Action
    reason: Reason | None = None


class BulkDecision(Strict):
    ids: Annotated[list[Id], Field(min_length=1, max_length=moderation_decisions.MAX_BULK)]
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
    premoderation: Literal["none", "new_users", "all"] = None
    trusted_after: Count = None
    max_links: Count = None
    banned_words: Words = None
    suspect_words: Words = None
    flag_threshold: Annotated[int, Field(ge=1, le=1_000_000)] = None
    edit_window_minutes: Annotated[int, Field(ge=0, le=525_600)] = None

    @field_validator("banned_words", "suspect_words")
    @classmethod
    def _matchable(cls, words: list[str]) -> list[str]:
        unique = {}
        for word in words:
            folded = rules.fold(word)
            if not re.search(r"[^\W_]", folded):
                raise ValueError(f'"{word}" has no letter or digit to match')
            unique.setdefault(folded, word)  # one entry per word, whatever its case or accents
        return list(unique.values())


def _query_id(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"[1-9][0-9]{0,9}", raw) or int(raw) > MAX_ID:
        raise validation_error({name: "must be a positive integer id"})
    return int(raw)


def _article_filter():
    key = request.args.get("article")
    if not key:
        return None
    if not articles.KEY_RE.fullmatch(key):
        raise validation_error({"article": "is not a valid article key"})
    return articles.get_article_or_404(key)


@bp.get("/moderation/queue")
def queue():
    moderator = require_moderator()
    name = query_choice("queue", queues.QUEUES, "pending")
    limit = query_int("limit", 20, QUEUE_MAX_LIMIT, minimum=1)
    article = _article_filter()
    items, next_cursor = queues.queue_page(name, moderator, article, limit,
                                               request.args.get("after"))
    return jsonify(comments=items, counts=queues.queue_counts(article), next=next_cursor)


@bp.post("/moderation/comments/<id:comment_id>")
def decide(comment_id: int):
    moderator = require_moderator()
    data = body(Decision)
    comment = moderation_decisions.find_for_decision(comment_id)
    moderation_decisions.decide(comment, data.action, moderator, data.reason)
    db.session.commit()
    return jsonify(threads.comment_detail(comment_id, moderator))


@bp.post("/moderation/bulk")
def bulk():
    moderator = require_moderator()
    data = body(BulkDecision)
    updated = moderation_decisions.bulk_decide(data.ids, data.action, moderator, data.reason)
    db.session.commit()
    return jsonify(updated=updated)


@bp.get("/moderation/log")
def log():
    moderator = require_moderator()
    entries, next_cursor = queues.log_page(
        moderator, comment_id=_query_id("comment"), user_id=_query_id("user"),
        actor_id=_query_id("actor"), limit=query_int("limit", 50, LOG_MAX_LIMIT, minimum=1),
        after=request.args.get("after"))
    return jsonify(entries=entries, next=next_cursor)


@bp.post("/moderation/users/<id:user_id>/ban")
def ban(user_id: int):
    moderator = require_moderator()
    data = body(Ban)
    user = moderation_bans.ban_user(user_id, moderator, data.days, data.reason, data.purge)
    db.session.commit()
    return jsonify(user=user_json(user, moderator))


@bp.delete("/moderation/users/<id:user_id>/ban")
def unban(user_id: int):
    moderator = require_moderator()
    moderation_bans.unban_user(user_id, moderator)
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
    for name in data.model_fields_set:
        if getattr(data, name) is None:
            raise validation_error({name: "must not be null"})
    saved = moderation_settings.update_settings({name: getattr(data, name) for name in data.model_fields_set})
    db.session.commit()
    return jsonify(saved)
