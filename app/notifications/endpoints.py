"""Publishers' webhook endpoints, as administrators manage them: register, list, change, delete, and
read what each delivery attempt got.

The signing secret (``whsec_`` and the base64 of 32 random bytes, the Standard Webhooks form) is
answered once, when the endpoint is registered; it is never listed again.
"""
import base64
import secrets

from sqlalchemy import select

from .. import pagination
from ..database import writing
from ..errors import not_found, validation_error
from ..extensions import db
from ..timeutil import isoformat
from . import addresses
from .events import WEBHOOK_EVENTS
from .models import Webhook, WebhookAttempt

DELIVERIES_CURSOR = "webhook_deliveries"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def webhook_json(hook: Webhook, with_secret: bool = False) -> dict:
    data = {"id": hook.id, "url": hook.url, "events": list(hook.events),
            "description": hook.description or "", "disabled": hook.disabled,
            "disabled_reason": hook.disabled_reason, "created_at": isoformat(hook.created_at)}
    if with_secret:
        data["secret"] = hook.secret
    return data


def attempt_json(attempt: WebhookAttempt) -> dict:
    return {"id": attempt.id, "event": attempt.event, "at": isoformat(attempt.at),
            "status": attempt.status, "duration_ms": attempt.duration_ms, "attempt": attempt.attempt,
            "error": attempt.error}


def _events_problem(events) -> str | None:
    if not events:
        return "must list at least one event"
    unknown = [name for name in events if name not in WEBHOOK_EVENTS]
    if unknown:
        return "unknown event " + repr(unknown[0]) + "; one of " + ", ".join(WEBHOOK_EVENTS)
    if len(set(events)) != len(events):
        return "must not list an event twice"
    return None


def _checked(fields: dict, problems: dict, allow_private: bool) -> dict:
    """The fields given (None = not given), checked beyond their types; 422 naming every problem."""
    problems = dict(problems)
    if fields.get("url") is not None and "url" not in problems:
        problem = addresses.registration_problem(fields["url"], allow_private)
        if problem:
            problems["url"] = problem
    if fields.get("events") is not None and "events" not in problems:
        problem = _events_problem(fields["events"])
        if problem:
            problems["events"] = problem
    if problems:
        raise validation_error(problems)
    checked = {name: value for name, value in fields.items() if value is not None}
    if "events" in checked:  # kept in the contract's order
        checked["events"] = [name for name in WEBHOOK_EVENTS if name in checked["events"]]
    return checked


def list_webhooks() -> list[Webhook]:
    return list(db.session.scalars(select(Webhook).order_by(Webhook.id)))


def get_webhook(webhook_id: int) -> Webhook:
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        raise not_found("No such webhook.")
    return hook


def create_webhook(fields: dict, problems: dict, allow_private: bool) -> Webhook:
    """Register an endpoint (``fields``: url, events, description; ``problems``: the type checks'
    findings, reported with ours). The caller commits."""
    for name in ("url", "events"):
        if fields.get(name) is None and name not in problems:
            problems = {**problems, name: "is required"}
    checked = _checked(fields, problems, allow_private)
    with writing():
        hook = Webhook(url=checked["url"], events=checked["events"],
                       description=checked.get("description", ""), secret=new_secret(),
                       disabled=False, failures=0)
        db.session.add(hook)
        db.session.flush()
    return hook


def update_webhook(webhook_id: int, fields: dict, problems: dict, allow_private: bool) -> Webhook:
    """Change an endpoint; enabling it again clears its failures and why it was disabled."""
    hook = get_webhook(webhook_id)
    checked = _checked(fields, problems, allow_private)
    with writing():
        for name in ("url", "events", "description"):
            if name in checked:
                setattr(hook, name, checked[name])
        if "disabled" in checked:
            if not checked["disabled"]:
                hook.failures = 0
                hook.disabled_reason = None
            elif not hook.disabled:
                hook.disabled_reason = None  # an administrator's choice
            hook.disabled = checked["disabled"]
        db.session.flush()
    return hook


def delete_webhook(webhook_id: int) -> None:
    """Delete an endpoint, its attempts and its undelivered messages (cascades)."""
    hook = get_webhook(webhook_id)
    with writing():
        db.session.delete(hook)
        db.session.flush()


def deliveries_page(webhook_id: int, limit: int, after: str | None) -> tuple[list[WebhookAttempt], str | None]:
    """The endpoint's delivery attempts, newest first, after the cursor ``after``."""
    get_webhook(webhook_id)
    position = pagination.decode(DELIVERIES_CURSOR, after)
    query = (select(WebhookAttempt).where(WebhookAttempt.webhook_id == webhook_id)
             .order_by(WebhookAttempt.id.desc()).limit(limit + 1))
    if position is not None:
        if len(position) != 1 or not isinstance(position[0], int) or isinstance(position[0], bool):
            raise pagination.invalid()
        query = query.where(WebhookAttempt.id < position[0])
    rows = list(db.session.scalars(query))
    page = rows[:limit]
    more = len(rows) > limit
    return page, pagination.encode(DELIVERIES_CURSOR, page[-1].id) if more else None
