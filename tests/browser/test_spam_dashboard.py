"""The spam filter on the moderator dashboard: the score on each queue item, the "Spam filter" tab
with the filter's state and recent precision/recall, an administrator's thresholds and retrain (a new
version once the worker trained it), and the read-only tab a moderator gets.

Data is set up through the live server's JSON API; the test's comments are on its own article, and
the settings it changes (premoderation, the filter's) are put back at the end.
"""
import json
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.conftest import HOST_ORIGIN, ROOT

NONE = "—"
SPAMMY = ("BUY CHEAP PILLS NOW!!! Best price, click here: http://cheap-pills.example/buy "
          "http://cheap-pills.example/offer http://pills-discount.example")


def places(value: float, digits: str) -> str:
    """``value`` rounded half away from zero, as Intl.NumberFormat shows it (not Python's half-even)."""
    return str(Decimal(str(value)).quantize(Decimal(digits), rounding=ROUND_HALF_UP))


def score_text(score: float) -> str:
    return "spam " + places(score, "0.01")


def threshold_text(value: float) -> str:
    text = places(value, "0.001").rstrip("0")
    return text + "0" * max(0, 2 - len(text.split(".")[1]))


def ratio_text(value: float | None) -> str:
    return NONE if value is None else places(value * 100, "0.1") + "%"


def level(score: float, state: dict) -> str:
    if score >= state["spam_threshold"]:
        return "score-spam"
    return "score-held" if score >= state["hold_threshold"] else "score-low"


def log_in(page, account):
    page.goto("/login?next=/moderation")
    page.fill("#f-login", account.username)
    page.fill("#f-password", account.password)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/moderation"))
    # The dashboard's modules run once the counts are in; a click before would follow the tab's link.
    expect(page.locator('[data-count="pending"]')).to_have_text(re.compile(r"\d"))


def open_spam_tab(page):
    page.click("#tab-spam-filter")
    expect(page.locator("#panel-spam-filter")).to_be_visible()
    expect(page.locator("#spam-status")).to_have_text("")


def expect_state(page, state):
    """The tab shows ``state`` (GET /moderation/spam-filter) as it is."""
    expect(page.locator("#spam-enabled")).to_have_text(re.compile(r"^On$" if state["enabled"] else r"^Off"))
    expect(page.locator("#spam-version")).to_have_text(
        f"#{state['version']}" if state["version"] is not None else "None trained here yet")
    if state["trained_at"] is None:
        expect(page.locator("#spam-trained-at")).to_have_text(NONE)
    else:
        expect(page.locator("#spam-trained-at")).to_have_attribute("datetime", state["trained_at"])
    expect(page.locator("#spam-decisions-approve")).to_have_text(f"{state['decisions']['approve']:,}")
    expect(page.locator("#spam-decisions-spam")).to_have_text(f"{state['decisions']['spam']:,}")
    expect(page.locator("#spam-hold-threshold")).to_have_text(threshold_text(state["hold_threshold"]))
    expect(page.locator("#spam-spam-threshold")).to_have_text(threshold_text(state["spam_threshold"]))
    expect(page.locator("#spam-queue-active")).to_have_text(
        "Active" if state["spam_queue_active"] else re.compile(r"^Not yet"))
    recent = state["recent"]
    expect(page.locator("#spam-scored")).to_have_text(f"{recent['scored']:,}")
    for name in ("precision_at_hold", "recall_at_hold", "precision_at_spam"):
        expect(page.locator("#spam-" + name.replace("_", "-"))).to_have_text(ratio_text(recent[name]))


def drain(live_server):
    """The worker, once through everything due (here: the retrain the admin asked for)."""
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "worker", "--drain"],
                            cwd=ROOT, env=live_server.env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def people(live_server):
    """An admin, a moderator and a reader (``flask users create`` is slow: made once for the module)."""
    admin = live_server.create_user(role="admin")
    moderator = live_server.create_user(role="moderator")
    reader = live_server.register()
    return {"admin": admin, "admin_api": live_server.bearer(admin.username), "moderator": moderator,
            "moderator_api": live_server.bearer(moderator.username),
            "reader_api": live_server.bearer(reader.user["username"])}


@pytest.fixture
def held_comments(live_server, people):
    """Every comment held (premoderation "all"): a spammy one the filter scored, an ordinary one posted
    while the filter was off (no score). The settings are put back afterwards."""
    admin = people["admin_api"]
    settings = admin.get("/moderation/settings").json()
    spam_filter = admin.get("/moderation/spam-filter").json()
    key = live_server.unique("spamdash")
    assert admin.put("/moderation/settings", {"premoderation": "all"}).status_code == 200
    try:
        def post(body):
            response = people["reader_api"].post(f"/articles/{key}/comments", {
                "body": body, "title": f"Article {key}", "url": f"{HOST_ORIGIN}/{key}"})
            assert response.status_code == 201, response.text
            return response.json()["comment"]["id"]

        scored = post(SPAMMY)
        assert admin.put("/moderation/spam-filter", {"enabled": False}).status_code == 200
        unscored = post("Thanks for the article, the second part was clearer than I expected.")
        assert admin.put("/moderation/spam-filter", {"enabled": True}).status_code == 200
        yield {"key": key, "scored": scored, "unscored": unscored}
    finally:
        admin.put("/moderation/settings", {"premoderation": settings["premoderation"]})
        admin.put("/moderation/spam-filter", {name: spam_filter[name] for name in
                                              ("enabled", "hold_threshold", "spam_threshold")})


