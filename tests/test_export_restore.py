"""The full JSONL export (``flask export``) and its restore (``flask import jsonl``), across database kinds.

Every run uses both kinds: the data is built on this run's database (SQLite, or PostgreSQL when
DATABASE_URL says so) and restored into a new database of the other kind; the PostgreSQL-only checks
(sequences) always get a PostgreSQL database of their own.
"""
import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, insert, select, update

from app import create_app
from app.extensions import db
from app.models import ApiToken, BannedIdentity, Comment, LoginSession, UsedToken, User
from app.notifications.models import (
    Event,
    Notice,
    NotificationSettings,
    Subscription,
    Webhook,
    WebhookAttempt,
)
from app.portability import export as export_module
from app.portability.export import (
    POLICIES,
    ExportError,
    exported_tables,
    written_columns,
)
from app.portability.models import ImportedObject
from app.portability.restore import FILLERS
from app.timeutil import utcnow

from .conftest import POSTGRES_URL, ApiClient, _empty_tables, _postgres_database
from .factories import has_route

WEBHOOK_SECRET = "whsec_" + "A" * 43 + "="
LOOKS_SECRET = re.compile(r"password|secret|token|hash|nonce_key|api_key")
# Columns whose names look secret but are not: why each one is exported.
NOT_SECRET = {"banned_identities.key_hash": "a SHA-256 of a banned identity: keeps the ban, reveals nothing"}


def _migrated(url: str) -> str:
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "migrate"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="module")
def postgresql_target(tmp_path_factory):
    for url in _postgres_database(os.environ.get("DATABASE_URL", "") if os.environ.get(
            "DATABASE_URL", "").startswith("postgres") else POSTGRES_URL):
        yield _migrated(url)


@pytest.fixture(scope="module")
def sqlite_target(tmp_path_factory):
    directory = tmp_path_factory.mktemp("target")
    yield _migrated("sqlite:///" + str(directory / "target.sqlite3"))


@pytest.fixture
def target(request, config, app):
    """``target(kind)`` -> an app on a new, empty, migrated database of ``kind`` (or of the other kind
    than this run's when None), with this test's settings (the same SECRET_KEY: the same cursors)."""
    made = []

    def target(kind=None):
        if kind is None:
            kind = "sqlite" if db_kind(app) == "postgresql" else "postgresql"
        url = request.getfixturevalue(f"{kind}_target")
        other = create_app({**config, "DATABASE_URL": url})
        made.append(other)
        return other

    yield target
    for other in made:
        with other.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


