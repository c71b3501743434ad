"""/api/v1/webhooks: publishers' endpoints and their deliveries (admin)."""
from typing import Annotated

from flask import Blueprint, current_app, jsonify, request
from pydantic import StringConstraints

from ..extensions import db
from ..notifications import endpoints
from ..web.caller import require_admin
from ..web.validation import Line, Strict, json_body, parse_fields, query_int

bp = Blueprint("api_webhooks", __name__, url_prefix="/api/v1")


class WebhookFields(Strict):
    url: str | None = None
    events: list[str] | None = None
    description: Annotated[Line, StringConstraints(max_length=500)] | None = None
    disabled: bool | None = None


def _fields(*names: str) -> tuple[dict, dict]:
    sent = json_body()
    data, problems = parse_fields(WebhookFields, sent)
    # Leaving a field out keeps it; null is not a value of any of them.
    problems |= {name: "must not be null" for name in names if name in sent and sent[name] is None}
    return {name: data.get(name) for name in names}, problems


def _allow_private() -> bool:
    return bool(current_app.config["WEBHOOK_ALLOW_PRIVATE"])


@bp.get("/webhooks")
def index():
    require_admin()
    return jsonify(webhooks=[endpoints.webhook_json(hook) for hook in endpoints.list_webhooks()])


@bp.post("/webhooks")
def create():
    require_admin()
    fields, problems = _fields("url", "events", "description")
    hook = endpoints.create_webhook(fields, problems, _allow_private())
    db.session.commit()
    return jsonify(webhook=endpoints.webhook_json(hook, with_secret=True)), 201


@bp.patch("/webhooks/<id:webhook_id>")
def update(webhook_id: int):
    require_admin()
    fields, problems = _fields("url", "events", "description", "disabled")
    hook = endpoints.update_webhook(webhook_id, fields, problems, _allow_private())
    db.session.commit()
    return jsonify(endpoints.webhook_json(hook))


@bp.delete("/webhooks/<id:webhook_id>")
def delete(webhook_id: int):
    require_admin()
    endpoints.delete_webhook(webhook_id)
    db.session.commit()
    return "", 204


@bp.get("/webhooks/<id:webhook_id>/deliveries")
def deliveries(webhook_id: int):
    require_admin()
    limit = query_int("limit", 20, 100, minimum=1)
    page, next_cursor = endpoints.deliveries_page(webhook_id, limit, request.args.get("after"))
    return jsonify(deliveries=[endpoints.attempt_json(a) for a in page], next=next_cursor)
