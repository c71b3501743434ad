"""``make bench``: load-test Causerie's threads under gunicorn, against a static-JSON ceiling.

What it does, all on 127.0.0.1 and all bounded in time:
1. A fresh SQLite database in a temporary folder (``flask db upgrade``), seeded
   directly through the tables (fast) with threads of 10, 100, 1,000 and 10,000
   comments: about 30% top-level, the rest replies at varied depths, bodies of
   100-600 characters of Markdown with links, rendered by ``app.sanitize.render``.
2. gunicorn (``gunicorn.conf.py``, 2 workers) serving the app with rate limits
   off, and the same gunicorn settings serving ``scripts/static_ceiling.py``:
   a WSGI app answering the very bytes each scenario received, so every read
   scenario is shown as a fraction of what the server could do doing nothing.
3. A load generator in separate processes (``http.client``, one connection per
   client thread) measuring requests/s, p50 and p99 of: the first page of each
   thread, walking the whole 1,000-comment thread, POSTing comments at
   concurrency 8 (then checking every 201 was stored once: "zero lost"), and
   ``/counts`` for 50 keys.
4. The flood of issue 6: the app again with rate limits ON and the read lane
   of the README's production setup (``CAUSERIE_READ_BIND``), 50 posting
   clients (one user each) while one reader reads the first page of the
   10,000-comment thread through the read lane (the target) and another
   through the posters' own listener (for comparison); p99s and 429s.
5. A table of the targets with PASS/MISS. Everything is removed on exit.

The generator shares the machine's cores with the server, as a real
co-located proxy would; the ceiling is measured under the same handicap.
"""
import argparse
import http.client
import json
import math
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.cookiejar import CookieJar
from pathlib import Path
from urllib import request as urlrequest
from urllib.error import HTTPError
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
THREAD_SIZES = (10, 100, 1000, 10_000)
TOP_LEVEL_SHARE = 0.3
MAX_DEPTH = 30  # the default MAX_DEPTH: replies nest at most this deep
EXTRA_ARTICLES = 46  # with the four threads: 50 keys for /counts
READER = ("bench_reader", "bench-reader@example.com", "bench-reader-password")
FIRST_PAGE = "limit=20&replies=5"
WALK_PAGE = "limit=200&replies=500"

WORDS = (
    "la rédaction the newsroom débat comment reader lecteur article source context "
    "argument point view opinion evidence report data année city ville council "
    "budget vote election policy école school transport climate énergie energy "
    "because however therefore moreover indeed perhaps clearly honestly agree "
    "disagree question answer thanks merci bien sûr of course really quite"
).split()


# ---------------------------------------------------------------- load generator
# Runs in child processes (spawned: they import nothing of the app).

