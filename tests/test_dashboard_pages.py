"""The HTML pages: /login, /register (with the `next` check) and /moderation (who gets in, headers)."""
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from app.extensions import db
from app.models import Comment, Role, Status
from app.views.dashboard import safe_next

from .factories import REDIRECTS, assert_error, has_route

# bad-requests.md §9 and auth-attacks.md §12: every one of these falls back to "/".
HOSTILE_NEXT = [
    "https://evil.example", "//evil.example", "///evil.example", "////evil.example",
    "/\\evil.example", "\\/evil.example", "/\\/evil.example", "\\\\evil.example",
    "https:evil.example", "http:/evil.example", "/%2Fevil.example", "%2F%2Fevil.example",
    "/%5Cevil.example", "/%09/evil.example", "/\t/evil.example", " //evil.example",
    "https://example.com@evil.example", "https://evil.example#@example.com",
    "https://evil.example?.example.com", "https://example.com.evil.example",
    "https://evilexample.com", "http://127.0.0.1.nip.io", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "java%0ascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "/\r\nSet-Cookie: a=b", "%0d%0aLocation:%20https://evil.example",
    "/%252F%252Fevil.example", "/%0d%0aSet-Cookie:a=b", "/\x00/evil.example", "/\u3000/evil.example",
    "", "moderation", ".", "x" * 3000,
]
SAFE_NEXT = ["/", "/moderation", "/articles/A1#comments", "/moderation?queue=flagged&article=a1",
             "/demo/a1"]


