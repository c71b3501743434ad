"""``make bench``: load-test Causerie's threads under gunicorn, against a static-JSON ceiling.

What it does, all on 127.0.0.1 and all bounded in time:
1. A fresh database (``--db sqlite``: a file in a temporary folder; ``--db
   postgres``: a database of its own created on the local server and dropped
   at the end), ``flask db upgrade``, seeded through the tables (fast) with the
   threads of ``bench_seed.py``: 10, 100, 1,000 and 10,000 comments, a
   1,000-comment thread to post to while it is read, and a lopsided thread of
   10,000 where one comment holds 5,000 replies.
2. gunicorn (``gunicorn.conf.py``, 2 workers) serving the app with rate limits
   off, and the same gunicorn settings serving ``scripts/static_ceiling.py``:
   a WSGI app answering the very bytes each scenario received, so every read
   scenario is shown as a fraction of what the server could do doing nothing
   (each read row alternates rounds of the app and of the ceiling, ``--rounds``).
3. A load generator in separate processes (``http.client``, one connection per
   client thread) measuring requests/s, p50 and p99 of: the first page of each
   thread, walking the whole 1,000-comment thread, ``/counts`` for 50 keys;
   the readers of issue 15 (``bench_readers.py``: logged in, on a thread being
   posted to, on the lopsided thread); POSTing comments at concurrency 8 (then
   checking every 201 was stored once: "zero lost"), and again in alternating
   rounds with the spam filter on and off (a second server, SPAM_FILTER=0): the
   filter's own cost, stricter than issue 16's "POST within 10% of the day it
   was filed", which ``bench_post_baseline.py`` (run next by ``make bench``)
   measures against that commit (``--no-spam-filter-cost`` skips these rounds).
4. The flood of issue 6: the app again with rate limits ON and the read lane
   of the README's production setup (``CAUSERIE_READ_BIND``), 50 posting
   clients (one user each) while one reader reads the first page of the
   10,000-comment thread through the read lane (the target) and another
   through the posters' own listener (for comparison); p99s and 429s.
5. Tables of the targets with PASS/MISS; the figures saved as JSON
   (``--results``), and on PostgreSQL compared with the last SQLite run's.
   Everything else is removed on exit.

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
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import bench_readers
from bench_readers import FIRST_PAGE, HOST, Account
from bench_seed import EXTRA_ARTICLES, THREAD_SIZES, BenchDatabase, seed

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
READER = ("bench_reader", "bench-reader@example.com", "bench-reader-password")
MODERATOR = ("bench_moderator", "bench-moderator@example.com", "bench-moderator-password")
WALK_PAGE = "limit=200&replies=500"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCENARIOS = ("reads", "logged_in", "lopsided", "live", "posts", "flood")  # the flood restarts the app: last


# ---------------------------------------------------------------- load generator
# Runs in child processes (spawned: they import nothing of the app).

def run_load(spec: dict) -> dict:
    """Drive the server with ``concurrency`` client threads for ``duration`` seconds.

    Each thread keeps one HTTPConnection (reopened when the server closes it,
    as gunicorn's sync workers do after each response) and cycles through
    ``requests`` ([method, path, body]); with ``post_path`` it POSTs fresh
    comment bodies instead, each under the next of ``post_parents`` (ids, or
    None for a top-level comment) when given. With ``pace`` each thread sends
    one request every ``pace`` seconds (never bursting to catch up) instead of
    as fast as it can. Requests finished during the first ``warmup`` seconds
    are not counted.
    """
    concurrency = spec["concurrency"]
    tokens = spec.get("tokens") or []
    headers = {"Accept": "application/json", **spec.get("headers", {})}
    bodies = spec.get("post_bodies") or []
    parents = spec.get("post_parents") or [None]
    run_tag = secrets.token_hex(3)  # bodies differ from every earlier run's: a repeat would be a 409
    pace = spec.get("pace")
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
        due = start + (pace or 0) * index / concurrency
        for _ in range(spec.get("max_requests", 200_000)):
            if pace:
                time.sleep(max(0.0, due - time.perf_counter()))
                due = max(due + pace, time.perf_counter())
            if time.perf_counter() >= deadline:
                break
            if spec.get("post_path"):
                text = bodies[sent % len(bodies)] if bodies else "Bench comment."
                fields = {"body": f"{text} [{run_tag}-{index}-{sent}]"}
                if parents[sent % len(parents)] is not None:
                    fields["parent_id"] = parents[sent % len(parents)]
                payload = json.dumps(fields)
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


def merge_runs(runs: list[dict]) -> dict:
    """Several ``run_load`` results as one: their requests together over their measured time together."""
    statuses, errors = Counter(), Counter()
    for run in runs:
        statuses.update(run["statuses"])
        errors.update(run["errors"])
    return {"latencies": sorted(value for run in runs for value in run["latencies"]),
            "statuses": dict(statuses), "errors": dict(errors), "bytes": sum(run["bytes"] for run in runs),
            "ids": [i for run in runs for i in run["ids"]], "elapsed": sum(run["elapsed"] for run in runs)}


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


# ---------------------------------------------------------------- servers and HTTP helpers

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn master started by us, in its own session so we can stop all of it; ``root``: the
    checkout it serves (its own ``gunicorn.conf.py``), this one unless told."""

    def __init__(self, name: str, target: str, env: dict, work: Path, extra_args=(), read_lane=False,
                 root: Path = ROOT):
        self.name = name
        self.port = free_port()
        self.read_port = free_port() if read_lane else None
        self.log = work / f"{name}.log"
        server_env = {**env, "CAUSERIE_BIND": f"{HOST}:{self.port}"}
        if read_lane:
            server_env["CAUSERIE_READ_BIND"] = f"{HOST}:{self.read_port}"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(root / "gunicorn.conf.py"), *extra_args, target],
                cwd=root, env=server_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
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

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its workers so far (Linux /proc; 0 elsewhere)."""
        total, todo = 0.0, [self.process.pid]
        while todo:
            pid = todo.pop()
            total += process_cpu_seconds(pid)
            try:
                todo += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            except (OSError, ValueError):
                continue
        return total


def process_cpu_seconds(pid: int, name: str | None = None) -> float:
    """User + system CPU of one process so far (Linux /proc); 0 when it is gone, or not called ``name``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if name is not None and f"({name})" not in stat:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM a process started in its own session; SIGKILL its whole group if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def http_get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Accept": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def bearer_token(port: int, username: str, password: str, register_email: str | None = None) -> str:
    """Log in (or register) through the API with the session cookie and CSRF token, then mint a bearer token."""
    return Account(port, username, password, register_email).token()


