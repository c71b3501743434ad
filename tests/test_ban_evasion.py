"""A ban outlives the account: deleting it and registering again (same name, address or SSO id)
starts banned; the audit log still names the banned user; a deleted voter's scores leave the cache."""
import time
from datetime import timedelta

import jwt
from sqlalchemy import func, select

from app.extensions import db
from app.models import BannedIdentity, User
from app.timeutil import utcnow

from .conftest import PASSWORD
from .factories import post_comment


def register(api, username, email):
    response = api.post("/api/v1/auth/register", {"username": username, "email": email, "password": PASSWORD})
    if response.status_code == 201:
        api.csrf = response.get_json()["csrf_token"]  # a new session, a new token
    return response


def ban(moderator, user_id, **fields):
    response = moderator.post(f"/api/v1/moderation/users/{user_id}/ban", {"reason": "abuse", **fields})
    assert response.status_code == 200, response.get_json()


def sso_token(config, sub, **claims):
    now = int(time.time())
    return jwt.encode({"sub": sub, "iat": now, "exp": now + 600, **claims}, config["SSO_SECRET"],
                      algorithm="HS256")


def stored_user(app, username):
    with app.app_context():
        return db.session.scalar(select(User).where(User.username_key == username.casefold()))


def test_deleting_a_banned_account_and_registering_again_stays_banned(app, login, alice, mod, article):
    ban(login(mod), alice.id)
    gone = login(alice)
    assert gone.delete("/api/v1/me").status_code == 204  # a banned reader may erase their data
    again = login()
    response = register(again, "alice", "alice@example.org")
    assert response.status_code == 201  # answered like any registration: nothing to enumerate
    assert "banned_until" not in response.get_json()["user"]
    response = post_comment(again, "hello there")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "banned"
    assert stored_user(app, "alice").ban_reason


def test_any_one_identity_carries_the_ban(app, login, make_user, mod, article):
    moderator = login(mod)
    for user in (make_user("carol"), make_user("dave")):
        ban(moderator, user.id)
        assert login(user).delete("/api/v1/me").status_code == 204
    by_address = login()
    assert register(by_address, "someone_new", "CAROL@example.org").status_code == 201
    assert post_comment(by_address, "hello there").status_code == 403
    by_name = login()
    assert register(by_name, "Dave", "fresh@example.org").status_code == 201
    assert post_comment(by_name, "hello there").status_code == 403
    stranger = login()
    assert register(stranger, "erin", "erin@example.org").status_code == 201
    assert post_comment(stranger, "hello there").status_code == 201


def test_a_temporary_ban_carries_its_own_end(app, login, alice, mod, article):
    ban(login(mod), alice.id, days=3)
    until = stored_user(app, "alice").banned_until
    assert login(alice).delete("/api/v1/me").status_code == 204
    assert register(login(), "alice", "alice@example.org").status_code == 201
    assert stored_user(app, "alice").banned_until == until
    with app.app_context():  # only hashes of the identities are kept
        rows = db.session.scalars(select(BannedIdentity)).all()
        assert {row.kind for row in rows} == {"username", "email"}
        assert not any("alice" in row.key_hash for row in rows)


def test_the_sso_subject_carries_the_ban(app, config, login, mod, article):
    reader = login()
    response = reader.post("/api/v1/auth/sso", {"token": sso_token(config, "host-42", username="zoe")})
    assert response.status_code == 200
    zoe_id = response.get_json()["user"]["id"]
    reader.csrf = response.get_json()["csrf_token"]
    ban(login(mod), zoe_id)
    assert reader.delete("/api/v1/me").status_code == 204
    back = login()
    token = sso_token(config, "host-42", username="zoe_again", email="new@example.org")
    response = back.post("/api/v1/auth/sso", {"token": token})
    assert response.status_code == 200
    back.csrf = response.get_json()["csrf_token"]
    assert post_comment(back, "hello there").status_code == 403


def test_unbanning_the_new_account_lifts_the_carried_ban(app, login, alice, mod, article):
    moderator = login(mod)
    ban(moderator, alice.id)
    assert login(alice).delete("/api/v1/me").status_code == 204
    again = login()
    assert register(again, "alice", "alice@example.org").status_code == 201
    new_id = stored_user(app, "alice").id
    assert moderator.delete(f"/api/v1/moderation/users/{new_id}/ban").status_code == 204
    assert post_comment(again, "hello there").status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count(BannedIdentity.id))) == 0


def test_only_a_running_ban_is_carried(app, login, alice, bob, mod, article):
    ban(login(mod), alice.id, days=1)
    with app.app_context():
        db.session.get(User, alice.id).banned_until = utcnow() - timedelta(minutes=1)
        db.session.commit()
    for user in (alice, bob):  # a ban that ended, and no ban at all
        assert login(user).delete("/api/v1/me").status_code == 204
        again = login()
        assert register(again, user.username, f"{user.username}@example.org").status_code == 201
        assert post_comment(again, f"back as {user.username}").status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count(BannedIdentity.id))) == 0


def test_the_log_still_names_the_banned_user_after_deletion(app, login, alice, mod):
    moderator = login(mod)
    ban(moderator, alice.id)
    assert login(alice).delete("/api/v1/me").status_code == 204
    entries = moderator.get("/api/v1/moderation/log").get_json()["entries"]
    [entry] = [e for e in entries if e["action"] == "ban"]
    assert entry["user_id"] is None  # the account is gone ...
    assert entry["user_name"] == "alice"  # ... but the log says who it was


def test_a_deleted_voters_scores_leave_the_cached_page(app, login, alice, bob, article):
    comment_id = post_comment(login(bob), "vote on me").get_json()["comment"]["id"]
    voter = login(alice)
    assert voter.put(f"/api/v1/comments/{comment_id}/vote", {"value": 1}).status_code == 200
    anonymous = app.test_client()

    def score():
        page = anonymous.get("/api/v1/articles/a1/comments").get_json()
        return page["comments"][0]["score"]

    assert score() == 1  # and now cached for anonymous readers
    assert voter.delete("/api/v1/me").status_code == 204
    assert score() == 0