class _Page(HTMLParser):
    """The parts of a page the tests look at: attributes by id, scripts, inline styles."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id: dict[str, dict] = {}
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[dict] = []
        self.html_lang = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.by_id[attributes["id"]] = attributes
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "html":
            self.html_lang = attributes.get("lang")


def page_of(response) -> _Page:
    return _Page(response.get_data(as_text=True))


def assert_private_page(response):
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def assert_no_inline_code(page: _Page):
    for script in page.scripts:
        assert script.get("src") or script.get("type") == "application/json", script
    for tag, attributes in page.tags:
        assert tag != "style"
        assert "style" not in attributes, tag
        assert not any(name.startswith("on") for name in attributes), (tag, attributes)


# -- next= ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE_NEXT)
def test_safe_next_refuses_anything_but_a_local_path(value):
    assert safe_next(value) == "/"


@pytest.mark.parametrize("value", SAFE_NEXT)
def test_safe_next_keeps_a_local_path(value):
    assert safe_next(value) == value


@pytest.mark.parametrize("path", ["/login", "/register"])
@pytest.mark.parametrize("value", HOSTILE_NEXT)
def test_hostile_next_falls_back_to_root(client, path, value):
    response = client.get(path, query_string={"next": value})
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert page_of(response).by_id["auth-form"]["data-next"] == "/"
    text = response.get_data(as_text=True)
    assert "evil.example" not in text and "javascript:" not in text.lower()


@pytest.mark.parametrize("raw", ["/%2F%2Fevil.example", "%2F%2Fevil.example", "/%5C%5Cevil.example",
                                 "/%09/evil.example", "%0d%0aLocation:%20https://evil.example",
                                 "https%3A%2F%2Fevil.example", "/%252F%252Fevil.example"])
def test_hostile_next_in_the_raw_query_string(client, raw):
    response = client.get("/login?next=" + raw)
    assert response.status_code == 200
    assert page_of(response).by_id["auth-form"]["data-next"] == "/"


@pytest.mark.parametrize("value", SAFE_NEXT)
def test_local_next_is_honoured(client, value):
    response = client.get("/login", query_string={"next": value})
    assert page_of(response).by_id["auth-form"]["data-next"] == value


# -- /login and /register ------------------------------------------------------------------

@pytest.mark.parametrize("path, mode", [("/login", "login"), ("/register", "register")])
def test_auth_pages_are_standalone_forms(client, path, mode):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_private_page(response)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = page_of(response)
    assert page.by_id["auth-form"]["data-mode"] == mode
    assert page.by_id["auth-form"]["data-next"] == "/"
    assert {"f-password"} <= set(page.by_id)
    assert any(s.get("src") == "/static/auth/auth.js" for s in page.scripts)
    assert_no_inline_code(page)


def test_register_form_has_every_field(client):
    page = page_of(client.get("/register"))
    assert {"f-username", "f-email", "f-password", "f-display_name"} <= set(page.by_id)


def test_login_links_to_register_keeping_next(client):
    text = client.get("/login?next=/moderation").get_data(as_text=True)
    assert 'href="/register?next=/moderation"' in text


def test_auth_pages_speak_french(client):
    response = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert page_of(response).html_lang == "fr"
    assert "Connexion" in response.get_data(as_text=True)
    response = client.get("/register?lang=fr")
    assert "Créer un compte" in response.get_data(as_text=True)
    assert page_of(client.get("/login?lang=de")).html_lang == "en"


def test_login_page_of_a_signed_in_user_offers_to_continue(make_user, login):
    user = make_user("dana", display_name="Dana <b>D</b>")
    api = login(user)
    response = api.get("/login?next=/moderation")
    text = response.get_data(as_text=True)
    assert page_of(response).by_id["signed-in"] is not None
    assert "Dana &lt;b&gt;D&lt;/b&gt;" in text and "<b>D</b>" not in text


STATIC = Path(__file__).resolve().parent.parent / "app" / "static"


@pytest.mark.parametrize("asset", sorted([*(str(p.relative_to(STATIC)) for area in ("auth", "moderation", "widget")
                                            for p in (STATIC / area).iterdir()), "i18n.js"]))
def test_page_assets_are_served_with_their_type(client, asset):
    response = client.get(f"/static/{asset}")
    assert response.status_code == 200
    # Module scripts are refused by browsers unless served as JavaScript (nosniff is on).
    expected = "text/javascript" if asset.endswith(".js") else "text/css"
    assert response.mimetype == expected


# -- /moderation ---------------------------------------------------------------------------

def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/moderation")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/moderation"
    assert response.headers["Cache-Control"] == "no-store"


def test_anonymous_head_request_is_sent_to_login_too(client):
    assert client.head("/moderation").status_code == 302


@pytest.fixture
def pending_secret(app, make_user, make_article):
    """A pending comment whose text must never reach a reader."""
    author = make_user("author")
    article = make_article("secret-article", title="Secret title")
    with app.app_context():
        comment = Comment(article_id=article.id, author_id=author.id, status=Status.PENDING,
                          body="SECRET-PENDING-BODY", body_html="<p>SECRET-PENDING-BODY</p>")
        db.session.add(comment)
        db.session.commit()
    return "SECRET-PENDING-BODY"


SPOOFED_HEADERS = [
    {}, {"X-Role": "moderator"}, {"X-User-Id": "1"}, {"X-Forwarded-For": "127.0.0.1"},
    {"X-Original-URL": "/moderation"}, {"X-Rewrite-URL": "/moderation"},
]


@pytest.mark.parametrize("headers", SPOOFED_HEADERS)
def test_reader_is_refused_with_an_html_page_and_no_queue_data(make_user, login, pending_secret,
                                                                headers):
    reader = login(make_user("bob"))
    response = reader.get("/moderation?as=mod&debug=1", headers=headers)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert_private_page(response)
    text = response.get_data(as_text=True)
    assert pending_secret not in text and "Secret title" not in text
    page = page_of(response)
    assert "item-template" not in page.by_id and "page-strings" not in page.by_id
    assert not page.scripts
    assert "Moderators only" in text


def test_reader_refusal_is_translated_and_escapes_the_name(make_user, login):
    reader = login(make_user("eve", display_name='"><img src=x onerror=alert(1)>'))
    response = reader.get("/moderation?lang=fr")
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "Réservé aux modérateurs" in text
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


@pytest.mark.parametrize("path", ["/Moderation", "/moderation/", "//moderation", "/moderation;x",
                                  "/moderation.json"])
def test_path_tricks_never_show_the_dashboard(make_user, login, path):
    reader = login(make_user("mallory"))
    response = reader.get(path)
    assert response.status_code in (308, 403, 404)
    assert b"item-template" not in response.data


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
def test_moderators_and_admins_get_the_dashboard(make_user, login, role):
    api = login(make_user("mod", role=role))
    response = api.get("/moderation")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_private_page(response)
    page = page_of(response)
    assert_no_inline_code(page)
    for tab in ("pending", "flagged", "spam", "rejected", "approved", "log", "settings"):
        assert f"tab-{tab}" in page.by_id
    assert {"item-template", "help-dialog", "ban-dialog", "shortcut-hint", "queue-list",
            "article-filter", "select-all", "log-filter", "settings-form"} <= set(page.by_id)
    assert any(s.get("src") == "/static/moderation/dashboard.js" for s in page.scripts)
    body = next(attrs for tag, attrs in page.tags if tag == "body")
    assert body["data-role"] == role.value and body["data-tab"] == "pending"
    strings = json.loads(_json_block(response.get_data(as_text=True), "page-strings"))
    assert strings["done.approve"] == "Comment approved."


def _json_block(html: str, block_id: str) -> str:
    start = html.index(f'id="{block_id}">') + len(f'id="{block_id}">')
    return html[start:html.index("</script>", start)]


def test_settings_are_editable_by_admins_only(make_user, login):
    admin_page = page_of(login(make_user("root", role=Role.ADMIN)).get("/moderation"))
    assert "settings-save" in admin_page.by_id
    assert not any(tag == "fieldset" and "disabled" in attrs for tag, attrs in admin_page.tags)

    moderator_page = page_of(login(make_user("mod", role=Role.MODERATOR)).get("/moderation"))
    assert "settings-save" not in moderator_page.by_id
    assert any(tag == "fieldset" and "disabled" in attrs for tag, attrs in moderator_page.tags)


def test_dashboard_speaks_french(make_user, login):
    api = login(make_user("mod", role=Role.MODERATOR))
    response = api.get("/moderation", headers={"Accept-Language": "fr"})
    page = page_of(response)
    assert page.html_lang == "fr"
    text = response.get_data(as_text=True)
    assert "Modération" in text and "En attente" in text and "Raccourcis clavier" in text
    assert json.loads(_json_block(text, "page-strings"))["done.approve"] == "Commentaire approuvé."
    assert page_of(api.get("/moderation?lang=en", headers={"Accept-Language": "fr"})).html_lang == "en"


def test_dashboard_opens_the_tab_and_filter_of_the_address(make_user, login):
    api = login(make_user("mod", role=Role.MODERATOR))
    body = _body(api.get("/moderation?queue=flagged&article=a1"))
    assert body["data-tab"] == "flagged" and body["data-article"] == "a1"
    body = _body(api.get('/moderation?queue=<script>&article="><svg onload=alert(1)>'))
    assert body["data-tab"] == "pending" and body["data-article"] == ""


def _body(response) -> dict:
    return next(attrs for tag, attrs in page_of(response).tags if tag == "body")


def test_dashboard_escapes_the_moderator_name(make_user, login):
    api = login(make_user("mod", role=Role.MODERATOR, display_name="<script>alert(1)</script>"))
    text = api.get("/moderation").get_data(as_text=True)
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# -- translations --------------------------------------------------------------------------

def test_english_and_french_have_the_same_strings():
    folder = Path(__file__).resolve().parent.parent / "app" / "translations"
    english = json.loads((folder / "dashboard.en.json").read_text(encoding="utf-8"))
    french = json.loads((folder / "dashboard.fr.json").read_text(encoding="utf-8"))
    assert set(english) == set(french)
    for key, text in english.items():
        assert sorted(_placeholders(text)) == sorted(_placeholders(french[key])), key


def test_every_string_the_scripts_use_is_translated():
    import re

    from app.translations import table
    english = table("en")  # every area's strings (webhooks.en.json, ...), as the pages ship them
    for area, prefix in (("moderation", "dash.js."), ("auth", "auth.js.")):
        for script in (STATIC / area).glob("*.js"):
            for key in re.findall(r'\bt\("([a-z_.]+)"', script.read_text(encoding="utf-8")):
                if not key.endswith("."):
                    assert prefix + key in english, f"{script.name}: {key}"


def _placeholders(text: str) -> list[str]:
    import re
    return re.findall(r"\{(\w+)\}", text)


# -- The dashboard page refuses readers; /login never redirects off-site (auth-attacks.md 2.2, 12)

def test_2_2_dashboard_page_refuses_readers(world):
    """auth-attacks.md 2.2."""
    if not has_route(world.app, "/moderation"):
        assert_error(world.as_bob.get("/moderation", headers={"Accept": "application/json"}), 404)
        return
    page = world.as_bob.get("/moderation")
    assert page.status_code == 403
    assert "pending secret" not in page.get_data(as_text=True)
    anonymous = world.anonymous.get("/moderation")
    assert anonymous.status_code in (302, 303) and anonymous.headers["Location"].startswith("/login")


def test_12_login_page_falls_back_to_the_default_next(world):
    """auth-attacks.md 12."""
    for value in REDIRECTS:
        assert safe_next(value) == "/", value
        page = world.anonymous.get(f"/login?next={quote(value)}")
        assert page.status_code == 200 and "Location" not in page.headers
        assert "evil" not in page.get_data(as_text=True).lower(), value
    assert safe_next("/articles/A1#comments") == "/articles/A1#comments"

