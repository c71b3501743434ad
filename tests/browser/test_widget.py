"""The embedded discussion in a real browser: a reader's journey on the demo page, premoderation,
single sign-on, the loader's contract, hostile comments, and screenshots of the demo page."""
import re
import threading
import time

import jwt
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    FRAME,
    HOST_ORIGIN,
    PASSWORD,
    thread_frame,
    wait_ready,
)

DEMO_KEY = "thinking-machines-cofondateurs-openai"
# Records every dialog function call in the frame it runs in (init scripts run in every frame).
HOOKS = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = function () { window.__xss.push(name); console.log("XSS-HOOK " + name); };
}
"""


@pytest.fixture(scope="module")
def demo(live_server):
    """The demo data, loaded once (the command is idempotent) with the live server's address."""
    live_server.flask("demo", "--url", live_server.url + "/")
    return live_server


def thread(page):
    return page.frame_locator(FRAME)


def iframe_height(page) -> float:
    return page.locator(FRAME).evaluate("f => f.getBoundingClientRect().height")


def assert_fits_content(page):
    """The iframe is as tall as its document: no inner scrollbar, no gap."""
    frame = thread_frame(page)
    for _ in range(50):
        content = frame.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)")
        if abs(iframe_height(page) - content) <= 2:
            return
        time.sleep(0.1)
    raise AssertionError(f"iframe {iframe_height(page)}px, content {content}px")


def comment_id(locator) -> int:
    return int(locator.get_attribute("data-id"))


def host_page(context, url: str, html: str, watch_console):
    """A page at ``url`` whose document is ``html`` (served by the browser, never by the app)."""
    context.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    page = context.new_page()
    watch_console(page)
    page.goto(url)
    return page


def embed_html(live_url: str, key: str, script_src: str, extra: str = "", lang: str = "en") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><title>Host</title>{extra}</head><body>'
            f'<h1>Host page</h1><span data-causerie-count="{key}"></span>'
            f'<div id="causerie-thread" data-article="{key}" data-title="Host {key}" '
            f'data-url="{live_url}/demo/{key}"></div>'
            f'<script async src="{script_src}"></script></body></html>')


def sso_token(live_server, sub: str, username: str, name: str) -> str:
    claims = {"sub": sub, "username": username, "name": name, "email": f"{username}@host.example",
              "exp": int(time.time()) + 600}
    return jwt.encode(claims, live_server.sso_secret, algorithm="HS256")


# -- screenshots (first, while the demo page holds only the demo discussion) ----------------------

@pytest.mark.parametrize("width, device", [(1280, "desktop"), (390, "phone")])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_demo_page_screenshots(demo, new_context, artifacts, width, device, theme, watch_console):
    context = new_context(viewport={"width": width, "height": 900}, color_scheme=theme)
    page = context.new_page()
    watch_console(page)
    page.goto(f"/?theme={theme}")
    wait_ready(page)
    assert_fits_content(page)
    expect(page.locator(f'[data-causerie-count="{DEMO_KEY}"]')).not_to_have_text("0")
    background = thread_frame(page).evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(22, 25, 29)") == (theme == "dark")
    # No horizontal scrolling at phone width, on the page or in the frame.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert thread_frame(page).evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.screenshot(path=str(artifacts / f"widget-demo-{device}-{theme}.png"), full_page=True)
    assert page.console_errors == []


# -- the reader's journey on the demo page ---------------------------------------------------------

