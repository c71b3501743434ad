"""`flask import wordpress`: every WXR namespace, statuses, pingbacks, paragraphs, the API's view."""
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Article, Comment, User

WXR = Path(__file__).parent / "fixtures" / "imports" / "wordpress.xml"
NAMESPACES = [f"{scheme}://wordpress.org/export/1.{minor}/" for scheme in ("http", "https") for minor in (0, 1, 2)]


def flat(comments):
    for comment in comments:
        yield comment
        yield from flat(comment["replies"])


def import_file(runner, path, *options):
    result = runner.invoke(args=["import", "wordpress", str(path), *options])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_export_namespace_reads_the_same(app, runner, client, tmp_path, namespace):
    path = tmp_path / "export.xml"
    path.write_text(WXR.read_text(encoding="utf-8").replace("http://wordpress.org/export/1.2/", namespace),
                    encoding="utf-8")
    output = import_file(runner, path)
    assert "comments: 7 imported (approved 5, pending 1, spam 1); 1 tombstones" in output
    assert "deleted 1, pingback 1, trackback 1" in output
    data = client.get("/api/v1/articles/12/comments", query_string={"replies": 50}).get_json()
    assert data["total"] == 4
    top = data["comments"]
    marc = next(c for c in top if c["author"] and c["author"]["display_name"] == "Marc")
    assert marc["body_html"] == ("<p>First line<br>\nsecond line of the same paragraph.</p>\n"
                                 "<p>A new paragraph with <strong>strong</strong> words &amp; an ampersand.</p>")
    [editor] = marc["replies"]
    assert editor["body_html"] == "<p>Thanks Marc!</p>" and editor["author"]["display_name"] == "The Editor"
    [zoe] = editor["replies"]
    assert zoe["depth"] == 2 and zoe["author"]["display_name"] == "Zoé"
    tombstone = next(c for c in top if c.get("deleted"))
    assert [r["body_html"] for r in tombstone["replies"]] == ["<p>Answering the trashed one.</p>"]
    texts = " ".join(c["body_html"] or "" for c in flat(top))
    assert "moderation" not in texts and "casino" not in texts and "pingback" not in texts


def test_statuses_authors_and_keys(app, runner, client):
    output = import_file(runner, WXR, "--key", "url")
    # Marc, the editor (by user id), Zoé, the held and the spam comment; the trashed one is not imported.
    assert "authors: 5 new accounts" in output
    with app.app_context():
        statuses = dict(db.session.execute(select(Comment.status, func.count()).group_by(Comment.status)).all())
        assert statuses == {"approved": 5, "pending": 1, "spam": 1, "deleted": 1}
        articles = {a.key: a for a in db.session.scalars(select(Article))}
        assert set(articles) == {"wp.example-2021-05-bonjour", "wp.example-about"}
        assert articles["wp.example-2021-05-bonjour"].title == "Bonjour tout le monde"
        assert articles["wp.example-2021-05-bonjour"].comment_count == 4
        assert articles["wp.example-about"].comment_count == 1
        marc = db.session.scalar(select(User).where(User.display_name == "Marc"))
        assert db.session.scalar(select(func.count()).where(Comment.author_id == marc.id)) == 3
        assert marc.email_key is None and marc.password_hash is None and marc.imported_from == "wordpress"
    assert client.get("/api/v1/articles/wp.example-about/comments").get_json()["total"] == 1
    again = runner.invoke(args=["import", "wordpress", str(WXR), "--key", "url"])
    assert "comments: 0 imported" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 8


