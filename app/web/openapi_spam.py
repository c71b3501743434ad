"""The OpenAPI description of the spam filter (merged by ``openapi.py``)."""
from ..moderation.rules import HELD_BECAUSE
from .openapi_parts import NULLABLE_TIME, STR, obj, op, ref

_RATIO = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_THRESHOLD = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}

# Fields of the Comment object the spam filter and the rules add, for those who may see them.
COMMENT_FIELDS: dict = {
    "spam_score": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                   "description": "moderators only: the spam filter's score when last posted or edited "
                                  "(null: never scored)"},
    "held_because": {"enum": list(HELD_BECAUSE),
                     "description": "the author only, on their own pending comment: why it waits"},
}

SCHEMAS: dict = {
    "SpamFilter": obj({
        "enabled": {"type": "boolean"},
        "version": {"type": ["integer", "null"], "description": "null: the shipped base model scores"},
        "trained_at": NULLABLE_TIME,
        "decisions": obj({"approve": {"type": "integer"}, "spam": {"type": "integer"}}, ["approve", "spam"]),
        "hold_threshold": _THRESHOLD,
        "spam_threshold": _THRESHOLD,
        "spam_queue_active": {"type": "boolean"},
        "recent": obj({"scored": {"type": "integer"}, "precision_at_hold": _RATIO,
                       "recall_at_hold": _RATIO, "precision_at_spam": _RATIO},
                      ["scored", "precision_at_hold", "recall_at_hold", "precision_at_spam"]),
        "disabled_by_config": {"type": "boolean"},
        "retrain_requested": {"type": "boolean"},
    }, ["enabled", "version", "trained_at", "decisions", "hold_threshold", "spam_threshold",
        "spam_queue_active", "recent"]),
}


def paths() -> dict:
    return {
        "/moderation/spam-filter": {
            "get": op("The spam filter's state and recent precision and recall (moderator)", 200,
                      ref("SpamFilter")),
            "put": op("Change the spam filter's settings (admin; hold_threshold <= spam_threshold)", 200,
                      ref("SpamFilter"), obj({"enabled": {"type": "boolean"}, "hold_threshold": _THRESHOLD,
                                              "spam_threshold": _THRESHOLD})),
        },
        "/moderation/spam-filter/retrain": {"post": op(
            "Train a new version in the background (admin)", 202, obj({"status": STR}, ["status"]))},
    }
