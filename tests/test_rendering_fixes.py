"""Rendering fixes: bare URLs after long text no longer garble the comment, and `flask rerender`
writes only what changed, byte for byte as posting would, and makes every server drop its cached pages.
"""
import inspect
import sys
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it.rules_inline.linkify import linkify as upstream_linkify
from sqlalchemy import insert, select, update

from app.discussion import sanitize
from app.discussion.sanitize import render, render_stored
from app.extensions import db
from app.models import Article, Comment
from app.timeutil import utcnow

from .factories import new_comment
from .servers import (
    Api,
    AppServer,
    database_engine,
    fresh_database,  # noqa: F401 - fixture
    register_user,
)

REL = 'rel="nofollow ugc noopener"'


def visible_text(html: str) -> str:
    """What a reader sees: the text content, tags stripped and entities decoded."""
    parts: list[str] = []
    parser = HTMLParser(convert_charrefs=True)
    parser.handle_data = parts.append
    parser.feed(html)
    parser.close()
    return "".join(parts)


def link(url: str) -> str:
    return f'<a href="{url}" {REL}>{url}</a>'


# --- 1. the linkifier keeps the text around bare URLs where it was ------------------------------


def test_the_reported_comment_renders_in_order():
    source = "a long line of words here and more words to make it long enough: http://example.com/abc"
    assert render(source) == (
        "<p>a long line of words here and more words to make it long enough: "
        + link("http://example.com/abc") + "</p>\n"
    )


@pytest.mark.parametrize("length", [0, 2, 59, 60, 62, 63, 64, 65, 66, 67, 70, 128, 200, 5000])
def test_a_bare_url_after_any_length_of_text_keeps_its_place(length):
    prefix = ("word " * length)[: max(length - 1, 0)] + " " * (length > 0)  # ends with a space
    source = f"{prefix}https://example.com/a?b=1 then the end."
    assert render(source) == f"<p>{prefix}" + link("https://example.com/a?b=1") + " then the end.</p>\n"


@pytest.mark.parametrize("length", [60, 64, 65, 70, 200, 5000])
def test_several_urls_after_long_text_keep_their_places(length):
    prefix = "x" * length
    source = f"{prefix} http://a.example/1, {prefix} (http://b.example/2) {prefix}.http://c.example"
    assert render(source) == (
        f"<p>{prefix} {link('http://a.example/1')}, {prefix} ({link('http://b.example/2')}) "
        f"{prefix}.{link('http://c.example')}</p>\n"
    )


def test_a_scheme_glued_to_a_long_word_is_no_scheme_as_upstream_decides():
    # Upstream reads the whole run of scheme characters before "://" as the scheme; none matches.
    for source in [
        "words " + "x" * 61 + "http://example.com",  # the run "x...xhttp" is 65 characters
        "x" * 64 + "http://example.com",
        "x" * 65 + "http://example.com",
        "x1.y" * 20 + "https://example.com",
        "a" * 200 + "://example.com",
    ]:
        assert render(source) == f"<p>{source}</p>\n"
    assert render("words " + "x" * 61 + " http://example.com").endswith(link("http://example.com") + "</p>\n")


def test_links_inside_long_emphasis_keep_their_order():
    words = "more words " * 8
    assert render(f"an escaped \\*star\\* and *{words}see http://example.com/x*") == (
        f"<p>an escaped *star* and <em>{words}see " + link("http://example.com/x") + "</em></p>\n"
    )


# Plain sentences: words, punctuation that Markdown leaves alone, and bare URLs.
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéß", min_size=1, max_size=12)
# "&" stands alone: "&" + "amp" + ";" would spell an entity; "_" and "*" could pair into emphasis.
PUNCTUATION = st.sampled_from([".", ",", ";", ":", "!", "?", "(", ")", '"', "'", " & ", ".."])
URLS = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}.example{path}",
    st.sampled_from(["http", "https", "HTTP"]),
    st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z0-9]{1,6}){0,2}", fullmatch=True),
    st.from_regex(r"(/[a-zA-Z0-9.-]{0,8}){0,3}(\?[a-z]=[0-9]{1,3}(&[a-z]=[0-9])?)?(#[a-z]{1,5})?", fullmatch=True),
)
PREFIX_LENGTHS = st.sampled_from([0, 1, 60, 63, 64, 65, 66, 70, 128, 200, 5000]) | st.integers(0, 300)


