"""Crash safety: SIGKILL gunicorn (master and workers at once) in the middle of a write load,
start it again on the same database, and find every acknowledged comment intact."""
import os
import random
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import text

from .servers import (
    ALLOWED_ORIGIN,
    AppServer,
    database_engine,
    fresh_database,  # noqa: F401 - fixture
    is_postgres,
    register_user,
)

pytestmark = pytest.mark.slow

WRITERS = 6
ACKED_BEFORE_KILL = 120
LOAD_SECONDS = 40


def _group_is_gone(pgid: int, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_sigkill_mid_load_loses_no_acknowledged_comment(fresh_database, tmp_path):
    key = "crash"
    acked: dict[int, str] = {}
    server_errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    with AppServer(fresh_database, workers=4, migrate=True, log_dir=tmp_path) as server:
        with ThreadPoolExecutor(3) as pool:
            writers = list(pool.map(lambda i: register_user(server.base_url, f"writer{i}"), range(WRITERS)))
        first = writers[0].post(f"/api/v1/articles/{key}/comments",
                                {"body": "opening", "title": "Crash", "url": f"{ALLOWED_ORIGIN}/{key}"})
        assert first.status_code == 201, first.text
        acked[first.json()["comment"]["id"]] = "opening"

        def write(index: int):
            api, rng, n = writers[index], random.Random(index), 0
            while not stop.is_set():
                n += 1
                body = f"writer {index} comment {n} {uuid.uuid4().hex}"
                try:
                    response = api.post(f"/api/v1/articles/{key}/comments", {"body": body}, timeout=10)
                    if response.status_code == 201:
                        with lock:
                            acked[response.json()["comment"]["id"]] = body
                            targets = list(acked)
                        api.put(f"/api/v1/comments/{rng.choice(targets)}/vote",
                                {"value": rng.choice((-1, 1))}, timeout=10)
                    elif response.status_code >= 500:
                        server_errors.append(response.text[:200])
                except requests.RequestException:
                    time.sleep(0.02)  # the server is down: keep trying until told to stop

        threads = [threading.Thread(target=write, args=(i,), daemon=True) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + LOAD_SECONDS
        while len(acked) < ACKED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(acked) >= ACKED_BEFORE_KILL // 4, "the write load never got going"

        pgid = server.process.pid
        server.kill(signal.SIGKILL)  # master and workers at once, writes in flight
        assert _group_is_gone(pgid), "a gunicorn process survived SIGKILL of its group"
        time.sleep(0.3)  # the writers hit a dead port for a moment
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        assert not any(t.is_alive() for t in threads)
        assert not server_errors, server_errors[:5]

        # The database as the crash left it: SQLite recovers its WAL on open.
        with database_engine(server.database_url) as engine, engine.connect() as conn:
            if not is_postgres(server.database_url):
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []

        server.start()  # the same database, a new server
        reader = requests.Session()
        missing, changed = [], []
        for comment_id, body in sorted(acked.items()):
            response = reader.get(f"{server.base_url}/api/v1/comments/{comment_id}?replies=0", timeout=10)
            if response.status_code != 200:
                missing.append((comment_id, response.status_code))
        assert not missing, f"acknowledged comments lost after the crash: {missing[:10]}"

        with database_engine(server.database_url) as engine, engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT id, body FROM comments")).all())
            changed = [cid for cid, body in acked.items() if rows.get(cid) != body]
            count, approved = conn.execute(text(
                "SELECT a.comment_count, (SELECT count(*) FROM comments c WHERE c.article_id = a.id "
                "AND c.status = 'approved') FROM articles a WHERE a.key = :k"), {"k": key}).one()
            inconsistent_scores = conn.execute(text(
                "SELECT c.id FROM comments c LEFT JOIN votes v ON v.comment_id = c.id GROUP BY c.id, c.score, "
                "c.upvotes, c.downvotes HAVING c.score <> COALESCE(SUM(v.value), 0) "
                "OR c.upvotes <> SUM(CASE WHEN v.value = 1 THEN 1 ELSE 0 END) "
                "OR c.downvotes <> SUM(CASE WHEN v.value = -1 THEN 1 ELSE 0 END)")).all()
            if not is_postgres(server.database_url):
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
        assert not changed, f"acknowledged comments changed after the crash: {changed[:10]}"
        # Unacknowledged writes may or may not have landed, but whatever landed is whole.
        assert len(rows) >= len(acked)
        assert count == approved == len(rows)
        assert inconsistent_scores == []

        # And the restarted service takes writes.
        again = writers[1].on(server.base_url).post(f"/api/v1/articles/{key}/comments", {"body": "after the crash"})
        assert again.status_code == 201, again.text
        thread = reader.get(f"{server.base_url}/api/v1/articles/{key}", timeout=10).json()
        assert thread["comment_count"] == len(rows) + 1
