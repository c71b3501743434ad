"""Reply notifications: who is told of a reply, when, in which language, and unsubscribing from them
(real SMTP server: mail_sink; the real worker: deliver())."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.notifications.models import Event, Notice, NotificationSettings, OutboxMessage
from app.timeutil import utcnow

from .factories import assert_error, post_comment

pytestmark = pytest.mark.usefixtures("mail_sink")


def settings(api, **values):
    response = api.put("/api/v1/me/notifications", values)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def one_click(client, url):
    """What a mail provider does with List-Unsubscribe (RFC 8058): a POST with no cookie."""
    return client.post(url, data="List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded")


def header_link(message) -> str:
    return message.message["List-Unsubscribe"].strip().strip("<>")


def subscription_of(app, user):
    with app.app_context():
        return db.session.get(NotificationSettings, user.id)


def test_instant_reply_mail_in_french_with_headers_and_one_click_unsubscribe(
        app, login, make_user, article, mail_sink, deliver):
    alice = make_user("alice", language="fr")
    bob = make_user("bob", display_name="Bob Dupont")
    as_alice, as_bob = login(alice), login(bob)
    settings(as_alice, replies="instant")
    parent = post_comment(as_alice, "mon commentaire").get_json()["comment"]
    first = post_comment(as_bob, "une **réponse** <script>x</script>", parent_id=parent["id"]).get_json()["comment"]
    second = post_comment(as_bob, "une autre réponse", parent_id=parent["id"]).get_json()["comment"]
    deliver()
    deliver()  # a second pass sends nothing again

    messages = mail_sink.to(alice.email)
    assert len(messages) == 2 and not mail_sink.to(bob.email)
    message = messages[0]
    assert message.message["Subject"] == "Nouvelle réponse à votre commentaire sur The first article"
    for header in ("Message-ID", "Date", "List-Unsubscribe"):
        assert message.message[header]
    assert message.message["Auto-Submitted"] == "auto-generated"
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.message["Message-ID"] != messages[1].message["Message-ID"]
    assert "Bob Dupont a écrit" in message.text and "une réponse" in message.text
    assert f"{article.url}#comment-{first['id']}" in message.text
    assert "<strong>réponse</strong>" in message.html and "**réponse**" not in message.html
    assert "<script>" not in message.html
    assert f"#comment-{second['id']}" in messages[1].text
    unsubscribe_links = set(message.links("/unsubscribe"))  # this discussion, and every reply
    assert len(unsubscribe_links) == 2 and header_link(message) in unsubscribe_links

    # One-click from the mail provider: no cookie, no CSRF header.
    provider = app.test_client()
    response = one_click(provider, header_link(message))
    assert response.status_code == 200 and "text/html" in response.content_type
    assert one_click(provider, header_link(message)).status_code == 200  # reusable, changes nothing more
    assert as_alice.get("/api/v1/me/notifications").get_json() == {"replies": "off", "moderation": "off"}
    post_comment(as_bob, "encore une", parent_id=parent["id"])
    deliver()
    assert len(mail_sink.to(alice.email)) == 2


def test_unsubscribe_page_asks_first_and_bad_tokens_are_400(app, login, alice, bob, article, mail_sink, deliver):
    as_alice = login(alice)
    settings(as_alice, replies="instant")
    parent = post_comment(as_alice, "parent").get_json()["comment"]
    post_comment(login(bob), "reply", parent_id=parent["id"])
    deliver()
    link = header_link(mail_sink.to(alice.email)[0])
    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200 and page.get_data(as_text=True).count("<button") == 1
    assert 'method="post"' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert as_alice.get("/api/v1/me/notifications").get_json()["replies"] == "instant"  # GET never acts
    token = link.split("token=")[1].split("&")[0]
    for bad in (link.replace(token, token[:-2]), link.replace("token=", "token=a"), "/unsubscribe",
                "/unsubscribe?token=", link.replace(token, token.replace(".", "x.", 1))):
        assert visitor.get(bad).status_code == 400
        assert one_click(visitor, bad).status_code == 400
    assert as_alice.get("/api/v1/me/notifications").get_json()["replies"] == "instant"
    # The page's own form (a browser POST, token in the form) works as well.
    response = visitor.post(link.split("?")[0], data={"token": token})
    assert response.status_code == 200
    assert as_alice.get("/api/v1/me/notifications").get_json()["replies"] == "off"


def test_thread_unsubscribe_mutes_only_that_discussion(app, login, alice, bob, make_article, mail_sink, deliver):
    make_article("a1")
    make_article("a2")
    as_alice, as_bob = login(alice), login(bob)
    settings(as_alice, replies="instant")
    on_a1 = post_comment(as_alice, "on a1").get_json()["comment"]
    on_a2 = post_comment(as_alice, "on a2", key="a2").get_json()["comment"]
    post_comment(as_bob, "reply on a1", parent_id=on_a1["id"])
    deliver()
    message = mail_sink.to(alice.email)[0]
    thread_link = next(link for link in message.links("/unsubscribe") if link != header_link(message))
    page = app.test_client().get(thread_link)
    assert "Article a1" in page.get_data(as_text=True)
    assert one_click(app.test_client(), thread_link).status_code == 200
    assert as_alice.get("/api/v1/articles/a1/subscription").get_json() == {"subscribed": False}

    assert post_comment(as_bob, "second reply on a1", parent_id=on_a1["id"]).status_code == 201
    assert post_comment(as_bob, "reply on a2", parent_id=on_a2["id"], key="a2").status_code == 201
    deliver()
    messages = mail_sink.to(alice.email)
    assert len(messages) == 2 and "reply on a2" in messages[1].text
    assert as_alice.get("/api/v1/me/notifications").get_json()["replies"] == "instant"


def test_pending_reply_is_told_once_approved_and_a_rejected_one_never(
        app, login, alice, bob, mod, admin, article, mail_sink, deliver):
    as_alice, as_bob, as_mod = login(alice), login(bob), login(mod)
    settings(as_alice, replies="instant")
    parent = post_comment(as_alice, "parent").get_json()["comment"]
    assert login(admin).put("/api/v1/moderation/settings", {"premoderation": "all"}).status_code == 200
    held = post_comment(as_bob, "held reply", parent_id=parent["id"]).get_json()["comment"]
    refused = post_comment(as_bob, "refused reply", parent_id=parent["id"]).get_json()["comment"]
    assert held["status"] == refused["status"] == "pending"
    deliver()
    assert mail_sink.to(alice.email) == []

    assert as_mod.post(f"/api/v1/moderation/comments/{held['id']}", {"action": "approve"}).status_code == 200
    assert as_mod.post(f"/api/v1/moderation/comments/{refused['id']}", {"action": "reject"}).status_code == 200
    deliver()
    messages = mail_sink.to(alice.email)
    assert len(messages) == 1 and "held reply" in messages[0].text

    # Sent back to pending (flags) and approved again: not told twice.
    from .factories import set_status
    set_status(app, held["id"], "pending")
    assert as_mod.post(f"/api/v1/moderation/comments/{held['id']}", {"action": "approve"}).status_code == 200
    deliver()
    assert len(mail_sink.to(alice.email)) == 1


def test_a_post_that_fails_records_no_event(app, login, alice, bob, article):
    as_alice = login(alice)
    settings(as_alice, replies="instant")
    parent = post_comment(as_alice, "parent").get_json()["comment"]
    as_bob = login(bob)
    assert post_comment(as_bob, "same words", parent_id=parent["id"]).status_code == 201
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Event))
    assert_error(post_comment(as_bob, "same words", parent_id=parent["id"]), 409)
    assert_error(post_comment(as_bob, "", parent_id=parent["id"]), 422)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == before


def test_never_told_of_own_reply_nor_in_a_followed_discussion(app, login, alice, bob, article, mail_sink, deliver):
    as_alice = login(alice)
    settings(as_alice, replies="instant")
    assert as_alice.put("/api/v1/articles/a1/subscription", {"subscribed": True}).get_json() == {"subscribed": True}
    parent = post_comment(as_alice, "parent").get_json()["comment"]
    post_comment(as_alice, "answering myself", parent_id=parent["id"])
    deliver()
    assert mail_sink.to(alice.email) == []


def test_banned_deleted_and_unverified_accounts_get_no_mail(
        app, config, login, make_user, mod, article, mail_sink, deliver):
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    banned, gone, unverified, bob = (make_user("banned"), make_user("gone"),
                                     make_user("unverified", email_verified_at=None), make_user("bob"))
    parents = {}
    for user in (banned, gone):
        api = login(user)
        settings(api, replies="instant")
        parents[user.username] = post_comment(api, f"by {user.username}").get_json()["comment"]
    with app.app_context():  # unverified readers may not post here: their old comment and settings
        db.session.add(NotificationSettings(user_id=unverified.id, replies="instant", moderation="off"))
        db.session.commit()
    app.config["REQUIRE_VERIFIED_EMAIL"] = False
    parents["unverified"] = post_comment(login(unverified), "by unverified").get_json()["comment"]
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    response = login(mod).post(f"/api/v1/moderation/users/{banned.id}/ban", {"reason": "spam"})
    assert response.status_code == 200
    app.config["ANONYMIZE_ON_DELETE"] = True  # their comment stays, with no author
    assert login(gone).delete("/api/v1/me").status_code == 204
    as_bob = login(bob)
    for name, parent in parents.items():
        assert post_comment(as_bob, f"reply to {name}", parent_id=parent["id"]).status_code == 201
    deliver()
    assert mail_sink.messages == []


def move_mail_back(app, hours=1):
    """As if every message so far had been written ``hours`` ago."""
    with app.app_context():
        for message in db.session.scalars(select(OutboxMessage)):
            message.created_at -= timedelta(hours=hours)
        db.session.commit()


def test_hourly_budget_overflow_goes_out_as_one_digest(app, config, login, alice, bob, article, mail_sink, deliver):
    app.config["NOTIFY_MAX_PER_HOUR"] = 2
    as_alice, as_bob = login(alice), login(bob)
    settings(as_alice, replies="instant")
    parent = post_comment(as_alice, "parent").get_json()["comment"]
    for n in range(5):
        post_comment(as_bob, f"reply number {n}", parent_id=parent["id"])
    deliver()
    assert len(mail_sink.to(alice.email)) == 2
    deliver()
    assert len(mail_sink.to(alice.email)) == 2  # still over the budget: the rest waits

    move_mail_back(app)
    deliver()
    messages = mail_sink.to(alice.email)
    assert len(messages) == 3
    digest = messages[2]
    assert digest.message["Subject"] == "New replies in your discussions (3)"
    assert all(f"reply number {n}" in digest.text for n in (2, 3, 4))
    assert "reply number 0" not in digest.text
    assert digest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    deliver()
    assert len(mail_sink.to(alice.email)) == 3


def test_daily_digest_waits_for_digest_hour(app, config, login, alice, bob, article, mail_sink, deliver):
    as_alice, as_bob = login(alice), login(bob)
    settings(as_alice, replies="daily")
    parent = post_comment(as_alice, "parent").get_json()["comment"]
    now = utcnow()
    boundary = now.replace(hour=app.config["DIGEST_HOUR"], minute=0, second=0, microsecond=0)
    if boundary > now:
        boundary -= timedelta(days=1)
    with app.app_context():
        db.session.execute(update(NotificationSettings).where(NotificationSettings.user_id == alice.id)
                           .values(replies_digest_at=boundary + timedelta(seconds=1)))
        db.session.commit()
    post_comment(as_bob, "first daily reply", parent_id=parent["id"])
    post_comment(as_bob, "second daily reply", parent_id=parent["id"])
    deliver()
    assert mail_sink.to(alice.email) == []  # today's digest went out already

    with app.app_context():  # a day later: the last digest and the replies are from before DIGEST_HOUR
        db.session.execute(update(NotificationSettings).where(NotificationSettings.user_id == alice.id)
                           .values(replies_digest_at=boundary - timedelta(minutes=2)))
        db.session.execute(update(Notice).where(Notice.user_id == alice.id)
                           .values(created_at=boundary - timedelta(minutes=1)))
        db.session.commit()
    deliver()
    messages = mail_sink.to(alice.email)
    assert len(messages) == 1
    assert "first daily reply" in messages[0].text and "second daily reply" in messages[0].text
    with app.app_context():
        row = db.session.get(NotificationSettings, alice.id)
        assert row.replies_digest_at > boundary
        assert db.session.scalar(select(func.count()).select_from(Notice)
                                 .where(Notice.mailed_at.is_(None))) == 0
    deliver()
    assert len(mail_sink.to(alice.email)) == 1


def test_following_a_discussion_tells_of_every_comment_in_it(
        app, login, alice, bob, make_user, make_article, mail_sink, deliver):
    make_article("a1", title="Followed")
    make_article("a2")
    carol = make_user("carol")
    as_carol, as_bob, as_alice = login(carol), login(bob), login(alice)
    assert as_carol.get("/api/v1/articles/a1/subscription").get_json() == {"subscribed": False}
    assert as_carol.put("/api/v1/articles/a1/subscription", {"subscribed": True}).get_json() == {"subscribed": True}
    assert as_carol.get("/api/v1/articles/a1/subscription").get_json() == {"subscribed": True}
    top = post_comment(as_alice, "alice top").get_json()["comment"]
    post_comment(as_bob, "bob deep reply", parent_id=top["id"])
    post_comment(as_bob, "elsewhere", key="a2")
    deliver()
    messages = mail_sink.to(carol.email)
    assert len(messages) == 2
    assert messages[0].message["Subject"] == "New comment in the discussion Followed"
    assert "bob deep reply" in messages[1].text
    assert mail_sink.to(alice.email) == []  # replies off, not following

    assert_error(as_carol.get("/api/v1/articles/nope/subscription"), 404)
    assert_error(as_carol.put("/api/v1/articles/nope/subscription", {"subscribed": True}), 404)
    assert_error(as_carol.put("/api/v1/articles/a1/subscription", {"subscribed": "yes"}), 422)
    assert_error(app.test_client().get("/api/v1/articles/a1/subscription"), 401)


def test_settings_validation_and_access(app, login, alice, mod):
    as_alice = login(alice)
    assert_error(app.test_client().get("/api/v1/me/notifications"), 401)
    assert as_alice.get("/api/v1/me/notifications").get_json() == {"replies": "off", "moderation": "off"}
    assert settings(as_alice, replies="daily") == {"replies": "daily", "moderation": "off"}
    assert settings(as_alice) == {"replies": "daily", "moderation": "off"}
    error = assert_error(as_alice.put("/api/v1/me/notifications", {"replies": "hourly"}), 422, "validation_error")
    assert set(error["fields"]) == {"replies"}
    error = assert_error(as_alice.put("/api/v1/me/notifications", {"moderation": "daily", "replies": 3}), 422)
    assert set(error["fields"]) == {"moderation", "replies"}
    assert_error(as_alice.put("/api/v1/me/notifications", {"moderation": "instant"}), 403, "forbidden")
    assert settings(as_alice, moderation="off") == {"replies": "daily", "moderation": "off"}
    assert settings(login(mod), moderation="hourly") == {"replies": "off", "moderation": "hourly"}
    assert as_alice.client.put("/api/v1/me/notifications", data="replies=off",
                               headers={"X-CSRF-Token": as_alice.csrf}).status_code == 415
    assert_error(as_alice.client.put("/api/v1/me/notifications", json={"replies": "off"}), 403, "csrf_failed")


def test_a_daily_readers_first_reply_waits_for_digest_hour(app, login, alice, bob, article, mail_sink, deliver):
    """No digest yet is no reason to mail at once: the first digest too goes out after DIGEST_HOUR."""
    as_alice, as_bob = login(alice), login(bob)
    settings(as_alice, replies="daily")
    parent = post_comment(as_alice, "parent").get_json()["comment"]
    post_comment(as_bob, "an early reply", parent_id=parent["id"])
    deliver()
    assert mail_sink.to(alice.email) == []
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.user_id == alice.id))
        assert notice.mailed_at is None  # waiting for the digest
        db.session.execute(update(Notice).where(Notice.id == notice.id)
                           .values(created_at=notice.created_at - timedelta(days=1)))
        db.session.commit()
    deliver()
    assert len(mail_sink.to(alice.email)) == 1