def test_reader_journey_on_the_demo_page(demo, page):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    badge = page.locator(f'[data-causerie-count="{DEMO_KEY}"]')
    expect(badge).not_to_have_text("0")
    before = int(badge.text_content())
    assert sum("/api/v1/counts" in url for url in requests) == 1
    frame = wait_ready(page)
    expect(frame.locator(".cz-title")).to_contain_text("Discussion")
    expect(frame.locator(".cz-join-title")).to_have_text("Participez à la conversation")
    assert_fits_content(page)
    start_height = iframe_height(page)

    # A new reader registers inside the frame.
    name = demo.unique("lectrice")
    frame.locator("[data-act=show-register]").click()
    frame.locator("#cz-reg-username").fill(name)
    frame.locator("#cz-reg-name").fill("Lectrice Nouvelle")
    frame.locator("#cz-reg-email").fill(f"{name}@example.org")
    frame.locator("#cz-reg-password").fill(PASSWORD)
    frame.locator(".cz-register [type=submit]").click()
    expect(frame.locator(".cz-me-name")).to_have_text("Lectrice Nouvelle")
    expect(frame.locator(".cz-auth")).to_be_hidden()

    # She posts a comment, with a look at the preview first.
    composer = frame.locator(".cz-compose")
    composer.locator("textarea").fill("Très bon *article*, merci !")
    expect(composer.locator(".cz-counter")).to_contain_text("27 / 10000")
    composer.locator("[data-act=preview]").click()
    expect(composer.locator(".cz-preview em")).to_have_text("article")
    composer.locator("[type=submit]").click()
    mine = frame.locator(".c-list > .c").filter(has_text="Très bon article")
    expect(mine).to_have_count(1)
    expect(mine.locator(".c-author").first).to_have_text("Lectrice Nouvelle")
    expect(badge).to_have_text(str(before + 1))
    expect(frame.locator("#cz-count")).to_contain_text(str(before + 1))

    # She replies at depth 3, under the demo's depth-2 comment.
    parent = frame.locator('.c[data-depth="2"]').first
    parent.locator(":scope > .c-box [data-act=reply]").click()
    reply_box = parent.locator(":scope > .c-box textarea")
    expect(reply_box).to_be_focused()
    reply_box.fill("Une réponse au troisième niveau.")
    parent.locator(":scope > .c-box [type=submit]").click()
    reply = parent.locator(':scope > .c-replies > .c[data-depth="3"]').filter(has_text="troisième niveau")
    expect(reply).to_have_count(1)
    expect(badge).to_have_text(str(before + 2))

    # She edits her comment.
    mine.locator(":scope > .c-box [data-act=edit]").click()
    editor = mine.locator(":scope > .c-box textarea")
    expect(editor).to_have_value("Très bon *article*, merci !")
    editor.fill("Très bon **article**, merci beaucoup !")
    mine.locator(":scope > .c-box [type=submit]").click()
    expect(mine.locator(":scope > .c-box .c-body strong")).to_have_text("article")
    expect(mine.locator(":scope > .c-box .c-edited")).to_be_visible()

    # She votes on someone else's comment, and can take the vote back.
    other = frame.locator(".c-list > .c").first
    score = other.locator(":scope > .c-box .c-score")
    old_score = int(score.text_content())
    other.locator(":scope > .c-box [data-act=up]").click()
    expect(score).to_have_text(str(old_score + 1))
    expect(other.locator(":scope > .c-box [data-act=up]")).to_have_attribute("aria-pressed", "true")
    expect(mine.locator(":scope > .c-box [data-act=up]")).to_be_hidden()  # not on her own

    # She flags another comment with a reason.
    flagged = frame.locator(".c-list > .c").nth(1)
    flagged.locator(":scope > .c-box [data-act=flag]").click()
    flagged.locator(":scope > .c-box input[value=off_topic]").check()
    flagged.locator(":scope > .c-box .cz-note").fill("Rien à voir avec l'article")
    flagged.locator(":scope > .c-box .cz-flag [type=submit]").click()
    expect(flagged.locator(":scope > .c-box .c-msg")).to_contain_text("Merci")
    expect(flagged.locator(":scope > .c-box [data-act=flag]")).to_be_hidden()

    # The frame grew with its content, and still fits it exactly.
    assert iframe_height(page) > start_height
    assert_fits_content(page)

    # What the browser did is what the server stored.
    api = demo.login(name)
    stored = api.get(f"/comments/{comment_id(mine)}").json()
    assert stored["body"] == "Très bon **article**, merci beaucoup !" and stored["edited_at"]
    assert api.get(f"/comments/{comment_id(reply)}").json()["depth"] == 3
    assert api.get(f"/comments/{comment_id(other)}").json()["my_vote"] == 1
    assert api.post(f"/comments/{comment_id(flagged)}/flags", {"reason": "spam"}).status_code == 409

    # Deleting her reply takes it away and the count back down.
    reply.locator(":scope > .c-box [data-act=delete]").click()
    reply.locator("[data-act=confirm-delete]").click()
    expect(reply).to_have_count(0)
    expect(badge).to_have_text(str(before + 1))
    assert page.console_errors == []


