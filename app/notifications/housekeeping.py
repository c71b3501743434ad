"""What the worker tidies once an hour: delivered messages, processed events, used tokens and old
webhook attempts, kept for a while for support and for ``GET /webhooks/{id}/deliveries``."""
from datetime import timedelta

from sqlalchemy import delete

from ..accounts import signed_links
from ..database import writing
from ..extensions import db
from ..timeutil import utcnow
from .models import Event, OutboxMessage, WebhookAttempt

KEEP = timedelta(days=30)


def tidy() -> None:
    cutoff = utcnow() - KEEP
    with writing():
        db.session.execute(delete(Event).where(Event.processed_at < cutoff))
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.state != "pending",
                                                       OutboxMessage.created_at < cutoff))
        db.session.execute(delete(WebhookAttempt).where(WebhookAttempt.at < cutoff))
        signed_links.forget_expired()
    db.session.commit()
