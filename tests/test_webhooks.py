"""Webhooks: the admin API, the calls each event causes, and their signed delivery to a real HTTP
receiver on 127.0.0.1 that checks every call with the Standard Webhooks reference library."""
import base64
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from app.database import writing
from app.extensions import db
from app.notifications import events, fanout, outbox
from app.notifications.models import OutboxMessage
from app.timeutil import utcnow

from .factories import assert_error

API = "/api/v1/webhooks"
ALL_EVENTS = list(events.WEBHOOK_EVENTS)


class Receiver:
    """An HTTP endpoint answering each call with the next of ``responses`` (200 once they run out)."""

    def __init__(self):
        self.responses: list[int] = []
        self.calls: list[dict] = []
        self.secrets: dict[str, str] = {}  # path -> the secret of the endpoint registered there
        self.unverified: list[bytes] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {key: value for key, value in self.headers.items()}
                try:
                    verified = Verifier(receiver.secrets[self.path]).verify(raw, headers)
                except (KeyError, WebhookVerificationError):
                    receiver.unverified.append(raw)
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with receiver.lock:
                    status = receiver.responses.pop(0) if receiver.responses else 200
                    receiver.calls.append({"id": self.headers["webhook-id"], "raw": raw,
                                           "body": verified, "headers": headers, "path": self.path})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def types(self) -> Counter:
        return Counter(call["body"]["type"] for call in self.calls)


