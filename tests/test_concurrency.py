"""Concurrency without loss, against gunicorn with 4 workers on the database of the run.

16 clients post and vote at once: every 201 is stored exactly once, counts and
scores equal the rows, no 5xx, and "database is locked" never reaches a
client. Also: many readers opening a new article at once, the double click
(the same body sent several times at once), one user voting and flagging
from several tabs, and a reply racing the deletion of its parent. Every
request has a timeout and the load a deadline.
"""
import os
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import text

from .servers import (
    ALLOWED_ORIGIN,
    AppServer,
    database_engine,
    fresh_database_url,
    is_postgres,
    register_user,
)

pytestmark = pytest.mark.slow

CLIENTS = 16
PER_CLIENT = 100
DEADLINE_SECONDS = 90
ON_POSTGRES = is_postgres(os.environ.get("DATABASE_URL", ""))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with fresh_database_url(tmp_path_factory.mktemp("db")) as url:
        with AppServer(url, workers=4, migrate=True, log_dir=tmp_path_factory.mktemp("logs")) as server:
            yield server


def create_article(api, key: str) -> dict:
    """Create ``key`` implicitly with a first comment; returns that comment."""
    response = api.post(f"/api/v1/articles/{key}/comments",
                        {"body": f"opening {key}", "title": key, "url": f"{ALLOWED_ORIGIN}/{key}"})
    assert response.status_code == 201, response.text
    return response.json()["comment"]


def register_many(server, prefix: str, count: int):
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda i: register_user(server.base_url, f"{prefix}{i}"), range(count)))


