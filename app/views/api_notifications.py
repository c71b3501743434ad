"""/api/v1/me/notifications and /api/v1/articles/<key>/subscription: what a reader is told of."""
from typing import Literal

from flask import Blueprint, jsonify

from ..discussion.articles import get_article_or_404
from ..extensions import db
from ..notifications import preferences
from ..web.caller import require_user
from ..web.validation import Strict, body

bp = Blueprint("api_notifications", __name__, url_prefix="/api/v1")


class SettingsChange(Strict):
    replies: Literal[preferences.REPLY_MODES] = None  # type: ignore[valid-type]
    moderation: Literal[preferences.MODERATION_MODES] = None  # type: ignore[valid-type]


class SubscriptionChange(Strict):
    subscribed: bool


@bp.get("/me/notifications")
def settings():
    return jsonify(preferences.get_settings(require_user()))


@bp.put("/me/notifications")
def update_settings():
    user = require_user()
    data = body(SettingsChange)
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    saved = preferences.update_settings(user, changes)
    db.session.commit()
    return jsonify(saved)


@bp.get("/articles/<key:key>/subscription")
def subscription(key: str):
    user = require_user()
    return jsonify(subscribed=preferences.subscription_state(user, get_article_or_404(key)))


@bp.put("/articles/<key:key>/subscription")
def update_subscription(key: str):
    user = require_user()
    data = body(SubscriptionChange)
    subscribed = preferences.set_subscription(user, get_article_or_404(key), data.subscribed)
    db.session.commit()
    return jsonify(subscribed=subscribed)