@pytest.fixture
def receiver(app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # read at each request and by the worker
    app.config["WEBHOOK_TIMEOUT"] = 5
    found = Receiver()
    found.thread.start()
    yield found
    assert found.unverified == []  # every call carried a valid Standard Webhooks signature
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def as_admin(login, admin):
    return login(admin)


@pytest.fixture
def hook(as_admin, receiver):
    """An endpoint on the receiver wanting every event; the receiver knows its secret."""
    def make(events_=None):
        path = f"/hook{len(receiver.secrets) + 1}?x=1"
        response = as_admin.post(API, {"url": receiver.base + path, "events": events_ or ALL_EVENTS,
                                       "description": "the newsroom"})
        assert response.status_code == 201, response.get_json()
        data = response.get_json()["webhook"]
        receiver.secrets[path] = data["secret"]
        return data
    return make


def _due_now(app, **values):
    """Make every pending webhook message due at once (skipping the backoff wait)."""
    with app.app_context():
        with writing():
            db.session.execute(update(OutboxMessage).where(OutboxMessage.state == outbox.PENDING)
                               .values(next_attempt_at=utcnow(), **values))
        db.session.commit()


def _messages(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook")
                                       .order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


# -- the admin API ----------------------------------------------------------------------------

def test_register_shows_the_secret_once(as_admin, hook):
    made = hook(["comment.created", "user.banned"])
    assert made["secret"].startswith("whsec_")
    assert len(base64.b64decode(made["secret"][6:])) == 32
    assert made["events"] == ["comment.created", "user.banned"]
    assert made["description"] == "the newsroom" and made["disabled"] is False
    assert made["disabled_reason"] is None and made["created_at"]
    listed = as_admin.get(API).get_json()["webhooks"]
    assert listed == [{k: v for k, v in made.items() if k != "secret"}]
    assert made["secret"] not in json.dumps(listed)


@pytest.mark.parametrize("url", [
    "ftp://example.com/x", "example.com/hook", "http://", "https://user:pw@example.com/",
    "https://example.com/" + "a" * 2000, "http://exa mple.com/", "http://example.com:99999/",
])
def test_a_url_that_is_not_http_with_a_host_is_422(as_admin, url):
    error = assert_error(as_admin.post(API, {"url": url, "events": ["comment.created"]}), 422)
    assert set(error["fields"]) == {"url"}


@pytest.mark.parametrize("events_", [[], ["comment.held"], ["nope"], ["comment.created", "comment.created"], "comment.created"])
def test_a_bad_events_list_is_422(as_admin, events_):
    error = assert_error(as_admin.post(API, {"url": "https://93.184.215.14/h", "events": events_}), 422)
    assert set(error["fields"]) == {"events"}


def test_every_wrong_field_is_named(as_admin):
    error = assert_error(as_admin.post(API, {"description": 5}), 422)
    assert set(error["fields"]) == {"url", "events", "description"}


@pytest.mark.parametrize("host", [
    "localhost", "app.localhost", "127.0.0.1", "127.1", "2130706433", "0x7f.1", "[::1]",
    "[::ffff:127.0.0.1]", "0.0.0.0", "169.254.169.254", "10.1.2.3", "192.168.0.1", "100.64.0.1",
    "[fe80::1]", "[fc00::1]", "224.0.0.1", "[64:ff9b::a9fe:a9fe]",
])
def test_private_addresses_are_refused_at_registration(as_admin, host):
    error = assert_error(as_admin.post(API, {"url": f"http://{host}:8080/h", "events": ALL_EVENTS}), 422)
    assert set(error["fields"]) == {"url"}
    assert as_admin.get(API).get_json()["webhooks"] == []


def test_a_public_address_is_accepted(as_admin):
    response = as_admin.post(API, {"url": "https://93.184.215.14/hooks", "events": ["user.banned"]})
    assert response.status_code == 201


def test_change_disable_enable_delete(as_admin, hook):
    made = hook(["comment.created"])
    path = f"{API}/{made['id']}"
    changed = as_admin.patch(path, {"events": ["user.banned", "comment.created"], "description": "x"})
    assert changed.status_code == 200
    assert changed.get_json()["events"] == ["comment.created", "user.banned"]  # the contract's order
    assert "secret" not in changed.get_json()
    assert as_admin.patch(path, {"disabled": True}).get_json()["disabled"] is True
    assert_error(as_admin.patch(path, {"url": "http://[::1]/", "events": []}), 422)
    again = as_admin.patch(path, {"disabled": False}).get_json()
    assert again["disabled"] is False and again["disabled_reason"] is None
    assert_error(as_admin.patch(path, {"disabled": "no"}), 422)
    assert as_admin.delete(path).status_code == 204
    for response in (as_admin.delete(path), as_admin.patch(path, {"disabled": True}),
                     as_admin.get(path + "/deliveries")):
        assert_error(response, 404)


def test_only_admins(login, make_user, mod, as_admin, hook, client):
    made = hook()
    reader = login(make_user())
    moderator = login(mod)
    path = f"{API}/{made['id']}"
    for caller, status in ((reader, 403), (moderator, 403), (login(), 401)):
        assert_error(caller.get(API), status)
        assert_error(caller.post(API, {"url": "https://93.184.215.14/", "events": ALL_EVENTS}), status)
        assert_error(caller.patch(path, {"disabled": True}), status)
        assert_error(caller.get(path + "/deliveries"), status)
        assert_error(caller.delete(path), status)
    assert as_admin.get(API).get_json()["webhooks"][0]["disabled"] is False


# -- events and their delivery -----------------------------------------------------------------

def test_every_event_is_delivered_signed(app, login, alice, bob, mod, article, hook, receiver, deliver):
    hook()
    as_alice, as_bob, as_mod = login(alice), login(bob), login(mod)
    first = as_alice.post("/api/v1/articles/a1/comments", {"body": "Hello **there**"}).get_json()["comment"]
    assert as_bob.post(f"/api/v1/comments/{first['id']}/flags", {"reason": "spam"}).status_code == 201
    for action in ("reject", "approve", "spam"):
        assert as_mod.post(f"/api/v1/moderation/comments/{first['id']}", {"action": action}).status_code == 200
    second = as_alice.post("/api/v1/articles/a1/comments", {"body": "gone soon"}).get_json()["comment"]
    assert as_alice.delete(f"/api/v1/comments/{second['id']}").status_code == 204
    assert as_mod.post(f"/api/v1/moderation/users/{bob.id}/ban", {"reason": "rude"}).status_code == 200
    deliver()
    assert receiver.types() == Counter({"comment.created": 2, "comment.flagged": 1, "comment.rejected": 1,
                                        "comment.approved": 1, "comment.spam": 1, "comment.deleted": 1,
                                        "user.banned": 1})
    assert len({call["id"] for call in receiver.calls}) == 8
    by_type = {call["body"]["type"]: call for call in receiver.calls}
    for name in ("comment.flagged", "comment.rejected", "comment.approved", "comment.spam"):
        comment = by_type[name]["body"]["data"]["comment"]
        assert comment["id"] == first["id"] and comment["body"] == "Hello **there**"
        assert by_type[name]["body"]["data"]["article"]["key"] == "a1"
    # Each body is built at fan-out, from the comment as it is then (after every decision: spam).
    assert by_type["comment.approved"]["body"]["data"]["comment"]["status"] == "spam"
    deleted = by_type["comment.deleted"]["body"]["data"]["comment"]
    assert deleted["id"] == second["id"] and deleted["deleted"] is True and deleted["body"] == ""
    banned = by_type["user.banned"]["body"]["data"]["user"]
    assert banned["id"] == bob.id and banned["email"] == bob.email and banned["banned_until"] == "forever"
    call = receiver.calls[0]
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["headers"]["User-Agent"] == "Causerie-Webhooks/1"
    assert call["path"] == "/hook1?x=1"


def test_the_body_is_the_contracts(app, login, alice, mod, article, hook, receiver, deliver):
    hook(["comment.created"])
    comment = login(alice).post("/api/v1/articles/a1/comments", {"body": "A *fine* point"}).get_json()["comment"]
    deliver()
    (call,) = receiver.calls
    body = call["body"]
    assert set(body) == {"type", "timestamp", "data"} and body["type"] == "comment.created"
    assert body["timestamp"].endswith("Z") or body["timestamp"].endswith("+00:00")
    as_mod = login(mod)
    seen_by_moderators = as_mod.get(f"/api/v1/comments/{comment['id']}").get_json()
    # The spam filter's score stays on this server: moderators read it, webhook receivers do not.
    assert seen_by_moderators.pop("spam_score") is None
    assert body["data"]["comment"] == seen_by_moderators
    assert body["data"]["article"] == as_mod.get("/api/v1/articles/a1").get_json()
    assert call["raw"] == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def test_only_subscribed_events_and_enabled_endpoints(app, login, as_admin, alice, bob, mod, article, hook,
                                                      receiver, deliver):
    hook(["user.banned"])
    off = hook(["comment.created"])
    assert as_admin.patch(f"{API}/{off['id']}", {"disabled": True}).status_code == 200
    login(alice).post("/api/v1/articles/a1/comments", {"body": "not announced"})
    login(mod).post(f"/api/v1/moderation/users/{bob.id}/ban", {"reason": "spam", "days": 2})
    deliver()
    assert receiver.types() == Counter({"user.banned": 1})


def test_a_rolled_back_write_sends_nothing(app, login, alice, article, hook, receiver, deliver):
    hook()
    comment = login(alice).post("/api/v1/articles/a1/comments", {"body": "kept"}).get_json()["comment"]
    with app.app_context():
        with writing():
            events.record(events.COMMENT_DELETED, comment_id=comment["id"], user_id=alice.id)
        db.session.rollback()
    deliver()
    assert receiver.types() == Counter({"comment.created": 1})


def test_a_failure_is_retried_with_the_same_id(app, as_admin, login, alice, article, hook, receiver, deliver):
    made = hook(["comment.created"])
    receiver.responses = [500, 503]
    login(alice).post("/api/v1/articles/a1/comments", {"body": "retry me"})
    deliver()
    (message,) = _messages(app)
    assert message.state == "pending" and message.last_error == "HTTP 500"
    assert (message.next_attempt_at - utcnow()).total_seconds() > 3  # the first backoff step
    deliver()
    assert len(receiver.calls) == 1  # not due yet
    for _ in range(2):
        _due_now(app)
        deliver()
    assert len(receiver.calls) == 3
    assert {call["id"] for call in receiver.calls} == {message.message_id}
    assert len({call["raw"] for call in receiver.calls}) == 1
    assert _messages(app)[0].state == "sent"
    listed = as_admin.get(f"{API}/{made['id']}/deliveries").get_json()
    assert [(d["attempt"], d["status"], d["error"]) for d in listed["deliveries"]] == [
        (3, 200, None), (2, 503, "HTTP 503"), (1, 500, "HTTP 500")]
    assert all(d["event"] == "comment.created" and d["duration_ms"] >= 0 for d in listed["deliveries"])
    assert listed["next"] is None


def test_410_disables_the_endpoint(app, as_admin, login, alice, article, hook, receiver, deliver):
    made = hook(["comment.created"])
    receiver.responses = [410]
    as_alice = login(alice)
    as_alice.post("/api/v1/articles/a1/comments", {"body": "first"})
    deliver()
    (listed,) = as_admin.get(API).get_json()["webhooks"]
    assert listed["disabled"] is True and listed["disabled_reason"] == "410 Gone"
    assert _messages(app)[0].state == "failed"
    as_alice.post("/api/v1/articles/a1/comments", {"body": "second"})
    deliver()
    assert len(receiver.calls) == 1
    again = as_admin.patch(f"{API}/{made['id']}", {"disabled": False}).get_json()
    assert again["disabled"] is False and again["disabled_reason"] is None


def test_a_disabled_endpoints_queued_messages_are_not_sent(app, as_admin, login, alice, article, hook,
                                                          receiver, deliver):
    made = hook(["comment.created"])
    login(alice).post("/api/v1/articles/a1/comments", {"body": "queued"})
    with app.app_context():
        assert fanout.process_events(10) == 1
    assert as_admin.patch(f"{API}/{made['id']}", {"disabled": True}).status_code == 200
    deliver()
    assert receiver.calls == []
    (message,) = _messages(app)
    assert message.state == "failed" and message.last_error == "endpoint disabled"


def test_exhausting_the_retries_disables_the_endpoint(app, as_admin, login, alice, article, hook, receiver,
                                                      deliver):
    hook(["comment.created"])
    receiver.responses = [500, 500]
    login(alice).post("/api/v1/articles/a1/comments", {"body": "doomed"})
    deliver()
    assert as_admin.get(API).get_json()["webhooks"][0]["disabled"] is False
    _due_now(app, attempts=len(outbox.RETRY_SCHEDULE))  # as if every retry had failed but the last
    deliver()
    assert len(receiver.calls) == 2
    (message,) = _messages(app)
    assert message.state == "failed" and message.attempts == len(outbox.RETRY_SCHEDULE) + 1
    (listed,) = as_admin.get(API).get_json()["webhooks"]
    assert listed["disabled"] is True and listed["disabled_reason"] == "failing for a day"


def test_a_private_address_is_refused_at_delivery(app, as_admin, login, alice, article, hook, receiver,
                                                  deliver):
    made = hook(["comment.created"])
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False  # registered while allowed; no longer
    login(alice).post("/api/v1/articles/a1/comments", {"body": "to nowhere"})
    deliver()
    assert receiver.calls == []
    (attempt,) = as_admin.get(f"{API}/{made['id']}/deliveries").get_json()["deliveries"]
    assert attempt["status"] is None and attempt["attempt"] == 1
    assert attempt["error"].startswith("address refused") and "127.0.0.1" in attempt["error"]
    assert _messages(app)[0].state == "pending"  # retried later, like any failure


def test_deliveries_are_listed_newest_first_by_pages(app, as_admin, login, alice, article, hook, receiver,
                                                     deliver):
    made = hook(["comment.created"])
    as_alice = login(alice)
    for n in range(3):
        as_alice.post("/api/v1/articles/a1/comments", {"body": f"comment {n}"})
        deliver()
    path = f"{API}/{made['id']}/deliveries"
    first = as_admin.get(path + "?limit=2").get_json()
    assert len(first["deliveries"]) == 2 and first["next"]
    second = as_admin.get(path, query_string={"limit": 2, "after": first["next"]}).get_json()
    assert len(second["deliveries"]) == 1 and second["next"] is None
    ids = [d["id"] for d in first["deliveries"] + second["deliveries"]]
    assert ids == sorted(ids, reverse=True)
    assert set(as_admin.get(path + "?limit=500").get_json()) == {"deliveries", "next"}
    assert_error(as_admin.get(path, query_string={"after": "forged"}), 400)
    assert_error(as_admin.get(path + "?limit=0"), 422)


def test_null_is_not_a_value_of_any_field(as_admin, hook):
    """Leaving a field out keeps it; sending null is a 422 naming it, and nothing changes."""
    base = {"url": "https://hooks.example/in", "events": ["comment.created"]}
    error = assert_error(as_admin.post(API, base | {"description": None}), 422, "validation_error")
    assert "description" in error["fields"]
    made = hook()
    error = assert_error(as_admin.patch(f"{API}/{made['id']}", {"disabled": None, "url": None}), 422)
    assert {"disabled", "url"} <= set(error["fields"])
    listed = as_admin.get(API).get_json()["webhooks"]
    assert [(w["id"], w["url"], w["disabled"]) for w in listed] == [(made["id"], made["url"], False)]
