"""Benchmark of `flask import disqus`: generates a Disqus export of N comments (default 100,000) in a
temporary directory, imports it into a fresh SQLite database in a child process, and reports the
import's seconds and the child's peak RSS (ru_maxrss). Targets: < 60 s and < 250 MB.

    .venv/bin/python scripts/bench_import.py [--comments 100000]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS, TARGET_MB = 60, 250
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    args = parser.parse_args()
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "disqus.xml"
        generate(export, args.comments)
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench"}
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        started = time.monotonic()
        child = subprocess.Popen([*flask, "import", "disqus", str(export)], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        output = child.stdout.read()
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - started
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    print(output.strip())
    print(f"{args.comments} comments ({export.name}): {seconds:.1f} s, peak RSS {peak_mb:.0f} MB "
          f"(targets < {TARGET_SECONDS} s, < {TARGET_MB} MB)")
    ok = os.waitstatus_to_exitcode(status) == 0 and seconds < TARGET_SECONDS and peak_mb < TARGET_MB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
