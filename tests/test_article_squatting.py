"""Trust boundaries: the log-in page's `next`, our own origin from PUBLIC_URL (never Host), the
limit on implicit article creation, and provisional titles corrected by the host page."""
import json
import re
import uuid
from html import unescape
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from sqlalchemy import event, func, select

from app import create_app
from app.extensions import db
from app.models import Article
from app.web.next_path import safe_next

from .conftest import ALLOWED_ORIGIN, ApiClient

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"
SITE = "https://comments.example"

# -- next= -----------------------------------------------------------------------------------

# Each of these reads, somewhere between server and browser, as another site (or a script).
HOSTILE_NEXT = [
    "/.//evil.example", "/..//evil.example", "/%2e%2e//evil.example", "/%2E%2E//evil.example",
    "/./%2fevil.example", "/.%2f/evil.example", "/%2e/%2fevil.example", "/a/../..//evil.example",
    "/a/%2e%2e/%2e%2e//evil.example", "/%252e%252e//evil.example", "/%25252F%25252Fevil.example",
    "/\\evil.example", "/%5cevil.example", "/%5Cevil.example", "/.\\/evil.example", "/..\\\\evil.example",
    "\\\\evil.example", "%2f%2fevil.example", "%2F%5Cevil.example", "//evil.example", "///evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/%09/evil.example", "/%0a/evil.example",
    "/.%09/evil.example", "\t//evil.example", "/ /evil.example", "/\u3000/evil.example",
    "https://evil.example", "HTTPS://evil.example", "https:evil.example", "http:/evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "java%0ascript:alert(1)", "%6aavascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "mailto:a@evil.example", "?next=//evil.example",
    "#//evil.example", "evil.example", ".", "..", "", "/%ff//evil.example", "x" * 3000,
]
# A same-site path, and what it becomes once normalised.
NORMALISED_NEXT = [
    ("/", "/"),
    ("/moderation", "/moderation"),
    ("/moderation?queue=flagged&article=a1", "/moderation?queue=flagged&article=a1"),
    ("/articles/A1#comments", "/articles/A1#comments"),
    ("/demo/a1", "/demo/a1"),
    ("/a/b/../c", "/a/c"),
    ("/a/./b", "/a/b"),
    ("/a/..", "/"),
    ("/..", "/"),
    ("/a\\b", "/a/b"),
    ("/%61", "/a"),
    ("/a%2fb", "/a/b"),
    ("/café", "/caf%C3%A9"),
    ("/x?to=//evil.example", "/x?to=//evil.example"),
    ("/x?a=\\b", "/x?a=%5Cb"),
    ("/x?a=%2F", "/x?a=%2F"),
    ("/<script>", "/%3Cscript%3E"),
]


@pytest.mark.parametrize("value", HOSTILE_NEXT)
def test_hostile_next_falls_back_to_the_root(value):
    assert safe_next(value) == "/"


@pytest.mark.parametrize("value, expected", NORMALISED_NEXT)
def test_same_site_next_is_normalised(value, expected):
    assert safe_next(value) == expected


@pytest.mark.parametrize("value", [v for v in HOSTILE_NEXT] + [v for v, _ in NORMALISED_NEXT])
def test_next_always_resolves_on_this_site(value):
    result = safe_next(value)
    assert result.startswith("/") and not result.startswith(("//", "/\\"))
    assert not re.search(r"[\x00-\x20\x7f\\]", result.split("?")[0].split("#")[0])
    # What a browser makes of it: the same origin, and the same path (nothing left to resolve).
    resolved = urlsplit(urljoin("https://site.example/login?next=x", result))
    assert (resolved.scheme, resolved.netloc) == ("https", "site.example")
    assert resolved.path == result.split("?")[0].split("#")[0]
    assert safe_next(result) == result  # a fixed point: the page has nothing to re-derive


def data_next(html: str) -> str:
    return unescape(re.search(r'data-next="([^"]*)"', html).group(1))


@pytest.mark.parametrize("path", ["/login", "/register"])
@pytest.mark.parametrize("value", ["/.//evil.example", "/..//evil.example", "/%2e%2e//evil.example",
                                   "/%5cevil.example", "/./%2fevil.example", "/\t/evil.example"])
def test_pages_render_the_checked_next(client, path, value):
    html = client.get(path, query_string={"next": value}).get_data(as_text=True)
    assert data_next(html) == "/"
    assert "evil" not in html


