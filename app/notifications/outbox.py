"""The outbox: messages written in their cause's transaction, claimed and settled by workers.

A worker claims due rows by pushing their ``next_attempt_at`` past a lease (``claim``): on
PostgreSQL the candidate rows are locked ``FOR UPDATE SKIP LOCKED``, so two workers never claim the
same row; on SQLite the claim runs under the database's write lock, which does the same. A worker
that dies holding a claim leaves its rows to come due again when the lease ends: every message is
delivered at least once, always with the same ``message_id``.
"""
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update

from ..database import run, writing
from ..extensions import db
from ..timeutil import utcnow
from .models import OutboxMessage

PENDING, SENT, FAILED = "pending", "sent", "failed"
MAIL, WEBHOOK = "mail", "webhook"

# Seconds to wait before each retry (Standard Webhooks' recommended schedule: the last retry comes
# about 27 hours after the first try). A message that fails them all is marked failed.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)


def new_message_id() -> str:
    """A fresh stable id: ``msg_`` and 32 hex digits (the webhook-id; the Message-ID's left part)."""
    return "msg_" + secrets.token_hex(16)


_INSERT = insert(OutboxMessage)


def enqueue(channel: str, category: str, payload: dict, *, recipient_id: int | None = None,
            webhook_id: int | None = None, message_id: str | None = None,
            not_before: datetime | None = None) -> str:
    """Write one message in the current transaction; returns its stable id."""
    message_id = message_id or new_message_id()
    now = utcnow()
    run(_INSERT, {"message_id": message_id, "channel": channel, "category": category,
                  "recipient_id": recipient_id, "webhook_id": webhook_id, "payload": payload,
                  "state": PENDING, "attempts": 0, "next_attempt_at": not_before or now,
                  "created_at": now})
    return message_id


def enqueue_many(messages: list[tuple[str, str, dict, int | None, int | None, str]]) -> None:
    """Write several messages (channel, category, payload, recipient_id, webhook_id, message_id) at once."""
    if not messages:
        return
    now = utcnow()
    run(_INSERT, [{"message_id": message_id, "channel": channel, "category": category,
                   "recipient_id": recipient_id, "webhook_id": webhook_id, "payload": payload,
                   "state": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
                  for channel, category, payload, recipient_id, webhook_id, message_id in messages])


@dataclass(frozen=True)
class Claimed:
    """A message a worker holds until ``lease_ends``."""
    id: int
    message_id: str
    channel: str
    category: str
    webhook_id: int | None
    payload: dict
    attempt: int  # 1 for the first try
    lease_ends: datetime


_ANY_DUE = (select(OutboxMessage.id)
            .where(OutboxMessage.state == PENDING, OutboxMessage.channel == bindparam("channel"),
                   OutboxMessage.next_attempt_at <= bindparam("now"))
            .limit(1))


def claim(channel: str, worker: str, limit: int, lease_seconds: float) -> list[Claimed]:
    """Claim up to ``limit`` due messages of ``channel`` for ``lease_seconds``, and commit the claim."""
    now = utcnow()
    lease_ends = now + timedelta(seconds=lease_seconds)
    if not run(_ANY_DUE, {"channel": channel, "now": now}).first():
        db.session.commit()  # nothing due: the write lock is not taken
        return []
    with writing():
        due = (select(OutboxMessage.id)
               .where(OutboxMessage.state == PENDING, OutboxMessage.channel == channel,
                      OutboxMessage.next_attempt_at <= now)
               .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
               .limit(limit).with_for_update(skip_locked=True))
        rows = db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=lease_ends, locked_until=lease_ends, locked_by=worker,
                    attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id, OutboxMessage.message_id, OutboxMessage.category,
                       OutboxMessage.webhook_id, OutboxMessage.payload, OutboxMessage.attempts),
            execution_options={"synchronize_session": False},
        ).all()
    db.session.commit()
    claimed = [Claimed(row.id, row.message_id, channel, row.category, row.webhook_id, row.payload,
                       row.attempts, lease_ends) for row in rows]
    return sorted(claimed, key=lambda message: message.id)


_MARK_SENT = (update(OutboxMessage).where(OutboxMessage.id == bindparam("row_id"))
              .values(state=SENT, sent_at=bindparam("now"), locked_until=None, last_error=None))


def mark_sent(ids: list[int]) -> None:
    """Settle delivered messages (commits)."""
    if not ids:
        return
    now = utcnow()
    with writing():
        run(_MARK_SENT, [{"row_id": row_id, "now": now} for row_id in ids])
    db.session.commit()


def retry_delay(attempt: int) -> float | None:
    """Seconds before the try after try number ``attempt``; None when no try is left."""
    return RETRY_SCHEDULE[attempt - 1] if attempt <= len(RETRY_SCHEDULE) else None


def mark_failed(message: Claimed, error: str, permanent: bool = False) -> bool:
    """Record a failed try: schedule the next one with backoff, or give up (``permanent``, or no
    retry left). Returns True when the message is given up. Commits."""
    delay = None if permanent else retry_delay(message.attempt)
    values = {"last_error": error[:500], "locked_until": None}
    if delay is None:
        values["state"] = FAILED
    else:
        values["next_attempt_at"] = utcnow() + timedelta(seconds=delay)
    with writing():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values),
                           execution_options={"synchronize_session": False})
    db.session.commit()
    return delay is None


def release(messages: list[Claimed]) -> None:
    """Hand back claimed messages not tried (the worker is stopping, or its lease runs short)."""
    if not messages:
        return
    with writing():
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in messages]))
            .values(next_attempt_at=utcnow(), locked_until=None, attempts=OutboxMessage.attempts - 1),
            execution_options={"synchronize_session": False})
    db.session.commit()
