"""The moderator dashboard in a real browser: a moderator's journeys, a reader refused, screenshots.

Data is set up through the JSON API of the live server (readers post with bearer tokens, an admin
changes the moderation settings); every test works on its own article keys, so the queues are
filtered by article to see only what the test made.
"""
import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import HOST_ORIGIN

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def people(live_server):
    """An admin, a moderator and three readers; API clients for the admin and the readers."""
    admin = live_server.create_user(role="admin")
    moderator = live_server.create_user(role="moderator")
    readers = [live_server.register() for _ in range(3)]
    return {
        "admin": admin,
        "admin_api": live_server.bearer(admin.username),
        "moderator": moderator,
        "moderator_api": live_server.bearer(moderator.username),
        "readers": readers,
        "reader_apis": [live_server.bearer(r.user["username"]) for r in readers],
    }


@contextmanager
def premoderation(people, mode):
    """Run with the given premoderation setting and the spam filter off (what a comment's queue is
    must not depend on what a model learned: tests/browser/test_spam_dashboard.py shows the filter's
    part), then put both back."""
    api = people["admin_api"]
    before = api.get("/moderation/settings").json()["premoderation"]
    filtering = api.get("/moderation/spam-filter").json()["enabled"]
    assert api.put("/moderation/settings", {"premoderation": mode}).status_code == 200
    assert api.put("/moderation/spam-filter", {"enabled": False}).status_code == 200
    try:
        yield
    finally:
        api.put("/moderation/settings", {"premoderation": before})
        api.put("/moderation/spam-filter", {"enabled": filtering})


def post(api, key, body, parent_id=None, title=None):
    payload = {"body": body, "title": title or f"Article {key}", "url": f"{HOST_ORIGIN}/{key}"}
    if parent_id:
        payload["parent_id"] = parent_id
    response = api.post(f"/articles/{key}/comments", payload)
    assert response.status_code == 201, response.text
    return response.json()["comment"]


def log_in(page, account, next_path="/moderation"):
    """Log in through the /login form, as a person would."""
    page.goto(f"/login?next={next_path}")
    page.fill("#f-login", account.username)
    page.fill("#f-password", account.password)
    page.click("#submit")


def open_dashboard(page, account, queue=None, article=None):
    log_in(page, account)
    page.wait_for_url(re.compile(r"/moderation"))
    # The first queue is loaded: the dashboard's modules are running and its tabs answer clicks (a
    # click before that follows the tab's plain link, and a busy machine made the test flaky).
    expect(page.locator('[data-count="pending"]')).to_have_text(re.compile(r"\d"))
    if queue:
        page.click(f"#tab-{queue}")
    if article:
        page.fill("#article-filter", article)
        page.press("#article-filter", "Enter")
    expect(page.locator("#queue-status")).not_to_have_text("Loading…")


def thread_of(live_server, key):
    """The reader's view: the thread as an anonymous visitor reads it."""
    response = live_server.anonymous().get(f"/articles/{key}/comments")
    return response.json() if response.status_code == 200 else {"total": 0, "comments": []}


# -- journeys ------------------------------------------------------------------------------

def test_moderator_approves_a_pending_comment_with_the_keyboard(live_server, people, page,
                                                                 new_context):
    key = live_server.unique("pending-")
    reader = people["reader_apis"][0]
    with premoderation(people, "all"):
        comment = post(reader, key, "Is the **bridge** really closing on Monday?",
                       title="Bridge closes for repairs")
    assert comment["status"] == "pending"
    assert thread_of(live_server, key)["total"] == 0

    open_dashboard(page, people["moderator"], article=key)
    item = page.locator(f"#item-{comment['id']}")
    expect(item).to_be_visible()
    expect(item.locator(".item-body strong")).to_have_text("bridge")
    expect(item.locator(".author-username")).to_have_text("@" + reader.user["username"])
    expect(item.locator(".article-title")).to_have_text("Bridge closes for repairs")
    expect(item.locator(".article-key")).to_have_text(key)
    expect(item.locator(".author-stats")).to_contain_text("approved")
    expect(item.locator(".item-status")).to_have_text("Pending")
    expect(item).to_have_class(re.compile(r"\bis-current\b"))
    expect(page.locator("#shortcut-hint")).to_contain_text("approve")
    expect(page.locator('[data-count="pending"]')).to_have_text("1")

    page.keyboard.press("a")
    expect(item).to_have_count(0)
    expect(page.locator("#toast")).to_have_text("Comment approved.")
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.locator('[data-count="pending"]')).to_have_text("0")

    thread = thread_of(live_server, key)
    assert thread["total"] == 1
    assert [(c["id"], c["status"]) for c in thread["comments"]] == [(comment["id"], "approved")]
    reader_page = new_context().new_page()
    response = reader_page.goto(f"/embed/thread?article={key}")
    if response is not None and response.status == 200:  # the widget's own page, when it is there
        expect(reader_page.get_by_text("really closing on Monday")).to_be_visible()
    assert not page.console_errors


