"""The widget's pages through the test client: the loader, the framed thread, the preview, the demo."""
import gzip
import json
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Article, Comment, ModerationEvent, User, Vote

from .conftest import ALLOWED_ORIGIN

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"
DEMO_KEY = "thinking-machines-cofondateurs-openai"


class Document(HTMLParser):
    """The parts of an HTML document these tests look at."""

    def __init__(self, text: str):
        super().__init__()
        self.scripts: list[dict] = []
        self.inline_scripts: list[str] = []
        self.styles = 0
        self.style_attributes = 0
        self.handlers: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self._in_script: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if "style" in attributes:
            self.style_attributes += 1
        self.handlers += [name for name in attributes if name.startswith("on")]
        if tag == "style":
            self.styles += 1
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = attributes

    def handle_data(self, data):
        if self._in_script is not None and "src" not in self._in_script and data.strip():
            if self._in_script.get("type") != "application/json":
                self.inline_scripts.append(data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def find(self, tag, **attrs) -> list[dict]:
        return [a for t, a in self.elements
                if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def assert_no_inline_code(html: str):
    doc = Document(html)
    assert doc.inline_scripts == [] and doc.styles == 0 and doc.style_attributes == 0
    assert doc.handlers == []


def frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]*)", policy).group(1)


def thread_url(key="a1", **params) -> str:
    from urllib.parse import urlencode
    return "/embed/thread?" + urlencode({"article": key, **params})


def config_of(html: str) -> dict:
    raw = re.search(r'<script type="application/json" id="cz-config">(.*?)</script>', html, re.S).group(1)
    return json.loads(raw)


def strings_of(html: str) -> dict:
    raw = re.search(r'<script type="application/json" id="page-strings">(.*?)</script>', html, re.S).group(1)
    return json.loads(raw)


@pytest.fixture
def alice(make_user):
    return make_user("alice", display_name="Alice <b>A</b>")


# -- the loader -------------------------------------------------------------------------------