def test_premoderation_holds_then_a_moderator_approves(demo, new_context, watch_console):
    admin = demo.login(demo.create_user(role="admin").username)
    moderator = demo.create_user(role="moderator")
    key = demo.unique("premod-")
    previous = admin.get("/moderation/settings").json()["premoderation"]
    assert admin.put("/moderation/settings", {"premoderation": "all"}).status_code == 200
    try:
        reader = demo.register()
        context = new_context()
        context.add_cookies(reader.cookies_for_browser())
        page = context.new_page()
        watch_console(page)
        page.goto(f"/demo/{key}?lang=en")
        frame = wait_ready(page)
        expect(frame.locator(".cz-empty")).to_be_visible()
        frame.locator(".cz-compose textarea").fill("Held for a moderator")
        frame.locator(".cz-compose [type=submit]").click()
        mine = frame.locator(".c").filter(has_text="Held for a moderator")
        expect(mine.locator(".c-pend")).to_have_text("Awaiting moderation")
        expect(frame.locator(".cz-status")).to_contain_text("awaiting moderation")
        badge = page.locator(f'[data-causerie-count="{key}"]')
        expect(badge).to_have_text("0")
        held = comment_id(mine)

        # Still there, still pending, for its author after a reload.
        page.reload()
        frame = wait_ready(page)
        expect(frame.locator(f"#c-{held} .c-pend")).to_be_visible()

        # Others do not see it.
        stranger = new_context().new_page()
        watch_console(stranger)
        stranger.goto(f"/demo/{key}?lang=en")
        expect(wait_ready(stranger).locator(".cz-empty")).to_be_visible()

        decision = demo.login(moderator.username).post(f"/moderation/comments/{held}", {"action": "approve"})
        assert decision.status_code == 200, decision.text

        stranger.reload()
        other_view = wait_ready(stranger)
        expect(other_view.locator(f"#c-{held}")).to_contain_text("Held for a moderator")
        expect(other_view.locator(f"#c-{held} .c-pend")).to_be_hidden()
        expect(stranger.locator(f'[data-causerie-count="{key}"]')).to_have_text("1")
        assert page.console_errors == [] and stranger.console_errors == []
    finally:
        admin.put("/moderation/settings", {"premoderation": previous})


def test_single_sign_on_logs_a_subscriber_in(live_server, new_context, watch_console):
    key = live_server.unique("sso-")
    sub = live_server.unique("subscriber-")
    token = sso_token(live_server, sub, "abonne", "Abonnée du site")
    context = new_context()
    url = f"{live_server.url}/sso-host/{key}"
    html = embed_html(live_server.url, key, "/embed.js").replace(
        'data-url=', f'data-sso="{token}" data-url=')
    requests = []
    context.on("request", lambda r: requests.append(r.url))
    page = host_page(context, url, html, watch_console)
    frame = thread(page)
    expect(frame.locator(".cz-me-name")).to_have_text("Abonnée du site")
    assert not any(token in url for url in requests)  # the token never travels in a URL
    frame.locator(".cz-compose textarea").fill("Posted with my subscriber account")
    frame.locator(".cz-compose [type=submit]").click()
    posted = frame.locator(".c").filter(has_text="Posted with my subscriber account")
    expect(posted.locator(".c-user")).to_have_text(re.compile(r"^@abonne"))

    # The next page view reuses the session instead of signing in again.
    sso_calls = sum("/auth/sso" in u for u in requests)
    page.reload()
    expect(thread(page).locator(".cz-me-name")).to_have_text("Abonnée du site")
    time.sleep(0.3)
    assert sum("/auth/sso" in u for u in requests) == sso_calls
    assert page.console_errors == []


