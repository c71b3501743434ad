"""The outbox's guarantees, on a real database and a real SMTP server (tests/mailsink.py): claims and
leases, retries on the published schedule, what goes on the wire, and nothing sent for what did not
happen."""
import io
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.notifications import events, mail, outbox
from app.notifications.models import Event, OutboxMessage
from app.notifications.worker import Worker
from app.timeutil import utcnow

from .factories import post_comment


def payload(to="reader@example.org", subject="Hello", link="http://comments.test/reset?token=abc") -> dict:
    """A composed message written by hand (compose needs a template; the wire format is the same)."""
    message_id = outbox.new_message_id()
    return {
        "message_id": message_id,
        "to": to,
        "subject": subject,
        "text": f"Follow this link:\n{link}\n",
        "html": f'<p>Follow <a href="{link}">this link</a></p>',
        "headers": {"Message-ID": f"<{message_id.removeprefix('msg_')}@comments.test>",
                    "Date": "Mon, 01 Jan 2024 10:00:00 +0000", "Auto-Submitted": "auto-generated"},
        "language": "en",
    }


def queue(app, count=1, **fields) -> list[str]:
    with app.app_context():
        ids = [mail.queue("test", payload(**fields), None) for _ in range(count)]
        db.session.commit()
    return ids


def rows(app) -> dict[str, OutboxMessage]:
    with app.app_context():
        found = {row.message_id: row for row in db.session.scalars(select(OutboxMessage))}
        db.session.expunge_all()
    return found


def make_due(app) -> None:
    """Time passes: every pending message is due now (its lease or its backoff is over)."""
    with app.app_context():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.state == outbox.PENDING)
                           .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def claim(app, worker="w1", limit=10, lease=60.0) -> list[outbox.Claimed]:
    with app.app_context():
        claimed = outbox.claim(outbox.MAIL, worker, limit, lease)
        db.session.remove()
    return claimed


def close_to(moment, seconds: float, slack: float = 5) -> bool:
    return abs((moment - utcnow()).total_seconds() - seconds) < slack


# -- claims and leases ------------------------------------------------------------------------------

def test_a_claimed_message_is_invisible_to_a_second_claim_until_its_lease_ends(app):
    ids = queue(app, 3)
    first = claim(app, "w1", lease=0.3)
    assert sorted(m.message_id for m in first) == sorted(ids)
    assert {m.attempt for m in first} == {1}
    assert claim(app, "w2") == []
    assert {row.locked_by for row in rows(app).values()} == {"w1"}
    time.sleep(0.35)
    again = claim(app, "w2")
    assert sorted(m.message_id for m in again) == sorted(ids)
    assert {m.attempt for m in again} == {2}
    assert {row.attempts for row in rows(app).values()} == {2}


def test_claims_take_at_most_the_limit_oldest_first(app):
    ids = queue(app, 5)
    first = claim(app, limit=2)
    second = claim(app, limit=10)
    assert [m.message_id for m in first] == ids[:2]
    assert [m.message_id for m in second] == ids[2:]


def test_a_message_not_yet_due_is_not_claimed(app):
    with app.app_context():
        outbox.enqueue(outbox.MAIL, "test", payload(), not_before=utcnow() + timedelta(minutes=5))
        db.session.commit()
    assert claim(app) == []


def test_released_messages_come_back_at_once_without_counting_a_try(app):
    ids = queue(app, 2)
    first = claim(app, lease=600)
    with app.app_context():
        outbox.release(first)
    again = claim(app, "w2")
    assert sorted(m.message_id for m in again) == sorted(ids)
    assert {m.attempt for m in again} == {1}


def test_mark_sent_settles_and_a_sent_message_is_never_claimed_again(app):
    queue(app, 2)
    first = claim(app)
    with app.app_context():
        outbox.mark_sent([m.id for m in first])
    make_due(app)
    assert claim(app) == []
    assert {(row.state, row.locked_until) for row in rows(app).values()} == {("sent", None)}
    assert all(row.sent_at is not None for row in rows(app).values())


