"""Moderator notifications: the mail a held comment causes, its signed approve/reject links (a page
that asks first, a POST that decides once) and the hourly digest (real SMTP server, real worker)."""
import base64
import json
import time
from datetime import timedelta

import itsdangerous.timed
import pytest
from sqlalchemy import select

from app.accounts import signed_links
from app.extensions import db
from app.models import Comment
from app.notifications import links
from app.notifications.models import NotificationSettings, OutboxMessage
from app.timeutil import utcnow

from .factories import post_comment, set_status

pytestmark = pytest.mark.usefixtures("mail_sink")


@pytest.fixture
def held(app, login, admin):
    """Every reader's comment is held for review."""
    assert login(admin).put("/api/v1/moderation/settings", {"premoderation": "all"}).status_code == 200


def moderation(api, mode):
    response = api.put("/api/v1/me/notifications", {"moderation": mode})
    assert response.status_code == 200, response.get_json()


def pending_comment(api, body, key="a1"):
    comment = post_comment(api, body, key=key).get_json()["comment"]
    assert comment["status"] == "pending"
    return comment


def status_of(app, comment_id):
    with app.app_context():
        return db.session.get(Comment, comment_id).status


def token_of(link):
    return link.split("token=")[1].split("&")[0]


def action_links(message):
    links = message.links("/moderation/act")
    assert len(links) == 2
    return dict(zip(("approve", "reject"), links))


def submit(app, link):
    """The confirmation page's button: a POST of the form, from a browser with no session."""
    return app.test_client().post("/moderation/act", data={"token": token_of(link)})


def tampered(token, **claims):
    """The token with its claims changed and its signature kept."""
    payload, rest = token.split(".", 1)
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**data, **claims}).encode()).decode().rstrip("=")
    return f"{forged}.{rest}"


def test_instant_mail_and_its_approve_link(app, login, make_user, mod, alice, article, held, mail_sink, deliver):
    as_mod = login(mod)
    moderation(as_mod, "instant")
    comment = pending_comment(login(alice), "please **hold** me")
    deliver()
    assert mail_sink.to(alice.email) == []
    [message] = mail_sink.to(mod.email)
    assert message.message["Subject"] == "A comment waits for review on The first article"
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Alice" in message.text and "please hold me" in message.text
    assert "Held because:" in message.text  # the rule's reason from the audit log
    assert f"http://comments.test/moderation?queue=pending&article=a1#item-{comment['id']}" in message.text
    assert "<strong>hold</strong>" in message.html
    links = action_links(message)

    page = app.test_client().get(links["approve"])  # what a mail scanner does: nothing changes
    assert page.status_code == 200 and "please" in page.get_data(as_text=True)
    assert page.get_data(as_text=True).count("<button") == 1
    assert status_of(app, comment["id"]) == "pending"

    response = submit(app, links["approve"])
    assert response.status_code == 200 and 'data-status="approved"' in response.get_data(as_text=True)
    assert status_of(app, comment["id"]) == "approved"
    [entry] = as_mod.get(f"/api/v1/moderation/log?comment={comment['id']}&actor={mod.id}").get_json()["entries"]
    assert entry["action"] == "approve" and entry["actor"]["id"] == mod.id

    assert submit(app, links["approve"]).status_code == 400  # used once
    assert app.test_client().get(links["approve"]).status_code == 400  # and its page says so
    assert app.test_client().post(links["approve"]).status_code == 400  # token in the query: the same
    assert submit(app, links["reject"]).status_code == 409  # decided: nothing to do
    assert status_of(app, comment["id"]) == "approved"


def test_reject_link_and_a_comment_decided_meanwhile(app, login, mod, make_user, alice, article, held,
                                                     mail_sink, deliver):
    other = make_user("other", role="moderator")
    moderation(login(mod), "instant")
    moderation(login(other), "hourly")
    as_alice = login(alice)
    first = pending_comment(as_alice, "to be rejected")
    second = pending_comment(as_alice, "decided on the dashboard")
    deliver()
    first_mail, second_mail = mail_sink.to(mod.email)
    assert submit(app, action_links(first_mail)["reject"]).status_code == 200
    assert status_of(app, first["id"]) == "rejected"

    assert login(other).post(f"/api/v1/moderation/comments/{second['id']}", {"action": "spam"}).status_code == 200
    link = action_links(second_mail)["approve"]
    page = app.test_client().get(link)
    assert page.status_code == 409 and "<button" not in page.get_data(as_text=True)
    assert submit(app, link).status_code == 409
    assert status_of(app, second["id"]) == "spam"


def test_bad_links_are_refused_and_change_nothing(app, login, mod, make_user, alice, article, held,
                                                  mail_sink, deliver, monkeypatch):
    other = make_user("other", role="moderator")
    moderation(login(mod), "instant")
    moderation(login(other), "instant")
    as_alice = login(alice)
    comment = pending_comment(as_alice, "first held")
    another = pending_comment(as_alice, "second held")
    deliver()
    mine = action_links(mail_sink.to(mod.email)[0])
    token = token_of(mine["approve"])
    with app.app_context():
        unsubscribe = token_of(links.unsubscribe_link(mod, links.SCOPE_MODERATION))
        real_time = time.time
        monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 73 * 3600)
        expired = token_of(links.action_link(mod, comment["id"], "approve"))  # made 73 hours ago
        monkeypatch.undo()
        assert signed_links.read("moderate", expired, None)["c"] == comment["id"]  # only its age is wrong
    refused = [
        token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),  # signature broken
        tampered(token, a="reject"),  # another action
        tampered(token, c=another["id"]),  # another comment
        tampered(token, u=other.id),  # another moderator
        expired,  # older than 72 hours
        unsubscribe,  # a token made for something else
        "", "garbage",
    ]
    client = app.test_client()
    for bad in refused:
        assert client.get(f"/moderation/act?token={bad}").status_code == 400, bad
        assert client.post("/moderation/act", data={"token": bad}).status_code == 400, bad
    assert status_of(app, comment["id"]) == status_of(app, another["id"]) == "pending"
    assert submit(app, mine["approve"]).status_code == 200  # the real one still works