def test_bulk_reject_of_three_flagged_comments_empties_the_flagged_tab(live_server, people, page):
    key = live_server.unique("flagged-")
    author, flagger = people["reader_apis"][0], people["reader_apis"][1]
    with premoderation(people, "none"):
        comments = [post(author, key, f"Flag me, number {n}, buy cheap watches") for n in (1, 2, 3)]
    for comment, reason in zip(comments, ("spam", "abuse", "off_topic")):
        response = flagger.post(f"/comments/{comment['id']}/flags", {"reason": reason})
        assert response.status_code == 201, response.text

    open_dashboard(page, people["moderator"], queue="flagged", article=key)
    items = page.locator("#queue-list > .item")
    expect(items).to_have_count(3)
    expect(page.locator('[data-count="flagged"]')).to_have_text("3")
    expect(page.locator(f"#item-{comments[1]['id']} .flag-list")).to_have_text("Abuse × 1")

    page.keyboard.press("x")          # the first, with the keyboard
    page.keyboard.press("j")
    page.keyboard.press("x")          # the second
    page.locator(f"#item-{comments[2]['id']} .item-check").check()  # the third, with the mouse
    expect(page.locator("#selected-count")).to_have_text("3 selected")
    page.fill("#bulk-reason", "advertising")
    page.click('[data-bulk="reject"]')

    expect(items).to_have_count(0)
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.locator("#toast")).to_have_text("3 comments updated.")
    expect(page.locator('[data-count="flagged"]')).to_have_text("0")

    api = people["moderator_api"]
    assert api.get(f"/moderation/queue?queue=flagged&article={key}").json()["comments"] == []
    rejected = api.get(f"/moderation/queue?queue=rejected&article={key}").json()["comments"]
    assert sorted(c["id"] for c in rejected) == sorted(c["id"] for c in comments)
    assert thread_of(live_server, key)["total"] == 0
    entries = api.get(f"/moderation/log?comment={comments[0]['id']}").json()["entries"]
    assert entries[0]["action"] == "reject" and entries[0]["reason"] == "advertising"
    assert not page.console_errors


def test_a_reader_is_refused_the_dashboard(live_server, people, page):
    page.goto("/moderation")
    page.wait_for_url(re.compile(r"/login\?next=/moderation$"))

    reader = people["readers"][2].user
    page.fill("#f-login", reader["username"])
    page.fill("#f-password", "correct horse battery staple")
    with page.expect_navigation(url=re.compile(r"/moderation$")) as navigation:
        page.click("#submit")
    assert navigation.value.status == 403
    expect(page.locator("h1")).to_have_text("Moderators only")
    assert page.locator(".item, #queue-list, #item-template").count() == 0
    status = page.evaluate("fetch('/api/v1/moderation/queue').then(r => r.status)")
    assert status == 403


def test_login_errors_then_registration_never_follows_an_off_site_next(live_server, page):
    page.goto("/login?next=//evil.example")
    page.fill("#f-login", "nobody-here")
    page.fill("#f-password", "not the password at all")
    page.click("#submit")
    expect(page.locator("#form-error")).to_have_text("Wrong username, e-mail address or password.")

    page.click("text=Create one")
    page.wait_for_url(re.compile(r"/register$"))
    username = live_server.unique("new")
    page.fill("#f-username", username)
    page.fill("#f-email", f"{username}@example.org")
    page.fill("#f-password", "short")
    page.click("#submit")
    expect(page.locator("#f-password-error")).to_be_visible()
    page.fill("#f-password", "a long enough passphrase")
    page.click("#submit")
    page.wait_for_url(live_server.url + "/")
    me = page.evaluate("fetch('/api/v1/auth/me').then(r => r.json())")
    assert me["user"]["username"] == username
    # The refused attempts (401, 422) are logged by Chromium as failed loads; nothing else may be.
    assert not [e for e in page.console_errors if not e.startswith("Failed to load resource")]