def test_loader_is_public_cacheable_javascript(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    cache = response.headers["Cache-Control"]
    assert "public" in cache and 60 <= int(re.search(r"max-age=(\d+)", cache).group(1)) <= 3600


def test_loader_fits_the_budget():
    source = (STATIC / "embed.js").read_bytes()
    assert len(gzip.compress(source, 9)) <= 4 * 1024


def test_frame_assets_fit_the_budget(client, make_article):
    make_article("a1")
    document = client.get(thread_url()).data
    # Every module the frame loads (the entry imports all of widget/*.js and the shared i18n.js).
    scripts = [*sorted((STATIC / "widget").glob("*.js")), STATIC / "i18n.js"]
    assets = [path.read_bytes() for path in [*scripts, STATIC / "widget" / "widget.css"]]
    total = sum(len(gzip.compress(part, 9)) for part in [document, *assets])
    assert total <= 30 * 1024


# -- the framed thread --------------------------------------------------------------------------

def test_thread_may_be_framed_by_allowed_origins_only(client, make_article):
    make_article("a1")
    response = client.get(thread_url())
    assert response.status_code == 200
    assert frame_ancestors(response).split() == ["'self'", ALLOWED_ORIGIN]
    assert "X-Frame-Options" not in response.headers
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/demo/some-key", "/api/v1/auth/me", "/healthz"])
def test_other_pages_keep_frame_ancestors_none(client, path):
    response = client.get(path)
    assert frame_ancestors(response) == "'none'"
    assert response.headers.get("X-Frame-Options") == "DENY"


def test_thread_is_rendered_on_the_server(app, client, login, alice, make_article):
    make_article("a1", title="Une <i>histoire</i>")
    api = login(alice)
    top = api.post("/api/v1/articles/a1/comments", {"body": "First **bold** word"}).get_json()["comment"]
    api.post("/api/v1/articles/a1/comments", {"body": "A reply", "parent_id": top["id"]})
    html = client.get(thread_url(lang="en")).get_data(as_text=True)
    assert '<h1 class="cz-title" id="cz-title">Discussion' in html
    assert "2 comments" in html and "Join the conversation" in html
    assert "<p>First <strong>bold</strong> word</p>" in html
    assert f'id="c-{top["id"]}"' in html and "A reply" in html
    # Names and titles are text, never markup.
    assert "Alice &lt;b&gt;A&lt;/b&gt;" in html and "<b>A</b>" not in html
    assert "Une &lt;i&gt;histoire&lt;/i&gt;" in html
    assert 'class="cz-empty" hidden' in html
    assert_no_inline_code(html)


def test_empty_thread_invites_the_first_comment(client, make_article):
    make_article("a1")
    html = client.get(thread_url(lang="en")).get_data(as_text=True)
    assert re.search(r'<p class="cz-empty">\s*Be the first to comment', html)


def test_thread_in_french(client, make_article):
    make_article("a1")
    html = client.get(thread_url(lang="fr-FR")).get_data(as_text=True)
    assert '<html lang="fr"' in html
    assert "Participez à la conversation" in html and "Soyez le premier à commenter" in html
    assert strings_of(html)["error_closed"].startswith("Les commentaires sont fermés")


def test_language_falls_back_to_the_browser(client, make_article):
    make_article("a1")
    html = client.get(thread_url(), headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="fr"' in html


def test_theme_is_passed_to_the_frame(client, make_article):
    make_article("a1")
    assert 'data-theme="dark"' in client.get(thread_url(theme="dark")).get_data(as_text=True)
    assert 'data-theme="light"' in client.get(thread_url(theme="<x>")).get_data(as_text=True)


def test_closed_article_says_so(client, make_article):
    make_article("a1", status="closed")
    html = client.get(thread_url(lang="en")).get_data(as_text=True)
    assert '<p class="cz-closed">Comments are closed on this article.</p>' in html


def test_config_for_the_script(client, make_article, app):
    make_article("a1")
    html = client.get(thread_url(origin=ALLOWED_ORIGIN)).get_data(as_text=True)
    config = config_of(html)
    assert config["article"]["key"] == "a1"
    assert config["parentOrigin"] == ALLOWED_ORIGIN
    assert config["maxLength"] == app.config["MAX_COMMENT_LENGTH"]
    assert config["editWindow"] == app.config["EDIT_WINDOW_MINUTES"]
    assert config["api"] == "/api/v1"


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "", "javascript:alert(1)"])
def test_messages_never_go_to_an_unknown_origin(client, make_article, origin):
    make_article("a1")
    assert config_of(client.get(thread_url(origin=origin)).get_data(as_text=True))["parentOrigin"] is None


def test_own_origin_may_receive_messages(app, client, make_article):
    app.config["PUBLIC_URL"] = "http://localhost"  # our own origin comes from PUBLIC_URL, never Host
    make_article("a1")
    html = client.get(thread_url(origin="http://localhost")).get_data(as_text=True)
    assert config_of(html)["parentOrigin"] == "http://localhost"


def test_script_data_cannot_close_its_block(client, make_article):
    make_article("a1", title="</script><script>alert(1)</script>")
    html = client.get(thread_url()).get_data(as_text=True)
    assert html.count("</script>") == Document(html).scripts.__len__()
    assert config_of(html)["article"]["title"] == "</script><script>alert(1)</script>"


def test_pending_comment_is_shown_to_its_author_only(app, client, login, alice, make_article):
    make_article("a1", moderation="pre")
    api = login(alice)
    comment = api.post("/api/v1/articles/a1/comments", {"body": "Held back"}).get_json()["comment"]
    assert comment["status"] == "pending"
    mine = api.get(thread_url(lang="en")).get_data(as_text=True)
    assert "Held back" in mine and 'class="c-badge c-pend">Awaiting moderation' in mine
    assert "Held back" not in client.get(thread_url()).get_data(as_text=True)


def test_moderators_see_what_was_held_and_why(login, alice, make_user, make_article, client):
    make_article("a1")
    moderator = login(make_user("mod", role="moderator"))
    comment = login(alice).post("/api/v1/articles/a1/comments", {"body": "Bad words"}).get_json()["comment"]
    assert moderator.post(f"/api/v1/moderation/comments/{comment['id']}", {"action": "reject"}).status_code == 200
    html = moderator.get(thread_url(lang="en")).get_data(as_text=True)
    assert "Bad words" in html and 'class="c-badge c-pend">Rejected' in html
    assert "Bad words" not in client.get(thread_url()).get_data(as_text=True)