def test_forged_sso_token_is_refused(live_server, new_context, watch_console):
    key = live_server.unique("sso-bad-")
    forged = jwt.encode({"sub": "x", "username": "intruder", "exp": int(time.time()) + 600},
                        "not-the-secret-but-long-enough-0123456789", algorithm="HS256")
    html = embed_html(live_server.url, key, "/embed.js").replace("data-url=", f'data-sso="{forged}" data-url=')
    page = host_page(new_context(), f"{live_server.url}/sso-forged/{key}", html, watch_console)
    frame = thread(page)
    expect(frame.locator(".cz-status")).to_contain_text("could not sign you in")
    expect(frame.locator(".cz-auth")).to_be_visible()


# -- the loader's contract --------------------------------------------------------------------------

def test_loader_twice_before_the_elements_exist(live_server, new_context, watch_console):
    key = live_server.unique("twice-")
    html = (f'<!doctype html><html lang="fr"><head><title>Host</title>'
            f'<script src="/embed.js"></script><script src="/embed.js"></script></head><body>'
            f'<span data-causerie-count="{key}">?</span><span data-causerie-count="{DEMO_KEY}">?</span>'
            f'<span data-causerie-count="unknown-key">?</span>'
            f'<div id="causerie-thread" data-article="{key}" data-url="{live_server.url}/demo/{key}"></div>'
            f'<span data-causerie-count="{key}">?</span></body></html>')
    context = new_context()
    counts = []
    context.on("request", lambda r: counts.append(r.url) if "/api/v1/counts" in r.url else None)
    page = host_page(context, f"{live_server.url}/twice/{key}", html, watch_console)
    frame = wait_ready(page)
    expect(page.locator(FRAME)).to_have_count(1)
    expect(page.locator(f'[data-causerie-count="{key}"]')).to_have_text(["0", "0"])
    expect(page.locator('[data-causerie-count="unknown-key"]')).to_have_text("0")
    expect(frame.locator(".cz-join-title")).to_have_text("Participez à la conversation")  # the page's lang
    assert len(counts) == 1 and key in counts[0] and DEMO_KEY in counts[0]
    src = page.locator(FRAME).get_attribute("src")
    assert "origin=" + live_server.url.replace(":", "%3A").replace("/", "%2F") in src
    assert page.console_errors == []


def test_cross_origin_host_page(live_server, new_context, watch_console):
    key = live_server.unique("xo-")
    context = new_context()
    context.grant_permissions(["local-network-access"], origin=HOST_ORIGIN)
    html = embed_html(live_server.url, key, f"{live_server.url}/embed.js")
    page = host_page(context, f"{HOST_ORIGIN}/articles/{key}", html, watch_console)
    frame = wait_ready(page)
    expect(page.locator(f'[data-causerie-count="{key}"]')).to_have_text("0")
    assert_fits_content(page)

    # Messages from anyone but the frame are ignored by the loader...
    height = iframe_height(page)
    page.evaluate("window.postMessage({causerie: 1, type: 'resize', height: 5}, '*')")
    page.wait_for_timeout(200)
    assert iframe_height(page) == height
    # ...and the frame takes a token from its parent only.
    sso_calls = []
    context.on("request", lambda r: sso_calls.append(r.url) if "/auth/sso" in r.url else None)
    thread_frame(page).evaluate("window.postMessage({causerie: 1, type: 'sso', token: 'a.b.c'}, '*')")
    page.wait_for_timeout(300)
    assert sso_calls == []
    expect(frame.locator(".cz-auth")).to_be_visible()


