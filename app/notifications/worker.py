"""The worker (``flask --app app worker``): turns events into messages and delivers the outbox.

One pass (``work_once``) runs each stage once, each in its own short transactions:
1. ``fanout.process_events``: unprocessed events become messages (webhook calls, notifications);
2. ``digests.send_due``: digests whose time has come are written (every DIGEST_CHECK_SECONDS);
3. e-mail is delivered over one SMTP connection per batch;
4. webhook calls are delivered (``webhooks.deliver``);
5. the spam filter's figures and training (``spam.learning.run_due``, every SPAM_CHECK_SECONDS).
The loop sleeps ``WORKER_IDLE_SECONDS`` when a pass found nothing to do, and stops after the
message in hand on SIGTERM or SIGINT. Several workers may run against one database (on several
machines): claims never overlap (``outbox.claim``).
"""
import logging
import os
import signal
import socket
import threading
import time
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..spam import learning
from ..timeutil import utcnow
from . import digests, fanout, housekeeping, mail, outbox, webhooks

log = logging.getLogger(__name__)

# A claim's lease covers the slowest possible batch (every message taking its whole timeout), up to
# MAX_LEASE_SECONDS: past it the worker hands the rest back (``release``). The lease is also how long
# the messages of a worker that died wait before another takes them.
LEASE_MARGIN_SECONDS = 30
# The pause after a pass that found less than a batch: events and messages wait at most this long.
GATHER_SECONDS = 0.2
# How often a running worker looks for due digests (they are hourly or daily; overflow waits anyway).
DIGEST_CHECK_SECONDS = 30
# How often a running worker looks for new moderators' decisions to train the spam filter on.
SPAM_CHECK_SECONDS = 5
MAX_LEASE_SECONDS = 300


class Worker:
    def __init__(self, app, name: str | None = None, stop: threading.Event | None = None):
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"
        self.stop = stop or threading.Event()
        self.config = app.config
        self.transport = mail.transport(app.config)
        self.last_housekeeping = 0.0
        self.last_digests = 0.0
        self.last_spam_check = 0.0
        self.draining = False

    def run(self) -> None:
        """Work until stopped (SIGTERM, SIGINT or ``stop.set()``)."""
        log.info("worker %s started", self.name)
        try:
            while not self.stop.is_set():
                done = self.work_once()
                if not done:
                    self.stop.wait(float(self.config["WORKER_IDLE_SECONDS"]))
                elif done < int(self.config["WORKER_BATCH"]):
                    # A trickle (a post now and then): let the next few gather, so that each pass's
                    # fixed cost (its transactions) is shared by several events.
                    self.stop.wait(GATHER_SECONDS)
        finally:
            self.transport.close()
            log.info("worker %s stopped", self.name)

    def drain(self, max_passes: int = 10_000) -> int:
        """Work until a pass finds nothing due (tests, ``worker --drain``); returns the passes made."""
        passes = 0
        self.draining = True  # every pass looks for due digests too
        while passes < max_passes and self.work_once():
            passes += 1
        self.transport.close()
        return passes

    def work_once(self) -> int:
        """One pass of every stage; returns how many things it did (0: nothing was due)."""
        with self.app.app_context():
            done = fanout.process_events(self.config["WORKER_BATCH"])
            if self.draining or time.monotonic() - self.last_digests >= DIGEST_CHECK_SECONDS:
                self.last_digests = time.monotonic()
                done += digests.send_due()
            done += self.deliver_mail()
            done += webhooks.deliver(self.name, self.config, self.stop)
            if self.config["SPAM_FILTER"] and (
                    self.draining or time.monotonic() - self.last_spam_check >= SPAM_CHECK_SECONDS):
                self.last_spam_check = time.monotonic()
                done += learning.run_due()
            if time.monotonic() - self.last_housekeeping > 3600:
                housekeeping.tidy()
                self.last_housekeeping = time.monotonic()
            db.session.remove()
        return done

    def deliver_mail(self) -> int:
        """Claim a batch of e-mail and send it over one connection; settle it as it goes."""
        timeout = float(self.config["MAIL_TIMEOUT"])  # a float given in the environment is a string
        batch = int(self.config["WORKER_BATCH"])
        lease = min(LEASE_MARGIN_SECONDS + timeout * batch, MAX_LEASE_SECONDS)
        messages = outbox.claim(outbox.MAIL, self.name, batch, lease)
        sent: list[int] = []
        for index, message in enumerate(messages):
            if self.stop.is_set() or utcnow() + timedelta(seconds=timeout) > message.lease_ends:
                outbox.release(messages[index:])
                break
            try:
                self.transport.send(mail.to_email(message.payload, self.config))
            except mail.PermanentFailure as error:
                outbox.mark_failed(message, str(error), permanent=True)
                log.warning("message %s refused for good: %s", message.message_id, error)
            except Exception as error:  # noqa: BLE001  (any failure of the server or the network: retry)
                gave_up = outbox.mark_failed(message, f"{type(error).__name__}: {error}")
                log.warning("message %s not sent (%s)%s", message.message_id, error,
                            ": giving up" if gave_up else "; will retry")
            else:
                sent.append(message.id)
                if len(sent) >= 50:  # settle as we go: a crash re-sends at most this many
                    outbox.mark_sent(sent)
                    sent = []
        outbox.mark_sent(sent)
        return len(messages)


def run_worker(app=None) -> None:
    """The ``worker`` command: work until SIGTERM or SIGINT."""
    app = app or current_app._get_current_object()
    worker = Worker(app)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop.set())
    worker.run()
