"""Notification settings in a real browser: a reader's replies setting and "notify me of replies in
this discussion" box in the widget, and a moderator's own setting in the dashboard; what the
browser chose is what the API reports."""

from playwright.sync_api import expect

from tests.browser.conftest import wait_ready


def test_reader_sets_reply_notifications_and_subscribes(live_server, new_context, watch_console):
    reader = live_server.register()
    key = live_server.unique("notify-")
    context = new_context()
    context.add_cookies(reader.cookies_for_browser())
    page = context.new_page()
    watch_console(page)
    page.goto(f"/demo/{key}?lang=en")
    frame = wait_ready(page)

    replies = frame.get_by_label("E-mail me replies to my comments:")
    expect(replies).to_be_enabled()
    expect(replies).to_have_value("off")
    replies.select_option("daily")
    expect(frame.locator("#cz-notify-msg")).to_have_text("Saved.")
    box = frame.get_by_label("Notify me of replies in this discussion")
    expect(box).to_be_enabled()
    expect(box).not_to_be_checked()
    box.check()
    expect(box).to_be_enabled()  # the PUT has answered
    assert reader.get("/me/notifications").json()["replies"] == "daily"
    assert reader.get(f"/articles/{key}/subscription").json() == {"subscribed": True}

    # Loaded again, the widget shows what is stored; unticking unsubscribes.
    page.reload()
    frame = wait_ready(page)
    box = frame.get_by_label("Notify me of replies in this discussion")
    expect(box).to_be_checked()
    expect(frame.locator("#cz-notify-replies")).to_have_value("daily")
    box.uncheck()
    expect(box).to_be_enabled()
    assert reader.get(f"/articles/{key}/subscription").json() == {"subscribed": False}
    assert page.console_errors == []


def test_moderator_sets_own_notifications_in_the_dashboard(live_server, new_context, watch_console):
    moderator = live_server.create_user(role="moderator")
    session = live_server.login(moderator.username)
    context = new_context()
    context.add_cookies(session.cookies_for_browser())
    page = context.new_page()
    watch_console(page)
    page.goto("/moderation?queue=settings&lang=fr")
    select = page.get_by_label("M’envoyer les commentaires à examiner")
    expect(select).to_be_enabled()
    expect(select).to_have_value("off")
    select.select_option("hourly")
    expect(page.locator("#notify-status")).to_have_text("Votre réglage de notifications est enregistré.")
    assert session.get("/me/notifications").json()["moderation"] == "hourly"
    page.reload()
    expect(page.locator("#notify-moderation")).to_have_value("hourly")
    assert page.console_errors == []