def test_disallowed_host_cannot_frame_the_thread(live_server, new_context, watch_console):
    context = new_context()
    origin = "https://evil.example"
    context.grant_permissions(["local-network-access"], origin=origin)
    html = embed_html(live_server.url, "a-key", f"{live_server.url}/embed.js")
    page = host_page(context, f"{origin}/page", html, watch_console)
    expect(page.locator(FRAME)).to_have_count(1)
    page.wait_for_timeout(1000)
    frame = next((f for f in page.frames if f != page.main_frame), None)
    assert frame is None or frame.evaluate("document.querySelector('#cz-list')") is None
    assert iframe_height(page) == 420  # never resized: no message came from a blocked frame


def test_keyboard_reply_and_escape(demo, new_context, watch_console):
    reader = demo.register()
    context = new_context()
    context.add_cookies(reader.cookies_for_browser())
    page = context.new_page()
    watch_console(page)
    page.goto("/?theme=dark")
    frame = wait_ready(page)
    first = frame.locator(".c-list > .c").first
    reply = first.locator(":scope > .c-box [data-act=reply]")
    reply.focus()
    page.keyboard.press("Enter")
    box = first.locator(":scope > .c-box textarea")
    expect(box).to_be_focused()
    expect(first.locator(":scope > .c-box label.cz-label")).to_contain_text("@camille")
    page.keyboard.press("Escape")
    expect(box).to_have_count(0)
    expect(reply).to_be_focused()
    # Sorting re-renders the thread from the API (the script's own rendering path).
    with page.expect_response(lambda r: "sort=top" in r.url and r.status == 200):
        frame.locator("#cz-sort").select_option("top")
    expect(frame.locator(".cz-loadmore")).to_be_enabled()
    scores = [int(s) for s in frame.locator(".c-list > .c > .c-box .c-score").all_text_contents()]
    assert scores == sorted(scores, reverse=True)
    assert page.console_errors == []


def test_messages_for_closed_articles_and_bans(demo, new_context, watch_console):
    moderator = demo.login(demo.create_user(role="moderator").username)
    reader = demo.register()
    key = demo.unique("closed-")
    assert reader.post(f"/articles/{key}/comments", {
        "body": "Before closing", "title": key, "url": f"{demo.url}/demo/{key}"}).status_code == 201
    context = new_context()
    context.add_cookies(reader.cookies_for_browser())
    page = context.new_page()
    watch_console(page)
    page.goto(f"/demo/{key}?lang=en")
    frame = wait_ready(page)
    assert moderator.patch(f"/articles/{key}", {"status": "closed"}).status_code == 200
    frame.locator(".cz-compose textarea").fill("After closing")
    frame.locator(".cz-compose [type=submit]").click()
    expect(frame.locator(".cz-compose .cz-error")).to_have_text("Comments are closed on this article.")
    page.reload()
    frame = wait_ready(page)
    expect(frame.locator(".cz-closed")).to_be_visible()
    expect(frame.locator(".cz-compose")).to_be_hidden()

    assert moderator.patch(f"/articles/{key}", {"status": "open"}).status_code == 200
    ban = moderator.post(f"/moderation/users/{reader.user['id']}/ban", {"reason": "test", "days": 1})
    assert ban.status_code == 200, ban.text
    page.reload()
    frame = wait_ready(page)
    frame.locator(".cz-compose textarea").fill("While banned")
    frame.locator(".cz-compose [type=submit]").click()
    expect(frame.locator(".cz-compose .cz-error")).to_contain_text("suspended")
    frame.locator(".cz-compose textarea").fill("")
    frame.locator(".cz-compose [type=submit]").click()
    expect(frame.locator(".cz-compose .cz-error")).to_have_text("Write something first.")