def test_moderator_bans_an_author_and_purges_their_pending_comments(live_server, people, page):
    key = live_server.unique("ban-")
    troll = live_server.register()
    troll_api = live_server.bearer(troll.user["username"])
    with premoderation(people, "all"):
        held = [post(troll_api, key, f"Troll post {n}") for n in (1, 2)]

    open_dashboard(page, people["moderator"], article=key)
    expect(page.locator("#queue-list > .item")).to_have_count(2)
    page.locator(f"#item-{held[0]['id']} [data-action='ban']").click()
    dialog = page.locator("#ban-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#ban-who")).to_contain_text("@" + troll.user["username"])
    page.click("#ban-submit")                       # no reason yet: refused on the spot
    expect(page.locator("#ban-reason-error")).to_be_visible()
    page.fill("#ban-days", "7")
    page.fill("#ban-reason", "trolling")
    page.check("#ban-purge")
    page.click("#ban-submit")
    expect(dialog).to_be_hidden()
    expect(page.locator("#toast")).to_contain_text("is banned")
    expect(page.locator("#queue-list > .item")).to_have_count(0)

    response = troll_api.post(f"/articles/{key}/comments", {"body": "let me back in"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "banned"
    assert people["admin_api"].delete(f"/moderation/users/{troll.user['id']}/ban").status_code == 204
    assert not page.console_errors


def test_hostile_content_is_shown_as_text_in_the_queue(live_server, people, new_context,
                                                       watch_console):
    """auth-attacks.md §15: the queue renders unapproved content for the most privileged users."""
    key = live_server.unique("xss-")
    title = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    payloads = [
        "<script>alert(1)</script>", '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))", '<a href="javascript:alert(1)">x</a>',
        "<svg onload=alert(1)>", '<iframe src="javascript:alert(1)"></iframe>',
        "[x](JaVaScRiPt:alert(1))", "<details open ontoggle=alert(1)>",
    ]
    reader = people["reader_apis"][1]
    with premoderation(people, "all"):
        for payload in payloads:
            post(reader, key, payload, title=title)

    context = new_context()
    context.add_init_script("""
        window.__fired = [];
        for (const name of ['alert', 'confirm', 'prompt']) {
            window[name] = (...args) => { window.__fired.push([name, ...args]); };
        }
    """)
    page = context.new_page()
    watch_console(page)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_dashboard(page, people["moderator"], article=key)
    expect(page.locator("#queue-list > .item")).to_have_count(len(payloads))
    expect(page.locator("#queue-list .article-title").first).to_have_text(title)
    page.wait_for_timeout(300)

    assert dialogs == [] and page.evaluate("window.__fired") == []
    found = page.evaluate("""() => {
        const bad = [];
        for (const node of document.querySelectorAll('#queue-list *')) {
            if (['SCRIPT', 'IFRAME', 'SVG', 'IMG', 'OBJECT', 'EMBED'].includes(node.nodeName.toUpperCase()))
                bad.push(node.nodeName);
            for (const attr of node.attributes) {
                if (attr.name.startsWith('on') || /^\\s*(javascript|data|vbscript):/i.test(attr.value))
                    bad.push(node.nodeName + ' ' + attr.name + '=' + attr.value);
            }
        }
        return bad;
    }""")
    assert found == []


def test_admin_edits_settings_and_a_moderator_only_reads_them(live_server, people, page, new_context):
    admin_api = people["admin_api"]
    before = admin_api.get("/moderation/settings").json()
    open_dashboard(page, people["admin"], queue="settings")
    expect(page.locator("#set-max_links")).to_have_value(str(before["max_links"]))
    try:
        page.fill("#set-max_links", "2")
        page.fill("#set-suspect_words", "casino\nlottery")
        page.click("#settings-save")
        expect(page.locator("#settings-status")).to_have_text("Settings saved.")
        after = admin_api.get("/moderation/settings").json()
        assert after["max_links"] == 2 and after["suspect_words"] == ["casino", "lottery"]

        moderator_page = new_context().new_page()
        open_dashboard(moderator_page, people["moderator"], queue="settings")
        expect(moderator_page.locator("#set-max_links")).to_have_value("2")
        expect(moderator_page.locator("#set-max_links")).to_be_disabled()
        assert moderator_page.locator("#settings-save").count() == 0
    finally:
        admin_api.put("/moderation/settings", {"max_links": before["max_links"],
                                               "suspect_words": before["suspect_words"]})


# -- screenshots ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def showcase(live_server, people):
    """One article with something in every queue, for the screenshots."""
    key = live_server.unique("harbour-")
    title = "The harbour bridge closes for six months of repairs"
    readers = people["reader_apis"]
    moderator = people["moderator_api"]
    with premoderation(people, "none"):
        first = post(readers[0], key, "Six months! The ferry can't take **everyone** at rush hour.",
                     title=title)
        post(readers[1], key, "Good news: the bridge was rusting away. See "
             "[the council report](https://news.example/report).", title=title)
        flagged = post(readers[2], key, "Typical. Buy my *miracle* rust remover at "
                       "https://spam.example/deal", title=title)
        spam = post(readers[2], key, "CHEAP WATCHES https://spam.example/watches", title=title)
        rejected = post(readers[1], key, "You are all idiots.", title=title)
    readers[0].post(f"/comments/{flagged['id']}/flags", {"reason": "spam", "note": "advert"})
    readers[1].post(f"/comments/{flagged['id']}/flags", {"reason": "spam"})
    moderator.post(f"/moderation/comments/{spam['id']}", {"action": "spam", "reason": "link farm"})
    moderator.post(f"/moderation/comments/{rejected['id']}", {"action": "reject", "reason": "insults"})
    moderator.post(f"/moderation/comments/{first['id']}", {"action": "pin"})
    with premoderation(people, "all"):
        post(readers[1], key, "What about cyclists? Will the **ferry** take bikes?\n\n"
             "> The ferry can't take everyone\n\nThat is the real problem.",
             parent_id=first["id"], title=title)
        post(readers[2], key, "I live next to the bridge and the noise is unbearable.", title=title)
    return key


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_screenshots_of_every_tab(live_server, people, showcase, new_context, artifacts,
                                  watch_console, lang):
    page = new_context(locale="fr-FR" if lang == "fr" else "en-US").new_page()
    watch_console(page)
    log_in(page, people["admin"], next_path=f"/moderation?article={showcase}")
    page.wait_for_url(re.compile(r"/moderation"))
    expect(page.locator("#queue-list > .item").first).to_be_visible()
    for tab in ("pending", "flagged", "spam", "rejected", "approved", "log", "settings"):
        page.click(f"#tab-{tab}")
        panel = "#panel-" + (tab if tab in ("log", "settings") else "queue")
        expect(page.locator(panel)).to_be_visible()
        if tab == "log":
            expect(page.locator("#log-rows tr").first).to_be_visible()
        elif tab == "settings":
            expect(page.locator("#set-max_links")).not_to_have_value("")
        else:
            expect(page.locator("#queue-list > .item").first).to_be_visible()
        page.screenshot(path=artifacts / f"dashboard-{lang}-{tab}-1280.png",
                        full_page=True)
    if lang == "en":
        page.click("#tab-pending")
        expect(page.locator("#queue-list > .item").first).to_be_visible()
        page.keyboard.press("?")
        expect(page.locator("#help-dialog")).to_be_visible()
        page.screenshot(path=artifacts / "dashboard-en-help-1280.png")
        page.keyboard.press("Escape")
        expect(page.locator("#help-dialog")).to_be_hidden()
    assert not page.console_errors


def test_screenshots_at_phone_width(live_server, people, showcase, new_context, artifacts,
                                    watch_console):
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                       device_scale_factor=2).new_page()
    watch_console(page)
    page.goto("/login?next=/moderation")
    page.screenshot(path=artifacts / "login-390.png", full_page=True)
    open_dashboard(page, people["moderator"], queue="flagged", article=showcase)
    for tab in ("pending", "flagged", "log"):
        page.click(f"#tab-{tab}")
        if tab == "log":
            expect(page.locator("#log-rows tr").first).to_be_visible()
        else:
            expect(page.locator("#queue-list > .item").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{tab}: the page scrolls sideways ({width}px)"
        page.screenshot(path=artifacts / f"dashboard-en-{tab}-390.png", full_page=tab != "log")
    assert not page.console_errors
