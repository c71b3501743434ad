"""/api/v1/moderation/spam-filter: the filter's state for moderators, its settings and retraining for admins."""
from typing import Annotated

from flask import Blueprint, jsonify
from pydantic import Field

from ..database import writing
from ..extensions import db
from ..spam import state
from ..web.caller import require_admin, require_moderator
from ..web.validation import Strict, body

bp = Blueprint("api_spam", __name__, url_prefix="/api/v1")

# A threshold in (0, 1]: 0 would hold every comment.
Threshold = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]


class SpamFilterChange(Strict):
    enabled: bool = None
    hold_threshold: Threshold = None
    spam_threshold: Threshold = None


@bp.get("/moderation/spam-filter")
def show():
    require_moderator()
    return jsonify(state.summary())


@bp.put("/moderation/spam-filter")
def change():
    require_admin()
    data = body(SpamFilterChange)
    with writing():
        state.update_settings({name: getattr(data, name) for name in data.model_fields_set})
    db.session.commit()
    return jsonify(state.summary())


@bp.post("/moderation/spam-filter/retrain")
def retrain():
    require_admin()
    with writing():
        state.request_retrain()
    db.session.commit()
    return jsonify(status="accepted"), 202