def test_failures_follow_the_retry_schedule_then_give_up(app):
    [message_id] = queue(app)
    for attempt, delay in enumerate(outbox.RETRY_SCHEDULE, start=1):
        make_due(app)
        [message] = claim(app)
        assert message.attempt == attempt
        with app.app_context():
            assert outbox.mark_failed(message, f"try {attempt} failed") is False
        row = rows(app)[message_id]
        assert row.state == "pending" and row.last_error == f"try {attempt} failed"
        assert close_to(row.next_attempt_at, delay), (attempt, row.next_attempt_at)
        assert claim(app) == []  # not before its time
    make_due(app)
    [last] = claim(app)
    assert last.attempt == len(outbox.RETRY_SCHEDULE) + 1
    with app.app_context():
        assert outbox.mark_failed(last, "still failing") is True
    assert rows(app)[message_id].state == "failed"
    make_due(app)
    assert claim(app) == []


def test_the_schedule_spans_about_a_day(app):
    assert outbox.RETRY_SCHEDULE[0] == 5
    assert 24 * 3600 < sum(outbox.RETRY_SCHEDULE) < 30 * 3600


def test_a_permanent_failure_gives_up_at_once(app):
    [message_id] = queue(app)
    [message] = claim(app)
    with app.app_context():
        assert outbox.mark_failed(message, "550 no such user", permanent=True) is True
    row = rows(app)[message_id]
    assert (row.state, row.attempts, row.last_error) == ("failed", 1, "550 no such user")


# -- mail on the wire ---------------------------------------------------------------------------------

def test_every_message_is_multipart_alternative_with_its_headers(app, mail_sink, deliver):
    ids = queue(app, 3, to="reader@example.org", subject="Your link")
    deliver()
    assert len(mail_sink.messages) == 3
    stored = rows(app)
    expected = {stored[i].payload["headers"]["Message-ID"] for i in ids}
    assert {m.message["Message-ID"] for m in mail_sink.messages} == expected
    for received in mail_sink.messages:
        message = received.message
        assert received.rcpt_tos == ["reader@example.org"]
        assert message["Subject"] == "Your link"
        assert message["Date"] and message["Auto-Submitted"] == "auto-generated"
        assert message["From"] == "Causerie <noreply@comments.test>"
        assert message.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
        assert received.links("/reset") == ["http://comments.test/reset?token=abc"]
        assert 'href="http://comments.test/reset?token=abc"' in received.html
    assert {(row.state, row.attempts) for row in stored.values()} == {("sent", 1)}


def test_a_temporary_refusal_is_retried_later_with_the_same_message_id(app, mail_sink, deliver):
    [message_id] = queue(app)
    header = rows(app)[message_id].payload["headers"]["Message-ID"]
    mail_sink.handler.refuse_with = "451 4.3.0 try later"
    deliver()
    assert mail_sink.messages == []
    row = rows(app)[message_id]
    assert (row.state, row.attempts) == ("pending", 1)
    assert "451" in row.last_error
    assert close_to(row.next_attempt_at, outbox.RETRY_SCHEDULE[0])
    deliver()  # not due yet: nothing happens
    assert rows(app)[message_id].attempts == 1
    mail_sink.handler.refuse_with = None
    make_due(app)
    deliver()
    [received] = mail_sink.messages
    assert received.message["Message-ID"] == header
    row = rows(app)[message_id]
    assert (row.state, row.attempts) == ("sent", 2)


def test_a_permanent_refusal_fails_at_once(app, mail_sink, deliver):
    [message_id] = queue(app)
    mail_sink.handler.refuse_with = "550 5.1.1 no such user"
    deliver()
    row = rows(app)[message_id]
    assert (row.state, row.attempts) == ("failed", 1)
    assert "550" in row.last_error
    mail_sink.handler.refuse_with = None
    make_due(app)
    deliver()
    assert mail_sink.messages == []


