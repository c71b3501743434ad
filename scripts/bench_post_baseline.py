"""POST throughput of this checkout against an earlier commit's, side by side on this machine.

Issue 16 asks that posting with the spam filter stay within 10% of the POST throughput of the day it
was filed (commit FILED_ON). This machine's speed drifts by 2x within hours, so a figure recorded then
says nothing today: both versions are measured now, in alternating rounds.

Each side is a gunicorn (its own ``gunicorn.conf.py``, 2 workers, rate limits off) serving its own
checkout (the base one ``git archive``d into a temporary folder) on a fresh database of its own
(``--db postgres``: a throw-away database on the local server), migrated by its own migrations, with a
reader and the article ``bench-post``. Each first takes a warm-up of posts (a site with some history;
on PostgreSQL then ``VACUUM ANALYZE``, what autovacuum does soon after), then ROUNDS rounds of
SECONDS at concurrency 8 alternate between them, by one bearer token with bodies of ``bench_seed``,
as ``make bench``'s POST scenario. Prints the rates, each server's CPU per post (and PostgreSQL's),
and PASS when this checkout posts at least 90% as fast as the base (exit status 1 on a MISS only with
BENCH_STRICT set, as the other benches).

    .venv/bin/python scripts/bench_post_baseline.py [--base COMMIT] [--db sqlite|postgres]
"""
import argparse
import os
import random
import secrets
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import sqlalchemy as sa
from bench import POSTGRES, Server, process_cpu_seconds, run_load
from bench_readers import Account
from bench_seed import make_body

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FILED_ON = "e2f3b66"  # the commit issue 16 was filed on
READER = ("bench_reader", "bench-reader@example.com", "bench-reader-password")
POST_PATH = "/api/v1/articles/bench-post/comments"
CONCURRENCY = 8
WARMUP_SECONDS = 6
_ADD_ARTICLE = ("from app import create_app\nfrom app.extensions import db\nfrom app.models import Article\n"
                "app = create_app()\nwith app.app_context():\n"
                "    db.session.add(Article(key='bench-post', title='Bench', url='https://example.com/bench-post'))\n"
                "    db.session.commit()\n")


def _postgres_cpu() -> float:
    """CPU seconds of every process named postgres (the local server's backends)."""
    return sum(process_cpu_seconds(int(entry.name), "postgres")
               for entry in Path("/proc").iterdir() if entry.name.isdigit())


class Side:
    """One version's server on its own database."""

    def __init__(self, name: str, tree: Path, db: str, work: Path):
        self.name, self.tree = name, tree
        self.pg_name = f"causerie_post_{name}_{secrets.token_hex(4)}" if db == "postgres" else None
        self.url = (sa.engine.make_url(POSTGRES).set(database=self.pg_name).render_as_string(hide_password=False)
                    if self.pg_name else f"sqlite:///{work}/{name}.sqlite3")
        if self.pg_name:
            self._admin(f'CREATE DATABASE "{self.pg_name}"')
        self.env = {**os.environ, "DATABASE_URL": self.url, "SECRET_KEY": secrets.token_hex(32),
                    "ALLOWED_ORIGINS": "https://example.com", "RATELIMIT_ENABLED": "false",
                    "RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": "2", "PYTHONPATH": str(tree)}
        self._flask("db", "upgrade")
        self._flask("users", "create", READER[0], "--email", READER[1], "--password", READER[2],
                    "--role", "reader")
        subprocess.run([str(BIN / "python"), "-c", _ADD_ARTICLE], cwd=tree, env=self.env, check=True,
                       capture_output=True)
        self.server = Server(name, "app:create_app()", self.env, work, root=tree)
        self.server.wait_ready("/healthz")
        self.port = self.server.port
        self.token = Account(self.port, READER[0], READER[2]).token()
        self.posted = self.cpu = self.postgres_cpu = self.elapsed = 0.0

    def _flask(self, *args: str) -> None:
        subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=self.tree, env=self.env, check=True,
                       capture_output=True)

    def spec(self, seconds: float, bodies: list[str]) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "duration": seconds, "warmup": 0.5,
                "concurrency": CONCURRENCY, "tokens": [self.token], "post_path": POST_PATH,
                "post_bodies": bodies, "collect_ids": True}

    def analyze(self) -> None:
        if self.pg_name:
            engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
            engine.dispose()

    def rate(self) -> float:
        return self.posted / self.elapsed if self.elapsed else 0.0

    def close(self) -> None:
        self.server.stop()
        if self.pg_name:
            self._admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    @staticmethod
    def _admin(sql: str) -> None:
        engine = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=FILED_ON, help=f"the commit to compare with (default {FILED_ON})")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    bodies = [make_body(random.Random(1)) for _ in range(100)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base_tree = work / "base"
        base_tree.mkdir()
        try:
            archive = subprocess.run(["git", "archive", args.base], cwd=ROOT, check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"cannot check out {args.base} (a git clone with its history is needed): {error}")
            return 1 if os.environ.get("BENCH_STRICT") else 0
        subprocess.run(["tar", "-x", "-C", str(base_tree)], input=archive.stdout, check=True)
        sides: list[Side] = []
        pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
        try:
            for name, tree in (("base", base_tree), ("this", ROOT)):
                sides.append(Side(name, tree, args.db, work))
            for side in sides:
                pool.submit(run_load, side.spec(WARMUP_SECONDS, bodies)).result()
                side.analyze()
            print(f"POST at c={CONCURRENCY} on {args.db}: {args.base} (base) against this checkout, "
                  f"{args.rounds} alternating rounds of {args.seconds:g} s")
            for number in range(args.rounds):
                for side in sides if number % 2 == 0 else reversed(sides):
                    cpu, postgres = side.server.cpu_seconds(), _postgres_cpu()
                    done = pool.submit(run_load, side.spec(args.seconds, bodies)).result()
                    side.cpu += side.server.cpu_seconds() - cpu
                    side.postgres_cpu += _postgres_cpu() - postgres
                    side.posted += done["statuses"].get(201, 0)
                    side.elapsed += done["elapsed"]
                    other = {status: n for status, n in done["statuses"].items() if status != 201}
                    if other or done["errors"]:
                        print(f"  {side.name}: answers other than 201: {other} {dict(done['errors'])}")
                print(f"  round {number + 1}: base {sides[0].rate():.0f}/s, this {sides[1].rate():.0f}/s so far")
        finally:
            pool.shutdown()
            for side in sides:
                side.close()
    base, this = sides
    for side in sides:
        per_post = 1000 / max(side.posted, 1)
        postgres = f", PostgreSQL {side.postgres_cpu * per_post:.2f} ms" if args.db == "postgres" else ""
        print(f"  {side.name:4s}: {side.rate():.0f} comments/s; CPU a post: server {side.cpu * per_post:.2f} ms"
              f"{postgres}")
    ratio = this.rate() / base.rate()
    ok = ratio >= 0.9
    print(f"POST with the spam filter within 10% of {args.base}'s (16): {ratio - 1:+.1%}  "
          f"{'PASS' if ok else 'MISS'}")
    return 0 if ok or not os.environ.get("BENCH_STRICT") else 1


if __name__ == "__main__":
    sys.exit(main())