def db_kind(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def run(app, *args):
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def export(app, path: Path) -> list[str]:
    result = run(app, "export", path)
    assert result.exit_code == 0, result.output
    return path.read_text(encoding="utf-8").splitlines()


def restore(app, path: Path):
    result = run(app, "import", "jsonl", path)
    assert result.exit_code == 0, result.output
    return result


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# -- the data ------------------------------------------------------------------------------------------

@pytest.fixture
def data(app, login, make_user, make_article, make_comment):
    """Something of every kind, mostly through the API: threads with replies, every status, a tombstone,
    votes, flags, a permanent ban, settings, a token; the notification tables directly."""
    d = SimpleNamespace(admin=make_user("root", role="admin"), mod=make_user("mod", role="moderator"),
                        alice=make_user("alice"), bob=make_user("bob"),
                        carol=make_user("carol", language="fr"), dave=make_user("dave", sso_sub="host-42"))
    make_article("a1", title="Café ☕ 日本")
    make_article("a2", status="closed", moderation="pre")
    d.apis = {user.username: login(user) for user in (d.admin, d.mod, d.alice, d.bob, d.carol)}
    a, b, c, mod, admin = (d.apis[n] for n in ("alice", "bob", "carol", "mod", "root"))
    top = make_comment(a, body="Top **bold** [link](https://example.org)")["id"]
    reply = make_comment(b, body="a reply", parent=top)["id"]
    deeper = make_comment(a, body="deeper", parent=reply)["id"]
    doomed = make_comment(b, body="to be deleted")["id"]
    make_comment(c, body="under the deleted one", parent=doomed)
    for status in ("pending", "rejected", "spam"):
        make_comment(c, body=f"{status} text", status=status)
    assert b.delete(f"/api/v1/comments/{doomed}").status_code == 204
    for api, comment, value in ((b, top, 1), (c, top, -1), (a, reply, 1)):
        assert api.put(f"/api/v1/comments/{comment}/vote", {"value": value}).status_code == 200
    assert b.post(f"/api/v1/comments/{deeper}/flags", {"reason": "abuse", "note": "rude"}).status_code in (200, 201)
    assert mod.post(f"/api/v1/moderation/comments/{top}", {"action": "pin"}).status_code == 200
    assert mod.post(f"/api/v1/moderation/users/{d.carol.id}/ban", {"reason": "trolling"}).status_code == 200
    assert admin.put("/api/v1/moderation/settings", {"premoderation": "new_users", "banned_words": ["zut"],
                                                      "flag_threshold": 3}).status_code == 200
    created = admin.post("/api/v1/auth/tokens", {"name": "cms"})
    assert created.status_code == 201
    d.token = created.get_json()["token"]
    with app.app_context():
        article_id = db.session.scalar(select(Comment.article_id).where(Comment.id == top))
        # An import can give a reply a lower id than its parent: the export must still write the parent first.
        db.session.execute(insert(Comment), [
            dict(id=901, article_id=article_id, depth=0, status="approved", body="imported parent",
                 body_html="<p>imported parent</p>", text_key="k1", created_at=utcnow(), decided_at=utcnow()),
            dict(id=900, article_id=article_id, parent_id=901, root_id=901, depth=1, status="approved",
                 body="imported child", body_html="<p>imported child</p>", text_key="k2",
                 created_at=utcnow(), decided_at=utcnow())])
        db.session.add_all([
            NotificationSettings(user_id=d.alice.id, replies="daily", moderation="off"),
            NotificationSettings(user_id=d.mod.id, replies="off", moderation="instant", moderation_digest_at=utcnow()),
            Subscription(user_id=d.bob.id, article_id=article_id, subscribed=False),
            Notice(user_id=d.alice.id, kind="reply", comment_id=reply, article_id=article_id),
            Webhook(id=7, url="https://hooks.example/causerie", events=["comment.created"], description="CMS",
                    secret=WEBHOOK_SECRET, disabled=False, failures=0),
            BannedIdentity(kind="email", key_hash="ab" * 32, banned_until=utcnow()),
            UsedToken(nonce="n" * 40, expires_at=utcnow()),
            ImportedObject(source="disqus", kind="comment", source_id="disqus-1", local_id=900),
        ])
        db.session.flush()
        db.session.add(WebhookAttempt(webhook_id=7, message_id="msg_1", event="comment.created", status=500,
                                      duration_ms=12, attempt=1, error="HTTP 500"))
        db.session.commit()
        d.session_hashes = db.session.scalars(select(LoginSession.key_hash)).all()
        d.token_hashes = db.session.scalars(select(ApiToken.token_hash)).all()
        d.password_hash = db.session.scalar(select(User.password_hash).where(User.id == d.alice.id))
        assert db.session.scalar(select(func.count()).select_from(Event)) > 0
    d.comments = [top, reply, deeper, doomed, 900, 901]
    return d


def answers(app, data, clients=None) -> dict:
    """What the API says to an anonymous reader, a reader, a moderator and an admin."""
    paths = ["/api/v1/articles", "/api/v1/articles/a1", "/api/v1/articles/a2/comments",
             "/api/v1/articles/a1/comments", "/api/v1/articles/a1/comments?sort=newest&limit=2&replies=1"]
    paths += [f"/api/v1/comments/{id}" for id in data.comments]
    staff = [f"/api/v1/moderation/queue?queue={queue}" for queue in ("pending", "flagged", "spam", "rejected",
                                                                     "approved")]
    staff += ["/api/v1/moderation/log", "/api/v1/moderation/log?limit=2", "/api/v1/moderation/settings",
              f"/api/v1/comments/{data.comments[0]}?replies=0"]
    mine = ["/api/v1/auth/me", "/api/v1/me/notifications", "/api/v1/articles/a1/subscription"]
    admin = ["/api/v1/webhooks", "/api/v1/webhooks/7/deliveries", "/api/v1/auth/tokens"]
    clients = clients or {user.username: ApiClient(app.test_client(), user)
                          for user in (data.alice, data.mod, data.admin)}
    callers = {"anonymous": (app.test_client(), paths), "alice": (clients["alice"], paths + mine),
               "mod": (clients["mod"], paths + staff + mine), "root": (clients["root"], staff + admin)}
    seen = {}
    for name, (client, wanted) in callers.items():
        for path in wanted:
            if not has_route(app, path):
                continue
            response = client.get(path)
            body = response.get_json()
            if isinstance(body, dict):
                body.pop("csrf_token", None)
                (body.get("user") or {}).pop("csrf_token", None)
            seen[name, path] = (response.status_code, body)
    return seen


def set_passwords(app, password_hash: str) -> None:
    """Restored users have no password: give them the tests' one, as 'forgot password' would."""
    with app.app_context():
        db.session.execute(update(User).values(password_hash=password_hash))
        db.session.commit()


# -- the policy ------------------------------------------------------------------------------------------

def test_every_table_has_a_policy(app):
    """A table a later release adds cannot be forgotten: every table of the metadata has a policy, and
    none is left over for a table that is gone."""
    with app.app_context():
        assert set(POLICIES) == set(db.metadata.tables)
        assert all(policy.type or policy.why for policy in POLICIES.values())
        types = [policy.type for policy in POLICIES.values() if policy.type]
        assert len(types) == len(set(types))


def test_a_table_without_a_policy_stops_the_export(app, tmp_path, monkeypatch):
    monkeypatch.delitem(POLICIES, "votes")
    result = run(app, "export", tmp_path / "out.jsonl")
    assert result.exit_code != 0 and "votes has no export policy" in result.output
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "out.jsonl.partial").exists()


