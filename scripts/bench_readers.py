"""The readers of issue 15 in ``make bench``: logged in, on a thread under discussion, on a lopsided thread.

Each scenario hands ``Bench.read_scenario`` the paths to read, so each row
has the static ceiling of the same bytes beside it:

- ``logged_in``: the reader's first page of the 10,000-comment thread, by
  session cookie (as the widget) and by bearer token. The reader has voted on
  comments of that page and has a pending reply shown in it, so what differs
  from the anonymous page is not empty.
- ``live``: the first page of a 1,000-comment thread while another user posts
  to it every 100 ms, logged out and logged in; then while two users post as
  fast as they can. The rows carry the posting rate achieved.
- ``lopsided``: the first page of the thread whose first comment holds 5,000
  replies, and pages of that comment's ``/replies`` (the first and one deep
  in, reached through ``next``), logged out and logged in.

``targets`` and ``postgres_vs_sqlite`` judge the rows against the issue.
"""
import json
import random
from http.cookiejar import CookieJar
from urllib import request as urlrequest
from urllib.error import HTTPError
from urllib.parse import quote

from bench_seed import LIVE_KEY, LOPSIDED_KEY, MAX_DEPTH

HOST = "127.0.0.1"
FIRST_PAGE = "limit=20&replies=5"
REPLIES_SHOWN = 5  # the replies= of FIRST_PAGE, and the default of /replies
REPLIES_PAGE = "limit=50"  # what the widget asks for on "more replies"
DEEP_HOPS = 25  # the deep /replies page: 25 x 50 replies in, about half-way through the fan
VOTES = 6  # the reader's votes on each page they read
POST_EVERY = 0.1  # seconds between posts to the live thread