def flask_cli(args: list[str], env: dict) -> None:
    done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


# ---------------------------------------------------------------- the run

class Bench:
    """One run: the seeded database, the servers we started, and what each scenario measured."""

    def __init__(self, args, work: Path, pool: ProcessPoolExecutor, servers: list, database_url: str):
        self.args = args
        self.work = work
        self.pool = pool
        self.servers = servers  # stopped by main() whatever happens
        self.flask_app = None
        self.rows: list[dict] = []
        self.post = self.reader_flood = self.flooders = None
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
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

    def spec(self, port: int, **spec) -> dict:
        return {"host": HOST, "port": port, "duration": self.args.duration, "warmup": 1.0,
                "concurrency": self.args.concurrency, **spec}

    def load(self, port: int, **spec) -> dict:
        spec = self.spec(port, **spec)
        return self.pool.submit(run_load, spec).result(timeout=spec["duration"] + 120)

    def start_server(self, name: str, target: str, env: dict, **kwargs) -> Server:
        server = Server(name, target, env, self.work, **kwargs)
        self.servers.append(server)
        return server

    def prepare(self) -> None:
        """Migrate and seed the database, start the app and the ceiling, log the reader in."""
        flask_cli(["db", "upgrade"], self.env)
        for username, email, password, role in (READER + ("reader",), MODERATOR + ("moderator",)):
            flask_cli(["users", "create", username, "--email", email, "--password", password,
                       "--role", role], self.env)
        os.environ.update({k: self.env[k] for k in ("DATABASE_URL", "SECRET_KEY", "RATELIMIT_ENABLED")})
        sys.path.insert(0, str(ROOT))
        from app import create_app
        self.flask_app = create_app()
        self.seeded = seed(self.flask_app, random.Random(self.args.seed))
        print(f"Seeded threads of {', '.join(f'{n:,}' for n in THREAD_SIZES)} comments, a 1,000 one to post"
              f" to, a lopsided one of 10,000 and {EXTRA_ARTICLES + 1} more articles"
              f" in {self.seeded['seconds']:.1f} s.")
        self.app = self.start_server("app", "app:create_app()", self.env)
        self.ceiling = self.start_server("ceiling", "static_ceiling:app", self.env,
                                         extra_args=("--pythonpath", str(ROOT / "scripts")))
        self.app.wait_ready("/healthz")
        self.ceiling.wait_ready("/none")
        self.reader = Account(self.app.port, READER[0], READER[2])
        self.moderator = Account(self.app.port, MODERATOR[0], MODERATOR[2])
        self.reader_token = self.reader.token()

    def read_scenario(self, name: str, paths: list[str], headers: dict | None = None,
                      concurrency: int | None = None, alongside: dict | None = None) -> dict:
        """The app on ``paths`` (sending ``headers``) and the ceiling serving the bytes those paths answered,
        in ``--rounds`` alternating rounds (app, ceiling, app, ...) that share ``--duration``: a machine
        whose speed drifts within a minute weighs on both alike.

        ``alongside`` is a load (posting, say) run against the app during its rounds, not the
        ceiling's; the rate of 201s it got is kept on the row.
        """
        headers = headers or {}
        concurrency = concurrency or self.args.concurrency
        for index, path in enumerate(paths):
            status, content = http_get(self.app.port, path, headers)
            if status != 200:
                raise RuntimeError(f"{name}: GET {path} answered {status}: {content[:300]!r}")
            (self.work / "ceiling" / f"{name}-{index}.json").write_bytes(content)
        share = self.args.duration / self.args.rounds
        app_runs, ceiling_runs, posted_runs = [], [], []
        for _ in range(self.args.rounds):
            beside = (self.pool.submit(run_load, self.spec(self.app.port, **{**alongside, "duration": share,
                                                                                "warmup": 0.5}))
                      if alongside else None)
            app_runs.append(self.load(self.app.port, requests=[["GET", p, None] for p in paths],
                                      headers=headers, concurrency=concurrency, duration=share, warmup=0.5))
            if beside:
                posted_runs.append(beside.result(timeout=share + 120))
            ceiling_runs.append(self.load(self.ceiling.port, concurrency=concurrency, duration=share, warmup=0.5, requests=[
                ["GET", f"/{name}-{i}", None] for i in range(len(paths))]))
        measured, top = summarize(merge_runs(app_runs)), summarize(merge_runs(ceiling_runs))
        row = {"name": name, "concurrency": concurrency, **measured}
        note = ""
        if posted_runs:
            posted = merge_runs(posted_runs)
            row["posts_per_s"] = posted["statuses"].get(201, 0) / posted["elapsed"]
            row["post_statuses"] = posted["statuses"]
            note = f"  posts {row['posts_per_s']:.1f}/s {posted['statuses']}{posted['errors'] or ''}"
        row.update(ceiling_rps=top["rps"], fraction=measured["rps"] / top["rps"] if top["rps"] else math.nan)
        self.rows.append(row)
        print(f"  {name:<26} {row['rps']:7.0f} req/s  p50 {row['p50']:6.1f} ms  p99 {row['p99']:6.1f} ms"
              f"  {row['size'] / 1024:6.1f} KiB  errors {row['errors']}"
              f"  | ceiling {top['rps']:6.0f} req/s  -> {row['fraction']:.0%}{note}", flush=True)
        return row

    def logged_in(self) -> None:
        bench_readers.logged_in(self)

    def lopsided(self) -> None:
        bench_readers.lopsided(self)

    def live(self) -> None:
        bench_readers.live(self)

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
        cpu_before = self.app.cpu_seconds()
        posted = self.load(self.app.port, concurrency=concurrency, tokens=[self.reader_token],
                           post_path="/api/v1/articles/bench-post/comments",
                           post_bodies=self.seeded["bodies"], collect_ids=True)
        self.post = post = summarize(posted, ok_statuses=(201,))
        post["concurrency"] = concurrency
        # The server's CPU per post (warm-up included): steadier than the rate on a shared machine.
        post["server_cpu_ms"] = (self.app.cpu_seconds() - cpu_before) * 1000 / max(len(posted["ids"]), 1)
        ids = set(posted["ids"])  # every 201, warm-up included
        stored, stored_ids, count_column = count_comments(self.flask_app, self.seeded["post_article_id"])
        approved = count_comments(self.flask_app, self.seeded["post_article_id"], status="approved")[0]
        post["lost"] = len(ids - stored_ids)
        post["extra"] = stored - len(ids)
        # comment_count counts approved comments; the rest were held (pending) by the rules or the spam filter.
        post["ok"] = (post["errors"] == 0 and post["lost"] == 0 and post["extra"] == 0
                      and len(ids) == len(posted["ids"]) and count_column == approved)
        print(f"  {post['rps']:.0f} comments/s, p50 {post['p50']:.1f} ms, p99 {post['p99']:.1f} ms;"
              f" {len(posted['ids'])} answered 201, {stored} stored ({approved} approved, comment_count"
              f" {count_column}, {stored - approved} held),"
              f" lost {post['lost']}, errors {post['errors']}; server CPU {post['server_cpu_ms']:.2f} ms a post"
              f" {post['statuses'] if post['errors'] else ''}{post['exceptions'] or ''}")
        # The same with one author per client, as a site's concurrent posts are: one author's posts
        # take turns (their row is the lock of the duplicate check), so one token measures that queue.
        tokens = [bearer_token(self.app.port, f"bench_writer_{i}", "bench-writer-password",
                               register_email=f"bench-writer-{i}@example.com") for i in range(concurrency)]
        many = summarize(self.load(self.app.port, concurrency=concurrency, tokens=tokens,
                                   post_path="/api/v1/articles/bench-post/comments",
                                   post_bodies=self.seeded["bodies"], collect_ids=True), ok_statuses=(201,))
        post["rps_authors"] = many["rps"]
        print(f"  one author per client: {many['rps']:.0f} comments/s, p50 {many['p50']:.1f} ms,"
              f" p99 {many['p99']:.1f} ms, errors {many['errors']}")
        self.spam_filter_cost()

    def spam_filter_cost(self, rounds: int = 3, seconds: float = 3.0) -> None:
        """Issue 16: POST with the spam filter and without (a second server, SPAM_FILTER=0, on the same
        database), in alternating rounds so that a machine whose speed drifts weighs on both alike."""
        if not self.args.spam_filter_cost:
            return
        without = self.start_server("app-no-spam-filter", "app:create_app()", {**self.env, "SPAM_FILTER": "0"})
        without.wait_ready("/healthz")
        counts, cpu = {True: 0, False: 0}, {True: 0.0, False: 0.0}
        elapsed = {True: 0.0, False: 0.0}
        for _ in range(rounds):
            for on, server in ((True, self.app), (False, without)):
                before = server.cpu_seconds()
                posted = self.load(server.port, concurrency=self.args.post_concurrency, duration=seconds,
                                   tokens=[self.reader_token], post_path="/api/v1/articles/bench-post/comments",
                                   post_bodies=self.seeded["bodies"], collect_ids=True)
                counts[on] += posted["statuses"].get(201, 0)
                elapsed[on] += posted["elapsed"]
                cpu[on] += (server.cpu_seconds() - before) * 1000 / max(len(posted["ids"]), 1) / rounds
        without.stop()
        rate = {on: counts[on] / elapsed[on] for on in (True, False)}
        self.post["spam_filter"] = {"on_rps": rate[True], "off_rps": rate[False], "on_cpu_ms": cpu[True],
                                    "off_cpu_ms": cpu[False], "cost": 1 - rate[True] / rate[False]}
        print(f"  spam filter on / off ({rounds} alternating rounds of {seconds:g} s): {rate[True]:.0f} /"
              f" {rate[False]:.0f} comments/s ({1 - rate[True] / rate[False]:.0%} fewer), server CPU"
              f" {cpu[True]:.2f} / {cpu[False]:.2f} ms a post")

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
        self.reader_flood = reader = summarize(read)
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
        """Every row measured, then the targets of the scenarios that ran, PASS or MISS."""
        print(f"\nOn {self.args.db}; load average after: {_load_average()}"
              f" (above ~{os.cpu_count()}, other work was competing)")
        print("Scenario                      c    req/s   p50 ms   p99 ms  KiB/resp  errors  ceiling/s  of ceiling")
        for row in self.rows:
            print(f"{row['name']:<27} {row['concurrency']:2d} {row['rps']:8.0f} {row['p50']:8.1f} {row['p99']:8.1f}"
                  f" {row['size'] / 1024:9.1f} {row['errors']:7d} {row['ceiling_rps']:10.0f} {row['fraction']:11.0%}")
        others = ((f"post-c{self.args.post_concurrency}", self.post), ("flood-reader", self.reader_flood))
        for name, row in others:
            if row:
                print(f"{name:<30} {row['rps']:8.0f} {row['p50']:8.1f} {row['p99']:8.1f}"
                      f" {row['size'] / 1024:9.1f} {row['errors']:7d}")
        _print_targets("Targets of the earlier issues", self.earlier_targets())
        _print_targets("Targets of issue 15", bench_readers.targets({row["name"]: row for row in self.rows}))

    def earlier_targets(self) -> list[tuple[str, str, bool]]:
        found = []
        first = next((r for r in self.rows if r["name"] == "first-page-10000"), None)
        if first:
            found += [
                ("first page of 10k: >= 50% of ceiling", f"{first['fraction']:.0%}", first["fraction"] >= 0.5),
                ("first page of 10k: p99 < 50 ms", f"{first['p99']:.1f} ms", first["p99"] < 50),
                ("walk of 1,000 thread: < 100 ms server time", f"{self.walk_median:.1f} ms",
                 self.walk_median < 100),
                ("walk saw all 1,000 comments", f"{self.walk['seen']}", self.walk["seen"] == 1000),
            ]
        post, reader, flood = self.post, self.reader_flood, self.flooders
        if post:
            found += [
                (f"POST >= 300/s at c={self.args.post_concurrency}", f"{post['rps']:.0f}/s", post["rps"] >= 300),
                (f"POST >= 300/s at c={self.args.post_concurrency}, one author per client",
                 f"{post['rps_authors']:.0f}/s", post["rps_authors"] >= 300),
                ("POST: 0 errors, 0 lost", f"{post['errors']} errors, {post['lost']} lost, {post['extra']} extra",
                 post["ok"]),
            ]
            if "spam_filter" in post:
                cost = post["spam_filter"]["cost"]
                # Stricter than issue 16's target (POST within 10% of the day it was filed, measured by
                # bench_post_baseline.py): the filter's own cost against this same code without it.
                found.append(("POST, spam filter on vs off (16, stricter)", f"{cost:.0%} fewer",
                              cost <= 0.10))
        if reader:
            found += [
                ("flood: reader p99 < 100 ms (read lane)", f"{reader['p99']:.1f} ms", reader["p99"] < 100),
                ("flood: 0 reader 429s (and no reader errors)", f"{reader['429']} / {reader['errors']}",
                 reader["errors"] == 0),
                ("flood: 0 lost, no 5xx", f"{flood['lost']} lost, {flood['errors']} other",
                 flood["lost"] == 0 and flood["errors"] == 0),
            ]
        return found

    def results(self) -> dict:
        """What this run measured, as saved by ``--results``."""
        return {"db": self.args.db, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "load_average": _load_average(), "rows": self.rows,
                "post": {k: v for k, v in self.post.items() if k != "ok"} if self.post else None}


