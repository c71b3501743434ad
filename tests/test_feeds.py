"""Atom feeds of approved comments: GET /feeds/articles/{key}.atom and GET /feeds/recent.atom."""
from datetime import timedelta
from xml.etree import ElementTree

import feedparser
import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Article, Comment

from .factories import recorded_statements, seed_thread, set_status
from .xss_corpus import MAX_COMMENT_LENGTH, assert_inert_html, load_payloads

PUBLIC = "https://comments.example"
ATOM = "{http://www.w3.org/2005/Atom}"
THR = "{http://purl.org/syndication/thread/1.0}"


@pytest.fixture
def config(config):
    config["PUBLIC_URL"] = PUBLIC
    return config


def _parse(response):
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def _xml_entries(response) -> list:
    return ElementTree.fromstring(response.data).findall(f"{ATOM}entry")


def _tag(comment_id: int) -> str:
    return f"tag:comments.example,2026:causerie:comment:{comment_id}"


def _ids(feed) -> list[str]:
    return [entry.id for entry in feed.entries]


def _backdate(app, hours: int = 1) -> None:
    """Every article and comment an hour older: Last-Modified then differs from now by whole seconds."""
    past = timedelta(hours=hours)
    with app.app_context():
        for article in db.session.scalars(db.select(Article)):
            article.created_at -= past
        for comment in db.session.scalars(db.select(Comment)):
            comment.created_at, comment.decided_at = comment.created_at - past, comment.decided_at - past
        db.session.commit()


def test_article_feed_lists_the_approved_comments_newest_first(app, client, make_article, make_comment,
                                                                 alice, bob):
    make_article("a1", title="Tides & <Moons>", url="https://news.example/tides?x=1&y=2")
    make_article("a2")
    first = make_comment(alice, body="**first** words")
    reply = make_comment(bob, body="a reply", parent=first["id"])
    last = make_comment(bob, body="the last one")
    hidden = [make_comment(alice, body=f"hidden {status}", status=status)["id"]
              for status in ("pending", "rejected", "spam", "deleted")]
    make_comment(alice, "a2", "on another article")

    response = client.get("/feeds/articles/a1.atom")
    feed = _parse(response)
    assert _ids(feed) == [_tag(last["id"]), _tag(reply["id"]), _tag(first["id"])]
    assert not {_tag(i) for i in hidden} & set(_ids(feed))
    assert feed.feed.id == "tag:comments.example,2026:causerie:feed:article:a1"
    assert feed.feed.title == "Comments on Tides & <Moons>"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": f"{PUBLIC}/feeds/articles/a1.atom", "alternate": "https://news.example/tides?x=1&y=2"}
    newest = feed.entries[0]
    assert newest.author == "Bob" and newest.title == "Comment by Bob"
    assert newest.link == f"https://news.example/tides?x=1&y=2#comment-{last['id']}"
    assert newest.published == newest.updated
    # The feed changed last when the hidden comments were decided on, after the newest entry.
    assert feed.feed.updated_parsed >= newest.updated_parsed
    oldest = feed.entries[2]
    assert oldest.content[0].type == "text/html"
    assert oldest.content[0].value == "<p><strong>first</strong> words</p>"
    # The reply names its parent's entry (RFC 4685), checked on the raw XML as well.
    assert feed.entries[1]["thr_in-reply-to"]["ref"] == _tag(first["id"])
    in_reply = {entry.findtext(f"{ATOM}id"): entry.find(f"{THR}in-reply-to") for entry in _xml_entries(response)}
    assert in_reply[_tag(last["id"])] is None and in_reply[_tag(first["id"])] is None
    assert in_reply[_tag(reply["id"])].attrib == {
        "ref": _tag(first["id"]), "type": "text/html",
        "href": f"https://news.example/tides?x=1&y=2#comment-{first['id']}"}
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_an_article_without_a_url_links_to_its_demo_page_and_gone_authors_are_neutral(
        app, client, make_article, make_comment, alice):
    make_article("bare", title="", url="")
    comment = make_comment(alice, "bare", "still here")
    with app.app_context():
        db.session.execute(update(Comment).values(author_id=None))  # an anonymized, deleted account
        db.session.commit()
    feed = _parse(client.get("/feeds/articles/bare.atom"))
    assert feed.feed.title == "Comments on bare"
    assert feed.feed.link == f"{PUBLIC}/demo/bare"
    assert feed.entries[0].author == "[deleted]"
    assert feed.entries[0].link == f"{PUBLIC}/demo/bare#comment-{comment['id']}"