class Journal:
    """Every answer the clients got: statuses, and any body that leaks a server failure."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.failures: list[str] = []

    def note(self, what: str, response: requests.Response) -> requests.Response:
        with self.lock:
            self.statuses[(what, response.status_code)] += 1
            body = response.text
            if response.status_code >= 500 or "database is locked" in body.lower():
                self.failures.append(f"{what} -> {response.status_code}: {body[:300]}")
        return response

    def error(self, what: str, exc: Exception) -> None:
        with self.lock:
            self.failures.append(f"{what} -> {type(exc).__name__}: {exc}")


def test_sixteen_clients_posting_and_voting_lose_nothing(server):
    key = f"load-{uuid.uuid4().hex[:8]}"
    clients = register_many(server, "load", CLIENTS)
    journal = Journal()
    acked: dict[int, tuple[str, int]] = {}  # comment id -> (body sent, author id)
    votes: dict[tuple[int, int], int] = {}  # (comment id, voter id) -> last acknowledged value
    pool_ids: list[tuple[int, int]] = []  # (comment id, author id), readable by every client
    lock = threading.Lock()
    sent_bodies: set[str] = set()
    start = threading.Barrier(CLIENTS, timeout=30)
    deadline = time.monotonic() + DEADLINE_SECONDS

    def post(api, body, **fields):
        with lock:
            sent_bodies.add(body)
        response = journal.note("post", api.post(f"/api/v1/articles/{key}/comments", {"body": body, **fields}))
        if response.status_code == 201:
            comment = response.json()["comment"]
            with lock:
                assert comment["id"] not in acked, f"id {comment['id']} acknowledged twice"
                acked[comment["id"]] = (body, api.user["id"])
                pool_ids.append((comment["id"], api.user["id"]))
        return response

    def run(index: int):
        api = clients[index]
        me = api.user["id"]
        rng = random.Random(index)
        start.wait()
        post(api, f"seed from client {index}")
        for n in range(PER_CLIENT):
            if time.monotonic() > deadline:
                return
            try:
                fields = {}
                with lock:
                    known = list(pool_ids)
                if known and rng.random() < 0.3:
                    fields["parent_id"] = rng.choice(known)[0]
                post(api, f"client {index} comment {n}: {uuid.uuid4().hex}", **fields)
                others = [c for c in (known[:CLIENTS] if rng.random() < 0.5 else known) if c[1] != me]
                if not others:
                    continue
                target = rng.choice(others)[0]
                value = rng.choice((-1, 0, 1, 1))
                response = journal.note("vote", api.put(f"/api/v1/comments/{target}/vote", {"value": value}))
                if response.status_code == 200:
                    assert response.json()["my_vote"] == value
                    with lock:
                        votes[(target, me)] = value
            except requests.RequestException as exc:
                journal.error(f"client {index}", exc)

    opening = create_article(clients[0], key)
    acked[opening["id"]] = (f"opening {key}", clients[0].user["id"])
    sent_bodies.add(f"opening {key}")
    began = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as executor:
        futures = [executor.submit(run, i) for i in range(CLIENTS)]
        for future in futures:
            future.result(timeout=DEADLINE_SECONDS + 30)
    elapsed = time.monotonic() - began

    assert not journal.failures, "\n".join(journal.failures[:20] + server.tracebacks()[-10:])
    assert elapsed < DEADLINE_SECONDS, f"the load did not finish in {DEADLINE_SECONDS}s"
    statuses = dict(journal.statuses)
    assert set(statuses) == {("post", 201), ("vote", 200)}, statuses
    assert len(acked) == CLIENTS * (PER_CLIENT + 1) + 1

    with database_engine(server.database_url) as engine, engine.connect() as conn:
        article_id, comment_count = conn.execute(
            text("SELECT id, comment_count FROM articles WHERE key = :key"), {"key": key}).one()
        rows = conn.execute(text("SELECT id, body, author_id, status FROM comments WHERE article_id = :a"),
                            {"a": article_id}).all()
        vote_rows = conn.execute(text(
            "SELECT v.comment_id, v.user_id, v.value FROM votes v JOIN comments c ON c.id = v.comment_id "
            "WHERE c.article_id = :a"), {"a": article_id}).all()
        scores = conn.execute(text("SELECT id, score, upvotes, downvotes FROM comments WHERE article_id = :a"),
                              {"a": article_id}).all()
        articles = conn.execute(text("SELECT count(*) FROM articles WHERE key = :key"), {"key": key}).scalar()

    assert articles == 1
    # Every acknowledged comment is stored once, with its body and author; nothing else was stored.
    assert {row.id for row in rows} == set(acked)
    assert len(rows) == len(acked)
    for row in rows:
        assert (row.body, row.author_id) == acked[row.id]
    assert Counter(row.body for row in rows) == Counter(body for body, _ in acked.values())
    assert {row.body for row in rows} <= sent_bodies
    approved = sum(row.status == "approved" for row in rows)
    assert comment_count == approved == len(acked)
    assert requests.get(f"{server.base_url}/api/v1/articles/{key}", timeout=10).json()["comment_count"] == approved

    # Votes: exactly the last acknowledged value of every voter, and counters equal to the rows.
    assert {(r.comment_id, r.user_id): r.value for r in vote_rows} == {k: v for k, v in votes.items() if v}
    expected = {cid: [0, 0, 0] for cid in acked}
    for row in vote_rows:
        counters = expected[row.comment_id]
        counters[0] += row.value
        counters[1] += row.value == 1
        counters[2] += row.value == -1
    assert {r.id: [r.score, r.upvotes, r.downvotes] for r in scores} == expected


def test_first_comments_on_a_new_article_create_it_once(server):
    """The widget opens on a new article for many readers at once: one article, every comment kept."""
    clients = register_many(server, "first", CLIENTS)
    journal = Journal()
    keys = [f"fresh-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    with ThreadPoolExecutor(CLIENTS) as executor:
        for key in keys:
            barrier = threading.Barrier(CLIENTS, timeout=30)

            def first(api):
                barrier.wait()
                return journal.note("post", api.post(f"/api/v1/articles/{key}/comments", {
                    "body": f"first from {api.user['username']}", "title": key,
                    "url": f"{ALLOWED_ORIGIN}/{key}"}))

            statuses = [r.status_code for r in executor.map(first, clients, timeout=60)]
            assert statuses == [201] * CLIENTS, (statuses, server.tracebacks()[-3:])
    assert not journal.failures
    with database_engine(server.database_url) as engine, engine.connect() as conn:
        for key in keys:
            rows = conn.execute(text(
                "SELECT a.comment_count, (SELECT count(*) FROM comments c WHERE c.article_id = a.id) "
                "FROM articles a WHERE a.key = :k"), {"k": key}).all()
            assert rows == [(CLIENTS, CLIENTS)]


def test_double_click_stores_one_comment(server):
    """The same body sent several times at the same instant by one user: one 201, the others 409."""
    key = f"double-{uuid.uuid4().hex[:8]}"
    (api,) = register_many(server, "double", 1)
    create_article(api, key)
    rounds, copies = 15, 3
    outcomes = []
    with ThreadPoolExecutor(copies) as executor:
        for n in range(rounds):
            body = f"double click {n} {uuid.uuid4().hex}"
            barrier = threading.Barrier(copies, timeout=10)

            def send(_):
                barrier.wait()
                return api.post(f"/api/v1/articles/{key}/comments", {"body": body})

            responses = list(executor.map(send, range(copies), timeout=60))
            outcomes.append(sorted(r.status_code for r in responses))
    assert all(statuses == [201] + [409] * (copies - 1) for statuses in outcomes), (
        outcomes, server.tracebacks()[-5:])
    with database_engine(server.database_url) as engine, engine.connect() as conn:
        stored = conn.execute(text(
            "SELECT count(*) FROM comments c JOIN articles a ON a.id = c.article_id WHERE a.key = :k"),
            {"k": key}).scalar()
    assert stored == rounds + 1


def test_one_user_voting_and_flagging_from_several_tabs_at_once(server):
    """The same user's votes and flags sent in parallel: one vote row, one flag, counters equal to rows."""
    key = f"tabs-{uuid.uuid4().hex[:8]}"
    author, voter = register_many(server, "tabs", 2)
    create_article(author, key)
    journal = Journal()
    tabs = 3
    with ThreadPoolExecutor(tabs) as executor:
        for n in range(8):
            target = author.post(f"/api/v1/articles/{key}/comments", {"body": f"target {n}"}).json()["comment"]["id"]
            barrier = threading.Barrier(tabs, timeout=10)

            def vote(value):
                barrier.wait()
                return journal.note("vote", voter.put(f"/api/v1/comments/{target}/vote", {"value": value}))

            votes = list(executor.map(vote, (1, -1, 1), timeout=60))
            assert all(r.status_code in (200, 409) for r in votes), [r.text for r in votes]
            assert any(r.status_code == 200 for r in votes)
            flag_barrier = threading.Barrier(tabs, timeout=10)

            def flag(reason):
                flag_barrier.wait()
                return journal.note("flag", voter.post(f"/api/v1/comments/{target}/flags", {"reason": reason}))

            flags = sorted(r.status_code for r in executor.map(flag, ("spam", "abuse", "other"), timeout=60))
            assert flags == [201, 409, 409], flags
    assert not journal.failures, journal.failures + server.tracebacks()[-5:]
    with database_engine(server.database_url) as engine, engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.id, c.score, c.upvotes, c.downvotes, c.open_flags, "
            "(SELECT count(*) FROM votes v WHERE v.comment_id = c.id), "
            "(SELECT COALESCE(SUM(v.value), 0) FROM votes v WHERE v.comment_id = c.id), "
            "(SELECT count(*) FROM flags f WHERE f.comment_id = c.id) "
            "FROM comments c JOIN articles a ON a.id = c.article_id WHERE a.key = :k AND c.author_id = :u "
            "AND c.body LIKE 'target %'"), {"k": key, "u": author.user["id"]}).all()
    assert len(rows) == 8
    for _id, score, up, down, open_flags, vote_rows, vote_sum, flag_rows in rows:
        assert vote_rows == 1 and score == vote_sum and up + down == 1
        assert flag_rows == 1 and open_flags == 1