def test_pages_render_the_normalised_next(client, login, alice):
    value = "/demo/./x/../a1?lang=en"
    html = login(alice).get("/login", query_string={"next": value}).get_data(as_text=True)
    assert data_next(html) == "/demo/a1?lang=en"
    # The signed-in reader's "continue" link goes to the same checked path.
    assert unescape(re.search(r'class="auth-button" href="([^"]*)"', html).group(1)) == "/demo/a1?lang=en"


def test_the_page_script_follows_the_servers_next_as_is():
    script = (STATIC / "auth" / "auth.js").read_text()
    assert 'getAttribute("data-next")' in script
    assert "new URL(" not in script and ".pathname" not in script


# -- our own origin --------------------------------------------------------------------------

def thread_url(key, **params) -> str:
    return "/embed/thread?" + urlencode({"article": key, **params})


def config_of(html: str) -> dict:
    raw = re.search(r'<script type="application/json" id="cz-config">(.*?)</script>', html, re.S).group(1)
    return json.loads(raw)


def article_row(app, key):
    with app.app_context():
        return db.session.scalar(select(Article).where(Article.key == key))


def count_articles(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Article.id)))


def test_host_header_never_makes_an_origin_a_host_site(app, client):
    evil = {"Host": "evil.example"}
    response = client.get(thread_url("pub-key", title="Phish", url="http://evil.example/login"), headers=evil)
    assert response.status_code == 404
    app.config["PUBLIC_URL"] = SITE
    response = client.get(thread_url("pub-key", title="Phish", url="http://evil.example/login"), headers=evil)
    assert response.status_code == 404
    assert count_articles(app) == 0