def test_a_banned_or_demoted_moderators_links_are_refused(app, login, mod, make_user, admin, alice, article,
                                                          held, mail_sink, deliver):
    other = make_user("other", role="moderator")
    moderation(login(mod), "instant")
    moderation(login(other), "instant")
    comment = pending_comment(login(alice), "held")
    deliver()
    mod_link = action_links(mail_sink.to(mod.email)[0])["approve"]
    other_link = action_links(mail_sink.to(other.email)[0])["reject"]
    as_admin = login(admin)
    assert as_admin.post(f"/api/v1/moderation/users/{mod.id}/ban", {"reason": "rogue"}).status_code == 200
    assert as_admin.put(f"/api/v1/users/{other.id}/role", {"role": "reader"}).status_code == 200
    assert submit(app, mod_link).status_code == 400
    assert submit(app, other_link).status_code == 400
    assert app.test_client().get(mod_link).status_code == 400
    assert status_of(app, comment["id"]) == "pending"


def test_held_again_is_told_again_and_readers_never_get_moderation_mail(
        app, login, mod, make_user, alice, bob, article, mail_sink, deliver):
    moderation(login(mod), "instant")
    reader = make_user("reader")
    with app.app_context():  # a reader's row saying "instant" (a demoted moderator's): still nothing
        db.session.add(NotificationSettings(user_id=reader.id, replies="off", moderation="instant"))
        db.session.commit()
    comment = post_comment(login(alice), "approved at first").get_json()["comment"]
    deliver()
    assert mail_sink.messages == []
    set_status(app, comment["id"], "pending")  # sent back by flags: the comment.held event
    deliver()
    assert len(mail_sink.to(mod.email)) == 1
    assert login(mod).post(f"/api/v1/moderation/comments/{comment['id']}", {"action": "approve"}).status_code == 200
    set_status(app, comment["id"], "pending")
    deliver()
    assert len(mail_sink.to(mod.email)) == 2
    assert [m for m in mail_sink.messages if reader.email in m.rcpt_tos or alice.email in m.rcpt_tos] == []


def test_hourly_digest_counts_what_still_waits_per_article(app, login, mod, alice, make_article, held,
                                                           mail_sink, deliver):
    make_article("a1", title="First")
    make_article("a2", title="Second")
    as_mod = login(mod)
    moderation(as_mod, "hourly")
    with app.app_context():  # this hour's digest went out already
        db.session.get(NotificationSettings, mod.id).moderation_digest_at = utcnow()
        db.session.commit()
    as_alice = login(alice)
    waiting = [pending_comment(as_alice, f"held {n}") for n in range(3)]
    pending_comment(as_alice, "held on a2", key="a2")
    decided = pending_comment(as_alice, "decided on a2", key="a2")
    deliver()
    assert mail_sink.to(mod.email) == []
    assert as_mod.post(f"/api/v1/moderation/comments/{decided['id']}", {"action": "reject"}).status_code == 200

    with app.app_context():  # the next hour
        row = db.session.get(NotificationSettings, mod.id)
        row.moderation_digest_at = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(seconds=1)
        db.session.commit()
    deliver()
    [digest] = mail_sink.to(mod.email)
    assert digest.message["Subject"] == "Comments waiting for review (4)"
    assert "First: 3 pending" in digest.text and "Second: 1 pending" in digest.text
    assert "http://comments.test/moderation?queue=pending" in digest.text
    assert action_links_absent(digest)
    deliver()
    assert len(mail_sink.to(mod.email)) == 1
    assert {status_of(app, c["id"]) for c in waiting} == {"pending"}


def action_links_absent(message):
    return message.links("/moderation/act") == []


def test_moderation_unsubscribe_link_turns_it_off(app, login, mod, alice, article, held, mail_sink, deliver):
    as_mod = login(mod)
    moderation(as_mod, "instant")
    pending_comment(login(alice), "held")
    deliver()
    [message] = mail_sink.to(mod.email)
    link = message.message["List-Unsubscribe"].strip().strip("<>")
    assert app.test_client().post(link, data="List-Unsubscribe=One-Click",
                                  content_type="application/x-www-form-urlencoded").status_code == 200
    assert as_mod.get("/api/v1/me/notifications").get_json()["moderation"] == "off"
    pending_comment(login(alice), "held again")
    deliver()
    assert len(mail_sink.to(mod.email)) == 1
    with app.app_context():
        assert db.session.scalar(select(NotificationSettings.moderation)
                                 .where(NotificationSettings.user_id == mod.id)) == "off"


def test_instant_overflow_waits_for_a_digest(app, login, mod, alice, article, held, mail_sink, deliver):
    app.config["NOTIFY_MAX_PER_HOUR"] = 1
    moderation(login(mod), "instant")
    as_alice = login(alice)
    for n in range(3):
        pending_comment(as_alice, f"held {n}")
    deliver()
    assert len(mail_sink.to(mod.email)) == 1
    with app.app_context():  # an hour later
        for message in db.session.scalars(select(OutboxMessage)):
            message.created_at -= timedelta(hours=1)
        db.session.commit()
    deliver()
    first, digest = mail_sink.to(mod.email)
    assert digest.message["Subject"] == "Comments waiting for review (2)"
    assert "The first article: 2 pending" in digest.text