def test_one_refused_recipient_does_not_hold_back_the_others(app, mail_sink, deliver):
    refused = queue(app, to="gone@example.org")
    accepted = queue(app, 2, to="here@example.org")
    handler = mail_sink.handler
    original = handler.handle_RCPT

    async def refuse_one(server, session, envelope, address, options):
        if address == "gone@example.org":
            return "550 5.1.1 no such user"
        return await original(server, session, envelope, address, options)
    handler.handle_RCPT = refuse_one
    deliver()
    states = {message_id: row.state for message_id, row in rows(app).items()}
    assert states == {refused[0]: "failed", accepted[0]: "sent", accepted[1]: "sent"}
    assert len(mail_sink.to("here@example.org")) == 2


def test_an_unreachable_server_is_retried_later(app, config, deliver):
    config.update({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 9, "MAIL_USE_TLS": False})  # nothing listens
    app.config.update(config)
    [message_id] = queue(app)
    deliver()
    row = rows(app)[message_id]
    assert (row.state, row.attempts) == ("pending", 1)
    assert "Connection" in row.last_error or "refused" in row.last_error


def test_without_a_mail_server_the_console_prints_each_message(app):
    assert not app.config["MAIL_SERVER"]
    [message_id] = queue(app, subject="Verify your address")
    header = rows(app)[message_id].payload["headers"]["Message-ID"]
    worker = Worker(app, name="console")
    worker.transport.stream = stream = io.StringIO()
    worker.drain()
    printed = stream.getvalue()
    assert "Subject: Verify your address" in printed
    assert f"Message-ID: {header}" in printed
    assert "http://comments.test/reset?token=abc" in printed
    assert rows(app)[message_id].state == "sent"


# -- nothing for what did not happen ------------------------------------------------------------------

def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_rolled_back_transaction_leaves_nothing_to_send(app, mail_sink, deliver):
    with app.app_context():
        events.record(events.USER_BANNED)
        mail.queue("test", payload(), None)
        db.session.rollback()
    assert deliver() == 0
    assert count(app, Event) == 0 and count(app, OutboxMessage) == 0
    assert mail_sink.messages == []


def test_a_refused_post_writes_no_event(app, login, alice, article):
    api = login(alice)
    assert post_comment(api, "A fine first comment").status_code == 201
    assert count(app, Event) == 1
    assert post_comment(api, "").status_code == 422
    assert post_comment(api, "x" * 100_000).status_code in (413, 422)
    assert post_comment(api, "A fine first comment").status_code == 409
    assert count(app, Event) == 1


# -- the command --------------------------------------------------------------------------------------

def test_the_worker_command_exists(runner):
    result = runner.invoke(args=["worker", "--help"])
    assert result.exit_code == 0, result.output
    assert "--drain" in result.output


def test_worker_drain_delivers_everything_due(app, runner, mail_sink):
    ids = queue(app, 3)
    result = runner.invoke(args=["worker", "--drain"])
    assert result.exit_code == 0, result.output
    assert len(mail_sink.messages) == 3
    assert {row.state for row in rows(app).values()} == {"sent"}
    assert set(rows(app)) == set(ids)


@pytest.mark.parametrize("batch", [1, 7])
def test_batches_smaller_than_the_backlog_deliver_it_all(app, mail_sink, deliver, batch):
    app.config["WORKER_BATCH"] = batch
    ids = queue(app, 20)
    deliver()
    assert len(mail_sink.messages) == 20
    assert {row.state for row in rows(app).values()} == {"sent"} and set(rows(app)) == set(ids)


def test_accented_headers_and_bodies_arrive_intact_and_line_breaks_cannot_inject(app, mail_sink, deliver):
    queue(app, subject="Réponse à « Été »\nBcc: victim@example.org", link="http://comments.test/r?x=é")
    app.config["MAIL_FROM"] = "Causerie Édition <news@comments.test>"
    deliver()
    [received] = mail_sink.messages
    assert received.message["Subject"] == "Réponse à « Été » Bcc: victim@example.org"
    assert received.message["Bcc"] is None and received.rcpt_tos == ["reader@example.org"]
    assert received.message["From"].addresses[0].display_name == "Causerie Édition"
    assert "http://comments.test/r?x=é" in received.text and "x=é" in received.html