class Account:
    """A user logged in through the API the way the widget does: a session cookie and its CSRF token."""

    def __init__(self, port: int, username: str, password: str, register_email: str | None = None):
        self.jar = CookieJar()
        self.opener = urlrequest.build_opener(urlrequest.HTTPCookieProcessor(self.jar))
        self.base = f"http://{HOST}:{port}/api/v1"
        self.csrf = self.call("GET", "/auth/me")["csrf_token"]
        if register_email:
            answer = self.call("POST", "/auth/register",
                               {"username": username, "email": register_email, "password": password})
        else:
            answer = self.call("POST", "/auth/login", {"login": username, "password": password})
        self.user = answer["user"]
        self.csrf = answer.get("csrf_token") or self.call("GET", "/auth/me")["csrf_token"]

    def call(self, method: str, path: str, payload=None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urlrequest.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if method != "GET":
            req.add_header("X-CSRF-Token", self.csrf)
        try:
            with self.opener.open(req, timeout=30) as response:
                content = response.read()
        except HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from None
        return json.loads(content) if content else {}

    def cookie_header(self) -> dict:
        """The request header a browser would send with this session."""
        return {"Cookie": "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)}

    def token(self) -> str:
        return self.call("POST", "/auth/tokens", {"name": "bench"})["token"]


# ---------------------------------------------------------------- what makes a reader's page their own

def comments_in(comments: list):
    """Every comment of a page, replies included, in reading order."""
    for comment in comments:
        yield comment
        yield from comments_in(comment.get("replies") or [])


def give_overlay(reader: Account, moderator: Account, path: str, pending_in: str | None = None) -> str:
    """The reader votes on comments of the page at ``path`` and, with ``pending_in`` (the article's
    key), gets a pending reply shown in it; returns what their page then shows, in words.

    The pending reply is posted the real way: the moderator switches the article to
    pre-moderation for that one post. Its parent has fewer replies than the page shows,
    so the reply appears in place.
    """
    shown = list(comments_in(reader.call("GET", path.removeprefix("/api/v1"))["comments"]))
    mine = reader.user["id"]
    voters = [c for c in shown if c["status"] == "approved" and c["author"] and c["author"]["id"] != mine]
    for index, comment in enumerate(voters[:VOTES]):
        if not comment["my_vote"]:
            reader.call("PUT", f"/comments/{comment['id']}/vote", {"value": -1 if index % 3 == 2 else 1})
    if pending_in:
        parent = next(c for c in shown if c["status"] == "approved" and c["depth"] < MAX_DEPTH
                      and c["reply_count"] < REPLIES_SHOWN)
        moderator.call("PATCH", f"/articles/{pending_in}", {"moderation": "pre"})
        try:
            posted = reader.call("POST", f"/articles/{pending_in}/comments", {
                "body": "Is this *really* what the report says? I would like to see the source.",
                "parent_id": parent["id"]})["comment"]
        finally:
            moderator.call("PATCH", f"/articles/{pending_in}", {"moderation": "inherit"})
        if posted["status"] != "pending":
            print(f"  NOTE: the reader's comment came out {posted['status']}, not pending")
    after = list(comments_in(reader.call("GET", path.removeprefix("/api/v1"))["comments"]))
    votes = sum(1 for c in after if c["my_vote"])
    pending = sum(1 for c in after if c["status"] == "pending")
    return f"{len(after)} comments shown, {votes} with my_vote, {pending} pending of the reader's"


# ---------------------------------------------------------------- the scenarios

def logged_in(bench) -> None:
    print(f"\nLogged-in reader (c={bench.args.reader_concurrency}; app | static ceiling of the same bytes):")
    key = bench.seeded["threads"][10_000]
    path = f"/api/v1/articles/{key}/comments?{FIRST_PAGE}"
    print(f"  overlay: {give_overlay(bench.reader, bench.moderator, path, pending_in=key)}")
    concurrency = bench.args.reader_concurrency
    bench.read_scenario("cookie-first-page-10000", [path], headers=bench.reader.cookie_header(),
                        concurrency=concurrency)
    bench.read_scenario("bearer-first-page-10000", [path], concurrency=concurrency,
                        headers={"Authorization": f"Bearer {bench.reader_token}"})


def live(bench) -> None:
    """Reads of a 1,000-comment thread while it is posted to: every 100 ms, then flat out by two users."""
    concurrency = bench.args.reader_concurrency
    print(f"\nA {1000:,}-comment thread under discussion (reads at c={concurrency}; the posting rate"
          f" achieved during the app's run is on each row):")
    path = f"/api/v1/articles/{LIVE_KEY}/comments?{FIRST_PAGE}"
    print(f"  overlay: {give_overlay(bench.reader, bench.moderator, path, pending_in=LIVE_KEY)}")
    posters = [Account(bench.app.port, f"bench_poster_{i}", "bench-poster-password",
                       register_email=f"bench-poster-{i}@example.com").token() for i in range(2)]
    shown = [c["id"] for c in comments_in(bench.reader.call("GET", path.removeprefix("/api/v1"))["comments"])
             if c["depth"] < MAX_DEPTH and c["status"] == "approved"]
    posting = {"post_path": f"/api/v1/articles/{LIVE_KEY}/comments", "post_bodies": bench.seeded["bodies"],
               "post_parents": _parents(random.Random(bench.args.seed), shown, bench.seeded["live_parents"])}
    paced = {**posting, "concurrency": 1, "tokens": posters[:1], "pace": POST_EVERY}
    flat_out = {**posting, "concurrency": 2, "tokens": posters}
    for name, poster in (("10ps", paced), ("2posters", flat_out)):
        for who, headers in (("out", {}), ("in", bench.reader.cookie_header())):
            bench.read_scenario(f"live-1000-{name}-{who}", [path], headers=headers, concurrency=concurrency,
                                alongside=poster)


def _parents(rng, shown: list[int], seeded: list[tuple[int, int]]) -> list:
    """Where each post goes: 30% new top-level comments, 30% replies to comments on the first
    page (so the page read really changes), 40% replies anywhere in the thread."""
    anywhere = [row_id for row_id, depth in seeded if depth < MAX_DEPTH]
    choices = []
    for _ in range(1000):
        roll = rng.random()
        choices.append(None if roll < 0.3 else rng.choice(shown) if roll < 0.6 else rng.choice(anywhere))
    return choices


def lopsided(bench) -> None:
    concurrency = bench.args.reader_concurrency
    big = bench.seeded["lopsided_big_id"]
    print(f"\nThe lopsided thread: 10,000 comments, 5,000 of them under comment {big}"
          f" (c={concurrency}; app | static ceiling of the same bytes):")
    first = f"/api/v1/articles/{LOPSIDED_KEY}/comments?{FIRST_PAGE}"
    replies = f"/api/v1/comments/{big}/replies?{REPLIES_PAGE}"
    deep = replies
    for _ in range(DEEP_HOPS):
        cursor = bench.reader.call("GET", deep.removeprefix("/api/v1"))["next"]
        deep = f"{replies}&after={quote(cursor, safe='')}"
    pages = (("first", first), ("replies-1", replies), (f"replies-{DEEP_HOPS + 1}", deep))
    for name, path in pages:
        print(f"  overlay on {name}: {give_overlay(bench.reader, bench.moderator, path)}")
    for name, path in pages:
        for who, headers in (("out", {}), ("in", bench.reader.cookie_header())):
            bench.read_scenario(f"lopsided-{name}-{who}", [path], headers=headers, concurrency=concurrency)


# ---------------------------------------------------------------- judging

def targets(rows: dict) -> list[tuple[str, str, bool]]:
    """The targets of issue 15 that one run can judge, for the rows that ran."""
    found = []

    def check(name: str, share: float, p99: float | None, label: str) -> None:
        row = rows.get(name)
        if row is None:
            return
        found.append((f"{label}: >= {share:.0%} of ceiling", f"{row['fraction']:.0%}", row["fraction"] >= share))
        if p99 is not None:
            found.append((f"{label}: p99 < {p99:g} ms", f"{row['p99']:.1f} ms", row["p99"] < p99))

    check("cookie-first-page-10000", 0.4, 20, "logged-in 10k first page (cookie)")
    check("bearer-first-page-10000", 0.4, 20, "logged-in 10k first page (bearer)")
    for who in ("out", "in"):
        check(f"live-1000-10ps-{who}", 0.3, 30, f"1,000 thread + post/100 ms, logged {who}")
        row = rows.get(f"live-1000-10ps-{who}")
        if row is not None:  # not a target: says whether the scenario was the one the issue means
            found.append(("  (posts during it: about 10/s)", f"{row['posts_per_s']:.1f}/s",
                          row["posts_per_s"] >= 9))
    for page in ("first", "replies-1", f"replies-{DEEP_HOPS + 1}"):
        check(f"lopsided-{page}-out", 0.4, None, f"lopsided {page}, logged out")
        check(f"lopsided-{page}-in", 0.3, None, f"lopsided {page}, logged in")
    return found


def postgres_vs_sqlite(results: dict, sqlite: dict) -> list[tuple[str, str, bool]]:
    """PostgreSQL's read rows against the same rows of a SQLite run (target: 70% of its req/s),
    and POST at c=8 (300/s). The share of each run's own ceiling is shown too: it discounts
    how busy the machine was during each run."""
    before = {row["name"]: row for row in sqlite.get("rows", [])}
    found = []
    for row in results["rows"]:
        other = before.get(row["name"])
        if other is None or not other["rps"]:
            continue
        ratio = row["rps"] / other["rps"]
        fair = row["fraction"] / other["fraction"] if other["fraction"] else float("nan")
        found.append((f"PG {row['name']}: >= 70% of SQLite",
                      f"{row['rps']:.0f}/{other['rps']:.0f} = {ratio:.0%} (ceil. {fair:.0%})", ratio >= 0.7))
    post = results.get("post")
    if post:
        found.append((f"PG POST at c={post['concurrency']}: >= 300/s", f"{post['rps']:.0f}/s", post["rps"] >= 300))
        if "rps_authors" in post:
            found.append((f"PG POST at c={post['concurrency']}, one author per client: >= 300/s",
                          f"{post['rps_authors']:.0f}/s", post["rps_authors"] >= 300))
    return found
