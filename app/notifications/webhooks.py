"""Webhook calls: written for each event an endpoint wants (``on_event``, in the fan-out), then
delivered, signed per the Standard Webhooks specification, with retries (``deliver``).

The body is written once, at fan-out, from the comment and article as they are then, and kept as
the exact text that is signed: every retry sends the same bytes under the same ``webhook-id``
(the outbox message id); only ``webhook-timestamp`` and so the signature are those of the attempt.

Delivery: a batch is claimed (``outbox.claim``), its calls made by a small pool of threads that do
only HTTP; every database write (the attempt rows, settling the messages, disabling an endpoint) is
made by the calling thread. A ``2xx`` answer is success and clears the endpoint's failures. ``410``
disables the endpoint at once ("410 Gone"). Anything else (another status, a timeout, a refused
connection, an address that is no longer public) is retried on ``outbox.RETRY_SCHEDULE``; a message
that fails every try (about 27 hours) disables its endpoint ("failing for a day"). Messages of a
disabled endpoint are not sent: they fail as "endpoint disabled".
"""
import json
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial

from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook as Signer

from ..accounts.serialize import ban_json, user_json
from ..database import writing
from ..discussion.serialize import article_json
from ..discussion.threads import comment_json
from ..extensions import db
from ..models import Status, User
from ..timeutil import isoformat, utcnow
from . import addresses, outbox
from .events import USER_BANNED, WEBHOOK_EVENTS
from .models import Webhook, WebhookAttempt

log = logging.getLogger(__name__)

THREADS = 8
USER_AGENT = "Causerie-Webhooks/1"
GONE_REASON = "410 Gone"
FAILING_REASON = "failing for a day"
DISABLED_ERROR = "endpoint disabled"
# A claim's lease covers the slowest batch: each thread's share of calls, each taking its whole
# timeout twice (resolving the name, then the call), plus a margin.
LEASE_MARGIN_SECONDS = 30

_CACHE_KEY = "causerie.webhooks.enabled"


# -- fan-out ---------------------------------------------------------------------------------

def _enabled_endpoints() -> list[tuple[int, list]]:
    """The enabled endpoints (id, events), read once per fan-out transaction."""
    session = db.session()
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE_KEY)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    rows = [(row.id, list(row.events or ())) for row in
            db.session.execute(select(Webhook.id, Webhook.events).where(Webhook.disabled.is_(False))
                               .order_by(Webhook.id))]
    session.info[_CACHE_KEY] = (transaction, rows)
    return rows


def comment_payload(comment) -> dict:
    """The Comment as a moderator reads it (a tombstone once deleted), with its Markdown ``body``."""
    shown = comment.status != Status.DELETED
    data = comment_json(comment, None, comment.article.key, reveal=shown)
    data["body"] = comment.body or ""
    return data


def admin_user_json(user: User) -> dict:
    """The User as an administrator sees it (with ``email`` and ``banned_until``)."""
    data = user_json(user)
    data["email"] = user.email
    data["banned_until"] = ban_json(user)
    return data


def _data(event, comment) -> dict | None:
    if event.type == USER_BANNED:
        user = db.session.get(User, event.user_id) if event.user_id is not None else None
        return {"user": admin_user_json(user)} if user is not None else None
    if comment is None:
        return None
    return {"comment": comment_payload(comment), "article": article_json(comment.article)}


def on_event(event, comment, plan) -> None:
    """Plan a call to every enabled endpoint that wants ``event.type`` (``fanout.Plan``)."""
    if event.type not in WEBHOOK_EVENTS:
        return
    wanted = [hook_id for hook_id, events in _enabled_endpoints() if event.type in events]
    if not wanted:
        return
    data = _data(event, comment)
    if data is None:  # the comment or the user is gone
        return
    text = json.dumps({"type": event.type, "timestamp": isoformat(event.created_at), "data": data},
                      ensure_ascii=False, separators=(",", ":"))
    for hook_id in wanted:
        plan.add(partial(outbox.enqueue, outbox.WEBHOOK, event.type, {"body": text}, webhook_id=hook_id))


# -- delivery --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    message: outbox.Claimed
    url: str
    secret: str


@dataclass(frozen=True)
class Result:
    call: Call
    started: bool
    status: int | None = None
    duration_ms: int = 0
    error: str | None = None
    at: datetime | None = None