def test_admin_sees_scores_and_the_filter_and_retrains_it(live_server, page, people, held_comments):
    key, admin_api = held_comments["key"], people["admin_api"]
    items = {c["id"]: c for c in people["moderator_api"].get(
        f"/moderation/queue?queue=pending&article={key}").json()["comments"]}
    score = items[held_comments["scored"]]["spam_score"]
    assert isinstance(score, float) and items[held_comments["unscored"]]["spam_score"] is None
    state = admin_api.get("/moderation/spam-filter").json()

    log_in(page, people["admin"])
    page.fill("#article-filter", key)
    page.press("#article-filter", "Enter")
    badge = page.locator(f"#item-{held_comments['scored']} .item-spam-score")
    expect(badge).to_have_text(score_text(score))
    expect(badge).to_have_class(re.compile(level(score, state)))
    expect(page.locator(f"#item-{held_comments['unscored']}")).to_be_visible()
    expect(page.locator(f"#item-{held_comments['unscored']} .item-spam-score")).to_be_hidden()

    # A moderator's decisions are what the filter learns from.
    page.click(f"#item-{held_comments['scored']} [data-action='spam']")
    page.click(f"#item-{held_comments['unscored']} [data-action='approve']")
    expect(page.locator("#queue-empty")).to_be_visible()

    open_spam_tab(page)
    state = admin_api.get("/moderation/spam-filter").json()
    assert state["decisions"]["spam"] >= 1 and state["decisions"]["approve"] >= 1
    expect_state(page, state)
    expect(page.locator("#spam-set-enabled")).to_be_checked()

    # Thresholds: a wrong pair is refused in the form, a right one is saved and shown.
    page.fill("#spam-set-hold_threshold", "0.97")
    page.fill("#spam-set-spam_threshold", "0.95")
    page.click("#spam-save")
    expect(page.locator("#spam-set-hold_threshold-error")).to_have_text(
        "The hold threshold must not be above the spam threshold.")
    assert admin_api.get("/moderation/spam-filter").json()["hold_threshold"] == state["hold_threshold"]
    page.fill("#spam-set-hold_threshold", "0.6")
    page.click("#spam-save")
    expect(page.locator("#spam-status")).to_have_text("Spam filter settings saved.")
    expect(page.locator("#spam-set-hold_threshold-error")).to_be_hidden()
    saved = admin_api.get("/moderation/spam-filter").json()
    assert (saved["hold_threshold"], saved["spam_threshold"]) == (0.6, 0.95)
    expect(page.locator("#spam-hold-threshold")).to_have_text("0.60")
    expect(page.locator("#spam-spam-threshold")).to_have_text("0.95")

    # Retraining: 202 at once, a new version once the worker has trained it.
    with page.expect_response(lambda r: r.url.endswith("/moderation/spam-filter/retrain")) as answer:
        page.click("#spam-retrain")
    assert answer.value.status == 202
    expect(page.locator("#spam-retrain-status")).to_contain_text("Retraining in the background")
    drain(live_server)
    retrained = admin_api.get("/moderation/spam-filter").json()
    assert retrained["version"] is not None and retrained["version"] != state["version"]
    page.click("#tab-pending")
    open_spam_tab(page)
    expect_state(page, retrained)
    expect(page.locator("#spam-retrain-status")).to_have_text("")   # trained: nothing waits
    assert page.console_errors == []


def test_moderator_reads_the_filter_in_french(live_server, page, people):
    log_in(page, people["moderator"])
    page.goto("/moderation?queue=spam-filter&lang=fr")
    expect(page.locator("#tab-spam-filter")).to_have_attribute("aria-selected", "true")
    state = people["moderator_api"].get("/moderation/spam-filter").json()
    expect(page.locator("#spam-hold-threshold")).to_have_text(threshold_text(state["hold_threshold"])
                                                               .replace(".", ","))
    expect(page.locator("#tab-spam-filter")).to_contain_text("Filtre anti-spam")
    expect(page.locator("#spam-read-only")).to_contain_text("Seuls les administrateurs")
    expect(page.locator("#spam-form")).to_have_count(0)
    expect(page.locator("#spam-retrain")).to_have_count(0)
    assert page.console_errors == []


# -- without a browser: the page and its strings ------------------------------------------------

def test_only_admins_get_the_form_and_the_retrain_button(make_user, login):
    admin_page = login(make_user("root", role=Role.ADMIN)).get("/moderation?queue=spam-filter")
    text = admin_page.get_data(as_text=True)
    assert 'id="spam-form"' in text and 'id="spam-retrain"' in text
    assert 'data-tab="spam-filter"' in text and 'id="panel-spam-filter"' in text
    text = login(make_user("mod", role=Role.MODERATOR)).get("/moderation").get_data(as_text=True)
    assert 'id="panel-spam-filter"' in text and 'id="spam-read-only"' in text
    assert 'id="spam-form"' not in text and 'id="spam-retrain"' not in text


def test_the_spam_strings_exist_in_english_and_french():
    folder = Path(ROOT) / "app" / "translations"
    english = json.loads((folder / "spam.en.json").read_text(encoding="utf-8"))
    french = json.loads((folder / "spam.fr.json").read_text(encoding="utf-8"))
    assert set(english) == set(french)
    for key, text in english.items():
        assert sorted(re.findall(r"\{(\w+)\}", text)) == sorted(re.findall(r"\{(\w+)\}", french[key])), key
