"""`flask import disqus`: threads kept whatever the order, tombstones, spam, authors, keys, reruns,
and the thread read back through the API as if it had been posted."""
import tracemalloc
from pathlib import Path

from sqlalchemy import func, select

from app.accounts.registration import register
from app.discussion.shown import recount
from app.extensions import db
from app.models import Article, Comment, User
from app.notifications.models import Event, OutboxMessage
from app.portability import workers
from app.portability.foreign import run_import
from app.portability.models import ImportedObject

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
DISQUS = FIXTURES / "disqus.xml"


def run(runner, *args):
    result = runner.invoke(args=["import", *map(str, args)])
    return result


def rows(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def thread(client, key, **query):
    response = client.get(f"/api/v1/articles/{key}/comments", query_string={"replies": 50, **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def flat(comments):
    for comment in comments:
        yield comment
        yield from flat(comment["replies"])


def by_text(data):
    return {c["body_html"]: c for c in flat(data["comments"]) if not c.get("deleted")}


def test_threads_keep_their_parents_whatever_the_order(app, runner, client):
    result = run(runner, "disqus", DISQUS)
    assert result.exit_code == 0, result.output
    assert "comments: 11 imported (approved 10, spam 1); 2 tombstones" in result.output
    assert "authors: 6 new accounts" in result.output
    assert "deleted 2" in result.output and "orphan 1" in result.output

    data = thread(client, "post-1")
    top = data["comments"]
    first = next(c for c in top if "First!" in c["body_html"])
    assert first["body_html"].startswith("<p>First! This is <strong>bold</strong> and a "
                                         '<a href="https://example.org/page" rel="nofollow ugc noopener">link</a>')
    reply = first["replies"][0]
    assert reply["body_html"] == "<p>A reply to Alice.</p>" and reply["depth"] == 1
    deeper = reply["replies"][0]
    assert "listed <em>before</em> its parent" in deeper["body_html"] and deeper["depth"] == 2
    assert deeper["parent_id"] == reply["id"] and reply["parent_id"] == first["id"]
    # The deleted comment with a reply is a tombstone; the one without replies is gone; spam is not shown.
    tombstones = [c for c in top if c.get("deleted")]
    assert len(tombstones) == 2  # the deleted 2004 and the missing 1999, each with its reply
    shown = by_text(data)
    assert "<p>Answering a comment that is gone now.</p>" in shown
    assert "<p>Replying to a comment missing from the export.</p>" in shown
    assert not any("nobody answered" in text or "pills" in text for text in shown)
    # Nothing from the file is trusted HTML: script gone, javascript: link reduced to its text.
    click = next(text for text in shown if "Click" in text)
    assert click == "<p>Click here</p>"


def test_counts_versions_and_authors_are_right(app, runner, client, login, mod):
    assert run(runner, "disqus", DISQUS).exit_code == 0
    counts = client.get("/api/v1/counts", query_string={"keys": "post-1,blog.example-2020-other,late-thread"})
    assert counts.get_json() == {"counts": {"post-1": 7, "blog.example-2020-other": 2, "late-thread": 1}}
    with app.app_context():
        articles = {a.key: a for a in db.session.scalars(select(Article))}
        assert {key: a.comment_count for key, a in articles.items()} == {
            "post-1": 7, "blog.example-2020-other": 2, "late-thread": 1}
        assert all(a.version >= 1 for a in articles.values())
        assert articles["post-1"].title == "Hello, world"
        # http and https, a query string and a fragment do not split an article in two.
        assert articles["blog.example-2020-other"].url.startswith("https://blog.example/2020/other/")
        users = {u.username: u for u in db.session.scalars(select(User))}
        jane = users["Jane"]  # two anonymous posts, same name and e-mail: one author
        assert db.session.scalar(select(func.count()).where(Comment.author_id == jane.id)) == 2
        for user in users.values():
            if user.imported_from:
                assert user.password_hash is None and user.email_key is None
        assert users["alicem"].email == "alice@mail.example"
        assert users["reader"].display_name == "reader"  # "Site Admin" is refused: the username stands in
        assert users["reader"].email is None
        # History sends nothing: no events, no outbox messages.
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # The spam is in the spam queue of the moderators' view of the thread.
    as_mod = thread(login(mod), "post-1")
    assert any(c["status"] == "spam" for c in flat(as_mod["comments"]))
    # An imported account cannot log in, and does not hold its e-mail address.
    api = login()
    response = api.post("/api/v1/auth/login", {"login": "alicem", "password": "anything at all 123"})
    assert response.status_code in (401, 403)
    with app.app_context():
        user = register("alice2", "alice@mail.example", "a long enough passphrase", None, "pbkdf2:sha256:1000")
        db.session.commit()
        assert user.email_key == "alice@mail.example"


def test_a_second_import_adds_nothing(app, runner, client):
    assert run(runner, "disqus", DISQUS).exit_code == 0
    before = thread(client, "post-1")
    with app.app_context():
        versions = dict(db.session.execute(select(Article.key, Article.version)).all())
    counts = {model: rows(app, model) for model in (Article, Comment, User, ImportedObject)}
    again = run(runner, "disqus", DISQUS)
    assert again.exit_code == 0, again.output
    assert "comments: 0 imported" in again.output and "duplicate 12" in again.output
    assert {model: rows(app, model) for model in counts} == counts
    assert thread(client, "post-1") == before
    with app.app_context():
        assert dict(db.session.execute(select(Article.key, Article.version)).all()) == versions


def test_dry_run_reports_the_same_and_writes_nothing(app, runner):
    dry = run(runner, "disqus", DISQUS, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing was written." in dry.output
    assert rows(app, Comment) == rows(app, User) == rows(app, Article) == rows(app, ImportedObject) == 0
    real = run(runner, "disqus", DISQUS)
    assert dry.output.splitlines()[-5:] == real.output.splitlines()[-5:]


def test_an_interrupted_import_resumes(app, runner, client, tmp_path):
    text = DISQUS.read_text()
    broken = tmp_path / "broken.xml"
    broken.write_text(text[:text.index('<post dsq:id="2008">')])  # the file ends mid-way
    result = run(runner, "disqus", broken, "--batch-size", "2")
    assert result.exit_code != 0 and "cannot read" in result.output
    assert rows(app, Comment) >= 2  # the batches before the break were committed
    assert run(runner, "disqus", DISQUS, "--batch-size", "2").exit_code == 0
    resumed = thread(client, "post-1")
    with app.app_context():
        assert db.session.scalar(select(Article.comment_count).where(Article.key == "post-1")) == 7
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 13
    depths = sorted(c["depth"] for c in flat(resumed["comments"]))
    assert depths.count(2) == 1 and depths.count(1) == 3


def test_keys_from_urls_and_the_depth_cap(app, runner, client, config):
    app.config["MAX_DEPTH"] = 1
    result = run(runner, "disqus", DISQUS, "--key", "url")
    assert result.exit_code == 0, result.output
    assert "replies attached at the maximum depth: 1" in result.output
    data = thread(client, "blog.example-2020-hello")  # index.html and the scheme dropped
    first = next(c for c in data["comments"] if "First!" in c["body_html"])
    replies = first["replies"]
    assert {c["depth"] for c in replies} == {1} and len(replies) == 2  # the reply of the reply moved up
    assert thread(client, "blog.example-2020-other")["comments"]


def test_entity_expansion_is_refused(app, runner, tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                    '<disqus xmlns="http://disqus.com"><post>&b;</post></disqus>')
    result = run(runner, "disqus", bomb)
    assert result.exit_code != 0 and "cannot read" in result.output
    assert rows(app, Comment) == 0


def test_memory_stays_bounded_on_a_bigger_file(app, tmp_path):
    """Thousands of posts: deleted ones (parsed, never rendered) carry big bodies; memory must not grow
    with the file."""
    big = tmp_path / "big.xml"
    body = "<p>" + "word " * 6000 + "</p>"
    with big.open("w") as out:
        out.write('<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'
                  '<thread dsq:id="1"><id>big</id><link>https://blog.example/big</link><title>Big</title></thread>')
        for n in range(600):
            deleted = "false" if n % 100 == 0 else "true"
            out.write(f'<post dsq:id="{n + 10}"><message><![CDATA[{body}]]></message>'
                      f'<createdAt>2020-01-01T00:00:00Z</createdAt><isDeleted>{deleted}</isDeleted>'
                      f'<isSpam>false</isSpam><author><name>Guest {n % 7}</name><isAnonymous>true</isAnonymous>'
                      f'</author><thread dsq:id="1" /></post>')
        out.write("</disqus>")
    assert big.stat().st_size > 15_000_000
    with app.app_context():
        tracemalloc.start()
        try:
            run_import("disqus", str(big), "identifier", False, None, 50)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 8_000_000, peak
    assert rows(app, Comment) == 6


def content(app):
    """Every row an import writes, ids replaced by their rank (PostgreSQL's sequences go on between
    runs), creation times of accounts and articles left out (the clock's)."""
    with app.app_context():
        tables = {model: db.session.execute(select(model.__table__).order_by(model.id)).mappings().all()
                  for model in (Article, User, Comment, ImportedObject)}
    rank = {model: {row["id"]: n for n, row in enumerate(rows)} for model, rows in tables.items()}
    refs = {"article_id": Article, "author_id": User, "parent_id": Comment, "root_id": Comment}
    kinds = {"article": Article, "author": User, "comment": Comment}
    result = {}
    for model, rows in tables.items():
        result[model.__tablename__] = [
            {column: (rank[refs[column]].get(value) if column in refs and value is not None
                      else rank[kinds[row["kind"]]].get(value) if column == "local_id" else value)
             for column, value in row.items()
             if column != "id" and not (model in (Article, User) and column == "created_at")}
            for row in rows]
    return result


def test_workers_give_the_same_database_as_none(app, runner, tmp_path, monkeypatch):
    """Bodies prepared by worker processes, in many small chunks: the same rows, the same report; a
    body that breaks the converter (nesting past the recursion limit) is unrenderable in a worker too.
    And the shown replies, counted for the parents of the file only, are what a full recount gives."""
    text = DISQUS.read_text()
    nasty = ('<post dsq:id="2999"><message><![CDATA[' + "<b>" * 3000 + "deep]]></message><createdAt>"
             '2020-01-05T00:00:00Z</createdAt><author><name>Deep</name><isAnonymous>true</isAnonymous>'
             '</author><thread dsq:id="1001" /></post>')
    export = tmp_path / "disqus.xml"
    export.write_text(text.replace("</disqus>", nasty + "</disqus>"))
    monkeypatch.setattr(workers, "CHUNK_ITEMS", 3)
    serial = run(runner, "disqus", export, "--workers", "0")
    assert serial.exit_code == 0, serial.output
    assert "unrenderable 1" in serial.output
    alone = content(app)
    with app.app_context(), db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
    parallel = run(runner, "disqus", export, "--workers", "2")
    assert parallel.exit_code == 0, parallel.output
    assert parallel.output.splitlines()[-6:] == serial.output.splitlines()[-6:]
    assert content(app) == alone
    with app.app_context():  # the shown replies counted for the parents only are the whole recount's
        recount()
        db.session.commit()
    assert content(app) == alone


def test_posts_without_an_id_or_a_readable_date_still_import_once(app, runner, client, tmp_path):
    """As remark42's and Talkyard's test exports have them: a post with no dsq:id (its <id>, or else
    what it says, identifies it) and dates a person typed wrong (dated as their thread, and counted)."""
    posts = [('dsq:id="10"', "2019-07-08T20:21:00Z", "First, with an id"),
             ("", "2019-07-08T20:22:00Z", "No dsq:id, an id element", "<id>legacy-7</id>"),
             ("", "2019-07-08T20:23:00Z", "No id at all"),
             ('dsq:id="13"', "2019-07-08T20:21;22Z", "A date with a typo")]
    body = "".join(
        f'<post {attrs}>{extra[0] if extra else ""}<message><![CDATA[<p>{text}</p>]]></message>'
        f"<createdAt>{created}</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>"
        f"<author><name>Ann</name><email>ann@mail.example</email><isAnonymous>true</isAnonymous></author>"
        f'<thread dsq:id="1" /></post>' for attrs, created, text, *extra in posts)
    path = tmp_path / "odd.xml"
    path.write_text('<?xml version="1.0" encoding="utf-8"?><disqus xmlns="http://disqus.com" '
                    'xmlns:dsq="http://disqus.com/disqus-internals"><thread dsq:id="1"><id>odd</id>'
                    "<link>https://blog.example/odd/</link><title>Odd</title><isClosed>true</isClosed>"
                    f"<createdAt>2019-07-01T09:00:00Z</createdAt></thread>{body}</disqus>", encoding="utf-8")
    first = run(runner, "disqus", path)
    assert first.exit_code == 0, first.output
    assert "comments: 4 imported (approved 4)" in first.output and "unreadable dates: 1" in first.output
    data = thread(client, "odd", sort="oldest")
    assert [(c["body_html"], c["created_at"][:16]) for c in data["comments"]] == [
        ("<p>A date with a typo</p>", "2019-07-01T09:00"), ("<p>First, with an id</p>", "2019-07-08T20:21"),
        ("<p>No dsq:id, an id element</p>", "2019-07-08T20:22"), ("<p>No id at all</p>", "2019-07-08T20:23")]
    again = run(runner, "disqus", path)
    assert "comments: 0 imported" in again.output and "duplicate 4" in again.output
    assert rows(app, Comment) == 4
    assert client.get("/api/v1/articles/odd").get_json()["status"] == "closed"  # isClosed


def test_an_identifier_that_is_a_url_is_keyed_as_a_url(app, runner, client, tmp_path):
    path = tmp_path / "url-ids.xml"
    path.write_text('<?xml version="1.0" encoding="utf-8"?><disqus xmlns="http://disqus.com" '
                    'xmlns:dsq="http://disqus.com/disqus-internals"><thread dsq:id="1">'
                    "<id>http://www.radio-t.com/p/2011/03/05/podcast-229/?utm_source=x</id>"
                    "<link>http://www.radio-t.com/p/2011/03/05/podcast-229/</link><title>229</title></thread>"
                    '<post dsq:id="2"><message>Hi</message><createdAt>2011-03-05T10:00:00Z</createdAt>'
                    "<author><name>Ann</name><isAnonymous>true</isAnonymous></author>"
                    '<thread dsq:id="1" /></post></disqus>', encoding="utf-8")
    result = run(runner, "disqus", path)
    assert result.exit_code == 0, result.output
    counts = client.get("/api/v1/counts", query_string={"keys": "www.radio-t.com-p-2011-03-05-podcast-229"})
    assert counts.get_json() == {"counts": {"www.radio-t.com-p-2011-03-05-podcast-229": 1}}


def test_a_file_cut_short_leaves_what_it_imported_consistent(app, runner, client, tmp_path):
    """An export cut off mid-comment (an interrupted download): the batches read before the break are
    imported, counted and placed as the API shows them; the whole file imported afterwards completes
    them, nothing twice."""
    whole = tmp_path / "whole.xml"
    posts = [("p1", None, "false", "false", "Top one"), ("p2", "p1", "false", "false", "Reply to one"),
             ("p3", None, "true", "false", "Deleted top"), ("p4", "p3", "false", "false", "Reply to deleted"),
             ("p5", None, "false", "false", "Top five"), ("p6", "p9", "false", "false", "Reply before its parent"),
             ("p7", None, "false", "false", "Seven " + "long " * 40), ("p9", None, "false", "false", "Nine")]
    whole.write_text(
        '<?xml version="1.0" encoding="utf-8"?><disqus xmlns="http://disqus.com" '
        'xmlns:dsq="http://disqus.com/disqus-internals"><thread dsq:id="t"><id>cut</id>'
        "<link>https://blog.example/cut/</link><title>Cut</title></thread>" + "".join(
            f'<post dsq:id="{sid}"><message><![CDATA[<p>{text}</p>]]></message>'
            f"<createdAt>2020-01-0{n + 1}T10:00:00Z</createdAt><isDeleted>{deleted}</isDeleted>"
            f"<isSpam>{spam}</isSpam><author><name>Ann</name><isAnonymous>true</isAnonymous></author>"
            f'<thread dsq:id="t" />' + (f'<parent dsq:id="{parent}" />' if parent else "") + "</post>"
            for n, (sid, parent, deleted, spam, text) in enumerate(posts)) + "</disqus>", encoding="utf-8")
    text = whole.read_text(encoding="utf-8")
    cut = tmp_path / "cut.xml"
    cut.write_text(text[:text.index("Seven") + 30], encoding="utf-8")  # inside p7's CDATA

    broken = run(runner, "disqus", cut, "--batch-size", "2", "--workers", "0")
    assert broken.exit_code == 1
    assert "cannot read all of" in broken.output and "run the import again" in broken.output
    assert "comments: 5 imported (approved 5); 1 tombstones" in broken.output
    data = thread(client, "cut", sort="oldest")
    shown = [(c["body_html"], [r["body_html"] for r in c["replies"]]) for c in data["comments"]]
    assert data["total"] == 5
    assert client.get("/api/v1/counts", query_string={"keys": "cut"}).get_json() == {"counts": {"cut": 5}}
    assert shown == [("<p>Top one</p>", ["<p>Reply to one</p>"]), (None, ["<p>Reply to deleted</p>"]),
                     ("<p>Top five</p>", []), ("<p>Reply before its parent</p>", [])]

    complete = run(runner, "disqus", whole, "--batch-size", "2", "--workers", "0")
    assert complete.exit_code == 0, complete.output
    assert "comments: 2 imported (approved 2); 0 tombstones" in complete.output
    data = thread(client, "cut", sort="oldest")
    assert data["total"] == 7
    assert client.get("/api/v1/counts", query_string={"keys": "cut"}).get_json() == {"counts": {"cut": 7}}
    nine = next(c for c in data["comments"] if c["body_html"] == "<p>Nine</p>")
    assert [r["body_html"] for r in nine["replies"]] == ["<p>Reply before its parent</p>"]
    assert rows(app, Comment) == 8


def test_a_reply_to_a_comment_of_another_thread_stays_in_its_own(app, runner, client, tmp_path):
    """A source that moved a thread can list a reply under a comment of another thread: a tree no post
    could make, whose reply no page would show. It is imported top-level in its own thread, counted."""
    path = tmp_path / "moved.xml"
    posts = [("p1", "t1", None, "In one"), ("p2", "t2", "p1", "In two, replying to one"),
             ("p3", "t1", "p1", "In one, replying to one")]
    path.write_text('<?xml version="1.0" encoding="utf-8"?><disqus xmlns="http://disqus.com" '
                    'xmlns:dsq="http://disqus.com/disqus-internals">' + "".join(
                        f'<thread dsq:id="{t}"><id>moved-{t}</id><title>{t}</title></thread>' for t in ("t1", "t2"))
                    + "".join(f'<post dsq:id="{sid}"><message>{text}</message>'
                              f"<createdAt>2020-01-0{n + 1}T10:00:00Z</createdAt>"
                              f"<author><name>Ann</name><isAnonymous>true</isAnonymous></author>"
                              f'<thread dsq:id="{thread}" />' + (f'<parent dsq:id="{parent}" />' if parent else "")
                              + "</post>" for n, (sid, thread, parent, text) in enumerate(posts))
                    + "</disqus>", encoding="utf-8")
    result = run(runner, "disqus", path)
    assert result.exit_code == 0, result.output
    assert "replies to another thread's comment: 1 (top-level in their own)" in result.output
    one, two = thread(client, "moved-t1"), thread(client, "moved-t2")
    assert [(c["body_html"], [r["body_html"] for r in c["replies"]]) for c in one["comments"]] == [
        ("<p>In one</p>", ["<p>In one, replying to one</p>"])]
    assert [(c["body_html"], c["depth"], c["parent_id"]) for c in two["comments"]] == [
        ("<p>In two, replying to one</p>", 0, None)]
    assert (one["total"], two["total"]) == (2, 1)