def signed_headers(secret: str, message_id: str, body: str, now: datetime) -> dict:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(secret).sign(message_id, now, body),
    }


def _call(call: Call, deadline_seconds: float, timeout: float, allow_private: bool, stop) -> Result:
    """One HTTP call (in a pool thread: no database here)."""
    if stop.is_set() or utcnow() + timedelta(seconds=deadline_seconds) > call.message.lease_ends:
        return Result(call, started=False)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    body = call.message.payload["body"]
    headers = signed_headers(call.secret, call.message.message_id, body, now)
    started = time.monotonic()
    status, error = None, None
    try:
        status = addresses.post(call.url, body.encode("utf-8"), headers, timeout, allow_private)
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except addresses.Refused as refused:
        error = f"address refused: {refused}"
    except Exception as failure:  # noqa: BLE001  (any network failure: retried)
        error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
    duration = int((time.monotonic() - started) * 1000)
    return Result(call, True, status, duration, error and error[:500], now)


def deliver(worker: str, config, stop) -> int:
    """Deliver a batch of due webhook calls; returns how many were claimed."""
    timeout = float(config["WEBHOOK_TIMEOUT"])
    batch = int(config["WORKER_BATCH"])
    lease = LEASE_MARGIN_SECONDS + math.ceil(batch / THREADS) * 2 * timeout
    messages = outbox.claim(outbox.WEBHOOK, worker, batch, lease)
    if not messages:
        return 0
    ids = {m.webhook_id for m in messages if m.webhook_id is not None}
    hooks = {hook.id: (hook.url, hook.secret, hook.disabled) for hook in
             db.session.scalars(select(Webhook).where(Webhook.id.in_(ids)))} if ids else {}
    calls = []
    for message in messages:
        hook = hooks.get(message.webhook_id)
        if hook is None or hook[2]:
            outbox.mark_failed(message, DISABLED_ERROR, permanent=True)
        else:
            calls.append(Call(message, hook[0], hook[1]))
    allow_private = bool(config["WEBHOOK_ALLOW_PRIVATE"])
    unstarted = []
    if calls:
        with ThreadPoolExecutor(max_workers=min(THREADS, len(calls)),
                                thread_name_prefix="webhook") as pool:
            futures = [pool.submit(_call, call, 2 * timeout, timeout, allow_private, stop)
                       for call in calls]
            for future in as_completed(futures):
                result = future.result()
                if result.started:
                    _settle(result)
                else:
                    unstarted.append(result.call.message)
    outbox.release(sorted(unstarted, key=lambda m: m.id))
    return len(messages)


def _disable(webhook_id: int, reason: str, count_failure: bool = False) -> None:
    values = {"disabled": True, "disabled_reason": reason}
    if count_failure:
        values["failures"] = Webhook.failures + 1
    with writing():
        db.session.execute(update(Webhook).where(Webhook.id == webhook_id).values(**values),
                           execution_options={"synchronize_session": False})
    db.session.commit()


def _settle(result: Result) -> None:
    """Record the attempt and settle its message (calling thread; commits)."""
    message = result.call.message
    with writing():
        exists = db.session.scalar(select(Webhook.id).where(Webhook.id == message.webhook_id)
                                   .with_for_update())
        if exists is None:  # deleted during the call: its messages went with it
            db.session.commit()
            return
        db.session.add(WebhookAttempt(
            webhook_id=message.webhook_id, message_id=message.message_id, event=message.category,
            at=result.at or utcnow(), status=result.status, duration_ms=result.duration_ms,
            attempt=message.attempt, error=result.error))
        if result.error is None:
            db.session.execute(update(Webhook).where(Webhook.id == message.webhook_id, Webhook.failures != 0)
                               .values(failures=0), execution_options={"synchronize_session": False})
    if result.error is None:
        outbox.mark_sent([message.id])
        return
    if result.status == 410:
        outbox.mark_failed(message, result.error, permanent=True)
        _disable(message.webhook_id, GONE_REASON)
        log.warning("webhook %s answered 410 Gone: disabled", message.webhook_id)
        return
    if outbox.mark_failed(message, result.error):
        _disable(message.webhook_id, FAILING_REASON, count_failure=True)
        log.warning("webhook %s: message %s failed every try (%s): endpoint disabled",
                    message.webhook_id, message.message_id, result.error)