PLAIN_PERMALINKS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.0/">
<channel>{items}</channel></rss>
"""
# As WordPress's plain permalinks and Isso's own test export have them: no post id, the page in the
# query string, e-mails followed by a line break, a comment with no date but GMT's and no type.
PLAIN_ITEM = """<item><title>{title}</title><link>{link}</link>
  <wp:comment><wp:comment_id>{id}</wp:comment_id><wp:comment_author><![CDATA[Ohai]]></wp:comment_author>
    <wp:comment_author_email>test@example.org
    </wp:comment_author_email>
    <wp:comment_date_gmt>2014-04-29 15:21:3{id}</wp:comment_date_gmt>
    <wp:comment_content>
      <![CDATA[Comment {id}]]></wp:comment_content>
    <wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent>
  </wp:comment></item>"""


@pytest.mark.parametrize("key_mode", ["identifier", "url"])
def test_plain_permalinks_keep_their_posts_apart(app, runner, client, tmp_path, key_mode):
    items = [("Four", "http://example.tld/?p=4", 1), ("Six", "http://example.tld/?p=6", 2),
             ("Four again", "https://example.tld/index.php?utm_source=feed&p=4#comments", 3),
             ("A page", "http://example.tld/?page_id=2&replytocom=1", 4)]
    path = tmp_path / "plain.xml"
    path.write_text(PLAIN_PERMALINKS.format(items="".join(
        PLAIN_ITEM.format(title=title, link=link.replace("&", "&amp;"), id=n) for title, link, n in items)),
        encoding="utf-8")
    output = import_file(runner, path, "--key", key_mode)
    assert "articles: 3 new" in output and "comments: 4 imported (approved 4)" in output
    counts = client.get("/api/v1/counts", query_string={
        "keys": "example.tld-p-4,example.tld-p-6,example.tld-page_id-2,example.tld"}).get_json()["counts"]
    assert counts == {"example.tld-p-4": 2, "example.tld-p-6": 1, "example.tld-page_id-2": 1, "example.tld": 0}
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.display_name == "Ohai")) == "test@example.org"
        assert sorted(db.session.scalars(select(Comment.body))) == [f"Comment {n}" for n in range(1, 5)]


def test_editors_notes_and_other_kinds_of_rows_are_not_comments(app, runner, client, tmp_path):
    """WordPress 6.9 keeps editors' notes on blocks in the comments table (type ``note``), WooCommerce
    its order notes: none is a reader's comment, and approving one would publish it."""
    rows = [("1", "", "1", "A reader's comment"), ("2", "note", "0", "Note on para 1"),
            ("3", "note", "1", "Resolved note"), ("4", "order_note", "0", "Order shipped"),
            ("5", "review", "1", "Five stars, a product review"), ("6", "comment", "1", "Typed comment")]
    comments = "".join(
        f"""<wp:comment><wp:comment_id>{n}</wp:comment_id><wp:comment_author>Ann</wp:comment_author>
        <wp:comment_date_gmt>2025-11-0{n} 10:00:00</wp:comment_date_gmt>
        <wp:comment_content><![CDATA[{text}]]></wp:comment_content>
        <wp:comment_approved>{approved}</wp:comment_approved><wp:comment_type>{kind}</wp:comment_type>
        <wp:comment_parent>0</wp:comment_parent></wp:comment>""" for n, kind, approved, text in rows)
    path = tmp_path / "notes.xml"
    path.write_text(PLAIN_PERMALINKS.format(items=f"<item><title>Post</title><link>https://wp.example/post/</link>"
                                                  f"<wp:post_id>7</wp:post_id>{comments}</item>"), encoding="utf-8")
    output = import_file(runner, path)
    assert "comments: 3 imported (approved 3)" in output and "other 3" in output
    shown = client.get("/api/v1/articles/7/comments").get_json()["comments"]
    assert sorted(c["body_html"] for c in shown) == [
        "<p>A reader's comment</p>", "<p>Five stars, a product review</p>", "<p>Typed comment</p>"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 3


def test_text_that_reads_as_markdown_stays_text(app, runner, client, tmp_path):
    text = "1986. What a year\n\n> not a quote, `not code`, [not](a link) ~~kept~~"
    comment = (f"<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>Ann</wp:comment_author>"
               f"<wp:comment_content><![CDATA[{text}]]></wp:comment_content>"
               f"<wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent></wp:comment>")
    path = tmp_path / "literal.xml"
    path.write_text(PLAIN_PERMALINKS.format(items=f"<item><title>Post</title><link>https://wp.example/post/</link>"
                                                  f"<wp:post_id>8</wp:post_id>{comment}</item>"), encoding="utf-8")
    import_file(runner, path)
    [shown] = client.get("/api/v1/articles/8/comments").get_json()["comments"]
    assert shown["body_html"] == ("<p>1986. What a year</p>\n"
                                  "<p>&gt; not a quote, `not code`, [not](a link) ~~kept~~</p>")


def test_a_post_closed_to_comments_is_a_closed_article(app, runner, client, tmp_path):
    comment = ("<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>Ann</wp:comment_author>"
               "<wp:comment_content>Said before it closed</wp:comment_content>"
               "<wp:comment_approved>1</wp:comment_approved></wp:comment>")
    items = "".join(f"<item><title>{status}</title><link>https://wp.example/{status}/</link>"
                    f"<wp:post_id>{n}</wp:post_id><wp:comment_status>{status}</wp:comment_status>"
                    f"{comment.replace('<wp:comment_id>1<', f'<wp:comment_id>{n}<')}</item>"
                    for n, status in ((20, "closed"), (21, "open")))
    path = tmp_path / "closed.xml"
    path.write_text(PLAIN_PERMALINKS.format(items=items), encoding="utf-8")
    import_file(runner, path)
    assert client.get("/api/v1/articles/20").get_json()["status"] == "closed"
    assert client.get("/api/v1/articles/21").get_json()["status"] == "open"


def test_blank_lines_before_the_xml_declaration_are_read_past(app, runner, client, tmp_path):
    """A plugin that prints a line break makes WordPress start its export with it."""
    path = tmp_path / "blank.xml"
    path.write_text("\n\n  " + WXR.read_text(encoding="utf-8"), encoding="utf-8")
    assert "comments: 7 imported" in import_file(runner, path)
