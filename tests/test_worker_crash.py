"""The worker as a real process (``flask --app app worker``) against the test database and a real SMTP
server in this process: killed with SIGKILL in the middle of a backlog it loses nothing and re-sends
only what it had not settled, each time with the same Message-ID; two workers side by side never
send one message twice."""
import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.notifications import mail, outbox
from app.notifications.models import OutboxMessage
from app.timeutil import utcnow

from .mailsink import MailSink
from .servers import ROOT, _bin, server_environment
from .test_outbox import payload

pytestmark = pytest.mark.slow

SETTLE_EVERY = 50  # worker.deliver_mail settles sent messages by this many


@pytest.fixture
def sink():
    """The SMTP server, slowed by about 1 ms a message so that a kill lands in the middle."""
    with MailSink() as sink:
        received = sink.handler.handle_DATA

        async def slow_data(server, session, envelope):
            await asyncio.sleep(0.001)
            return await received(server, session, envelope)
        sink.handler.handle_DATA = slow_data
        yield sink


def worker_env(config, sink, batch=100) -> dict:
    return server_environment(config["DATABASE_URL"], extra={
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": sink.port, "MAIL_USE_TLS": "false",
        "MAIL_USE_SSL": "false", "PUBLIC_URL": "http://comments.test", "WORKER_BATCH": batch,
        "WORKER_IDLE_SECONDS": 0.05})


class WorkerProcess:
    """``flask --app app worker`` in its own process group, its log in a file."""

    def __init__(self, env: dict, log: Path):
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen([_bin("flask"), "--app", "app", "worker"], cwd=ROOT, env=env,
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_started(self, seconds=30) -> None:
        deadline = time.monotonic() + seconds
        while "started" not in self.log.read_text(errors="replace"):
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.02)

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=15)

    def stop(self) -> int:
        """SIGTERM: the worker finishes the message in hand and exits 0."""
        self.kill(signal.SIGTERM)
        return self.process.returncode


def queue(app, count: int) -> dict[str, str]:
    """``count`` messages queued in one transaction; their outbox ids -> their Message-ID headers."""
    with app.app_context():
        payloads = [payload(to=f"reader{n}@example.org", subject=f"Message {n}") for n in range(count)]
        for item in payloads:
            mail.queue("test", item, None)
        db.session.commit()
    return {item["message_id"]: item["headers"]["Message-ID"] for item in payloads}


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def states(app) -> Counter:
    with app.app_context():
        return Counter(db.session.scalars(select(OutboxMessage.state)))


def lease_runs_out(app) -> None:
    """Time passes past a dead worker's lease: its claimed messages are due again."""
    with app.app_context():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.state == outbox.PENDING)
                           .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def test_a_killed_worker_loses_nothing_and_resends_with_the_same_message_id(app, config, sink, tmp_path):
    queued = queue(app, 1000)
    env = worker_env(config, sink)
    workers = []
    try:
        kills = 0
        for threshold in (100, 500):
            workers.append(worker := WorkerProcess(env, tmp_path / "worker.log"))
            wait_for(lambda: len(sink.messages) > threshold, 60, f"{threshold} messages")
            worker.kill()
            kills += 1
            received = len(sink.messages)
            assert received < 1000, "the kill landed after the whole backlog was sent: slow the sink"
            assert states(app)["pending"] > 0
            lease_runs_out(app)
        workers.append(worker := WorkerProcess(env, tmp_path / "worker.log"))
        wait_for(lambda: len(sink.messages) >= 1000, 60, "every message sent")
        wait_for(lambda: states(app)["sent"] == 1000, 30, "every message settled")
        assert worker.stop() == 0
    finally:
        for worker in workers:
            worker.kill()
    headers = Counter(m.message["Message-ID"] for m in sink.messages)
    assert set(headers) == set(queued.values())  # every message, and only those
    assert states(app) == Counter({"sent": 1000})
    # A kill re-sends at most what was sent but not yet settled, plus the message in hand.
    duplicates = sum(headers.values()) - 1000
    assert duplicates <= kills * (SETTLE_EVERY + 1), duplicates
    by_header = {}
    for received in sink.messages:  # a re-sent message is the same message
        key = received.message["Message-ID"]
        seen = by_header.setdefault(key, (received.message["Subject"], received.rcpt_tos, received.text))
        assert seen == (received.message["Subject"], received.rcpt_tos, received.text)


def test_two_workers_at_once_never_send_a_message_twice(app, config, sink, tmp_path):
    env = worker_env(config, sink, batch=20)
    workers = [WorkerProcess(env, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        for worker in workers:
            worker.wait_started()
        queued = queue(app, 500)
        wait_for(lambda: len(sink.messages) >= 500, 60, "500 messages")
        wait_for(lambda: states(app)["sent"] == 500, 10, "every message settled")
        time.sleep(0.2)  # a claim overlapping another would send its copy now
        assert [worker.stop() for worker in workers] == [0, 0]
    finally:
        for worker in workers:
            worker.kill()
    headers = Counter(m.message["Message-ID"] for m in sink.messages)
    assert set(headers) == set(queued.values())
    assert max(headers.values()) == 1, [h for h, n in headers.items() if n > 1][:5]
    with app.app_context():
        senders = Counter(db.session.scalars(select(OutboxMessage.locked_by)))
    assert len(senders) == 2, senders  # both did part of the work
