"""Benchmark of `flask import disqus` and `flask export`: generates a Disqus export of N comments
(default 100,000) in a temporary directory, imports it into a fresh database in a child process, and
reports the import's seconds and peak RSS; then exports that database to JSONL and reports the
export's seconds. Targets: import < 60 s and < 250 MB, export < 30 s (``make bench-import``).

Peak RSS is the largest of the import process and each of its worker processes (ru_maxrss of the
child as wait4 reports it, which covers the descendants it waited for). Beside it, the peak of the
whole tree's memory, sampled every 0.1 s: the sum of each process's PSS (a page the forked workers
share with the main process counts once in all). CPU seconds are the tree's user + system time.

    .venv/bin/python scripts/bench_import.py [--comments 100000] [--workers N]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

With a PostgreSQL URL, a throw-away database is created beside the one it names, and dropped after.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS, TARGET_MB = 60, 250
TARGET_EXPORT_SECONDS = 30
WORDS = ("the quick brown fox jumps over a lazy dog while readers argue about tabs and spaces "
         "in comments that never end because everyone has an opinion").split()


def generate(path: Path, comments: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    threads = max(comments // 50, 1)
    authors = max(comments // 20, 1)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
                  'xmlns:dsq="http://disqus.com/disqus-internals">\n')
        for t in range(threads):
            out.write(f'<thread dsq:id="t{t}"><id>bench-{t}</id><forum>bench</forum>'
                      f'<link>https://blog.example/{t}/</link><title>Post {t}</title>'
                      f'<createdAt>2020-01-01T00:00:00Z</createdAt></thread>\n')
        order = list(range(comments))
        rng.shuffle(order)  # replies before their parents, as real exports do
        for n in order:
            thread = n % threads
            parent = n - threads if n >= threads and rng.random() < 0.6 else None
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 80)))
            author = rng.randrange(authors)
            out.write(f'<post dsq:id="p{n}"><message><![CDATA[<p>{words}</p><p><b>{n}</b> '
                      f'<a href="https://example.org/{n}">link</a></p>]]></message>'
                      f'<createdAt>2020-01-02T00:00:{n % 60:02d}Z</createdAt>'
                      f'<isDeleted>{"true" if n % 97 == 0 else "false"}</isDeleted>'
                      f'<isSpam>{"true" if n % 89 == 0 else "false"}</isSpam>'
                      f'<author><email>reader{author}@mail.example</email><name>Reader {author}</name>'
                      f'<isAnonymous>false</isAnonymous><username>reader{author}</username></author>'
                      f'<thread dsq:id="t{thread}" />'
                      + (f'<parent dsq:id="p{parent}" />' if parent is not None else "") + "</post>\n")
        out.write("</disqus>\n")


@contextmanager
def database(url: str | None, tmp: str):
    """The URL of a fresh database: a SQLite file in ``tmp``, or a new database beside ``url``."""
    if not url or url.startswith("sqlite"):
        yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    import sqlalchemy as sa
    base = sa.engine.make_url(url)
    name = f"causerie_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _tree_pss_kb(pid: int) -> int:
    """Proportional memory (PSS: a page shared by n processes counts 1/n in each) of ``pid`` and
    its descendants, in kilobytes (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            total += int(rollup.split("\nPss:")[1].split()[0])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def _sample_tree(pid: int, peak: list[int], stop: threading.Event) -> None:
    while not stop.wait(0.1):
        peak[0] = max(peak[0], _tree_pss_kb(pid))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=None, help="passed to the import (default: its own)")
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary directory")
    args = parser.parse_args()
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    options = [] if args.workers is None else ["--workers", str(args.workers)]
    with tempfile.TemporaryDirectory() as tmp, database(args.database_url, tmp) as url:
        export = Path(tmp) / "disqus.xml"
        generate(export, args.comments)
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        started = time.monotonic()
        child = subprocess.Popen([*flask, "import", "disqus", str(export), *options], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        tree_peak, stop = [0], threading.Event()
        sampler = threading.Thread(target=_sample_tree, args=(child.pid, tree_peak, stop), daemon=True)
        sampler.start()
        output = child.stdout.read()
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - started
        stop.set()
        sampler.join()
        jsonl = Path(tmp) / "export.jsonl"
        export_started = time.monotonic()
        exported = subprocess.run([*flask, "export", str(jsonl)], cwd=ROOT, env=env, capture_output=True,
                                  text=True)
        export_seconds = time.monotonic() - export_started
        export_mb = jsonl.stat().st_size / 1e6 if jsonl.exists() else 0.0
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    cpu = usage.ru_utime + usage.ru_stime
    print(output.strip())
    print(f"{args.comments} comments ({export.name}, {url.partition(':')[0]}): {seconds:.1f} s "
          f"(CPU {cpu:.1f} s), peak RSS {peak_mb:.0f} MB (whole tree, PSS: {tree_peak[0] / 1024:.0f} MB) "
          f"(targets < {TARGET_SECONDS} s, < {TARGET_MB} MB)")
    print(exported.stdout.strip() or exported.stderr.strip())
    print(f"export of that database: {export_seconds:.1f} s, {export_mb:.0f} MB of JSONL "
          f"(target < {TARGET_EXPORT_SECONDS} s)")
    ok = (os.waitstatus_to_exitcode(status) == 0 and seconds < TARGET_SECONDS and peak_mb < TARGET_MB
          and exported.returncode == 0 and export_seconds < TARGET_EXPORT_SECONDS)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
