"""``make bench-outbox`` (and ``make bench``): the worker's throughput, its memory on a large backlog,
and what reply notifications cost the POST path.

All on 127.0.0.1, bounded in time, on a fresh database: a SQLite file in a temporary folder, or a
throw-away PostgreSQL database beside the one env DATABASE_URL names (dropped at the end).
1. Throughput: N e-mails queued, one ``flask --app app worker`` process sending them to an SMTP sink
   (aiosmtpd, in this process, counting Message-IDs): messages/s. Target >= 200/s.
2. Backlog: 100,000 e-mails queued (bulk insert), the worker drains them while its RSS is sampled
   every second (/proc/PID/status). Target: peak RSS after the first 10,000 messages grows less than
   30 MB (flat memory); the drain time is reported.
3. POST with notifications: gunicorn (2 workers) and a worker process; clients post replies to
   other users' comments. "off": no one wants notifications; "on": every parent author has
   replies=instant. Phases alternate off/on/off/on; comments/s of each. Target: on >= 0.9 x off.
A table of the targets with PASS/FAIL ends the run.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench import HOST, Server, bearer_token, flask_cli, free_port, stop_process  # noqa: E402

BIN = Path(sys.executable).parent
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


# ---------------------------------------------------------------- the SMTP sink

class CountingHandler:
    """Accepts everything; keeps each Message-ID's count and the times of the first and last message."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ids: Counter = Counter()
        self.count = 0
        self.first = self.last = None

    async def handle_DATA(self, server, session, envelope):
        found = MESSAGE_ID.search(envelope.original_content or envelope.content)
        now = time.perf_counter()
        with self.lock:
            self.ids[found.group(1) if found else b"?"] += 1
            self.count += 1
            self.first = self.first or now
            self.last = now
        return "250 OK"

    def reset(self):
        with self.lock:
            self.ids.clear()
            self.count, self.first, self.last = 0, None, None


class Sink:
    def __init__(self):
        from aiosmtpd.controller import Controller
        self.handler = CountingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname=HOST, port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


# ---------------------------------------------------------------- processes