def run_load(spec: dict) -> dict:
    """Drive the server with ``concurrency`` client threads for ``duration`` seconds.

    Each thread keeps one HTTPConnection (reopened when the server closes it,
    as gunicorn's sync workers do after each response) and cycles through
    ``requests`` ([method, path, body]); with ``post_path`` it POSTs fresh
    comment bodies instead. Requests finished during the first ``warmup``
    seconds are not counted.
    """
    concurrency = spec["concurrency"]
    tokens = spec.get("tokens") or []
    headers = {"Accept": "application/json", **spec.get("headers", {})}
    bodies = spec.get("post_bodies") or []
    start = time.perf_counter()
    window_start = start + spec.get("warmup", 1.0)
    deadline = window_start + spec["duration"]
    lock = threading.Lock()
    totals = {"latencies": [], "statuses": Counter(), "errors": Counter(), "bytes": 0,
              "ids": [], "last_end": window_start}

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(spec["host"], spec["port"], timeout=30)
        own_headers = dict(headers)
        if tokens:
            own_headers["Authorization"] = f"Bearer {tokens[index % len(tokens)]}"
        latencies, statuses, errors, ids = [], Counter(), Counter(), []
        received = 0
        last_end = window_start
        sent = index
        for _ in range(spec.get("max_requests", 200_000)):
            if time.perf_counter() >= deadline:
                break
            if spec.get("post_path"):
                text = bodies[sent % len(bodies)] if bodies else "Bench comment."
                payload = json.dumps({"body": f"{text} [{os.getpid()}-{index}-{sent}]"})
                method, path, data = "POST", spec["post_path"], payload
                request_headers = {**own_headers, "Content-Type": "application/json"}
            else:
                method, path, data = spec["requests"][sent % len(spec["requests"])]
                request_headers = own_headers
            sent += 1
            began = time.perf_counter()
            try:
                connection.request(method, path, body=data, headers=request_headers)
                response = connection.getresponse()
                content = response.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if began >= window_start:
                    errors[type(exc).__name__] += 1
                time.sleep(0.01)  # a refused connection must not spin
                continue
            ended = time.perf_counter()
            # Comments created during the warm-up count for "zero lost", not for the timings.
            if response.status == 201 and spec.get("collect_ids"):
                try:
                    ids.append(json.loads(content)["comment"]["id"])
                except (ValueError, KeyError, TypeError):
                    errors["unreadable 201"] += 1
            if began < window_start:
                continue
            latencies.append((ended - began) * 1000.0)
            statuses[response.status] += 1
            received += len(content)
            last_end = max(last_end, ended)
        connection.close()
        with lock:
            totals["latencies"].extend(latencies)
            totals["statuses"].update(statuses)
            totals["errors"].update(errors)
            totals["bytes"] += received
            totals["ids"].extend(ids)
            totals["last_end"] = max(totals["last_end"], last_end)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(spec["duration"] + spec.get("warmup", 1.0) + 60)
    elapsed = max(totals["last_end"] - window_start, 1e-9)
    return {
        "latencies": sorted(totals["latencies"]),
        "statuses": dict(totals["statuses"]),
        "errors": dict(totals["errors"]),
        "bytes": totals["bytes"],
        "ids": totals["ids"],
        "elapsed": elapsed,
    }


def run_walk(spec: dict) -> dict:
    """One client walks a whole thread page by page, ``walks`` times, following ``next``.

    Returns the time of each walk (sum of its page latencies), the page paths
    of the last walk and how many comments a walk saw (replies included).
    """
    connection = http.client.HTTPConnection(spec["host"], spec["port"], timeout=30)
    totals, paths, seen, pages_status = [], [], 0, Counter()
    deadline = time.perf_counter() + spec.get("max_seconds", 60)
    for _ in range(spec["walks"]):
        if time.perf_counter() >= deadline:
            break
        path, total, paths, seen = spec["first_path"], 0.0, [], 0
        for _page in range(10_000):
            began = time.perf_counter()
            connection.request("GET", path, headers={"Accept": "application/json"})
            response = connection.getresponse()
            content = response.read()
            total += (time.perf_counter() - began) * 1000.0
            pages_status[response.status] += 1
            paths.append(path)
            if response.status != 200:
                break
            page = json.loads(content)
            seen += _count_comments(page["comments"])
            if not page.get("next"):
                break
            path = f"{spec['first_path']}&after={quote(page['next'], safe='')}"
        totals.append(total)
    connection.close()
    return {"walk_ms": totals, "paths": paths, "seen": seen, "statuses": dict(pages_status)}


def _count_comments(comments: list) -> int:
    return sum(1 + _count_comments(c.get("replies") or []) for c in comments)


# ---------------------------------------------------------------- statistics

def percentile(values: list, share: float) -> float:
    if not values:
        return math.nan
    ordered = values if all(a <= b for a, b in zip(values, values[1:])) else sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def summarize(result: dict, ok_statuses=(200,)) -> dict:
    count = len(result["latencies"])
    bad = sum(n for status, n in result["statuses"].items() if status not in ok_statuses)
    return {
        "count": count,
        "rps": count / result["elapsed"],
        "p50": percentile(result["latencies"], 0.50),
        "p99": percentile(result["latencies"], 0.99),
        "errors": bad + sum(result["errors"].values()),
        "size": result["bytes"] / count if count else 0,
        "statuses": result["statuses"],
        "exceptions": result["errors"],
    }


# ---------------------------------------------------------------- seeding