def test_more_replies_and_more_comments(live_server, new_context, watch_console):
    writer = live_server.bearer(live_server.register().user["username"])
    key = live_server.unique("long-")
    url = f"{live_server.url}/demo/{key}"
    top = writer.post(f"/articles/{key}/comments", {"body": "top 0", "title": key, "url": url}).json()["comment"]
    for n in range(8):
        assert writer.post(f"/articles/{key}/comments", {"body": f"reply {n}", "parent_id": top["id"]}).ok
    for n in range(1, 25):
        assert writer.post(f"/articles/{key}/comments", {"body": f"top {n}"}).ok
    page = new_context().new_page()
    watch_console(page)
    page.goto(f"/demo/{key}?lang=en")
    frame = wait_ready(page)
    first = frame.locator(f"#c-{top['id']}")
    expect(first.locator(":scope > .c-replies > .c")).to_have_count(5)
    more = first.locator(":scope > .c-more")
    expect(more).to_have_text("Show 3 more replies")
    more.click()
    expect(first.locator(":scope > .c-replies > .c")).to_have_count(8)
    expect(first.locator(":scope > .c-replies > .c").last).to_contain_text("reply 7")
    expect(more).to_be_hidden()

    expect(frame.locator(".c-list > .c")).to_have_count(20)
    height = iframe_height(page)
    frame.locator("[data-act=load-more]").click()
    expect(frame.locator(".c-list > .c")).to_have_count(25)
    expect(frame.locator(".c-list > .c").last).to_contain_text("top 24")
    expect(frame.locator("[data-act=load-more]")).to_be_hidden()
    expect(frame.locator("#cz-count")).to_have_text("33 comments")
    assert iframe_height(page) > height
    assert_fits_content(page)
    assert page.console_errors == []


def test_accessibility_of_the_frame(demo, new_context, watch_console):
    from pathlib import Path

    import axe_playwright_python as axe
    script = (Path(axe.__file__).parent / "axe.min.js").read_text()

    def violations(target) -> list:
        target.evaluate(script)
        found = target.evaluate("axe.run(document, {resultTypes: ['violations']})")["violations"]
        return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in found]

    reader = demo.register()
    for theme in ("light", "dark"):
        page = new_context(color_scheme=theme).new_page()
        watch_console(page)
        page.goto(f"/?theme={theme}")
        frame = wait_ready(page)
        frame.locator("[data-act=show-register]").click()
        assert violations(page.main_frame) == [] and violations(thread_frame(page)) == []

        context = new_context(color_scheme=theme)
        context.add_cookies(reader.cookies_for_browser())
        page = context.new_page()
        watch_console(page)
        page.goto(f"/?theme={theme}")
        frame = wait_ready(page)
        frame.locator(".c-list > .c").first.locator(":scope > .c-box [data-act=reply]").click()
        frame.locator(".c-list > .c").nth(1).locator(":scope > .c-box [data-act=flag]").click()
        frame.locator(".cz-compose textarea").fill("Some **preview**")
        frame.locator(".cz-compose [data-act=preview]").click()
        expect(frame.locator(".cz-compose .cz-preview strong")).to_be_visible()
        assert violations(thread_frame(page)) == []
        assert page.console_errors == []


# -- hostile comments --------------------------------------------------------------------------------