def test_tombstone_keeps_replies_in_place(app, login, alice, make_user, make_article, client):
    make_article("a1")
    bob = make_user("bob")
    parent = login(alice).post("/api/v1/articles/a1/comments", {"body": "Parent text"}).get_json()["comment"]
    login(bob).post("/api/v1/articles/a1/comments", {"body": "Child text", "parent_id": parent["id"]})
    assert login(alice).delete(f"/api/v1/comments/{parent['id']}").status_code == 204
    html = client.get(thread_url(lang="en")).get_data(as_text=True)
    assert "Parent text" not in html and "Child text" in html
    assert '<p class="c-gone">[deleted]</p>' in html


def test_deep_replies_say_whom_they_answer(login, alice, make_article, client):
    make_article("a1")
    api = login(alice)
    parent_id = None
    for level in range(8):
        body = {"body": f"level {level}"}
        if parent_id:
            body["parent_id"] = parent_id
        parent_id = api.post("/api/v1/articles/a1/comments", body).get_json()["comment"]["id"]
    html = client.get(thread_url(lang="en")).get_data(as_text=True)
    shown = re.findall(r'<span class="c-to"( hidden)?>replying to @alice</span>', html)
    # Levels 0-5 are indented; level 6 is nested by the server (5 replies deep) and says whom it answers.
    assert "" in shown and " hidden" in shown
    assert html.count('class="c c-flat"') >= 1


# -- implicit creation --------------------------------------------------------------------------

def test_unknown_article_is_created_from_an_allowed_page(app, client):
    response = client.get(thread_url("new-one", title="A title\nwith a break", url=f"{ALLOWED_ORIGIN}/x"))
    assert response.status_code == 200
    with app.app_context():
        article = db.session.scalar(select(Article).where(Article.key == "new-one"))
        assert article.title == "A title with a break" and article.url == f"{ALLOWED_ORIGIN}/x"


def test_creation_waits_for_a_concurrent_writer(app, client, make_article):
    """The first view of an article writes from a GET: it must wait for the write lock, never fail
    on a read snapshot another writer made stale (SQLite's "database is locked")."""
    make_article("busy")
    url = thread_url("waited-for", url=f"{ALLOWED_ORIGIN}/w")
    with app.app_context():
        other = db.engine.connect()
        other.exec_driver_sql("UPDATE articles SET title = 'changed' WHERE key = 'busy'")  # holds the lock
        released = threading.Timer(0.3, other.commit)
        released.start()
        try:
            response = client.get(url)
        finally:
            released.join()
            other.close()
        assert response.status_code == 200
        assert db.session.scalar(select(Article.title).where(Article.key == "busy")) == "changed"
        assert db.session.scalar(select(func.count(Article.id)).where(Article.key == "waited-for")) == 1


def test_our_own_demo_pages_may_create_articles(app, client):
    app.config["PUBLIC_URL"] = "http://localhost"  # our own origin comes from PUBLIC_URL, never Host
    assert client.get(thread_url("demo-made", url="http://localhost/demo/demo-made")).status_code == 200


@pytest.mark.parametrize("params, status", [
    ({"url": "https://evil.example/x"}, 404),
    ({}, 404),
    ({"url": "not a url"}, 422),
    ({"url": "javascript:alert(1)"}, 422),
])
def test_unknown_article_otherwise_is_a_framable_error_page(app, client, params, status):
    response = client.get(thread_url("nope", lang="en", **params))
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert frame_ancestors(response).startswith("'self'")
    assert "discussion" in response.get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.scalar(select(func.count(Article.id))) == 0


def test_auto_creation_can_be_turned_off(app, client):
    app.config["AUTO_CREATE_ARTICLES"] = False
    assert client.get(thread_url("nope", url=f"{ALLOWED_ORIGIN}/x")).status_code == 404


@pytest.mark.parametrize("key", ["", "-bad", "a" * 201, "with space", "é"])
def test_malformed_key_is_404(client, key):
    assert client.get(thread_url(key, url=f"{ALLOWED_ORIGIN}/x")).status_code == 404