def make_body(rng: random.Random) -> str:
    """A comment of 100-600 characters with some Markdown and links."""
    target = rng.randint(100, 600)
    parts: list[str] = []
    length = 0
    while length < target:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
        roll = rng.random()
        if roll < 0.15:
            words = f"**{words}**"
        elif roll < 0.25:
            words = f"*{words}*"
        elif roll < 0.32:
            words = f"{words} [source](https://example.com/{rng.randint(1, 999)})"
        elif roll < 0.37:
            words = f"{words} https://news.example.org/a/{rng.randint(1, 99999)}"
        elif roll < 0.42:
            words = f"{words} `code {rng.randint(1, 99)}`"
        elif roll < 0.47:
            words = f"\n\n> {words}\n\n"
        elif roll < 0.52:
            words = f"\n\n- {words}\n- {rng.choice(WORDS)} {rng.choice(WORDS)}\n\n"
        parts.append(words)
        length += len(words) + 1
    text = " ".join(parts).strip()
    return text[:600].rstrip() if len(text) > 600 else text


def build_thread(rng, size: int, article_id: int, first_id: int, authors: list[int],
                 bodies: list[tuple[str, str]], start: datetime) -> list[dict]:
    """Rows of a thread of ``size`` comments, in creation order, ids from ``first_id``."""
    tops = max(1, round(size * TOP_LEVEL_SHARE))
    kinds = [True] * tops + [False] * (size - tops)
    rng.shuffle(kinds)
    kinds[kinds.index(True)], kinds[0] = False, True  # the first comment starts the thread
    rows: list[dict] = []
    top_rows: list[dict] = []
    recent: deque = deque(maxlen=8)
    at = start
    for offset, is_top in enumerate(kinds):
        at += timedelta(seconds=rng.uniform(1, 90))
        parent = None
        if not is_top:
            roll = rng.random()
            if roll < 0.45 and recent:
                parent = rng.choice(recent)  # a conversation going deeper
            elif roll < 0.85:
                parent = rng.choice(top_rows)  # a direct reply to a top-level comment
            else:
                parent = rng.choice(rows)
            if parent["depth"] >= MAX_DEPTH:
                parent = next(r for r in top_rows if r["id"] == parent["root_id"])
        body, body_html = rng.choice(bodies)
        row = {
            "id": first_id + offset,
            "article_id": article_id,
            "parent_id": parent["id"] if parent else None,
            "root_id": (parent["root_id"] or parent["id"]) if parent else None,
            "depth": parent["depth"] + 1 if parent else 0,
            "author_id": rng.choice(authors),
            "status": "approved",
            "body": body,
            "body_html": body_html,
            "created_at": at,
            "edited_at": None,
            "decided_at": at,
            "pinned": False,
            "score": 0,
            "upvotes": 0,
            "downvotes": 0,
            "open_flags": 0,
        }
        rows.append(row)
        recent.append(row)
        if is_top:
            top_rows.append(row)
    return rows


def seed(flask_app, rng: random.Random) -> dict:
    """Insert authors, the four threads, 46 small articles and an empty one to post to."""
    from sqlalchemy import func, insert, select

    from app.extensions import db
    from app.models import Article, Comment, User

    try:
        from app.discussion.sanitize import render
    except ImportError:  # the sanitizer lands with the comments issue
        import html

        def render(text: str) -> str:
            return "<p>" + html.escape(text) + "</p>"

    started = time.perf_counter()
    sources = [make_body(rng) for _ in range(400)]
    bodies = [(text, render(text)) for text in sources]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with flask_app.app_context():
        with db.engine.begin() as conn:
            conn.execute(insert(User.__table__), [
                {"username": f"bench_author_{i}", "username_key": f"bench_author_{i}",
                 "email": f"bench-author-{i}@example.com", "email_key": f"bench-author-{i}@example.com",
                 "display_name": f"Author {i}", "password_hash": None, "role": "reader",
                 "created_at": now - timedelta(days=400)}
                for i in range(40)
            ])
            authors = list(conn.scalars(
                select(User.__table__.c.id).where(User.__table__.c.username_key.like("bench_author_%"))))
            next_id = (conn.scalar(select(func.max(Comment.__table__.c.id))) or 0) + 1

            def add_article(key: str, count: int, title: str) -> int:
                return conn.execute(insert(Article.__table__).values(
                    key=key, title=title, url=f"https://example.com/news/{key}", status="open",
                    moderation="inherit", comment_count=count,
                    created_at=now - timedelta(days=30))).inserted_primary_key[0]

            keys = {}
            for size in THREAD_SIZES:
                key = f"bench-{size}"
                article_id = add_article(key, size, f"A thread of {size} comments")
                rows = build_thread(rng, size, article_id, next_id, authors, bodies,
                                    now - timedelta(days=20))
                for chunk in range(0, len(rows), 2000):
                    conn.execute(insert(Comment.__table__), rows[chunk:chunk + 2000])
                next_id += size
                keys[size] = key
            extra = []
            for i in range(EXTRA_ARTICLES):
                key, size = f"bench-extra-{i}", rng.randint(0, 5)
                article_id = add_article(key, size, f"Small article {i}")
                rows = build_thread(rng, size, article_id, next_id, authors, bodies,
                                    now - timedelta(days=10)) if size else []
                if rows:
                    conn.execute(insert(Comment.__table__), rows)
                next_id += size
                extra.append(key)
            post_article = add_article("bench-post", 0, "Where the bench posts")
    return {"threads": keys, "extra": extra, "post_key": "bench-post", "post_article_id": post_article,
            "bodies": sources[:100], "seconds": time.perf_counter() - started}