def test_public_url_origin_is_a_host_site(app, client):
    app.config["PUBLIC_URL"] = SITE + "/"
    response = client.get(thread_url("demo-k", url=f"{SITE}/demo/demo-k"), headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert article_row(app, "demo-k").url == f"{SITE}/demo/demo-k"


def test_messages_go_to_public_url_not_to_the_host_header(app, client, make_article):
    make_article("a1")
    evil = {"Host": "evil.example"}
    assert config_of(client.get(thread_url("a1", origin="http://evil.example"), headers=evil)
                     .get_data(as_text=True))["parentOrigin"] is None
    app.config["PUBLIC_URL"] = SITE
    assert config_of(client.get(thread_url("a1", origin=SITE), headers=evil)
                     .get_data(as_text=True))["parentOrigin"] == SITE


def test_demo_pages_point_at_public_url(app, client):
    app.config["PUBLIC_URL"] = SITE
    html = client.get("/demo/k1", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert f'data-url="{SITE}/demo/k1"' in html


def test_posting_creates_articles_on_public_url_only(app, login, alice):
    api = login(alice)
    body = {"body": "First!", "title": "T", "url": "http://localhost/demo/p1"}
    assert api.post("/api/v1/articles/p1/comments", body).status_code == 404
    app.config["PUBLIC_URL"] = SITE
    body["url"] = f"{SITE}/demo/p1"
    assert api.post("/api/v1/articles/p1/comments", body).status_code == 201
    assert article_row(app, "p1").meta_source == "view"


# -- rate limit on creation ------------------------------------------------------------------

@pytest.fixture
def limited_app(app, config):
    """An app with rate limits on and a creation limit of 3 (``app`` first, so the tables are emptied)."""
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_ARTICLE_CREATE="3 per minute;50 per day")
    return create_app(config)


def client_at(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def fresh_ip() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def test_widget_creation_is_limited_per_ip_and_views_are_not(limited_app, make_article):
    make_article("seen")
    client = client_at(limited_app, fresh_ip())
    for _ in range(10):  # viewing an existing article never counts
        assert client.get(thread_url("seen", url=f"{ALLOWED_ORIGIN}/seen")).status_code == 200
    for n in range(3):
        assert client.get(thread_url(f"new{n}", url=f"{ALLOWED_ORIGIN}/new{n}")).status_code == 200
    response = client.get(thread_url("new3", url=f"{ALLOWED_ORIGIN}/new3"))
    assert response.status_code == 429
    assert response.mimetype == "text/html" and "cz-status" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert article_row(limited_app, "new3") is None
    for _ in range(10):  # past the limit, existing articles still open
        assert client.get(thread_url("new0", url=f"{ALLOWED_ORIGIN}/new0")).status_code == 200
    # Another address has its own budget.
    assert client_at(limited_app, fresh_ip()).get(thread_url("new3", url=f"{ALLOWED_ORIGIN}/new3")).status_code == 200


def test_api_creation_is_limited_with_retry_after(limited_app, alice, make_article):
    make_article("seen")
    api = ApiClient(client_at(limited_app, fresh_ip()), alice)
    for n in range(3):
        response = api.post(f"/api/v1/articles/c{n}/comments",
                            {"body": f"Hello {n}", "title": "T", "url": f"{ALLOWED_ORIGIN}/c{n}"})
        assert response.status_code == 201, response.get_json()
    response = api.post("/api/v1/articles/c3/comments",
                        {"body": "Hello 3", "title": "T", "url": f"{ALLOWED_ORIGIN}/c3"})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert article_row(limited_app, "c3") is None
    # Commenting on an existing article is not a creation.
    assert api.post("/api/v1/articles/seen/comments", {"body": "Still here"}).status_code == 201


# -- provisional titles ----------------------------------------------------------------------

FROM_PAGE = {"Referer": ALLOWED_ORIGIN + "/"}


def view(client, key, title, path, headers=None):
    return client.get(thread_url(key, title=title, url=f"{ALLOWED_ORIGIN}/{path}"), headers=headers or {})


def test_a_scripted_first_view_is_corrected_by_the_host_page_once(app, client):
    assert view(client, "k1", "Free prizes, log in here", "phish").status_code == 200
    row = article_row(app, "k1")
    assert (row.title, row.url, row.meta_source) == ("Free prizes, log in here", f"{ALLOWED_ORIGIN}/phish", "view")
    # A Referer from another site is not the host page.
    view(client, "k1", "Still phish", "phish2", {"Referer": "https://evil.example/"})
    assert article_row(app, "k1").title == "Free prizes, log in here"
    response = view(client, "k1", "The real story", "2026/real-story", FROM_PAGE)
    assert response.status_code == 200 and "The real story" in response.get_data(as_text=True)
    row = article_row(app, "k1")
    assert (row.title, row.url, row.meta_source) == ("The real story", f"{ALLOWED_ORIGIN}/2026/real-story", "page")
    view(client, "k1", "Another title", "other", FROM_PAGE)
    assert article_row(app, "k1").title == "The real story"


def test_a_first_view_from_the_host_page_is_settled(app, client):
    assert view(client, "k2", "The real story", "real", {"Referer": f"{ALLOWED_ORIGIN}/real"}).status_code == 200
    assert article_row(app, "k2").meta_source == "page"
    view(client, "k2", "Phish", "phish", FROM_PAGE)
    assert article_row(app, "k2").title == "The real story"


@pytest.mark.parametrize("method, who", [("PUT", "admin"), ("PATCH", "mod")])
def test_staff_titles_are_never_changed_by_views(app, client, login, request, method, who):
    view(client, "k3", "Phish", "phish")
    staff = login(request.getfixturevalue(who))
    fields = {"title": "Set by staff", "url": f"{ALLOWED_ORIGIN}/staff"}
    response = staff.put("/api/v1/articles/k3", fields) if method == "PUT" else staff.patch("/api/v1/articles/k3", fields)
    assert response.status_code == 200
    view(client, "k3", "From a view", "view", FROM_PAGE)
    row = article_row(app, "k3")
    assert (row.title, row.url, row.meta_source) == ("Set by staff", f"{ALLOWED_ORIGIN}/staff", "admin")


def test_closing_an_article_leaves_its_title_provisional(app, client, login, mod):
    view(client, "k4", "Phish", "phish")
    assert login(mod).patch("/api/v1/articles/k4", {"status": "closed"}).status_code == 200
    view(client, "k4", "The real story", "real", FROM_PAGE)
    row = article_row(app, "k4")
    assert (row.title, row.status) == ("The real story", "closed")


def test_viewing_a_settled_article_costs_no_extra_query(app, client):
    view(client, "k5", "Phish", "phish")
    view(client, "k5", "The real story", "real", FROM_PAGE)
    assert article_row(app, "k5").meta_source == "page"
    with app.app_context():
        engine = db.engine
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        view(client, "k5", "The real story", "real", FROM_PAGE)
        from_page = len(statements)
        statements.clear()
        view(client, "k5", "Whatever", "real")
        anonymous = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert from_page == anonymous
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)