# -- preview --------------------------------------------------------------------------------------

def test_preview_renders_without_saving(app, login, alice, make_article):
    response = login(alice).post("/api/v1/preview", {"body": "Hi *there* <script>alert(1)</script>"})
    assert response.status_code == 200
    html = response.get_json()["body_html"]
    assert "<em>there</em>" in html and "<script>" not in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_preview_checks_like_a_post(app, login, alice, client):
    api = login(alice)
    assert api.post("/api/v1/preview", {"body": "   "}).status_code == 422
    too_long = "x" * (app.config["MAX_COMMENT_LENGTH"] + 1)
    assert api.post("/api/v1/preview", {"body": too_long}).get_json()["error"]["fields"]["body"]
    assert client.post("/api/v1/preview", json={"body": "x"}).status_code == 401
    assert api.post("/api/v1/preview", {"body": "x"}, headers={"X-CSRF-Token": "wrong"}).status_code == 403


# -- demo pages -----------------------------------------------------------------------------------

def test_demo_article_page(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr"' in html
    assert "<h1>Thinking Machines Lab perd deux de ses cofondateurs, de retour chez OpenAI</h1>" in html
    assert html.count("<p>") >= 7
    doc = Document(html)
    thread = doc.find("div", id="causerie-thread")[0]
    assert thread["data-article"] == DEMO_KEY and thread["data-lang"] == "fr"
    assert thread["data-url"].startswith("http://localhost/")
    assert doc.find("script", src="/embed.js")[0].get("async") is None  # present, valueless
    assert doc.find("span", data_causerie_count=DEMO_KEY)
    assert_no_inline_code(html)


def test_demo_host_page(client):
    html = client.get("/demo/some.key:1?theme=dark&lang=en").get_data(as_text=True)
    doc = Document(html)
    thread = doc.find("div", id="causerie-thread")[0]
    assert thread["data-article"] == "some.key:1" and thread["data-theme"] == "dark"
    assert thread["data-url"] == "http://localhost/demo/some.key:1"
    assert doc.find("span", data_causerie_count="some.key:1")
    assert_no_inline_code(html)


def test_demo_host_page_rejects_bad_keys(client):
    assert client.get("/demo/-x").status_code == 404


# -- the demo command -------------------------------------------------------------------------------

def _snapshot(app):
    with app.app_context():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (User, Article, Comment, Vote, ModerationEvent)}


def test_demo_command_is_idempotent(app, runner, client):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "lecteur" in first.output and "moderatrice" in first.output
    counts = _snapshot(app)
    assert counts["Article"] == 1 and counts["Comment"] >= 5 and counts["User"] >= 4
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert _snapshot(app) == counts
    with app.app_context():
        article = db.session.scalar(select(Article).where(Article.key == DEMO_KEY))
        assert article.url == "http://127.0.0.1:5000/" and article.comment_count == counts["Comment"]
        assert db.session.scalar(select(func.max(Comment.depth))) >= 3
        roles = dict(db.session.execute(select(User.username, User.role)).all())
        assert roles["lecteur"] == "reader" and roles["moderatrice"] == "moderator"
        assert "admin" in roles.values()
    html = client.get("/").get_data(as_text=True)
    assert 'data-url="http://127.0.0.1:5000/"' in html


def test_demo_article_follows_the_address_it_is_served_at(app, runner, client):
    """`make run PORT=8080` after a first `make run`: the demo article moves, nothing is added."""
    assert runner.invoke(args=["demo"]).exit_code == 0
    counts = _snapshot(app)
    moved = runner.invoke(args=["demo", "--url", "http://127.0.0.1:8080/"])
    assert moved.exit_code == 0, moved.output
    assert "Demo article: http://127.0.0.1:8080/" in moved.output
    assert _snapshot(app) == counts
    assert 'data-url="http://127.0.0.1:8080/"' in client.get("/").get_data(as_text=True)


def test_demo_accounts_can_log_in(app, runner, login):
    runner.invoke(args=["demo"])
    api = login()
    response = api.post("/api/v1/auth/login", {"login": "lecteur", "password": "lecteur-demo-2026"})
    assert response.status_code == 200