# ---------------------------------------------------------------- servers and HTTP helpers

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn master started by us, in its own session so we can stop all of it."""

    def __init__(self, name: str, target: str, env: dict, work: Path, extra_args=(), read_lane=False):
        self.name = name
        self.port = free_port()
        self.read_port = free_port() if read_lane else None
        self.log = work / f"{name}.log"
        server_env = {**env, "CAUSERIE_BIND": f"{HOST}:{self.port}"}
        if read_lane:
            server_env["CAUSERIE_READ_BIND"] = f"{HOST}:{self.read_port}"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), *extra_args, target],
                cwd=ROOT, env=server_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)

    def wait_ready(self, path: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                status, _ = http_get(self.port, path)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not start on port {self.port}:\n{tail}")

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM a process started in its own session; SIGKILL its whole group if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def http_get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def bearer_token(port: int, username: str, password: str, register_email: str | None = None) -> str:
    """Log in (or register) through the API with the session cookie and CSRF token, then mint a bearer token."""
    opener = urlrequest.build_opener(urlrequest.HTTPCookieProcessor(CookieJar()))
    base = f"http://{HOST}:{port}/api/v1"

    def call(method: str, path: str, payload=None, csrf=None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urlrequest.Request(base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if csrf:
            req.add_header("X-CSRF-Token", csrf)
        try:
            with opener.open(req, timeout=30) as response:
                return json.load(response)
        except HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from None

    csrf = call("GET", "/auth/me")["csrf_token"]
    if register_email:
        answer = call("POST", "/auth/register",
                      {"username": username, "email": register_email, "password": password}, csrf)
    else:
        answer = call("POST", "/auth/login", {"login": username, "password": password}, csrf)
    csrf = answer.get("csrf_token") or call("GET", "/auth/me")["csrf_token"]
    return call("POST", "/auth/tokens", {"name": "bench"}, csrf)["token"]


def flask_cli(args: list[str], env: dict) -> None:
    done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


# ---------------------------------------------------------------- the run

class Bench:
    """One run: the seeded database, the servers we started, and what each scenario measured."""

    def __init__(self, args, work: Path, pool: ProcessPoolExecutor, servers: list):
        self.args = args
        self.work = work
        self.pool = pool
        self.servers = servers  # stopped by main() whatever happens
        self.rows: list[dict] = []
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "SECRET_KEY": secrets.token_hex(32),
            "ALLOWED_ORIGINS": "https://example.com",
            "RATELIMIT_ENABLED": "false",
            "RATELIMIT_STORAGE_URI": "memory://",
            "WEB_CONCURRENCY": str(args.workers),
            "GUNICORN_WORKER_CLASS": args.worker_class,
            "GUNICORN_THREADS": str(args.threads),
            "GUNICORN_ACCESSLOG": "",  # no access log: the same for the app and the ceiling
            "CEILING_DIR": str(work / "ceiling"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def load(self, port: int, **spec) -> dict:
        spec = {"host": HOST, "port": port, "duration": self.args.duration, "warmup": 1.0,
                "concurrency": self.args.concurrency, **spec}
        return self.pool.submit(run_load, spec).result(timeout=spec["duration"] + 120)

    def start_server(self, name: str, target: str, env: dict, **kwargs) -> Server:
        server = Server(name, target, env, self.work, **kwargs)
        self.servers.append(server)
        return server

    def prepare(self) -> None:
        """Migrate and seed the database, start the app and the ceiling, log the reader in."""
        flask_cli(["db", "upgrade"], self.env)
        flask_cli(["users", "create", READER[0], "--email", READER[1], "--password", READER[2],
                   "--role", "reader"], self.env)
        os.environ.update({k: self.env[k] for k in ("DATABASE_URL", "SECRET_KEY", "RATELIMIT_ENABLED")})
        sys.path.insert(0, str(ROOT))
        from app import create_app
        self.flask_app = create_app()
        self.seeded = seed(self.flask_app, random.Random(self.args.seed))
        print(f"Seeded threads of {', '.join(f'{n:,}' for n in THREAD_SIZES)} comments and "
              f"{EXTRA_ARTICLES + 1} more articles in {self.seeded['seconds']:.1f} s.")
        self.app = self.start_server("app", "app:create_app()", self.env)
        self.ceiling = self.start_server("ceiling", "static_ceiling:app", self.env,
                                         extra_args=("--pythonpath", str(ROOT / "scripts")))
        self.app.wait_ready("/healthz")
        self.ceiling.wait_ready("/none")
        self.reader_token = bearer_token(self.app.port, READER[0], READER[2])

    def read_scenario(self, name: str, paths: list[str]) -> dict:
        """The app on ``paths``, then the ceiling serving the bytes those paths answered."""
        for index, path in enumerate(paths):
            status, content = http_get(self.app.port, path)
            if status != 200:
                raise RuntimeError(f"{name}: GET {path} answered {status}: {content[:300]!r}")
            (self.work / "ceiling" / f"{name}-{index}.json").write_bytes(content)
        measured = summarize(self.load(self.app.port, requests=[["GET", p, None] for p in paths]))
        top = summarize(self.load(self.ceiling.port, requests=[
            ["GET", f"/{name}-{i}", None] for i in range(len(paths))]))
        row = {"name": name, **measured, "ceiling_rps": top["rps"],
               "fraction": measured["rps"] / top["rps"] if top["rps"] else math.nan}
        self.rows.append(row)
        print(f"  {name:<22} {row['rps']:8.0f} req/s  p50 {row['p50']:6.1f} ms  p99 {row['p99']:6.1f} ms"
              f"  {row['size'] / 1024:7.1f} KiB  errors {row['errors']}"
              f"  | ceiling {top['rps']:7.0f} req/s  -> {row['fraction']:.0%}", flush=True)
        return row

    def reads(self) -> None:
        print("\nReads (app | static ceiling of the same bytes):")
        for size in THREAD_SIZES:
            self.read_scenario(f"first-page-{size}", [f"/api/v1/articles/bench-{size}/comments?{FIRST_PAGE}"])
        walk_first = f"/api/v1/articles/bench-1000/comments?{WALK_PAGE}"
        self.walk = self.pool.submit(run_walk, {
            "host": HOST, "port": self.app.port, "first_path": walk_first,
            "walks": self.args.walks, "max_seconds": 60}).result(timeout=180)
        self.read_scenario("walk-1000", self.walk["paths"])
        keys = [self.seeded["threads"][n] for n in THREAD_SIZES] + self.seeded["extra"]
        self.read_scenario("counts-50-keys", [f"/api/v1/counts?keys={','.join(keys[:50])}"])
        walk_ms = sorted(self.walk["walk_ms"])
        self.walk_median = percentile(walk_ms, 0.5)
        print(f"  walk of the 1,000 thread, one client: {len(self.walk['paths'])} pages,"
              f" {self.walk['seen']} comments seen; server time median {self.walk_median:.1f} ms,"
              f" best {walk_ms[0]:.1f} ms ({len(walk_ms)} walks)")

    def posts(self) -> None:
        """POST at concurrency 8, then check that every 201 is stored exactly once."""
        concurrency = self.args.post_concurrency
        print(f"\nPOST /articles/bench-post/comments at concurrency {concurrency} (rate limits off):")
        posted = self.load(self.app.port, concurrency=concurrency, tokens=[self.reader_token],
                           post_path="/api/v1/articles/bench-post/comments",
                           post_bodies=self.seeded["bodies"], collect_ids=True)
        self.post = post = summarize(posted, ok_statuses=(201,))
        ids = set(posted["ids"])  # every 201, warm-up included
        stored, stored_ids, count_column = count_comments(self.flask_app, self.seeded["post_article_id"])
        post["lost"] = len(ids - stored_ids)
        post["extra"] = stored - len(ids)
        post["ok"] = (post["errors"] == 0 and post["lost"] == 0 and post["extra"] == 0
                      and len(ids) == len(posted["ids"]) and count_column == stored)
        print(f"  {post['rps']:.0f} comments/s, p50 {post['p50']:.1f} ms, p99 {post['p99']:.1f} ms;"
              f" {len(posted['ids'])} answered 201, {stored} stored (comment_count {count_column}),"
              f" lost {post['lost']}, errors {post['errors']}"
              f" {post['statuses'] if post['errors'] else ''}{post['exceptions'] or ''}")

    def flood(self) -> None:
        """Issue 6: posting clients with their own users and limits ON, while one reader reads."""
        clients, duration = self.args.flood_clients, self.args.flood_duration
        print(f"\nFlood: {clients} posting clients (one user each, rate limits ON) and two readers:")
        # The users register while limits are off; then the app restarts with them on.
        with ThreadPoolExecutor(4) as threads:
            tokens = list(threads.map(
                lambda i: bearer_token(self.app.port, f"flood_{i}", "flood-password-123",
                                       register_email=f"flood-{i}@example.com"),
                range(clients)))
        users = _user_ids(self.flask_app, [f"flood_{i}" for i in range(clients)])
        self.app.stop()
        # Served as the README's production setup: the proxy sends reads to the read lane.
        limited = self.start_server("app-limited", "app:create_app()", {**self.env, "RATELIMIT_ENABLED": "true"},
                                    read_lane=True)
        limited.wait_ready("/healthz")
        common = {"host": HOST, "port": limited.port, "duration": duration, "warmup": 1.0}
        first_page = [["GET", f"/api/v1/articles/bench-10000/comments?{FIRST_PAGE}", None]]
        flood_future = self.pool.submit(run_load, {
            **common, "concurrency": clients, "tokens": tokens, "collect_ids": True,
            "post_path": "/api/v1/articles/bench-10000/comments", "post_bodies": self.seeded["bodies"]})
        reader_future = self.pool.submit(run_load, {
            **common, "port": limited.read_port, "concurrency": 1, "requests": first_page})
        # A second reader on the posters' own listener, for comparison: it queues behind them.
        shared_future = self.pool.submit(run_load, {**common, "concurrency": 1, "requests": first_page})
        flooded = flood_future.result(timeout=duration + 180)
        read = reader_future.result(timeout=duration + 180)
        shared = summarize(shared_future.result(timeout=duration + 180))
        self.reader = reader = summarize(read)
        reader["429"] = read["statuses"].get(429, 0)
        self.flooders = flood = summarize(flooded, ok_statuses=(201, 429))
        stored, stored_ids, _ = count_comments(self.flask_app, _article_id(self.flask_app, "bench-10000"), users)
        flood["lost"] = len(set(flooded["ids"]) - stored_ids)
        print(f"  posters: {flood['rps']:.0f} req/s, {len(flooded['ids'])} x 201,"
              f" {flooded['statuses'].get(429, 0)} x 429, other {flood['errors']} {flooded['errors'] or ''};"
              f" {stored} stored, lost {flood['lost']}")
        print(f"  reader on the read lane: {reader['count']} reads, {reader['rps']:.0f} req/s,"
              f" p50 {reader['p50']:.1f} ms, p99 {reader['p99']:.1f} ms, 429s {reader['429']},"
              f" other errors {reader['errors'] - reader['429']}")
        print(f"  reader on the posters' listener: {shared['count']} reads, p50 {shared['p50']:.1f} ms,"
              f" p99 {shared['p99']:.1f} ms, errors {shared['errors']}")

    def report(self) -> None:
        post, reader, flood = self.post, self.reader, self.flooders
        print("\nScenario                       req/s    p50 ms   p99 ms   KiB/resp  errors  ceiling/s  of ceiling")
        for row in self.rows:
            print(f"{row['name']:<28} {row['rps']:8.0f} {row['p50']:9.1f} {row['p99']:8.1f}"
                  f" {row['size'] / 1024:10.1f} {row['errors']:7d} {row['ceiling_rps']:10.0f} {row['fraction']:10.0%}")
        for name, row in ((f"post-c{self.args.post_concurrency}", post), ("flood-reader", reader)):
            print(f"{name:<28} {row['rps']:8.0f} {row['p50']:9.1f} {row['p99']:8.1f}"
                  f" {row['size'] / 1024:10.1f} {row['errors']:7d}")
        print(f"\nLoad average after: {_load_average()} (above ~{os.cpu_count()}, other work was competing)")
        first = next(r for r in self.rows if r["name"] == "first-page-10000")
        targets = [
            ("first page of 10k: >= 50% of ceiling", f"{first['fraction']:.0%}", first["fraction"] >= 0.5),
            ("first page of 10k: p99 < 50 ms", f"{first['p99']:.1f} ms", first["p99"] < 50),
            ("walk of 1,000 thread: < 100 ms server time", f"{self.walk_median:.1f} ms",
             self.walk_median < 100),
            ("walk saw all 1,000 comments", f"{self.walk['seen']}", self.walk["seen"] == 1000),
            (f"POST >= 300/s at c={self.args.post_concurrency}", f"{post['rps']:.0f}/s", post["rps"] >= 300),
            ("POST: 0 errors, 0 lost", f"{post['errors']} errors, {post['lost']} lost, {post['extra']} extra",
             post["ok"]),
            ("flood: reader p99 < 100 ms (read lane)", f"{reader['p99']:.1f} ms", reader["p99"] < 100),
            ("flood: 0 reader 429s (and no reader errors)", f"{reader['429']} / {reader['errors']}",
             reader["errors"] == 0),
            ("flood: 0 lost, no 5xx", f"{flood['lost']} lost, {flood['errors']} other",
             flood["lost"] == 0 and flood["errors"] == 0),
        ]
        print("\nTarget                                          measured                      result")
        for name, measured, passed in targets:
            print(f"{name:<47} {measured:<29} {'PASS' if passed else 'MISS'}")


def count_comments(flask_app, article_id: int, author_ids=None) -> tuple[int, set, int]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Article, Comment

    with flask_app.app_context():
        table = Comment.__table__
        query = select(table.c.id).where(table.c.article_id == article_id)
        if author_ids is not None:
            query = query.where(table.c.author_id.in_(author_ids))
        ids = set(db.session.scalars(query))
        stored = db.session.scalar(
            select(Article.__table__.c.comment_count).where(Article.__table__.c.id == article_id))
        db.session.remove()
    return len(ids), ids, stored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds measured per scenario")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections for the reads")
    parser.add_argument("--post-concurrency", type=int, default=8)
    parser.add_argument("--flood-clients", type=int, default=50)
    parser.add_argument("--flood-duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the issue says 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class: sync or gthread")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--walks", type=int, default=20, help="single-client walks of the 1,000 thread")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs)")
    parser.add_argument("--only", choices=("reads", "posts", "flood"), action="append",
                        help="run only these scenarios (repeatable); the targets table needs all three")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="causerie-bench-"))
    (work / "ceiling").mkdir()
    servers: list[Server] = []
    pool = ProcessPoolExecutor(max_workers=3, mp_context=multiprocessing.get_context("spawn"))
    try:
        bench = Bench(args, work, pool, servers)
        print(f"Causerie bench: {os.cpu_count()} CPUs, gunicorn {args.workers} {args.worker_class} workers"
              f"{f' x {args.threads} threads' if args.worker_class == 'gthread' else ''}, reads at"
              f" concurrency {args.concurrency}, {args.duration:g} s per scenario; load generator in"
              f" separate processes.")
        # Other work on the machine skews every figure: say how busy it was.
        print(f"Load average before: {_load_average()}")
        bench.prepare()
        chosen = args.only or ["reads", "posts", "flood"]
        for scenario in chosen:
            getattr(bench, scenario)()
        if len(set(chosen)) == 3:
            bench.report()
        return 0
    finally:
        for server in servers:
            server.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def _user_ids(flask_app, usernames: list[str]) -> list[int]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User

    with flask_app.app_context():
        ids = list(db.session.scalars(select(User.id).where(User.username.in_(usernames))))
        db.session.remove()
    return ids


def _article_id(flask_app, key: str) -> int:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Article

    with flask_app.app_context():
        article_id = db.session.scalar(select(Article.id).where(Article.key == key))
        db.session.remove()
    return article_id


if __name__ == "__main__":
    sys.exit(main())