def _print_targets(title: str, targets: list[tuple[str, str, bool]]) -> None:
    if not targets:
        return
    print(f"\n{title:<58} {'measured':<30} result")
    for name, measured, passed in targets:
        print(f"{name:<58} {measured:<30} {'PASS' if passed else 'MISS'}")


def count_comments(flask_app, article_id: int, author_ids=None, status=None) -> tuple[int, set, int]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Article, Comment

    with flask_app.app_context():
        table = Comment.__table__
        query = select(table.c.id).where(table.c.article_id == article_id)
        if author_ids is not None:
            query = query.where(table.c.author_id.in_(author_ids))
        if status is not None:
            query = query.where(table.c.status == status)
        ids = set(db.session.scalars(query))
        stored = db.session.scalar(
            select(Article.__table__.c.comment_count).where(Article.__table__.c.id == article_id))
        db.session.remove()
    return len(ids), ids, stored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite",
                        help="postgres: a database of its own on the server of --pg-url, dropped at the end")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_POSTGRES_URL", POSTGRES),
                        help="a PostgreSQL database on the server to use (never written to)")
    parser.add_argument("--results", type=Path, help="save the figures as JSON here"
                        " (default: /tmp/causerie-bench-<db>.json)")
    parser.add_argument("--compare", type=Path, default=Path("/tmp/causerie-bench-sqlite.json"),
                        help="with --db postgres: the SQLite results to compare with, if the file exists")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds measured per scenario")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of the app and the ceiling that share --duration (read rows)")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections for the reads")
    parser.add_argument("--reader-concurrency", type=int, default=8,
                        help="client connections for the reads of issue 15 (logged in, live, lopsided)")
    parser.add_argument("--post-concurrency", type=int, default=8)
    parser.add_argument("--no-spam-filter-cost", dest="spam_filter_cost", action="store_false",
                        help="skip the POST rounds with the spam filter on and off (issue 16)")
    parser.add_argument("--flood-clients", type=int, default=50)
    parser.add_argument("--flood-duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the issue says 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class: sync or gthread")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--walks", type=int, default=20, help="single-client walks of the 1,000 thread")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (SQLite database, logs)")
    parser.add_argument("--only", choices=SCENARIOS, action="append",
                        help="run only these scenarios (repeatable)")
    args = parser.parse_args()
    args.results = args.results or Path(f"/tmp/causerie-bench-{args.db}.json")

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="causerie-bench-"))
    (work / "ceiling").mkdir()
    servers: list[Server] = []
    pool = ProcessPoolExecutor(max_workers=3, mp_context=multiprocessing.get_context("spawn"))
    database = BenchDatabase(args.db, work, args.pg_url)
    bench = None
    try:
        bench = Bench(args, work, pool, servers, database.create())
        print(f"Causerie bench on {args.db}: {os.cpu_count()} CPUs, gunicorn {args.workers} {args.worker_class}"
              f" workers{f' x {args.threads} threads' if args.worker_class == 'gthread' else ''}, reads at"
              f" concurrency {args.concurrency} (issue 15's at {args.reader_concurrency}), {args.duration:g} s"
              f" per scenario; load generator in separate processes.")
        # Other work on the machine skews every figure: say how busy it was.
        print(f"Load average before: {_load_average()}")
        bench.prepare()
        chosen = [name for name in SCENARIOS if name in (args.only or SCENARIOS)]
        for scenario in chosen:
            getattr(bench, scenario)()
        bench.report()
        results = bench.results()
        args.results.write_text(json.dumps(results, indent=1))
        print(f"\nFigures saved in {args.results}.")
        if args.db == "postgres":
            if args.compare.exists():
                sqlite = json.loads(args.compare.read_text())
                _print_targets(f"PostgreSQL against SQLite ({args.compare}, {sqlite.get('at')})",
                               bench_readers.postgres_vs_sqlite(results, sqlite))
            else:
                print(f"(No SQLite figures in {args.compare} to compare with: run make bench first.)")
        print(f"Bench took {time.monotonic() - started:.0f} s.")
        return 0
    finally:
        for server in servers:
            server.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        if bench and bench.flask_app:
            _release_connections(bench.flask_app)
        database.drop()
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _release_connections(flask_app) -> None:
    from app.extensions import db

    with flask_app.app_context():
        db.session.remove()
        db.engine.dispose()


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