def rss_mb(pid: int) -> float | None:
    try:
        import psutil
        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 (the process is gone)
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class WorkerProcess:
    def __init__(self, env: dict, log: Path, nice: int = 0):
        self.log = log
        command = [str(BIN / "flask"), "--app", "app", "worker"]
        if nice:  # background work at a lower CPU priority, as docs/worker.md's unit runs it (Nice=10)
            command = ["nice", "-n", str(nice), *command]
        with open(log, "ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env,
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def stop(self) -> None:
        stop_process(self.process)


# ---------------------------------------------------------------- the database

def create_database(work: Path):
    """(url, drop): a fresh SQLite file, or a throw-away PostgreSQL database."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        return f"sqlite:///{work / 'outbox.sqlite3'}", lambda: None
    import sqlalchemy as sa
    url = sa.engine.make_url(base).set(drivername="postgresql+psycopg")
    name = f"causerie_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), drop


def payload(n: int) -> dict:
    message_id = "msg_" + secrets.token_hex(16)
    link = f"http://comments.test/reset?token={secrets.token_urlsafe(24)}"
    return {
        "message_id": message_id, "to": f"reader{n}@example.org", "subject": f"Bench message {n}",
        "text": f"Hello,\n\nSomeone replied to your comment. Read it here:\n{link}\n\n-- Causerie\n",
        "html": f'<p>Hello,</p><p>Someone replied to your comment. <a href="{link}">Read it</a></p>',
        "headers": {"Message-ID": f"<{message_id[4:]}@comments.test>",
                    "Date": "Mon, 01 Jan 2024 10:00:00 +0000", "Auto-Submitted": "auto-generated"},
        "language": "en",
    }


def queue_messages(flask_app, count: int, chunk: int = 5000) -> float:
    """Bulk-insert ``count`` pending e-mails; returns the seconds it took."""
    from sqlalchemy import delete, insert

    from app.extensions import db
    from app.notifications.models import OutboxMessage

    started = time.perf_counter()
    now = datetime.now(timezone.utc) - timedelta(seconds=1)
    with flask_app.app_context():
        with db.engine.begin() as conn:
            conn.execute(delete(OutboxMessage.__table__))
        for first in range(0, count, chunk):
            rows = []
            for n in range(first, min(first + chunk, count)):
                item = payload(n)
                rows.append({"message_id": item["message_id"], "channel": "mail", "category": "bench",
                             "recipient_id": None, "webhook_id": None, "payload": item, "state": "pending",
                             "attempts": 0, "next_attempt_at": now, "created_at": now})
            with db.engine.begin() as conn:
                conn.execute(insert(OutboxMessage.__table__), rows)
        db.engine.dispose()
    return time.perf_counter() - started


def outbox_states(flask_app) -> Counter:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.notifications.models import OutboxMessage

    with flask_app.app_context():
        table = OutboxMessage.__table__
        found = Counter(dict(db.session.execute(select(table.c.state, func.count()).group_by(table.c.state)).all()))
        db.session.remove()
    return found


# ---------------------------------------------------------------- POST load (child processes)

def post_load(spec: dict) -> dict:
    """``concurrency`` threads POST replies to random parents for ``duration`` seconds (after a
    1 s warm-up); returns the count of 201s in the window and the statuses."""
    start = time.perf_counter()
    window = start + spec["warmup"]
    deadline = window + spec["duration"]
    lock = threading.Lock()
    totals = {"ok": 0, "statuses": Counter(), "errors": 0}

    def client(index: int) -> None:
        rng = random.Random(index * 7919 + os.getpid())
        connection = http.client.HTTPConnection(spec["host"], spec["port"], timeout=30)
        headers = {"Authorization": f"Bearer {spec['tokens'][index % len(spec['tokens'])]}",
                   "Content-Type": "application/json", "Accept": "application/json"}
        ok, statuses, errors, n = 0, Counter(), 0, 0
        while time.perf_counter() < deadline:
            n += 1
            body = json.dumps({"body": f"A reply, number {n} of client {index} in {os.getpid()} "
                                       f"({spec['phase']}, {secrets.token_hex(4)}).",
                               "parent_id": rng.choice(spec["parents"])})
            began = time.perf_counter()
            try:
                connection.request("POST", spec["path"], body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                errors += began >= window
                time.sleep(0.01)
                continue
            if began >= window and time.perf_counter() <= deadline:
                statuses[response.status] += 1
                ok += response.status == 201
        connection.close()
        with lock:
            totals["ok"] += ok
            totals["statuses"].update(statuses)
            totals["errors"] += errors

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(spec["concurrency"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(spec["duration"] + spec["warmup"] + 60)
    return {"rate": totals["ok"] / spec["duration"], "statuses": dict(totals["statuses"]),
            "errors": totals["errors"]}


# ---------------------------------------------------------------- the run

class Bench:
    def __init__(self, args, work: Path, url: str, sink: Sink):
        self.args = args
        self.work = work
        self.sink = sink
        self.results: dict = {}
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "MAIL_", "WORKER_"))},
            "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32), "PUBLIC_URL": "http://comments.test",
            "ALLOWED_ORIGINS": "https://example.com", "RATELIMIT_ENABLED": "false",
            "RATELIMIT_STORAGE_URI": "memory://", "GUNICORN_ACCESSLOG": "", "WEB_CONCURRENCY": "2",
            "MAIL_SERVER": HOST, "MAIL_PORT": str(sink.port), "MAIL_USE_TLS": "false", "MAIL_USE_SSL": "false",
            "WORKER_IDLE_SECONDS": "0.2", "PYTHONDONTWRITEBYTECODE": "1",
        }
        flask_cli(["db", "upgrade"], self.env)
        from app import create_app
        self.flask_app = create_app({k: self.env[k] for k in ("DATABASE_URL", "SECRET_KEY", "PUBLIC_URL")})

    def worker(self, name: str, nice: int = 0) -> WorkerProcess:
        return WorkerProcess(self.env, self.work / f"{name}.log", nice)

    def wait_delivered(self, count: int, timeout: float, on_tick=None) -> bool:
        deadline = time.monotonic() + timeout
        while self.sink.handler.count < count:
            if time.monotonic() > deadline:
                return False
            if on_tick:
                on_tick()
            time.sleep(0.05)
        return True

    def throughput(self) -> None:
        n = self.args.messages
        seconds = queue_messages(self.flask_app, n)
        print(f"\n1. Worker throughput: {n:,} e-mails queued in {seconds:.1f} s; one worker process.")
        self.sink.handler.reset()
        started = time.perf_counter()
        worker = self.worker("throughput")
        try:
            done = self.wait_delivered(n, self.args.timeout)
        finally:
            worker.stop()
        handler = self.sink.handler
        steady = (handler.count - 1) / max(handler.last - handler.first, 1e-9) if handler.count > 1 else 0
        overall = handler.count / (time.perf_counter() - started)
        duplicates = sum(handler.ids.values()) - len(handler.ids)
        print(f"   {handler.count:,} delivered ({'all' if done else 'TIMED OUT'}), {steady:.0f} msg/s from first"
              f" to last message, {overall:.0f} msg/s with the worker's start-up; {duplicates} duplicates;"
              f" outbox {dict(outbox_states(self.flask_app))}")
        self.results["throughput"] = {"rate": steady, "done": done, "duplicates": duplicates}

    def backlog(self) -> None:
        n = self.args.backlog
        seconds = queue_messages(self.flask_app, n)
        print(f"\n2. Backlog: {n:,} e-mails queued in {seconds:.1f} s; one worker drains them, RSS sampled each second.")
        self.sink.handler.reset()
        started = time.perf_counter()
        worker = self.worker("backlog")
        samples: list[tuple[int, float]] = []
        state = {"next": 0.0, "after_10k": None}

        def sample():
            now = time.monotonic()
            if now < state["next"]:
                return
            state["next"] = now + 1.0
            rss = rss_mb(worker.process.pid)
            if rss is not None:
                samples.append((self.sink.handler.count, rss))
                if state["after_10k"] is None and self.sink.handler.count >= min(10_000, n // 10):
                    state["after_10k"] = rss
        try:
            done = self.wait_delivered(n, self.args.backlog_timeout, on_tick=sample)
            sample()
        finally:
            worker.stop()
        elapsed = time.perf_counter() - started
        delivered = self.sink.handler.count
        rss_values = [rss for _, rss in samples]
        base = state["after_10k"] or (rss_values[0] if rss_values else 0)
        later = [rss for count, rss in samples if count >= min(10_000, n // 10)] or [base]
        growth = max(later) - base
        print(f"   {delivered:,} delivered in {elapsed:.0f} s ({'all' if done else 'TIMED OUT'}; "
              f"{delivered / elapsed:.0f} msg/s); RSS start {rss_values[0] if rss_values else 0:.1f} MB, "
              f"after 10k {base:.1f} MB, peak {max(rss_values or [0]):.1f} MB, end {rss_values[-1] if rss_values else 0:.1f} MB")
        print("   RSS by messages delivered: " + ", ".join(
            f"{count // 1000}k:{rss:.0f}" for count, rss in samples[:: max(1, len(samples) // 12)]))
        self.results["backlog"] = {"growth": growth, "done": done, "elapsed": elapsed, "delivered": delivered}

    def posts(self) -> None:
        print(f"\n3. POST replies under gunicorn (2 workers) with a worker process beside it (nice 10), "
              f"{self.args.post_concurrency} clients, {self.args.duration:g} s per phase:")
        queue_messages(self.flask_app, 0)
        server = Server("app", "app:create_app()", self.env, self.work)
        # The worker shares the 2 cores with gunicorn and the load generator, at the lower CPU priority
        # a deployment gives it (docs/worker.md): requests come first, messages catch up in the gaps.
        worker = self.worker("posts", nice=10)
        try:
            server.wait_ready("/healthz")
            parents, tokens, authors = self.seed_discussion(server.port)
            phases = {"off": [], "on": []}
            pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            try:
                for phase in ("off", "on") * 3:  # alternated, and the median of each kept: the machine is noisy
                    self.set_notifications(authors, "instant" if phase == "on" else "off")
                    result = pool.submit(post_load, {
                        "host": HOST, "port": server.port, "tokens": tokens, "parents": parents,
                        "path": "/api/v1/articles/bench-replies/comments", "phase": phase,
                        "concurrency": self.args.post_concurrency, "duration": self.args.duration,
                        "warmup": 1.0}).result(timeout=self.args.duration + 120)
                    phases[phase].append(result)
                    print(f"   {phase:<3}: {result['rate']:.0f} comments/s  statuses {result['statuses']}"
                          f"  errors {result['errors']}  mail sent so far {self.sink.handler.count}")
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            # Give the worker a moment to catch up, then show what it did.
            time.sleep(2)
            print(f"   the worker sent {self.sink.handler.count} e-mails; outbox {dict(outbox_states(self.flask_app))};"
                  f" events left unprocessed {self.unprocessed_events()}")
        finally:
            worker.stop()
            server.stop()
        rate = {phase: statistics.median(r["rate"] for r in runs) for phase, runs in phases.items()}
        errors = sum(r["errors"] + sum(n for s, n in r["statuses"].items() if s != 201)
                     for runs in phases.values() for r in runs)
        self.results["posts"] = {"off": rate["off"], "on": rate["on"], "errors": errors}

    def seed_discussion(self, port: int):
        """Parent authors with a comment each, posters with bearer tokens; every address verified."""
        from sqlalchemy import update

        from app.extensions import db
        from app.models import Article, User

        with self.flask_app.app_context():
            db.session.add(Article(key="bench-replies", title="Bench replies", url="https://example.com/bench-replies"))
            db.session.commit()
            db.session.remove()
        password = "bench-password-0123"
        authors_tokens = [bearer_token(port, f"parent{i}", password, f"parent{i}@example.org") for i in range(20)]
        tokens = [bearer_token(port, f"poster{i}", password, f"poster{i}@example.org")
                  for i in range(self.args.post_concurrency)]
        parents = []
        for i, token in enumerate(authors_tokens):
            connection = http.client.HTTPConnection(HOST, port, timeout=30)
            connection.request("POST", "/api/v1/articles/bench-replies/comments",
                               body=json.dumps({"body": f"The first word, from parent number {i}."}),
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = connection.getresponse()
            data = json.loads(response.read())
            connection.close()
            if response.status != 201:
                raise RuntimeError(f"seeding a parent comment: {response.status} {data}")
            parents.append(data["comment"]["id"])
        with self.flask_app.app_context():
            db.session.execute(update(User).values(email_verified_at=datetime.now(timezone.utc)))
            db.session.commit()
            authors = list(db.session.scalars(
                db.select(User.id).where(User.username_key.like("parent%"))))
            db.session.remove()
        return parents, tokens, authors

    def set_notifications(self, authors: list[int], replies: str) -> None:
        from sqlalchemy import delete, insert

        from app.extensions import db
        from app.notifications.models import NotificationSettings

        with self.flask_app.app_context():
            with db.engine.begin() as conn:
                conn.execute(delete(NotificationSettings.__table__))
                if replies != "off":
                    conn.execute(insert(NotificationSettings.__table__),
                                 [{"user_id": user_id, "replies": replies, "moderation": "off"} for user_id in authors])
            db.engine.dispose()

    def unprocessed_events(self) -> int:
        from sqlalchemy import func, select

        from app.extensions import db
        from app.notifications.models import Event

        with self.flask_app.app_context():
            count = db.session.scalar(select(func.count()).select_from(Event).where(Event.processed_at.is_(None)))
            db.session.remove()
        return count

    def report(self) -> bool:
        rows = []
        if "throughput" in self.results:
            r = self.results["throughput"]
            rows.append(("worker throughput >= 200 msg/s", f"{r['rate']:.0f} msg/s, {r['duplicates']} dup",
                         r["rate"] >= 200 and r["done"] and r["duplicates"] == 0))
        if "backlog" in self.results:
            r = self.results["backlog"]
            rows.append((f"{self.args.backlog:,} backlog drains, RSS flat (< 30 MB)",
                         f"+{r['growth']:.1f} MB, {r['elapsed']:.0f} s", r["growth"] < 30 and r["done"]))
        if "posts" in self.results:
            r = self.results["posts"]
            ratio = r["on"] / r["off"] if r["off"] else 0
            rows.append(("POST with notifications on >= 0.9 x off",
                         f"{r['on']:.0f} vs {r['off']:.0f}/s ({ratio:.2f})", ratio >= 0.9))
            rows.append(("POST: no errors", f"{r['errors']}", r["errors"] == 0))
        print("\nTarget                                          measured                        result")
        for name, measured, passed in rows:
            print(f"{name:<47} {measured:<31} {'PASS' if passed else 'FAIL'}")
        return all(passed for _, _, passed in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000, help="e-mails of the throughput run")
    parser.add_argument("--backlog", type=int, default=100_000, help="e-mails of the backlog run")
    parser.add_argument("--timeout", type=float, default=120, help="seconds the throughput run may take")
    parser.add_argument("--backlog-timeout", type=float, default=600, help="seconds the backlog run may take")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds of each POST phase")
    parser.add_argument("--post-concurrency", type=int, default=8)
    parser.add_argument("--only", choices=("throughput", "backlog", "posts"), action="append")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="causerie-bench-outbox-"))
    url, drop = create_database(work)
    print(f"Causerie outbox bench: {os.cpu_count()} CPUs, database {url.split(':')[0]}, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    try:
        with Sink() as sink:
            bench = Bench(args, work, url, sink)
            for scenario in args.only or ("throughput", "backlog", "posts"):
                getattr(bench, scenario)()
            passed = bench.report()
        return 0 if passed or not os.environ.get("BENCH_STRICT") else 1
    finally:
        try:
            drop()
        except Exception as error:  # noqa: BLE001
            print(f"(could not drop the bench database: {error})")
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