def test_an_empty_feed_is_valid_and_dated_by_its_article(client, make_article):
    make_article("quiet")
    feed = _parse(client.get("/feeds/articles/quiet.atom"))
    assert feed.entries == [] and feed.feed.updated


def test_a_later_rejection_or_deletion_removes_the_entry_and_changes_the_validators(
        app, client, make_article, make_comment, alice):
    make_article("a1")
    kept = make_comment(alice, body="kept")["id"]
    doomed = make_comment(alice, body="to be rejected")["id"]
    erased = make_comment(alice, body="to be deleted")["id"]
    _backdate(app)
    first = client.get("/feeds/articles/a1.atom")
    assert _ids(_parse(first)) == [_tag(erased), _tag(doomed), _tag(kept)]
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/feeds/articles/a1.atom", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feeds/articles/a1.atom", headers={"If-Modified-Since": modified}).status_code == 304

    set_status(app, doomed, "rejected")
    set_status(app, erased, "deleted")
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        again = client.get("/feeds/articles/a1.atom", headers=headers)
        assert _ids(_parse(again)) == [_tag(kept)]
        assert again.headers["ETag"] != etag and again.headers["Last-Modified"] != modified


def test_conditional_requests_answer_304_until_a_new_post(client, make_article, make_comment, alice, bob):
    make_article("a1")
    make_comment(alice, body="one")
    first = client.get("/feeds/articles/a1.atom")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Last-Modified"]
    unchanged = client.get("/feeds/articles/a1.atom", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["ETag"] == etag and unchanged.headers["Cache-Control"] == "public, max-age=60"
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    stale = client.get("/feeds/articles/a1.atom",
                       headers={"If-None-Match": '"other"', "If-Modified-Since": first.headers["Last-Modified"]})
    assert stale.status_code == 200
    newer = make_comment(bob, body="two")
    changed = client.get("/feeds/articles/a1.atom", headers={"If-None-Match": etag})
    assert changed.headers["ETag"] != etag
    assert _ids(_parse(changed))[0] == _tag(newer["id"])


def test_unknown_articles_are_404(client):
    assert client.get("/feeds/articles/nope.atom").status_code == 404
    assert client.get("/feeds/articles/bad%20key.atom").status_code == 404
    assert client.get("/feeds/articles/.atom").status_code == 404


def test_hostile_comments_stay_inert_in_the_feed(app, client, make_article, login, alice):
    make_article("a1")
    api = login(alice)
    payloads = [p for p in load_payloads(MAX_COMMENT_LENGTH)
                if "<script" in p.lower() or "onerror" in p.lower() or "\x0b" in p or "\x00" in p][:40]
    assert len(payloads) >= 20
    for payload in payloads:
        api.post("/api/v1/articles/a1/comments", {"body": payload})
    response = client.get("/feeds/articles/a1.atom")
    feed = _parse(response)
    assert len(feed.entries) >= 20
    for entry in _xml_entries(response):
        content = entry.find(f"{ATOM}content")
        assert content.get("type") == "html" and len(content) == 0  # escaped text, never child markup
        assert "<script" not in content.text.lower()
        assert_inert_html(content.text)


def _statements(app, path: str, **headers) -> tuple[int, object]:
    with recorded_statements(app) as statements:
        response = app.test_client().get(path, headers=headers)
    return len(statements), response


def test_a_feed_costs_the_same_statements_whatever_the_thread_size(app, alice):
    seed_thread(app, "small", 5, first_id=5_000_000)
    seed_thread(app, "large", 1_500, first_id=6_000_000)
    small, _ = _statements(app, "/feeds/articles/small.atom")
    large, response = _statements(app, "/feeds/articles/large.atom")
    assert small == large <= 3
    feed = _parse(response)
    assert len(feed.entries) == 50
    assert _ids(feed) == [_tag(6_000_000 + 1_499 - i) for i in range(50)]
    assert sum("thr_in-reply-to" in entry for entry in feed.entries) > 0
    cached, _ = _statements(app, "/feeds/articles/large.atom")
    assert cached == 1  # the article's version: the page cache has the rest
    conditional, again = _statements(app, "/feeds/articles/large.atom", **{"If-None-Match": response.headers["ETag"]})
    assert (conditional, again.status_code) == (1, 304)
    recent, recent_response = _statements(app, "/feeds/recent.atom")
    assert recent <= 2 and len(_parse(recent_response).entries) == 50


def test_recent_feed_spans_articles_and_follows_every_status_change(app, client, make_article, make_comment,
                                                                    alice, bob):
    make_article("a1", title="First story")
    make_article("a2", title="Second story")
    one = make_comment(alice, "a1", "on one")["id"]
    two = make_comment(bob, "a2", "on two")["id"]
    reply = make_comment(alice, "a2", "answering", parent=two)["id"]
    make_comment(alice, "a1", "held back", status="pending")
    make_comment(bob, "a2", "junk", status="spam")
    response = client.get("/feeds/recent.atom")
    feed = _parse(response)
    assert _ids(feed) == [_tag(reply), _tag(two), _tag(one)]
    assert [entry.title for entry in feed.entries] == ["Alice on Second story", "Bob on Second story",
                                                       "Alice on First story"]
    assert feed.feed.id == "tag:comments.example,2026:causerie:feed:recent"
    assert {link.rel: link.href for link in feed.feed.links}["self"] == f"{PUBLIC}/feeds/recent.atom"
    assert feed.entries[0]["thr_in-reply-to"]["ref"] == _tag(two)
    etag = response.headers["ETag"]
    assert client.get("/feeds/recent.atom", headers={"If-None-Match": etag}).status_code == 304

    set_status(app, one, "rejected")  # a status change on another article than the newest entries'
    after = client.get("/feeds/recent.atom", headers={"If-None-Match": etag})
    assert _ids(_parse(after)) == [_tag(reply), _tag(two)]
    set_status(app, one, "approved")
    back = client.get("/feeds/recent.atom", headers={"If-None-Match": after.headers["ETag"]})
    assert _ids(_parse(back)) == [_tag(reply), _tag(two), _tag(one)]


def test_recent_feed_if_modified_since_sees_removals(app, client, make_article, make_comment, alice):
    make_article("a1")
    old = make_comment(alice, body="old")["id"]
    newest = make_comment(alice, body="newest")["id"]
    _backdate(app)
    first = client.get("/feeds/recent.atom")
    modified = first.headers["Last-Modified"]
    assert client.get("/feeds/recent.atom", headers={"If-Modified-Since": modified}).status_code == 304
    set_status(app, newest, "spam")
    after = client.get("/feeds/recent.atom", headers={"If-Modified-Since": modified})
    assert _ids(_parse(after)) == [_tag(old)]


def test_recent_feed_keeps_the_50_newest(app, alice):
    seed_thread(app, "big", 60, first_id=7_000_000)
    feed = _parse(app.test_client().get("/feeds/recent.atom"))
    assert _ids(feed) == [_tag(7_000_000 + 59 - i) for i in range(50)]


def test_without_public_url_links_follow_the_request_host(app, config, client, make_article, make_comment, alice):
    app.config["PUBLIC_URL"] = ""
    make_article("a1")
    make_comment(alice, body="hello")
    feed = _parse(client.get("/feeds/articles/a1.atom", base_url="http://dev.local:5000"))
    assert feed.feed.id == "tag:dev.local,2026:causerie:feed:article:a1"
    assert {link.rel: link.href for link in feed.feed.links}["self"] == "http://dev.local:5000/feeds/articles/a1.atom"


FEED_LINK = '<link rel="alternate" type="application/atom+xml"'


def test_pages_announce_their_feed(client, make_article):
    make_article("a1", title="Tides")
    frame = client.get("/embed/thread?article=a1")
    assert frame.status_code == 200
    head = frame.get_data(as_text=True).split("</head>")[0]
    assert f'{FEED_LINK} title="Tides" href="/feeds/articles/a1.atom">' in head
    host = client.get("/demo/some-thread").get_data(as_text=True).split("</head>")[0]
    assert f'{FEED_LINK} href="/feeds/articles/some-thread.atom">' in host
    demo = client.get("/")
    assert demo.status_code == 200
    assert FEED_LINK in demo.get_data(as_text=True).split("</head>")[0]