@st.composite
def sentences(draw) -> str:
    length = draw(PREFIX_LENGTHS)
    prefix = ("lorem ipsum dolor sit amet " * (length // 27 + 1))[:length]
    pieces = draw(st.lists(st.one_of(WORDS, PUNCTUATION, URLS, URLS), min_size=1, max_size=12))
    glue = draw(st.lists(st.sampled_from([" ", " ", ""]), min_size=len(pieces), max_size=len(pieces)))
    text = prefix + "".join(g + p for g, p in zip(glue, pieces))
    return " ".join(text.split())  # one line, single spaces, nothing at either end


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sentences())
def test_rendering_keeps_the_visible_text_of_plain_sentences(source):
    html = render(source)
    assert visible_text(html).strip() == source
    assert html.startswith("<p>") and html.endswith("</p>\n")


def _upstream_markdown():
    """Our parser with markdown-it's own linkify rule: the reference our bounded rule must agree with."""
    markdown = sanitize._build_markdown()
    markdown.inline.ruler.at("linkify", upstream_linkify)
    return markdown


_UPSTREAM = _upstream_markdown()


def _tokens_html(markdown, source: str) -> str | None:
    try:
        return markdown.render(source, {})
    except sanitize._TooMuchMarkup:
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    sentences(),
    st.text(alphabet="ahtps:/.x *_`[]()<>\\-\n", max_size=300),
    st.builds(lambda n, tail: "x" * n + tail, st.integers(55, 75), st.text(alphabet="htps:/.x ", max_size=30)),
))
def test_bounded_linkify_decides_exactly_as_upstream(source):
    assert _tokens_html(sanitize._markdown, source) == _tokens_html(_UPSTREAM, source)


# --- 2 and 3. `flask rerender` ---------------------------------------------------------------

SHAPES = [
    "Just one plain paragraph.",
    "First paragraph.\n\nSecond paragraph,\nwith a soft break and a hard one  \nhere.",
    "- one\n- two\n  - nested\n- three",
    "3. three\n4. four\n\n1) other list",
    "```\ncode <b>block</b> & stuff\n```",
    "    indented code\n    second line",
    "Inline `code` and **bold** and *em* and ~~gone~~.",
    "A [link](https://example.com/a?b=1&c=2 \"title\") and <https://example.org/auto>.",
    "A bare URL https://example.com/path. And " + "padding words " * 8 + "http://example.org/x!",
    "> a quote\n>\n> > nested quote\n\nafter",
    "Entities: &amp; &copy; &#169; &#x41; &nbsp;x < > \" ' & ¯\\_(ツ)_/¯",
    "<b>raw html</b> stays text <script>alert(1)</script>",
    "[relative](/here) and [mail](mailto:me@example.com)",
    "Unicode: 日本語, emoji 🎉, RTL עברית, combining é.",
    "Trailing spaces and CRLF\r\nline two   ",
    "# not a heading\n\n![not an image](https://example.com/x.png)",
]


def stored(app) -> tuple[dict[int, str], dict[str, int]]:
    """(body_html by comment id, version by article key), read from the database."""
    with app.app_context():
        html = dict(db.session.execute(select(Comment.id, Comment.body_html)).all())
        versions = dict(db.session.execute(select(Article.key, Article.version)).all())
        db.session.remove()
    return html, versions


def set_body_html(app, comment_id: int, html: str) -> None:
    """What a comment rendered by an earlier release holds (behind the app's back: no version bump)."""
    with app.app_context():
        db.session.execute(update(Comment).where(Comment.id == comment_id).values(body_html=html))
        db.session.commit()
        db.session.remove()


def test_rerender_leaves_unchanged_comments_byte_for_byte_and_moves_no_version(
        app, runner, login, alice, make_article):
    make_article("a1")
    make_article("a2")
    api = login(alice)
    posted = {new_comment(api, body, "a1" if i % 2 else "a2")["id"]: body for i, body in enumerate(SHAPES)}
    before_html, before_versions = stored(app)
    assert set(before_html) == set(posted)
    assert all(not html.endswith("\n") for html in before_html.values())

    result = runner.invoke(args=["rerender"])
    assert result.exit_code == 0, result.output
    assert f"Rendered {len(SHAPES)} comments; 0 changed." in result.output
    after_html, after_versions = stored(app)
    assert after_html == before_html
    assert after_versions == before_versions


def test_rerender_serves_the_new_html_to_anonymous_readers_at_once(app, client, runner, login, alice,
                                                                    make_article):
    make_article("a1")
    make_article("a2")
    api = login(alice)
    body = "a long line of words here and more words to make it long enough: http://example.com/abc"
    garbled = new_comment(api, body, "a1")
    untouched = new_comment(api, "nothing to repair here", "a2")
    good_html = garbled["body_html"]
    # As the buggy linkifier stored it.
    set_body_html(app, garbled["id"], "<p>g line of words here and more words to make it long enough: "
                  + link("http://example.com/abc") + "a lon</p>")
    _, versions = stored(app)

    page = client.get("/api/v1/articles/a1/comments")  # anonymous: now cached by this process
    assert page.status_code == 200
    assert page.get_json()["comments"][0]["body_html"].endswith("a lon</p>")
    assert client.get("/api/v1/articles/a2/comments").status_code == 200

    result = runner.invoke(args=["rerender"])
    assert result.exit_code == 0, result.output
    assert "Rendered 2 comments; 1 changed." in result.output

    html, after = stored(app)
    assert html[garbled["id"]] == good_html and html[untouched["id"]] == untouched["body_html"]
    assert after == {"a1": versions["a1"] + 1, "a2": versions["a2"]}
    assert client.get("/api/v1/articles/a1/comments").get_json()["comments"][0]["body_html"] == good_html


