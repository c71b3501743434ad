"""Accounts a reader can recover: verification and reset links by mail (a real SMTP server), password
changes, PATCH /me, REQUIRE_VERIFIED_EMAIL, and the /reset and /verify pages posted as plain forms."""
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from app import create_app
from app.accounts import signed_links
from app.extensions import db
from app.models import Comment, ModerationEvent, User

from .conftest import PASSWORD, ApiClient
from .factories import assert_error, post_comment

NEW_PASSWORD = "a brand new passphrase 42"
PUBLIC = "http://comments.test"


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def only_link(received, path: str) -> str:
    links = received.links(path)
    assert len(links) == 1, received.text
    assert links[0].startswith(f"{PUBLIC}{path}?token="), links
    assert links[0] in received.html
    return links[0]


def assert_account_mail(received):
    """Every account message: stable headers, text and HTML parts, never an unsubscribe header."""
    message = received.message
    assert message["Message-ID"] and message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message


def register(app, username, language=None, headers=None):
    """Register through the API from a fresh browser sending ``headers`` on every request."""
    client = app.test_client()
    for name, value in (headers or {}).items():
        client.environ_base["HTTP_" + name.upper().replace("-", "_")] = value
    api = ApiClient(client)
    data = {"username": username, "email": f"{username}@example.org", "password": PASSWORD}
    if language is not None:
        data["language"] = language
    response = api.post("/api/v1/auth/register", data)
    if response.status_code == 201:
        api.csrf = response.get_json()["csrf_token"]  # the new session's
    return api, response


def user_row(app, user_id) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def can_log_in(app, login, password) -> bool:
    api = ApiClient(app.test_client())
    return api.post("/api/v1/auth/login", {"login": login, "password": password}).status_code == 200


def forgot(app, email) -> tuple[int, dict]:
    response = ApiClient(app.test_client()).post("/api/v1/auth/password/forgot", {"email": email})
    return response.status_code, response.get_json()


def reset_link(app, mail_sink, deliver, user) -> str:
    before = len(mail_sink.to(user.email))
    assert forgot(app, user.email)[0] == 202
    deliver()
    mails = mail_sink.to(user.email)[before:]
    assert len(mails) == 1
    assert_account_mail(mails[0])
    return only_link(mails[0], "/reset")


def reset(app, token, password=NEW_PASSWORD):
    return ApiClient(app.test_client()).post("/api/v1/auth/password/reset",
                                            {"token": token, "password": password})


def old_token(app, purpose, claims, age_seconds):
    """A token signed ``age_seconds`` ago (itsdangerous with a fixed clock)."""
    class Past(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - age_seconds
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=f"causerie.link.{purpose}",
                                        signer=Past)
    return serializer.dumps({"n": "fixed-nonce", **claims})


# -- registration and verification ------------------------------------------------------------------

def test_registration_mails_one_verification_link_on_the_public_url(app, mail_sink, deliver):
    api, response = register(app, "newcomer", headers={"Host": "evil.example"})
    assert response.status_code == 201, response.get_json()
    user = response.get_json()["user"]
    assert user["email_verified"] is False and user["language"] == "en"
    deliver()
    assert len(mail_sink.messages) == 1
    received = mail_sink.messages[0]
    assert received.rcpt_tos == ["newcomer@example.org"]
    assert received.message["Subject"] == "Confirm your e-mail address"
    assert_account_mail(received)
    link = only_link(received, "/verify")
    assert "evil.example" not in received.text + received.html

    verified = api.post("/api/v1/auth/email/verify", {"token": token_of(link)})
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["user"]["email_verified"] is True
    assert api.get("/api/v1/auth/me").get_json()["user"]["email_verified"] is True
    assert_error(api.post("/api/v1/auth/email/verify", {"token": token_of(link)}), 400, "bad_request")