def test_reply_racing_the_deletion_of_its_parent_stays_consistent(server):
    key = f"race-{uuid.uuid4().hex[:8]}"
    alice, bob = register_many(server, "racer", 2)
    journal = Journal()
    replies = []
    with ThreadPoolExecutor(2) as executor:
        for n in range(20):
            parent = alice.post(f"/api/v1/articles/{key}/comments",
                                {"body": f"parent {n}", "title": "Race", "url": f"{ALLOWED_ORIGIN}/{key}"})
            assert parent.status_code == 201, parent.text
            parent_id = parent.json()["comment"]["id"]
            barrier = threading.Barrier(2, timeout=10)

            def delete():
                barrier.wait()
                return journal.note("delete", alice.delete(f"/api/v1/comments/{parent_id}"))

            def reply():
                barrier.wait()
                return journal.note("reply", bob.post(f"/api/v1/articles/{key}/comments",
                                                      {"body": f"reply {n}", "parent_id": parent_id}))

            deleted, replied = executor.submit(delete), executor.submit(reply)
            assert deleted.result(timeout=30).status_code == 204
            answer = replied.result(timeout=30)
            assert answer.status_code in (201, 404), answer.text
            if answer.status_code == 201:
                replies.append((parent_id, answer.json()["comment"]["id"]))
    assert not journal.failures, journal.failures

    # A stored reply is visible under its parent's tombstone; the thread still loads; counts are exact.
    thread = requests.get(f"{server.base_url}/api/v1/articles/{key}/comments?limit=200&replies=500", timeout=10)
    assert thread.status_code == 200
    top = {c["id"]: c for c in thread.json()["comments"]}
    for parent_id, reply_id in replies:
        assert top[parent_id]["deleted"] is True and top[parent_id]["body_html"] is None
        assert [r["id"] for r in top[parent_id]["replies"]] == [reply_id]
    assert set(top) == {parent_id for parent_id, _ in replies}
    with database_engine(server.database_url) as engine, engine.connect() as conn:
        count, approved = conn.execute(text(
            "SELECT a.comment_count, (SELECT count(*) FROM comments c WHERE c.article_id = a.id "
            "AND c.status = 'approved') FROM articles a WHERE a.key = :k"), {"k": key}).one()
        orphans = conn.execute(text(
            "SELECT count(*) FROM comments c LEFT JOIN comments p ON p.id = c.parent_id "
            "WHERE c.parent_id IS NOT NULL AND p.id IS NULL")).scalar()
    assert count == approved == len(replies)
    assert orphans == 0