@pytest.mark.slow
def test_rerender_reaches_every_server_process(fresh_database, tmp_path):  # noqa: F811 - fixture
    """Two gunicorn servers of two workers each, each worker with its own cache: all serve the repair."""
    with AppServer(fresh_database, migrate=True, log_dir=tmp_path / "a") as first, \
            AppServer(fresh_database, log_dir=tmp_path / "b") as second:
        alice = register_user(first.base_url, "alice")
        url = "/api/v1/articles/shared/comments"
        body = "a long line of words here and more words to make it long enough: http://example.com/abc"
        posted = alice.post(url, {"body": body, "title": "Shared", "url": "https://news.example/shared"})
        assert posted.status_code == 201, posted.text
        comment = posted.json()["comment"]
        with database_engine(fresh_database) as engine, engine.begin() as conn:
            conn.execute(update(Comment.__table__).where(Comment.__table__.c.id == comment["id"])
                         .values(body_html="<p>garbled</p>"))
        anonymous = [Api(first.base_url), Api(second.base_url)]
        for reader in anonymous:
            for _ in range(8):  # enough requests for both workers of each server to cache the page
                assert reader.get(url).json()["comments"][0]["body_html"] == "<p>garbled</p>"

        assert "1 changed" in first.cli("rerender")

        for reader in anonymous:
            for _ in range(8):
                assert reader.get(url).json()["comments"][0]["body_html"] == comment["body_html"]
        assert not first.tracebacks() and not second.tracebacks()


def insert_comments(app, article_id: int, author_id: int, bodies: list[str], html: str | None = None) -> None:
    """Comments as an earlier release stored them: ``html`` (or today's rendering) as their body_html."""
    now = utcnow()
    with app.app_context():
        db.session.execute(insert(Comment), [
            {"article_id": article_id, "author_id": author_id, "body": body,
             "body_html": html if html is not None else render_stored(body)[0],
             "status": "approved", "depth": 0, "created_at": now, "decided_at": now} for body in bodies])
        db.session.commit()
        db.session.remove()


def test_rerender_of_an_empty_database_says_so(app, runner):
    result = runner.invoke(args=["rerender"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Rendered 0 comments; 0 changed.\n" and result.stderr == ""


def test_rerender_goes_through_every_batch_and_counts_them_all(app, runner, alice, make_article):
    """Over 500 comments (the batch size): each batch is read after the last id of the one before."""
    a1 = make_article("a1")
    insert_comments(app, a1.id, alice.id, [f"comment number {n}" for n in range(1, 1204)])
    ids = sorted(stored(app)[0])
    for stale in (ids[0], ids[499], ids[500], ids[-1]):  # first and last of the batches
        set_body_html(app, stale, "<p>stale</p>")

    result = runner.invoke(args=["rerender"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Rendered 1203 comments; 4 changed.\n" and result.stderr == ""
    html, _ = stored(app)
    assert len(html) == 1203 and "<p>stale</p>" not in html.values()
    assert html[ids[500]] == "<p>comment number 501</p>"


# Nested quotes at the renderer's nesting cap: its deepest path through markdown-it and html5lib.
DEEPEST = "> " * 40 + "deep"


def rerender_at_recursion_limit(app, runner, limit: int):
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        return runner.invoke(args=["rerender"])
    finally:
        sys.setrecursionlimit(previous)


def test_rerender_keeps_and_reports_a_comment_that_no_longer_renders(app, runner, alice, make_article):
    """A source the renderer cannot render (RenderError, here: the interpreter's recursion limit reached
    while rendering the deepest markup) keeps its old HTML, is named on stderr, and the run goes on.

    No source renders out of bounds under the normal limit (that is what MAX_NESTING is for), so the
    test lowers the limit step by step until the command itself completes: at that point everything
    but the deepest rendering fits, and the deep comment is the one that fails."""
    a1 = make_article("a1")
    insert_comments(app, a1.id, alice.id, ["plain words before"], html="<p>old</p>")
    insert_comments(app, a1.id, alice.id, [DEEPEST], html="<p>old deep</p>")
    insert_comments(app, a1.id, alice.id, ["plain words after"], html="<p>old</p>")
    first, deep, last = sorted(stored(app)[0])
    depth = len(inspect.stack())
    for extra in range(20, 300):
        result = rerender_at_recursion_limit(app, runner, depth + extra)
        if result.exit_code == 0:
            break
        for comment_id in (first, last):
            set_body_html(app, comment_id, "<p>old</p>")  # a run cut short may have stored some
    else:
        pytest.fail("rerender never completed")

    assert result.stdout == "Rendered 3 comments; 2 changed.\n", result.output
    assert result.stderr == f"Kept the old HTML of 1 that no longer render: ids [{deep}]\n"
    html, _ = stored(app)
    assert html == {first: "<p>plain words before</p>", deep: "<p>old deep</p>", last: "<p>plain words after</p>"}
    # Under the normal limit the same comment renders, and the next run repairs it.
    result = runner.invoke(args=["rerender"])
    assert result.stdout == "Rendered 3 comments; 1 changed.\n" and result.stderr == ""
    assert stored(app)[0][deep] == render_stored(DEEPEST)[0]
