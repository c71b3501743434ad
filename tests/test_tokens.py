"""API tokens: created from a cookie session only, listed, expiring, their last use kept to the
minute; logging out everywhere ends every session and token of the account."""
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import FOREVER, ApiToken, LoginSession, User
from app.timeutil import utcnow

TOKEN_FIELDS = {"id", "name", "created_at", "last_used_at", "expires_at"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def new_token(api, name="cms", **fields) -> dict:
    response = api.post("/api/v1/auth/tokens", {"name": name, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def me(client, token: str):
    return client.get("/api/v1/auth/me", headers=bearer(token))


def stored(app, token_id: int) -> ApiToken | None:
    with app.app_context():
        return db.session.get(ApiToken, token_id)


def set_token(app, token_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(**values))
        db.session.commit()


def test_tokens_are_listed_newest_first_without_their_secret(app, login, make_user):
    alice, bob = login(make_user("alice")), login(make_user("bob"))
    first = new_token(alice, "first")
    second = new_token(alice, "second", expires_in_days=30)
    new_token(bob, "bob's")
    assert first["expires_at"] is None
    assert set(second) == {"id", "name", "token", "created_at", "expires_at"}

    response = alice.get("/api/v1/auth/tokens")
    assert response.status_code == 200
    tokens = response.get_json()["tokens"]
    assert [t["name"] for t in tokens] == ["second", "first"]
    assert all(set(t) == TOKEN_FIELDS for t in tokens)
    text = response.get_data(as_text=True)
    assert first["token"] not in text and second["token"] not in text
    with app.app_context():
        assert not any(row.token_hash in text for row in db.session.scalars(select(ApiToken)))
    expires = tokens[0]["expires_at"]
    assert expires == second["expires_at"]
    assert timedelta(days=29) < datetime.fromisoformat(expires) - utcnow() <= timedelta(days=30)
    assert tokens[1]["expires_at"] is None and tokens[1]["last_used_at"] is None
    # A bearer token lists its owner's tokens too, never anyone else's.
    listed = alice.client.get("/api/v1/auth/tokens", headers=bearer(first["token"])).get_json()["tokens"]
    assert {t["id"] for t in listed} == {first["id"], second["id"]}
    assert login().get("/api/v1/auth/tokens").status_code == 401


@pytest.mark.parametrize("days", [0, -1, 3651, 10**30, "5", 5.0, True, None])
def test_expires_in_days_must_be_a_sane_positive_integer(login, make_user, app, days):
    alice = login(make_user("alice"))
    response = alice.post("/api/v1/auth/tokens", {"name": "cms", "expires_in_days": days})
    if days is None:  # an explicit null is "no expiry"
        assert response.status_code == 201 and response.get_json()["expires_at"] is None
        return
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["error"]["fields"]) == {"expires_in_days"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_token_expires(app, login, make_user, client):
    alice = login(make_user("alice"))
    longest = new_token(alice, "longest", expires_in_days=3650)
    soon = new_token(alice, "soon", expires_in_days=1)
    assert me(client, soon["token"]).get_json()["user"]["username"] == "alice"
    set_token(app, soon["id"], expires_at=utcnow() - timedelta(seconds=1))
    response = me(client, soon["token"])
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert client.post("/api/v1/preview", json={"body": "hi"}, headers=bearer(soon["token"])).status_code == 401
    assert me(client, longest["token"]).status_code == 200


def test_a_bearer_token_cannot_mint_tokens_and_dies_when_revoked(app, login, make_user, client):
    alice = login(make_user("alice"))
    stolen = new_token(alice, "stolen")
    response = client.post("/api/v1/auth/tokens", json={"name": "successor"}, headers=bearer(stolen["token"]))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1
    assert alice.delete(f"/api/v1/auth/tokens/{stolen['id']}").status_code == 204
    assert me(client, stolen["token"]).status_code == 401


def test_logout_everywhere_ends_every_session_and_token(app, login, make_user):
    alice = make_user("alice")
    laptop, phone, bob = login(alice), login(alice), login(make_user("bob"))
    tokens = [new_token(laptop, "cms")["token"], new_token(phone, "ci", expires_in_days=5)["token"]]
    # CSRF like every cookie-authenticated write.
    refused = laptop.client.post("/api/v1/auth/logout-everywhere")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"

    assert laptop.post("/api/v1/auth/logout-everywhere").status_code == 204
    assert laptop.get("/api/v1/auth/me").get_json()["user"] is None
    assert phone.get("/api/v1/auth/me").get_json()["user"] is None
    assert all(me(phone.client, token).status_code == 401 for token in tokens)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(LoginSession.user_id == alice.id)) == 0
        assert db.session.scalar(select(func.count()).where(ApiToken.user_id == alice.id)) == 0
    assert bob.get("/api/v1/auth/me").get_json()["user"]["username"] == "bob"
    # The owner logs in again as usual.
    assert login(alice).get("/api/v1/auth/me").get_json()["user"]["username"] == "alice"


def test_logout_everywhere_with_a_token_ends_that_token_too(app, login, make_user, client):
    alice = make_user("alice")
    browser = login(alice)
    token = new_token(browser)["token"]
    assert client.post("/api/v1/auth/logout-everywhere", headers=bearer(token)).status_code == 204
    assert me(client, token).status_code == 401
    assert browser.get("/api/v1/auth/me").get_json()["user"] is None


def test_a_banned_account_can_still_log_out_everywhere(app, login, make_user):
    alice = make_user("alice")
    browser, other = login(alice), login(alice)
    with app.app_context():
        db.session.get(User, alice.id).banned_until = FOREVER
        db.session.commit()
    assert browser.post("/api/v1/auth/logout-everywhere").status_code == 204
    assert other.get("/api/v1/auth/me").get_json()["user"] is None


def test_last_use_is_recorded_at_most_once_a_minute(app, login, make_user, client):
    alice = login(make_user("alice"))
    token = new_token(alice)
    assert stored(app, token["id"]).last_used_at is None
    assert me(client, token["token"]).status_code == 200
    first = stored(app, token["id"]).last_used_at
    assert first is not None and abs(utcnow() - first) < timedelta(seconds=10)

    half_a_minute_ago = utcnow() - timedelta(seconds=30)
    set_token(app, token["id"], last_used_at=half_a_minute_ago)
    assert me(client, token["token"]).status_code == 200
    assert stored(app, token["id"]).last_used_at == half_a_minute_ago

    set_token(app, token["id"], last_used_at=utcnow() - timedelta(minutes=2))
    # A write request records it too (outside its own transaction), and still succeeds.
    response = client.post("/api/v1/preview", json={"body": "*hi*"}, headers=bearer(token["token"]))
    assert response.status_code == 200
    assert abs(utcnow() - stored(app, token["id"]).last_used_at) < timedelta(seconds=10)
    listed = alice.get("/api/v1/auth/tokens").get_json()["tokens"][0]
    assert listed["last_used_at"] is not None


def test_recording_last_use_under_concurrent_bearer_reads(app, login, make_user):
    """Many bearer requests at once, each due a write of its token's last use: none fails."""
    alice = login(make_user("alice"))
    tokens = [new_token(alice, f"t{n}") for n in range(6)]
    statuses, errors = [], []

    def read(token):
        client = app.test_client()
        try:
            for _ in range(5):
                statuses.append(me(client, token["token"]).status_code)
                statuses.append(client.get("/api/v1/auth/tokens", headers=bearer(token["token"])).status_code)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and statuses == [200] * 60
    assert all(stored(app, token["id"]).last_used_at is not None for token in tokens)

