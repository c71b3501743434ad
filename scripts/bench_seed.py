"""The data of ``make bench``: its database (SQLite or PostgreSQL) and the threads seeded into it.

Threads are written straight into the tables (seconds, where posting 20,000
comments through the API would take minutes), with bodies rendered by the
app's own sanitizer, so the pages read exactly as posted ones would:

- ``bench-10`` ... ``bench-10000``: about 30% top-level comments, the rest
  replies at varied depths (conversations going deeper, direct replies,
  replies to anything);
- ``bench-live``: 1,000 comments of the same shape, the article that
  receives posts while it is read (so the other threads stay as seeded);
- ``bench-lopsided``: 10,000 comments where the first top-level comment
  holds 5,000 replies, half a wide fan of direct replies and half chains
  down to ``MAX_DEPTH``; the other 4,999 form an ordinary thread;
- 46 small articles (``/counts`` of 50 keys) and an empty one to post to.
"""
import os
import random
import time
from collections import deque
from datetime import datetime, timedelta, timezone

THREAD_SIZES = (10, 100, 1000, 10_000)
TOP_LEVEL_SHARE = 0.3
MAX_DEPTH = 30  # the default MAX_DEPTH: replies nest at most this deep
EXTRA_ARTICLES = 46  # with the four threads: 50 keys for /counts
LIVE_KEY, LIVE_SIZE = "bench-live", 1000
LOPSIDED_KEY, LOPSIDED_SIZE, BIG_SUBTREE = "bench-lopsided", 10_000, 5000

WORDS = (
    "la rédaction the newsroom débat comment reader lecteur article source context "
    "argument point view opinion evidence report data année city ville council "
    "budget vote election policy école school transport climate énergie energy "
    "because however therefore moreover indeed perhaps clearly honestly agree "
    "disagree question answer thanks merci bien sûr of course really quite"
).split()


# ---------------------------------------------------------------- the database