def test_registration_in_french_mails_in_french(app, mail_sink, deliver):
    _, response = register(app, "lucie", language="fr")
    assert response.get_json()["user"]["language"] == "fr"
    _, response = register(app, "marc", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert response.get_json()["user"]["language"] == "fr"
    deliver()
    for address in ("lucie@example.org", "marc@example.org"):
        (received,) = mail_sink.to(address)
        assert received.message["Subject"] == "Confirmez votre adresse e-mail"
        assert "Confirmer mon adresse" in received.html


def test_registration_refuses_an_unknown_language(app, mail_sink, deliver):
    _, response = register(app, "klaus", language="de")
    assert_error(response, 422, "validation_error")
    assert "language" in response.get_json()["error"]["fields"]
    deliver()
    assert mail_sink.messages == []


def test_verification_page_confirms_only_on_post(app, mail_sink, deliver):
    api, response = register(app, "pageuser")
    user_id = response.get_json()["user"]["id"]
    deliver()
    token = token_of(only_link(mail_sink.messages[0], "/verify"))
    page = app.test_client().get(f"/verify?token={token}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    assert 'method="post"' in page.get_data(as_text=True) and "<script" not in page.get_data(as_text=True)
    assert user_row(app, user_id).email_verified_at is None  # opening the link changes nothing
    # A plain form post, with the session cookie and no X-CSRF-Token: the token authorizes it.
    done = api.client.post("/verify", data={"token": token})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "pageuser@example.org" in done.get_data(as_text=True)
    assert user_row(app, user_id).email_verified_at is not None
    again = app.test_client().get(f"/verify?token={token}&lang=fr")
    assert again.status_code == 400 and "Ce lien ne peut pas" in again.get_data(as_text=True)


def test_bad_verification_tokens_are_refused(app, make_user, mail_sink, deliver):
    carol = make_user("carol", email_verified_at=None)
    expired = old_token(app, "verify", {"u": carol.id, "e": carol.email}, 8 * 86400)
    with app.app_context():
        reset_purpose = signed_links.make("reset", carol.id, h=signed_links.fingerprint(carol.password_hash),
                                          e=carol.email)
        good = signed_links.make("verify", carol.id, e=carol.email)
        ghost = signed_links.make("verify", 999_999, e=carol.email)
    anonymous = ApiClient(app.test_client())
    for token in (expired, reset_purpose, good[:-3] + "xyz", ghost, "", "x" * 3000):
        assert_error(anonymous.post("/api/v1/auth/email/verify", {"token": token}), 400, 422)
    assert user_row(app, carol.id).email_verified_at is None
    assert anonymous.post("/api/v1/auth/email/verify", {"token": good}).status_code == 200


def test_resend_sends_only_while_unverified_and_is_rate_limited(app, config, make_user, mail_sink, deliver):
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_EMAIL_RESEND="2 per minute")
    limited_app = create_app(config)
    dana = make_user("dana", email_verified_at=None)
    erin = make_user("erin")
    api = ApiClient(limited_app.test_client(), dana)
    assert api.post("/api/v1/auth/email/resend").status_code == 202
    verified = ApiClient(limited_app.test_client(), erin)
    assert verified.post("/api/v1/auth/email/resend").status_code == 202
    assert api.post("/api/v1/auth/email/resend").status_code == 202
    limited = api.post("/api/v1/auth/email/resend")
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
    Worker = __import__("app.notifications.worker", fromlist=["Worker"]).Worker
    Worker(limited_app, name="t").drain()
    assert len(mail_sink.to(dana.email)) == 2 and mail_sink.to(erin.email) == []
    assert_error(ApiClient(limited_app.test_client()).post("/api/v1/auth/email/resend"), 401, "unauthorized")


# -- forgotten passwords ----------------------------------------------------------------------------

def test_forgot_answers_the_same_for_known_and_unknown_addresses(app, alice, mail_sink, deliver):
    known = forgot(app, alice.email.upper())
    unknown = forgot(app, "nobody@example.org")
    assert known == unknown == (202, {"status": "accepted"})
    deliver()
    assert [m.rcpt_tos for m in mail_sink.messages] == [[alice.email]]
    assert mail_sink.messages[0].message["Subject"] == "Reset your password"
    assert_error(ApiClient(app.test_client()).post("/api/v1/auth/password/forgot", {"email": "nope"}),
                 422, "validation_error")


def test_forgot_for_an_address_no_account_can_have_is_the_same_202(app, mail_sink, deliver):
    """A reserved domain (.test, .invalid) is refused at registration, so no account has such an address:
    asking for it is answered like any address without an account, and nothing is sent."""
    assert forgot(app, "someone@example.test") == forgot(app, "x@y.invalid") == (202, {"status": "accepted"})
    deliver()
    assert mail_sink.messages == []


def test_reset_works_once_and_ends_every_other_access(app, make_user, login, mail_sink, deliver):
    fay = make_user("fay", email_verified_at=None)
    elsewhere = login(fay)
    raw_token = elsewhere.post("/api/v1/auth/tokens", {"name": "cli"}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {raw_token}"}
    assert app.test_client().get("/api/v1/auth/tokens", headers=bearer).status_code == 200
    token = token_of(reset_link(app, mail_sink, deliver, fay))

    done = reset(app, token)
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["user"]["username"] == "fay" and body["user"]["email_verified"] is True and body["csrf_token"]
    assert_error(elsewhere.get("/api/v1/auth/tokens"), 401)
    assert_error(app.test_client().get("/api/v1/auth/tokens", headers=bearer), 401)
    assert can_log_in(app, "fay", NEW_PASSWORD) and not can_log_in(app, "fay", PASSWORD)
    assert_error(reset(app, token, "yet another passphrase 7"), 400, "bad_request")
    deliver()
    changed = [m for m in mail_sink.to(fay.email) if m.message["Subject"] == "Your password was changed"]
    assert len(changed) == 1
    assert_account_mail(changed[0])


def test_reset_refuses_a_weak_password_and_keeps_the_link(app, alice, mail_sink, deliver):
    token = token_of(reset_link(app, mail_sink, deliver, alice))
    refused = reset(app, token, "short")
    assert_error(refused, 422, "validation_error")
    assert "password" in refused.get_json()["error"]["fields"]
    assert reset(app, token).status_code == 200


def test_bad_reset_tokens_are_refused(app, alice, bob, mail_sink, deliver):
    with app.app_context():
        fp = signed_links.fingerprint(alice.password_hash)
        verify_purpose = signed_links.make("verify", alice.id, e=alice.email)
    expired = old_token(app, "reset", {"u": alice.id, "h": fp, "e": alice.email}, 2 * 3600)
    fresh = old_token(app, "reset", {"u": alice.id, "h": fp, "e": alice.email}, 60)
    for token in (expired, verify_purpose, fresh[:-4] + "AAAA", fresh.replace(".", "", 1)):
        assert_error(reset(app, token), 400, "bad_request")
    # Alice's token resets Alice only.
    assert reset(app, fresh).status_code == 200
    assert can_log_in(app, "bob", PASSWORD) and can_log_in(app, "alice", NEW_PASSWORD)


def test_a_password_change_kills_older_reset_links(app, alice, login, mail_sink, deliver):
    token = token_of(reset_link(app, mail_sink, deliver, alice))
    assert login(alice).post("/api/v1/auth/password", {"current_password": PASSWORD,
                                                       "password": NEW_PASSWORD}).status_code == 204
    assert_error(reset(app, token, "yet another passphrase 7"), 400, "bad_request")


def test_an_sso_account_without_password_can_reset(app, mail_sink, deliver):
    with app.app_context():
        user = User(username="ssoreader", username_key="ssoreader", email="sso@example.org",
                    email_key=None, display_name="Sso", sso_sub="host-42")
        db.session.add(user)
        db.session.commit()
        db.session.expunge(user)
    token = token_of(reset_link(app, mail_sink, deliver, user))
    assert reset(app, token).status_code == 200
    assert can_log_in(app, "ssoreader", NEW_PASSWORD)


# -- logged in: password and profile ----------------------------------------------------------------

def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(app, alice, login, mail_sink,
                                                                             deliver):
    here, there = login(alice), login(alice)
    raw_token = here.post("/api/v1/auth/tokens", {"name": "cli"}).get_json()["token"]
    wrong = here.post("/api/v1/auth/password", {"current_password": "not my password", "password": NEW_PASSWORD})
    assert_error(wrong, 403, "forbidden")
    assert_error(here.post("/api/v1/auth/password", {"current_password": PASSWORD, "password": "alice"}),
                 422, "validation_error")
    deliver()
    assert mail_sink.messages == []
    ok = here.post("/api/v1/auth/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})
    assert ok.status_code == 204
    assert here.get("/api/v1/auth/tokens").status_code == 200
    assert_error(there.get("/api/v1/auth/tokens"), 401)
    headers = {"Authorization": f"Bearer {raw_token}"}
    assert app.test_client().get("/api/v1/auth/tokens", headers=headers).status_code == 200
    assert can_log_in(app, "alice", NEW_PASSWORD)
    deliver()
    (received,) = mail_sink.to(alice.email)
    assert received.message["Subject"] == "Your password was changed"


def test_changing_the_address_unverifies_it_and_tells_the_old_one(app, alice, bob, login, mail_sink, deliver):
    api = login(alice)
    with app.app_context():
        old_verify = signed_links.make("verify", alice.id, e=alice.email)
    assert_error(api.patch("/api/v1/me", {"email": "BOB@example.org"}), 409, "conflict")
    assert_error(api.patch("/api/v1/me", {"language": "de"}), 422, "validation_error")
    response = api.patch("/api/v1/me", {"email": "alice.new@example.org", "role": "admin",
                                        "display_name": "Alice N.", "language": "fr"})
    assert response.status_code == 200, response.get_json()
    user = response.get_json()
    assert user["email"] == "alice.new@example.org" and user["email_verified"] is False
    assert user["role"] == "reader" and user["display_name"] == "Alice N." and user["language"] == "fr"
    assert user_row(app, alice.id).role == "reader"
    deliver()
    (notice,) = mail_sink.to("alice@example.org")
    assert notice.message["Subject"] == "Votre adresse e-mail a été modifiée"
    assert "alice.new@example.org" in notice.text
    assert_account_mail(notice)
    (verify,) = mail_sink.to("alice.new@example.org")
    assert_account_mail(verify)
    assert_error(api.post("/api/v1/auth/email/verify", {"token": old_verify}), 400, "bad_request")
    assert api.post("/api/v1/auth/email/verify",
                    {"token": token_of(only_link(verify, "/verify"))}).status_code == 200
    assert can_log_in(app, "alice.new@example.org", PASSWORD)


def test_banned_readers_cannot_change_their_profile(app, make_user, login):
    from datetime import timedelta

    from app.timeutil import utcnow
    banned = make_user("gil", banned_until=utcnow() + timedelta(days=1))
    assert_error(login(banned).patch("/api/v1/me", {"display_name": "Gil"}), 403, "banned")


# -- posting while unverified ------------------------------------------------------------------------

def test_required_verification_refuses_unverified_readers(app, config, make_user, login, article):
    config["REQUIRE_VERIFIED_EMAIL"] = True
    strict_app = create_app(config)
    unverified = make_user("hal", email_verified_at=None)
    staff = make_user("mod2", role="moderator", email_verified_at=None)
    verified = make_user("ida")
    response = post_comment(ApiClient(strict_app.test_client(), unverified), "hello")
    assert_error(response, 403, "email_unverified")
    assert post_comment(ApiClient(strict_app.test_client(), staff), "hello").status_code == 201
    assert post_comment(ApiClient(strict_app.test_client(), verified), "hello").status_code == 201


def test_unverified_readers_count_as_new_users(app, make_user, admin, login, article):
    unverified, verified = make_user("jon", email_verified_at=None), make_user("kim")
    jon, kim = login(unverified), login(verified)
    assert post_comment(jon, "first from jon").get_json()["comment"]["status"] == "approved"
    assert post_comment(kim, "first from kim").get_json()["comment"]["status"] == "approved"
    assert login(admin).put("/api/v1/moderation/settings",
                            {"premoderation": "new_users", "trusted_after": 1}).status_code == 200
    assert post_comment(kim, "kim is trusted").get_json()["comment"]["status"] == "approved"
    held = post_comment(jon, "jon is not").get_json()["comment"]
    assert held["status"] == "pending"
    with app.app_context():
        reasons = db.session.scalars(select(ModerationEvent.reason)
                                     .where(ModerationEvent.comment_id == held["id"])).all()
        assert db.session.get(Comment, held["id"]).status == "pending"
    assert any("unverified e-mail address" in (reason or "") for reason in reasons), reasons


# -- the pages, as plain forms ----------------------------------------------------------------------

def test_reset_pages_work_without_javascript(app, alice, mail_sink, deliver):
    browser = app.test_client()
    form = browser.get("/reset?lang=fr")
    assert form.status_code == 200 and 'name="email"' in form.get_data(as_text=True)
    assert "Mot de passe oublié" in form.get_data(as_text=True)
    assert form.headers["Cache-Control"] == "no-store"
    assert browser.post("/reset/forgot", data={"email": "not an address"}).status_code == 422
    sent = browser.post("/reset/forgot", data={"email": alice.email})
    assert sent.status_code == 200 and "Check your inbox" in sent.get_data(as_text=True)
    deliver()
    link = only_link(mail_sink.to(alice.email)[0], "/reset")
    token = token_of(link)

    page = browser.get(link.removeprefix(PUBLIC), headers={"Accept-Language": "fr"})
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert "Choisissez un nouveau mot de passe" in page.get_data(as_text=True)
    assert token in page.get_data(as_text=True)
    mismatch = browser.post("/reset", data={"token": token, "password": NEW_PASSWORD, "confirm": "other"})
    assert mismatch.status_code == 422 and can_log_in(app, "alice", PASSWORD)
    done = browser.post("/reset", data={"token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 200 and 'href="/login' in done.get_data(as_text=True)
    assert can_log_in(app, "alice", NEW_PASSWORD)
    assert "causerie_session" not in str(done.headers.getlist("Set-Cookie"))  # no login on the HTML path
    used = browser.get(link.removeprefix(PUBLIC))
    assert used.status_code == 400 and 'href="/reset' in used.get_data(as_text=True)
    again = browser.post("/reset", data={"token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert again.status_code == 400


@pytest.mark.parametrize("path", ["/reset?token=garbage", "/verify?token=garbage", "/verify"])
def test_bad_links_explain_themselves(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "This link cannot be used" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_forgot_is_limited_per_ip_across_the_api_and_the_page(app, config, alice):
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_FORGOT="2 per minute")
    limited_app = create_app(config)
    api = ApiClient(limited_app.test_client())
    assert api.post("/api/v1/auth/password/forgot", {"email": alice.email}).status_code == 202
    assert limited_app.test_client().post("/reset/forgot", data={"email": alice.email}).status_code == 200
    refused = api.post("/api/v1/auth/password/forgot", {"email": "someone@example.org"})
    assert_error(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) >= 1


def test_wrong_current_passwords_are_limited_per_account(app, config, alice):
    """Guessing the current password through a stolen session meets the login-failure limit."""
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_FAILURES="2 per minute")
    limited_app = create_app(config)
    api = ApiClient(limited_app.test_client(), alice)  # logged in
    for guess in ("guess number one", "guess number two"):
        assert_error(api.post("/api/v1/auth/password", {"current_password": guess, "password": NEW_PASSWORD}),
                     403, "forbidden")
    refused = api.post("/api/v1/auth/password", {"current_password": PASSWORD, "password": NEW_PASSWORD})
    assert_error(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) >= 1
