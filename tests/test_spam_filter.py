"""The spam filter through the HTTP API, the real database and the real worker (deliver()): what it holds
and why, who sees what of it, what it learns from, retraining and its pick-up by every process, the
spam queue it must earn, and its endpoints."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from app import create_app
from app.extensions import db
from app.models import Comment, ModerationEvent
from app.spam import decisions, learning, state
from app.spam.models import SpamModelVersion
from app.timeutil import utcnow

from .conftest import ApiClient
from .factories import assert_error, new_comment, post_comment

SPAM_FILTER = "/api/v1/moderation/spam-filter"
SPAMMY = "CHECK OUT my channel and subscribe!!! http://cheap-views.example/free subscribe subscribe"
HAM = "I think the article misses the point about the new budget and the taxes."
REASON = re.compile(r"^spam score [01]\.\d\d: learned from (?P<n>[\d,]+) decisions"
                    r"(?P<base> \(the shipped base model\))?; words: '[^']+' \+\d+\.\d")


@pytest.fixture
def config(config):
    config["SPAM_FILTER"] = True
    return config


def decide(api, comment_id, action, reason=None):
    response = api.post(f"/api/v1/moderation/comments/{comment_id}",
                        {"action": action, **({"reason": reason} if reason else {})})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def audit(app, comment_id) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(ModerationEvent.action, ModerationEvent.actor_id, ModerationEvent.from_status,
                   ModerationEvent.to_status, ModerationEvent.reason)
            .where(ModerationEvent.comment_id == comment_id).order_by(ModerationEvent.id))]


def labels(app) -> dict[int, int]:
    """The training set as the worker would read it: comment id -> 1 (spam) or 0."""
    with app.app_context():
        rows = db.session.execute(decisions.labelled(Comment.id)).all()
        return {row.id: int(bool(row.spam)) for row in rows}


def versions(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(SpamModelVersion.id).order_by(SpamModelVersion.id)))


# -- holding, and who sees what --------------------------------------------------------------------

def test_a_spammy_post_is_held_with_the_reason_and_only_its_author_learns_why(
        app, login, alice, bob, mod, article):
    as_alice, as_mod = login(alice), login(mod)
    ham = new_comment(as_alice, HAM)
    assert ham["status"] == "approved" and "spam_score" not in ham and "held_because" not in ham

    held = new_comment(as_alice, SPAMMY)
    assert held["status"] == "pending" and held["held_because"] == "spam_filter"
    assert "spam_score" not in held and "reasons" not in held

    # The log: one hold by no one, naming the score, the decisions learned from and the words.
    [(action, actor, before, after, reason)] = audit(app, held["id"])
    assert (action, actor, before, after) == ("hold", None, None, "pending")
    match = REASON.match(reason)
    assert match and match["n"] == "0" and match["base"], reason

    # Moderators: the score on every comment they read, and the reason whole in the queue.
    [item] = as_mod.get("/api/v1/moderation/queue?queue=pending").get_json()["comments"]
    assert item["id"] == held["id"] and item["reasons"] == [reason]
    assert item["spam_score"] >= 0.5 and "held_because" not in item
    shown = as_mod.get(f"/api/v1/comments/{ham['id']}").get_json()
    assert 0 <= shown["spam_score"] < 0.5
    thread = as_mod.get("/api/v1/articles/a1/comments").get_json()["comments"]
    assert all("spam_score" in comment for comment in thread)

    # The author sees why it waits, in place; never the score or the words.
    mine = as_alice.get(f"/api/v1/comments/{held['id']}").get_json()
    assert mine["held_because"] == "spam_filter"
    assert set(mine) - set(ham) == {"held_because"}  # no score, no reasons
    others = {c["id"]: c for c in as_alice.get("/api/v1/articles/a1/comments").get_json()["comments"]}
    assert others[held["id"]]["held_because"] == "spam_filter"
    assert "held_because" not in others[ham["id"]] and "spam_score" not in others[ham["id"]]

    # Anyone else: neither the comment nor anything about the filter.
    assert_error(login(bob).get(f"/api/v1/comments/{held['id']}"), 404)
    for viewer in (login(bob), login()):
        [seen] = viewer.get("/api/v1/articles/a1/comments").get_json()["comments"]
        assert seen["id"] == ham["id"] and "spam_score" not in seen and "held_because" not in seen


def test_the_rules_cause_comes_first_and_staff_are_exempt(app, login, alice, mod, admin, article):
    assert login(admin).put("/api/v1/moderation/settings", {"suspect_words": ["budget"]}).status_code == 200
    held = new_comment(login(alice), SPAMMY + " budget")
    assert held["status"] == "pending" and held["held_because"] == "suspect_word"
    [(_, _, _, _, reason)] = audit(app, held["id"])
    assert reason.startswith('suspect word "budget"; spam score ')
    [item] = login(mod).get("/api/v1/moderation/queue").get_json()["comments"]
    assert item["reasons"][0] == 'suspect word "budget"' and REASON.match(item["reasons"][1])

    staff = new_comment(login(mod), SPAMMY)
    assert staff["status"] == "approved"
    assert login(admin).get(f"/api/v1/comments/{staff['id']}").get_json()["spam_score"] is None


def test_an_edit_is_scored_again_and_disabled_filter_scores_nothing(app, login, alice, mod, admin, article):
    as_alice = login(alice)
    comment = new_comment(as_alice, HAM)
    response = as_alice.patch(f"/api/v1/comments/{comment['id']}", {"body": SPAMMY})
    assert response.status_code == 200
    assert response.get_json()["status"] == "pending" and response.get_json()["held_because"] == "spam_filter"
    assert [entry[:4] for entry in audit(app, comment["id"])] == [("hold", None, "approved", "pending")]
    assert login(mod).get(f"/api/v1/comments/{comment['id']}").get_json()["spam_score"] >= 0.5

    assert login(admin).put(SPAM_FILTER, {"enabled": False}).get_json()["enabled"] is False
    quiet = new_comment(as_alice, SPAMMY + " again")
    assert quiet["status"] == "approved"
    assert login(mod).get(f"/api/v1/comments/{quiet['id']}").get_json()["spam_score"] is None


def test_a_held_reply_sends_no_notification(app, login, alice, bob, article, mail_sink, deliver):
    as_alice, as_bob = login(alice), login(bob)
    assert as_bob.put("/api/v1/me/notifications", {"replies": "instant"}).status_code == 200
    parent = new_comment(as_bob, HAM)
    new_comment(as_alice, "I agree with you about the taxes.", parent_id=parent["id"])
    held = new_comment(as_alice, SPAMMY, parent_id=parent["id"])
    assert held["status"] == "pending"
    deliver()
    [told] = mail_sink.to(bob.email)
    assert "taxes" in told.text and "cheap-views" not in told.text


# -- what it learns from ---------------------------------------------------------------------------

def test_only_moderators_verdicts_train_and_the_latest_wins(app, login, make_user, alice, mod, admin, article):
    as_alice, as_mod = login(alice), login(mod)
    assert login(admin).put("/api/v1/moderation/settings", {"suspect_words": ["zebra"]}).status_code == 200
    ids = {name: new_comment(as_alice, f"{HAM} ({name})")["id"]
           for name in ("spam", "approve", "reject", "confirmed", "reversed", "spam_then_reject")}
    ids["automatic"] = new_comment(as_alice, "a zebra crossing")["id"]  # held by a rule only
    leaver = make_user("leaver")
    as_leaver = login(leaver)
    ids["deleted_account"] = new_comment(as_leaver, f"{HAM} (leaver)")["id"]
    ids["erased"] = new_comment(as_alice, f"{HAM} (erased)")["id"]

    decide(as_mod, ids["spam"], "spam")
    decide(as_mod, ids["reject"], "reject")
    decide(as_mod, ids["reversed"], "spam")
    decide(as_mod, ids["reversed"], "approve")
    decide(as_mod, ids["spam_then_reject"], "spam")
    decide(as_mod, ids["spam_then_reject"], "reject")
    decide(as_mod, ids["deleted_account"], "spam")
    decide(as_mod, ids["erased"], "spam")
    decide(as_mod, ids["approve"], "reject")
    decide(as_mod, ids["approve"], "approve")

    # Approving an approved comment confirms it: 200, one audit entry from approved to approved.
    confirmed = decide(as_mod, ids["confirmed"], "approve", "looks fine")
    assert confirmed["status"] == "approved"
    assert audit(app, ids["confirmed"]) == [("approve", mod.id, "approved", "approved", "looks fine")]

    expected = {ids["spam"]: 1, ids["approve"]: 0, ids["confirmed"]: 0, ids["reversed"]: 0,
                ids["deleted_account"]: 1, ids["erased"]: 1}
    assert labels(app) == expected

    assert as_leaver.delete("/api/v1/me").status_code == 204
    assert as_mod.delete(f"/api/v1/comments/{ids['erased']}").status_code == 204
    del expected[ids["deleted_account"]], expected[ids["erased"]]
    assert labels(app) == expected
    assert as_mod.get(SPAM_FILTER).get_json()["decisions"] == {"approve": 3, "spam": 1}
    with app.app_context():
        examples, counts = learning.training_examples()
    assert counts == {"approve": 3, "spam": 1}
    assert sorted(e.label for e in examples) == [0, 0, 0, 1]
    assert {e.text for e in examples} == {f"{HAM} ({name})" for name in ("spam", "approve", "confirmed",
                                                                          "reversed")}


# -- retraining, and every process picking up the new version ---------------------------------------

def test_the_worker_trains_and_another_app_process_picks_the_version_up(
        app, config, login, alice, bob, mod, article, deliver):
    other = create_app(dict(config))  # a second server process, with its own model cache
    try:
        as_alice_elsewhere = ApiClient(other.test_client(), alice)
        first = new_comment(as_alice_elsewhere, SPAMMY)
        assert REASON.match(audit(app, first["id"])[0][4])["base"]

        as_mod = login(mod)
        decide(as_mod, first["id"], "spam")
        decide(as_mod, new_comment(login(bob), HAM)["id"], "approve")
        deliver()
        [version] = versions(app)

        second = new_comment(as_alice_elsewhere, SPAMMY + " now")
        match = REASON.match(audit(app, second["id"])[0][4])
        assert match["n"] == "2" and not match["base"]
        assert other.extensions["causerie.spam_models"].loaded.version_id == version
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_retrain_on_request_and_on_schedule(app, login, alice, mod, admin, article, deliver, runner,
                                            monkeypatch):
    monkeypatch.setattr(learning, "KEEP_WEIGHTS", 2)
    as_mod, as_admin = login(mod), login(admin)
    assert as_mod.get(SPAM_FILTER).get_json()["version"] is None
    deliver()
    assert versions(app) == []  # nothing to learn from yet

    decide(as_mod, new_comment(login(alice), HAM)["id"], "approve")
    deliver()  # fewer than 100 labels: every decision trains
    assert len(versions(app)) == 1
    deliver()
    assert len(versions(app)) == 1  # nothing new

    assert as_admin.post(f"{SPAM_FILTER}/retrain").status_code == 202
    assert as_mod.get(SPAM_FILTER).get_json()["retrain_requested"] is True
    deliver()
    shown = as_mod.get(SPAM_FILTER).get_json()
    assert len(versions(app)) == 2 and shown["version"] == versions(app)[-1]
    assert shown["trained_at"].endswith("Z") and shown["retrain_requested"] is False

    with app.app_context():  # a day passes
        row = state.state_row()
        assert learning.due(row, labels=1) is None
        row.attempted_at = utcnow() - timedelta(hours=25)
        assert learning.due(row, labels=1) == "nightly"
        db.session.rollback()

    with app.app_context():  # an upgrade changes the features: the versions of the old ones are ignored
        row = state.state_row()
        monkeypatch.setattr(learning, "FEATURE_VERSION", learning.FEATURE_VERSION + 1)
        assert learning.due(row, labels=1) is None  # a try less than an hour ago
        row.attempted_at = utcnow() - learning.NEW_FEATURES_RETRY
        assert learning.due(row, labels=1) == "new features"
        monkeypatch.undo()
        assert learning.due(row, labels=1) is None
        db.session.rollback()
    monkeypatch.setattr(learning, "KEEP_WEIGHTS", 2)

    result = runner.invoke(args=["spam", "retrain"])
    assert result.exit_code == 0 and "learned from 1 not-spam and 0 spam decisions" in result.output
    with app.app_context():
        kept = db.session.execute(select(SpamModelVersion.id, SpamModelVersion.weights.is_not(None))
                                  .order_by(SpamModelVersion.id)).all()
    assert [bool(has) for _, has in kept] == [False, True, True]  # older weights are dropped


def test_past_a_hundred_labels_every_twentieth_decision_trains(app, login, alice, mod, article):
    comment_id = new_comment(login(alice), HAM)["id"]
    with app.app_context():
        row = state.state_row()
        row.attempted_through_event_id, row.attempted_at = 0, utcnow()
        db.session.commit()

        def verdicts(n):
            db.session.add_all(ModerationEvent(action="approve", actor_id=mod.id, comment_id=comment_id)
                               for _ in range(n))
            db.session.add(ModerationEvent(action="hold", actor_id=None, comment_id=comment_id))
            db.session.commit()

        verdicts(1)
        assert learning.due(row, labels=99) == "a new decision"
        assert learning.due(row, labels=100) is None
        verdicts(18)
        assert learning.due(row, labels=150) is None
        verdicts(1)
        assert learning.due(row, labels=150) == "20 new decisions"


# -- the spam queue must be earned ---------------------------------------------------------------------

@pytest.mark.parametrize("approve, spam, precision, earned", [
    (170, 30, 0.95, True), (169, 30, 1.0, False), (180, 29, 1.0, False), (170, 30, 0.94, False),
    (170, 30, None, False)])
def test_the_spam_queue_is_earned(approve, spam, precision, earned):
    assert state.queue_earned({"approve": approve, "spam": spam}, {"precision_at_spam": precision}) is earned


def test_high_scores_only_hold_until_the_filter_earns_the_spam_queue(
        app, login, make_user, alice, mod, admin, article, deliver):
    """200 earlier decisions (30 spam) whose scores were right: once the worker has seen them, a score
    above spam_threshold goes to spam; before, it only held."""
    as_mod = login(mod)
    authors = [make_user(f"reader{i}") for i in range(10)]
    with app.app_context():
        now = utcnow()
        rows = [{"article_id": article.id, "author_id": authors[i % 10].id, "depth": 0, "status": "pending",
                 "body": (f"subscribe to my channel for free views {i} http://views{i}.example" if i < 30
                          else f"a thoughtful remark number {i} about the article"),
                 "body_html": "<p>x</p>", "created_at": now, "decided_at": now,
                 "spam_score": 0.99 if i < 30 else 0.05} for i in range(200)]
        ids = list(db.session.scalars(insert(Comment).returning(Comment.id), rows))
        db.session.commit()
    spam_ids, ham_ids = ids[:30], ids[30:]
    assert as_mod.post("/api/v1/moderation/bulk", {"ids": spam_ids, "action": "spam"}).status_code == 200
    assert as_mod.post("/api/v1/moderation/bulk", {"ids": ham_ids, "action": "approve"}).status_code == 200

    shown = as_mod.get(SPAM_FILTER).get_json()
    assert shown["decisions"] == {"approve": 170, "spam": 30}
    assert shown["recent"] == {"scored": 200, "precision_at_hold": 1.0, "recall_at_hold": 1.0,
                               "precision_at_spam": 1.0}
    assert shown["spam_queue_active"] is False  # earned, but the worker has not seen it yet
    as_alice = login(alice)
    held = new_comment(as_alice, SPAMMY)
    assert held["status"] == "pending"

    deliver()
    assert as_mod.get(SPAM_FILTER).get_json()["spam_queue_active"] is True
    sent = post_comment(as_alice, SPAMMY + " 2").get_json()["comment"]
    assert sent["status"] == "spam" and "held_because" not in sent
    [(action, actor, _, after, reason)] = audit(app, sent["id"])
    assert (action, actor, after) == ("spam", None, "spam")
    assert REASON.match(reason)["n"] == "200"
    queue = as_mod.get("/api/v1/moderation/queue?queue=spam").get_json()["comments"]
    assert queue[0]["id"] == sent["id"] and queue[0]["reasons"] == [reason]

    # The moderator confirms it: 200, an audit entry from spam to spam, a spam label to learn from; the
    # precision that earned the queue stays (a confirmation is a right score, not a reversal).
    assert decide(as_mod, sent["id"], "spam", "confirmed")["status"] == "spam"
    assert audit(app, sent["id"])[1:] == [("spam", mod.id, "spam", "spam", "confirmed")]
    assert labels(app)[sent["id"]] == 1
    deliver()
    shown = as_mod.get(SPAM_FILTER).get_json()
    assert shown["decisions"] == {"approve": 170, "spam": 31} and shown["spam_queue_active"] is True
    assert shown["recent"]["precision_at_spam"] == 1.0

    # A spam threshold nothing reaches (the recent precision there is unknown) closes the queue again.
    assert login(admin).put(SPAM_FILTER, {"spam_threshold": 1.0}).get_json()["spam_queue_active"] is False
    assert new_comment(as_alice, SPAMMY + " 3")["status"] == "pending"


# -- the endpoints -----------------------------------------------------------------------------------

def test_endpoints_need_the_right_role(app, login, alice, mod, admin):
    anonymous, reader, moderator = login(), login(alice), login(mod)
    for method, path in (("get", SPAM_FILTER), ("put", SPAM_FILTER), ("post", f"{SPAM_FILTER}/retrain")):
        kwargs = {"json": {"enabled": False}} if method == "put" else {}
        assert_error(getattr(anonymous, method)(path, **kwargs), 401, "unauthorized")
        assert_error(getattr(reader, method)(path, **kwargs), 403, "forbidden")
    assert_error(moderator.put(SPAM_FILTER, {"enabled": False}), 403, "forbidden")
    assert_error(moderator.post(f"{SPAM_FILTER}/retrain"), 403, "forbidden")

    shown = moderator.get(SPAM_FILTER).get_json()
    assert shown == {
        "enabled": True, "version": None, "trained_at": None, "decisions": {"approve": 0, "spam": 0},
        "hold_threshold": 0.5, "spam_threshold": 0.9, "spam_queue_active": False,
        "recent": {"scored": 0, "precision_at_hold": None, "recall_at_hold": None, "precision_at_spam": None},
        "disabled_by_config": False, "retrain_requested": False}
    # A cookie session must send its CSRF token.
    no_token = login(admin)
    no_token.csrf = "wrong"
    assert_error(no_token.put(SPAM_FILTER, {"enabled": False}), 403, "csrf_failed")
    assert_error(no_token.post(f"{SPAM_FILTER}/retrain"), 403, "csrf_failed")


@pytest.mark.parametrize("payload, fields", [
    ({"hold_threshold": 0}, ["hold_threshold"]),
    ({"hold_threshold": 1.5}, ["hold_threshold"]),
    ({"spam_threshold": -0.1}, ["spam_threshold"]),
    ({"hold_threshold": "0.5"}, ["hold_threshold"]),
    ({"hold_threshold": True}, ["hold_threshold"]),
    ({"hold_threshold": None}, ["hold_threshold"]),
    ({"enabled": "yes"}, ["enabled"]),
    ({"enabled": 1}, ["enabled"]),
    ({"hold_threshold": 0.95}, ["hold_threshold"]),  # above the spam threshold (0.9)
    ({"hold_threshold": 0.8, "spam_threshold": 0.7}, ["hold_threshold", "spam_threshold"]),
])
def test_bad_settings_are_422_and_store_nothing(app, login, admin, payload, fields):
    as_admin = login(admin)
    before = as_admin.get(SPAM_FILTER).get_json()
    error = assert_error(as_admin.put(SPAM_FILTER, payload), 422, "validation_error")
    assert sorted(error["fields"]) == fields
    assert as_admin.get(SPAM_FILTER).get_json() == before


def test_settings_change_and_malformed_bodies(app, login, admin):
    as_admin = login(admin)
    response = as_admin.put(SPAM_FILTER, {"hold_threshold": 0.6, "spam_threshold": 1, "ignored": 3})
    assert response.status_code == 200
    assert (response.get_json()["hold_threshold"], response.get_json()["spam_threshold"]) == (0.6, 1.0)
    assert as_admin.put(SPAM_FILTER, {"spam_threshold": 0.6}).get_json()["spam_threshold"] == 0.6
    assert_error(as_admin.put(SPAM_FILTER, data="{", content_type="application/json"), 400, "bad_request")
    assert_error(as_admin.put(SPAM_FILTER, data="x", content_type="text/plain"), 415)
    assert as_admin.get(SPAM_FILTER).get_json()["hold_threshold"] == 0.6