def _post_corpus(live_server, payloads: list[str]) -> list[str]:
    """Post every payload as a reply (20 carriers x 5 replies per article, so one page shows all
    of an article's payloads); returns the article keys. Bearer requests, four at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.browser.conftest import ApiSession

    token = live_server.token(live_server.register().user["username"])
    local = threading.local()

    def client() -> ApiSession:
        if not hasattr(local, "api"):
            local.api = ApiSession(live_server.url, token)
        return local.api

    def post(key: str, body: dict):
        response = client().post(f"/articles/{key}/comments", body)
        assert response.status_code in (201, 409, 422), (body, response.status_code, response.text)
        return response

    keys = []
    per_article = 100
    with ThreadPoolExecutor(max_workers=4) as pool:
        for start in range(0, len(payloads), per_article):
            key = live_server.unique("xss-")
            keys.append(key)
            # The first post creates the article, with a hostile title.
            first = post(key, {"body": "carrier 0", "title": "<script>alert(1)</script>",
                               "url": f"{live_server.url}/demo/{key}"})
            carriers = [first.json()["comment"]["id"]]
            for n in range(1, 20):
                carriers.append(post(key, {"body": f"carrier {n}"}).json()["comment"]["id"])
            batch = payloads[start:start + per_article]
            list(pool.map(lambda item: post(key, {"body": item[1], "parent_id": carriers[item[0] // 5]}),
                          enumerate(batch)))
    return keys


# Everything a rendered comment body may contain; anything else means the sanitizer let it through.
BODY_AUDIT = """() => {
  const allowed = new Set(["P", "BR", "EM", "STRONG", "DEL", "S", "CODE", "PRE", "BLOCKQUOTE",
                           "UL", "OL", "LI", "A"]);
  const bad = [];
  for (const el of document.querySelectorAll(".c-body *")) {
    if (!allowed.has(el.tagName)) bad.push(el.tagName);
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on") || /^\\s*(javascript|vbscript|data):/i.test(attr.value)) {
        bad.push(el.tagName + " " + attr.name);
      }
    }
  }
  return bad;
}"""


def test_corpus_payloads_execute_nothing(live_server, new_context, watch_console):
    from tests import xss_corpus as corpus
    payloads = corpus.load_payloads(max_len=10_000)
    assert len(payloads) > 1000
    keys = _post_corpus(live_server, payloads)
    context = new_context()
    context.add_init_script(HOOKS)
    dialogs = []
    context.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page = context.new_page()
    watch_console(page)
    hooked = []
    page.on("console", lambda msg: hooked.append(msg.text) if "XSS-HOOK" in msg.text else None)
    for key in keys:
        page.goto(f"/demo/{key}")
        frame = wait_ready(page)
        expect(frame.locator(".c-list > .c")).to_have_count(20)
        # The script's own rendering path as well: re-render the thread from the API.
        frame.locator("#cz-sort").select_option("newest")
        expect(frame.locator(".c-list > .c").first).to_contain_text("carrier 19")
        page.wait_for_timeout(100)
        for target in (page.main_frame, thread_frame(page)):
            assert target.evaluate("window.__xss") == [], key
        assert thread_frame(page).evaluate(BODY_AUDIT) == [], key
    assert dialogs == [] and hooked == []
    assert page.console_errors == []


def test_hostile_names_and_titles_are_text(live_server, new_context, watch_console):
    api = live_server.anonymous()
    name = live_server.unique("n")
    response = api.post("/auth/register", {"username": name, "email": f"{name}@example.org",
                                           "password": PASSWORD,
                                           "display_name": '<img src=x onerror=alert(1)>"><svg onload=alert(2)>'})
    assert response.status_code == 201, response.text
    api.csrf = response.json()["csrf_token"]
    key = live_server.unique("names-")
    posted = api.post(f"/articles/{key}/comments", {"body": "hello", "title": "</title><script>alert(3)</script>",
                                                      "url": f"{live_server.url}/demo/{key}"})
    assert posted.status_code == 201, posted.text
    context = new_context()
    context.add_init_script(HOOKS)
    dialogs = []
    context.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    context.add_cookies(api.cookies_for_browser())
    page = context.new_page()
    watch_console(page)
    page.goto(f"/demo/{key}")
    frame = wait_ready(page)
    expect(frame.locator(".c-author").first).to_have_text('<img src=x onerror=alert(1)>"><svg onload=alert(2)>')
    expect(frame.locator(".cz-me-name")).to_have_text('<img src=x onerror=alert(1)>"><svg onload=alert(2)>')
    # A reply built by the script (not the server) shows the name as text too.
    first = frame.locator(".c-list > .c").first
    first.locator(":scope > .c-box [data-act=reply]").click()
    first.locator(":scope > .c-box textarea").fill("reply <img src=x onerror=alert(4)>")
    first.locator(":scope > .c-box [type=submit]").click()
    expect(first.locator(".c-replies .c-author")).to_have_text('<img src=x onerror=alert(1)>"><svg onload=alert(2)>')
    expect(first.locator(".c-replies .c-body")).to_contain_text("<img src=x onerror=alert(4)>")
    assert frame.locator("img, svg").count() == 0
    assert dialogs == [] and thread_frame(page).evaluate("window.__xss") == []
    assert page.console_errors == []