def test_no_column_that_looks_secret_is_exported_and_dropped_ones_come_back(app):
    with app.app_context():
        for table, policy in exported_tables():
            for name, column in written_columns(table, policy):
                qualified = f"{table.name}.{column.name}"
                assert not LOOKS_SECRET.search(column.name) or qualified in NOT_SECRET, qualified
            for name in policy.dropped:
                assert table.c[name].nullable or (table.name, name) in FILLERS, (table.name, name)
        excluded = {name for name, policy in POLICIES.items() if policy.type is None}
        assert {"login_sessions", "api_tokens", "outbox"} <= excluded


# -- the round trip ------------------------------------------------------------------------------------------

def test_round_trip_through_the_other_database_gives_the_same_file_and_api(app, data, target, tmp_path,
                                                                           password_hash):
    first = export(app, tmp_path / "first.jsonl")
    other = target()
    assert db_kind(other) != db_kind(app)
    restore(other, tmp_path / "first.jsonl")
    second = export(other, tmp_path / "second.jsonl")

    header, again = json.loads(first[0]), json.loads(second[0])
    assert header["type"] == "causerie_export" and header["version"] == 1 and header["schema"]
    assert {**header, "exported_at": None} == {**again, "exported_at": None}
    assert first[1:] == second[1:]
    assert json.loads(first[-1]) == {"type": "causerie_export_end", "rows": len(first) - 2}
    kinds = {json.loads(line)["type"] for line in first[1:-1]}
    assert {"article", "user", "comment", "vote", "flag", "moderation_event", "settings", "banned_identity",
            "notification_settings", "subscription", "notice", "webhook", "webhook_attempt", "event",
            "used_token", "imported_object"} <= kinds

    set_passwords(other, password_hash)
    before, after = answers(app, data, data.apis), answers(other, data)
    # API tokens are credentials, not exported: integrations make new ones after the move.
    tokens = ("root", "/api/v1/auth/tokens")
    assert len(before.pop(tokens)[1]["tokens"]) == 1 and after.pop(tokens) == (200, {"tokens": []})
    assert before == after
    assert before["anonymous", "/api/v1/articles/a1/comments"][0] == 200
    assert len(before["mod", "/api/v1/moderation/log"][1]["entries"]) >= 2


def test_the_export_holds_no_secret_and_writes_parents_first(app, data, tmp_path):
    lines = export(app, tmp_path / "out.jsonl")
    text = "\n".join(lines)
    secrets = [data.password_hash, WEBHOOK_SECRET, data.token, *data.token_hashes, *data.session_hashes]
    assert all(secret and secret not in text for secret in secrets)
    assert "password_hash" not in text and "whsec_" not in text and "scrypt:" not in text
    assert "pending text" in text and "Café ☕ 日本" in text  # everything else is there, readable UTF-8

    records = [json.loads(line) for line in lines[1:-1]]
    seen: set[tuple[str, int]] = set()
    for record in records:
        if record["type"] == "comment":
            assert record["parent_id"] is None or ("comment", record["parent_id"]) in seen, record
            assert ("article", record["article_id"]) in seen
        if record["type"] in ("vote", "flag"):
            assert ("comment", record["comment_id"]) in seen and ("user", record["user_id"]) in seen
        if "id" in record:
            seen.add((record["type"], record["id"]))
    order = [r["type"] for r in records]
    assert order.index("user") < order.index("comment") < order.index("vote")
    assert [r["id"] for r in records if r["type"] == "comment" and r["id"] in (900, 901)] == [901, 900]


