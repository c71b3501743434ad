"""In-process timings of the two hot paths, with the Flask test client (no server, no network):
3,000 anonymous GETs of the cached first page of a 100-comment thread, and 500 POSTs by 5 users.

    python scripts/bench_inprocess.py                      # SQLite, in a temporary folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python scripts/bench_inprocess.py
    ROOT=/path/to/other/checkout python scripts/bench_inprocess.py   # compare two versions

On PostgreSQL a throw-away database is created next to DATABASE_URL's and dropped afterwards.
Prints the median, mean and 90th percentile per request. See docs/performance.md.
"""
import os
import statistics
import sys
import tempfile
import time
import uuid

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

ROOT = os.environ.get("ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from app import create_app  # from ROOT
from app.extensions import db
from app.models import Article, User

PASSWORD = "correct horse battery staple"

def throwaway(tmp):
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield "sqlite:///" + tmp + "/bench.sqlite3"; return
    url = sa.engine.make_url(base).set(drivername="postgresql+psycopg")
    name = "causerie_bench_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c: c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c: c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main():
    tmp = tempfile.mkdtemp()
    gen = throwaway(tmp)
    url = next(gen)
    try:
        run(url, tmp)
    finally:
        gen.close()

def run(url, tmp):
    from flask_migrate import upgrade
    config = {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench", "ALLOWED_ORIGINS": "https://news.example", "RATELIMIT_ENABLED": False}
    app = create_app(config)
    with app.app_context():
        upgrade()
        h = generate_password_hash(PASSWORD, method="scrypt")
        users = []
        for i in range(5):
            u = User(username=f"u{i}", username_key=f"u{i}", email=f"u{i}@example.org", email_key=f"u{i}@example.org",
                     display_name=f"U{i}", password_hash=h, role="reader")
            db.session.add(u); users.append(u)
        db.session.add(Article(key="a1", title="A", url="https://news.example/a1"))
        db.session.add(Article(key="a2", title="B", url="https://news.example/a2"))
        db.session.commit()
        db.engine.dispose()
    clients = []
    for i in range(5):
        c = app.test_client()
        csrf = c.get("/api/v1/auth/me").get_json()["csrf_token"]
        r = c.post("/api/v1/auth/login", json={"login": f"u{i}", "password": PASSWORD}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.get_json()
        clients.append((c, r.get_json()["csrf_token"]))
    for n in range(100):
        c, csrf = clients[n % 5]
        r = c.post("/api/v1/articles/a1/comments", json={"body": f"Seed comment number {n} with some *text*."}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201, r.get_json()
    anon = app.test_client()
    assert anon.get("/api/v1/articles/a1/comments").status_code == 200
    for _ in range(200):
        anon.get("/api/v1/articles/a1/comments")
    gets = []
    for _ in range(3000):
        t = time.perf_counter(); r = anon.get("/api/v1/articles/a1/comments"); gets.append(time.perf_counter() - t)
        assert r.status_code == 200
    posts = []
    for n in range(500):
        c, csrf = clients[n % 5]
        t = time.perf_counter()
        r = c.post("/api/v1/articles/a2/comments", json={"body": f"Benchmark post {n}: a *short* comment."}, headers={"X-CSRF-Token": csrf})
        posts.append(time.perf_counter() - t)
        assert r.status_code == 201, r.get_json()
    dialect = url.split(":")[0]
    for name, xs in (("anon cached GET", gets), ("POST comment", posts)):
        print(f"{dialect:22s} {name:16s} n={len(xs):5d} median={statistics.median(xs)*1e6:7.0f}us mean={statistics.mean(xs)*1e6:7.0f}us p90={sorted(xs)[int(len(xs)*.9)]*1e6:7.0f}us")
    with app.app_context():
        db.session.remove(); db.engine.dispose()

if __name__ == "__main__":
    main()