class BenchDatabase:
    """A database of the bench's own: a file in the work folder, or a fresh PostgreSQL database.

    On PostgreSQL the bench never touches the database named in ``server_url``
    (tests share it): it creates ``causerie_bench_<pid>`` beside it and drops
    it at the end, whatever happened.
    """

    def __init__(self, kind: str, work, server_url: str):
        # Imported here: the load generator's processes import this module and need none of SQLAlchemy.
        from sqlalchemy.engine import make_url

        self.kind = kind
        self.work = work
        self.server = make_url(server_url)
        self.name = f"causerie_bench_{os.getpid()}"
        self.created = False

    def create(self) -> str:
        """The DATABASE_URL the app will use."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.work / 'bench.sqlite3'}"
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.name}"')
        self.created = True
        return self.server.set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        if self.created:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.created = False

    def _admin(self, statement: str) -> None:
        import psycopg

        url = self.server.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(statement)


# ---------------------------------------------------------------- rows

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


def comment_row(rng, row_id: int, article_id: int, parent: dict | None, authors: list[int],
                bodies: list[tuple[str, str]], at: datetime) -> dict:
    """One approved comment as a row of the comments table, under ``parent`` (a row) or top-level."""
    body, body_html = rng.choice(bodies)
    return {
        "id": row_id,
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
        row = comment_row(rng, first_id + offset, article_id, parent, authors, bodies, at)
        rows.append(row)
        recent.append(row)
        if is_top:
            top_rows.append(row)
    return rows


def build_lopsided(rng, article_id: int, first_id: int, authors: list[int],
                   bodies: list[tuple[str, str]], start: datetime) -> tuple[list[dict], int]:
    """Rows of the lopsided thread in creation order (ids from ``first_id``) and the big comment's id.

    The big comment is the thread's first, so it opens the first page. Its
    5,000 replies arrive over the whole life of the thread: half are direct
    replies (a fan thousands wide), half chains of replies to replies from
    depth 1 down to ``MAX_DEPTH`` (each chain head is also a direct reply).
    """
    rest = build_thread(rng, LOPSIDED_SIZE - BIG_SUBTREE - 1, article_id, 1, authors, bodies, start)
    span = (rest[-1]["created_at"] - start).total_seconds()
    big = comment_row(rng, len(rest) + 1, article_id, None, authors, bodies, start)
    subtree: list[dict] = []

    def add(parent: dict, at: datetime) -> dict:
        row = comment_row(rng, len(rest) + len(subtree) + 2, article_id, parent, authors, bodies, at)
        subtree.append(row)
        return row

    for _ in range(BIG_SUBTREE // 2):
        add(big, start + timedelta(seconds=rng.uniform(1, span)))
    while len(subtree) < BIG_SUBTREE:
        parent, at = big, start + timedelta(seconds=rng.uniform(1, span))
        for _ in range(min(MAX_DEPTH, BIG_SUBTREE - len(subtree))):
            at += timedelta(seconds=rng.uniform(30, 900))
            parent = add(parent, at)
    rows = sorted([big, *rest, *subtree], key=lambda row: (row["created_at"], row["id"]))
    new_ids = {row["id"]: first_id + index for index, row in enumerate(rows)}
    for row in rows:
        row["id"] = new_ids[row["id"]]
        row["parent_id"] = new_ids.get(row["parent_id"])
        row["root_id"] = new_ids.get(row["root_id"])
    return rows, big["id"]


# ---------------------------------------------------------------- seeding

def seed(flask_app, rng: random.Random) -> dict:
    """Insert the authors, every thread and article of the module docstring; say what is where."""
    from sqlalchemy import func, insert, select, text

    from app.extensions import db
    from app.models import Article, Comment, User

    try:
        from app.discussion.sanitize import render
    except ImportError:  # the sanitizer lands with the comments issue
        import html

        def render(source: str) -> str:
            return "<p>" + html.escape(source) + "</p>"

    started = time.perf_counter()
    sources = [make_body(rng) for _ in range(400)]
    bodies = [(source, render(source)) for source in sources]
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

            def add_article(key: str, rows: list[dict], title: str, article_id=None) -> int:
                if article_id is None:
                    article_id = conn.execute(insert(Article.__table__).values(
                        key=key, title=title, url=f"https://example.com/news/{key}", status="open",
                        moderation="inherit", comment_count=len(rows),
                        created_at=now - timedelta(days=30))).inserted_primary_key[0]
                for row in rows:
                    row["article_id"] = article_id
                for chunk in range(0, len(rows), 2000):
                    conn.execute(insert(Comment.__table__), rows[chunk:chunk + 2000])
                return article_id

            keys = {}
            for size in THREAD_SIZES:
                keys[size] = f"bench-{size}"
                add_article(keys[size], build_thread(rng, size, 0, next_id, authors, bodies,
                                                     now - timedelta(days=20)), f"A thread of {size} comments")
                next_id += size
            extra = []
            for i in range(EXTRA_ARTICLES):
                key, size = f"bench-extra-{i}", rng.randint(0, 5)
                rows = build_thread(rng, size, 0, next_id, authors, bodies,
                                    now - timedelta(days=10)) if size else []
                add_article(key, rows, f"Small article {i}")
                next_id += size
                extra.append(key)
            post_article = add_article("bench-post", [], "Where the bench posts")
            # Seeded after the others, so that those stay what they were before these came.
            live = build_thread(rng, LIVE_SIZE, 0, next_id, authors, bodies, now - timedelta(days=2))
            add_article(LIVE_KEY, live, f"A thread of {LIVE_SIZE} comments under discussion")
            next_id += LIVE_SIZE
            lopsided, big_id = build_lopsided(rng, 0, next_id, authors, bodies, now - timedelta(days=5))
            add_article(LOPSIDED_KEY, lopsided, "A thread where one comment drew 5,000 replies")
            next_id += LOPSIDED_SIZE
            if conn.dialect.name == "postgresql":
                # Ids were given explicitly: move the sequence past them, or the first POST collides.
                conn.execute(text("SELECT setval(pg_get_serial_sequence('comments', 'id'),"
                                  " (SELECT max(id) FROM comments))"))
        try:
            from app.discussion import shown
        except ImportError:  # a release from before the public tree counts
            shown = None
        if shown is not None:  # rows written straight into the table get their counts like an import's
            shown.recount()
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does soon after such a load: statistics for the plans, and the visibility
            # map that lets an index answer alone (a count of an author's approved comments).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
    return {"threads": keys, "extra": extra, "post_key": "bench-post", "post_article_id": post_article,
            "live_parents": [(row["id"], row["depth"]) for row in live],
            "lopsided_big_id": big_id,
            "bodies": sources[:100], "seconds": time.perf_counter() - started}