def test_a_restore_on_postgresql_gives_new_ids_and_new_webhook_secrets(app, data, target, tmp_path,
                                                                       password_hash):
    export(app, tmp_path / "out.jsonl")
    other = target("postgresql")
    output = restore(other, tmp_path / "out.jsonl").output
    with other.app_context():
        hook = db.session.get(Webhook, 7)
        assert hook.secret.startswith("whsec_") and hook.secret != WEBHOOK_SECRET
        assert f"New secret of webhook 7: {hook.secret}" in output  # shown once, to the operator
        assert not hook.disabled and hook.url == "https://hooks.example/causerie"
        assert db.session.scalar(select(User.password_hash).where(User.id == data.alice.id)) is None
        assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
        top_comment, top_user = (db.session.scalar(select(func.max(c))) for c in (Comment.id, User.id))
    set_passwords(other, password_hash)
    api = ApiClient(other.test_client(), data.bob)
    posted = api.post("/api/v1/articles/a1/comments", {"body": "after the move"})
    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["comment"]["id"] > top_comment
    registered = ApiClient(other.test_client()).post("/api/v1/auth/register", {
        "username": "newcomer", "email": "newcomer@example.org", "password": "a long enough passphrase 42"})
    assert registered.status_code == 201, registered.get_json()
    assert registered.get_json()["user"]["id"] > top_user
    assert api.post("/api/v1/auth/tokens", {"name": "again"}).status_code == 201


def _nothing_written(app) -> bool:
    with app.app_context():
        return all(db.session.execute(select(func.count()).select_from(t)).scalar() == 0
                   for t in db.metadata.sorted_tables)


def _edit(lines, i, **changes):
    record = json.loads(lines[i])
    record.update(changes)
    lines[i] = json.dumps({name: value for name, value in record.items() if value != "-"})


DAMAGES = [  # (what is done to the last comment's line, what the error says; {n}: its line number)
    (lambda lines, i: lines.__setitem__(i, '{"type": "comment", "id": '), "line {n}: not JSON"),
    (lambda lines, i: _edit(lines, i, was=1), "line {n}: comment: unknown fields ['was']"),
    (lambda lines, i: _edit(lines, i, depth="-"), "line {n}: comment: missing fields ['depth']"),
    (lambda lines, i: _edit(lines, i, depth="1"), "line {n}: comment.depth: expected an integer"),
    (lambda lines, i: _edit(lines, i, pinned=1), "line {n}: comment.pinned: expected true or false"),
    (lambda lines, i: _edit(lines, i, body=None), "line {n}: comment.body must not be null"),
    (lambda lines, i: _edit(lines, i, status="x" * 11), "line {n}: comment.status: longer than 10"),
    (lambda lines, i: _edit(lines, i, created_at="yesterday"), "line {n}: comment.created_at"),
    (lambda lines, i: _edit(lines, i, type="thing"), "line {n}: unknown type 'thing'"),
    (lambda lines, i: lines.pop(), "cut short"),
    (lambda lines, i: lines.insert(1, lines.pop(i)), "lines 2-2: the database refused these comment rows"),
    (lambda lines, i: lines.__setitem__(0, lines[0].replace('"schema":"', '"schema":"0ld')), "db upgrade 0ld"),
    (lambda lines, i: lines.__setitem__(0, '{"hello": 1}'), "line 1: not a Causerie export"),
]


def test_a_damaged_file_or_a_used_database_is_refused_and_nothing_written(app, data, target, tmp_path):
    lines = export(app, tmp_path / "out.jsonl")
    before = rows(app, Comment), rows(app, User)
    result = run(app, "import", "jsonl", tmp_path / "out.jsonl")
    assert result.exit_code != 0 and "not empty (table" in result.output
    assert (rows(app, Comment), rows(app, User)) == before

    index = max(i for i, line in enumerate(lines) if '"type":"comment"' in line)  # users, articles before it
    other = target()
    for damage, message in DAMAGES:
        damaged = list(lines)
        damage(damaged, index)
        (tmp_path / "bad.jsonl").write_text("\n".join(damaged) + "\n", encoding="utf-8")
        result = run(other, "import", "jsonl", tmp_path / "bad.jsonl")
        assert result.exit_code != 0
        assert message.format(n=index + 1) in result.output, (message, result.output)
        assert _nothing_written(other), message
    restore(other, tmp_path / "out.jsonl")  # and the undamaged file loads


def test_an_empty_database_exports_a_header_and_an_end(app, tmp_path):
    lines = export(app, tmp_path / "out.jsonl")
    assert [json.loads(line)["type"] for line in lines] == ["causerie_export", "causerie_export_end"]
    assert export_module.VERSION == 1
    with pytest.raises(ExportError):
        export_module.policy_of(SimpleNamespace(name="shiny_new_table"))
