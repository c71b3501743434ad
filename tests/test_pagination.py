"""Keyset pagination (app/pagination.py): signed cursors, keyset conditions and clamped limits, as pure
units and through the API (bad-requests.md P9-P11)."""
import base64
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from itsdangerous import URLSafeSerializer
from sqlalchemy import insert, select

from app import pagination
from app.errors import ApiError
from app.extensions import db
from app.models import Article, Comment
from app.timeutil import utcnow

from .factories import assert_error, count, post_comment

SECRET = "unit-test-secret"


@pytest.fixture
def secret_app():
    """Cursors need only the app's SECRET_KEY: a bare Flask app, no database."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    with app.app_context():
        yield app


def assert_invalid_cursor(call):
    with pytest.raises(ApiError) as caught:
        call()
    assert (caught.value.status, caught.value.code) == (400, "bad_request")


# -- cursors: encode and decode ------------------------------------------------------------------------

def test_a_cursor_round_trips_its_values(secret_app):
    when = datetime(2026, 3, 4, 5, 6, 7, 891_234, tzinfo=timezone.utc)
    token = pagination.encode("thread", True, 17, when, 42)
    pinned, score, micros, last_id = pagination.decode("thread", token)
    assert (pinned, score, last_id) == (True, 17, 42)
    assert pagination.to_datetime(micros) == when


def test_no_cursor_means_the_first_page(secret_app):
    assert pagination.decode("thread", None) is None
    assert pagination.decode("thread", "") is None


def test_a_cursor_of_another_kind_is_400(secret_app):
    token = pagination.encode("replies", 1, 2)
    assert_invalid_cursor(lambda: pagination.decode("thread", token))


def test_a_tampered_cursor_is_400(secret_app):
    token = pagination.encode("thread", 1, 2)
    payload, signature = token.rsplit(".", 1)
    forged_payload = base64.urlsafe_b64encode(json.dumps(["thread", 1, 999]).encode()).decode().rstrip("=")
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), f"{forged_payload}.{signature}",
                payload, token + "x", "not-a-cursor", ".", "e30", "%%%", "\u00e9t\u00e9"):
        assert_invalid_cursor(lambda: pagination.decode("thread", bad))


def test_a_cursor_signed_with_another_key_is_400(secret_app):
    foreign = URLSafeSerializer("another-secret", salt="causerie.cursor").dumps(["thread", 1, 2])
    assert_invalid_cursor(lambda: pagination.decode("thread", foreign))
    other_salt = URLSafeSerializer(SECRET, salt="causerie.session").dumps(["thread", 1, 2])
    assert_invalid_cursor(lambda: pagination.decode("thread", other_salt))


def test_a_signed_cursor_that_is_not_a_list_is_400(secret_app):
    signer = URLSafeSerializer(SECRET, salt="causerie.cursor")
    for data in ({"kind": "thread"}, [], "thread", 7, None):
        assert_invalid_cursor(lambda: pagination.decode("thread", signer.dumps(data)))


def test_a_time_that_is_not_whole_microseconds_is_400(secret_app):
    for value in ("2026-01-01", 1.5, None, [1]):
        assert_invalid_cursor(lambda: pagination.to_datetime(value))


# -- keyset conditions, run against an in-memory SQLite table -----------------------------------------------

ROWS = sa.Table("rows", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("pinned", sa.Boolean, nullable=False), sa.Column("score", sa.Integer, nullable=False),
                sa.Column("created_at", sa.DateTime, nullable=False))


@pytest.fixture(scope="module")
def rows_engine():
    """60 rows with many ties on every column but id, inserted in an order unrelated to any sort."""
    engine = sa.create_engine("sqlite://")
    ROWS.metadata.create_all(engine)
    start = datetime(2026, 1, 1)
    rows = [{"id": n, "pinned": n % 7 == 0, "score": (n * 5) % 4 - 1,
             "created_at": start + timedelta(minutes=(n * 11) % 5)} for n in range(1, 61)]
    with engine.begin() as conn:
        conn.execute(ROWS.insert(), sorted(rows, key=lambda r: (r["score"], -r["id"])))
    yield engine
    engine.dispose()


def walk(engine, order, page_size):
    """Every id, page by page, each page resuming after the last row of the one before."""
    columns = [column for column, _ in order]
    seen, position = [], None
    with engine.connect() as conn:
        while True:
            query = sa.select(ROWS.c.id, *columns).order_by(*pagination.order_by(order)).limit(page_size)
            if position is not None:
                query = query.where(pagination.keyset_after(order, position))
            page = conn.execute(query).all()
            if not page:
                return seen
            seen += [row[0] for row in page]
            position = list(page[-1][1:])


ORDERS = {
    "oldest": [(ROWS.c.created_at, False), (ROWS.c.id, False)],
    "newest": [(ROWS.c.created_at, True), (ROWS.c.id, True)],
    "best": [(ROWS.c.score, True), (ROWS.c.created_at, False), (ROWS.c.id, False)],
    "pinned first": [(ROWS.c.pinned, True), (ROWS.c.score, True), (ROWS.c.id, True)],
    "pinned, then oldest": [(ROWS.c.pinned, True), (ROWS.c.created_at, False), (ROWS.c.id, False)],
}


@pytest.mark.parametrize("name", ORDERS)
@pytest.mark.parametrize("page_size", [1, 4, 7, 60])
def test_keyset_pages_follow_the_order_with_ties_broken_by_id(rows_engine, name, page_size):
    order = ORDERS[name]
    with rows_engine.connect() as conn:
        expected = conn.scalars(sa.select(ROWS.c.id).order_by(*pagination.order_by(order))).all()
    assert len(expected) == 60
    assert walk(rows_engine, order, page_size) == expected


def test_order_by_sorts_each_column_its_own_way(rows_engine):
    with rows_engine.connect() as conn:
        rows = conn.execute(sa.select(ROWS.c.id, ROWS.c.score).order_by(
            *pagination.order_by([(ROWS.c.score, True), (ROWS.c.id, False)]))).all()
    assert rows == sorted(rows, key=lambda r: (-r.score, r.id))


def test_after_a_pinned_row_come_the_unpinned_ones(rows_engine):
    order = ORDERS["pinned first"]
    with rows_engine.connect() as conn:
        pinned_ids = conn.scalars(sa.select(ROWS.c.id).where(ROWS.c.pinned.is_(True))).all()
        after_last_pinned = conn.scalars(sa.select(ROWS.c.id).where(
            pagination.keyset_after(order, [True, -99, 0]))).all()
        after_an_unpinned = conn.scalars(sa.select(ROWS.c.id).where(
            pagination.keyset_after(order, [False, -99, 0]))).all()
    assert set(after_last_pinned) == set(range(1, 61)) - set(pinned_ids)
    assert after_an_unpinned == []  # the lowest score and id of the unpinned: nothing comes after


def test_p9_limits_are_clamped_never_all_rows(world):
    """bad-requests.md P9."""
    with world.app.app_context():
        a1 = db.session.scalar(select(Article.id).where(Article.key == "a1"))
        now = utcnow()
        db.session.execute(insert(Comment), [
            {"article_id": a1, "author_id": world.alice.id, "body": f"bulk {i}", "body_html": f"<p>bulk {i}</p>",
             "status": "approved", "depth": 0, "created_at": now, "decided_at": now} for i in range(205)])
        db.session.commit()
    for query in ("limit=1000000", "limit=10&limit=100000", "limit[]=1", "limit=200"):
        response = world.anonymous.get(f"/api/v1/articles/a1/comments?{query}&replies=0")
        assert response.status_code == 200, query
        data = response.get_json()
        assert len(data["comments"]) <= 200 and data["next"]


def test_p10_cursors_are_opaque_and_checked(world):
    """bad-requests.md P10."""
    for i in range(3):
        post_comment(world.as_alice, f"page {i}")
    first = world.anonymous.get("/api/v1/articles/a1/comments?limit=2").get_json()
    cursor = first["next"]
    assert cursor
    forged_json = base64.urlsafe_b64encode(json.dumps({"id": "1 OR 1=1"}).encode()).decode()
    flipped = cursor[:-3] + ("x" if cursor[-3] != "x" else "y") + cursor[-2:]
    for bad in (forged_json, flipped, "not-base64!!", cursor + "A", "e30"):
        assert_error(world.anonymous.get(f"/api/v1/articles/a1/comments?after={quote(bad)}"), 400)
    for ignored in ("page=-1", "page=0", "page=99999999999999999999", "cursor=not-base64"):
        assert world.anonymous.get(f"/api/v1/articles/a1/comments?{ignored}").status_code == 200
    # A cursor of one list is refused by another.
    assert_error(world.anonymous.get(f"/api/v1/comments/{world.live}/replies?after={cursor}"), 400)


def test_p11_sort_and_fields_come_from_an_allowlist(world):
    """bad-requests.md P11."""
    assert_error(world.anonymous.get("/api/v1/articles/a1/comments?sort=" + quote("created_at;DROP TABLE comments")),
                 422)
    for query in ("order=desc,(select 1)", "fields=author.email", "sort=oldest&order=password_hash"):
        response = world.anonymous.get(f"/api/v1/articles/a1/comments?{query}")
        assert response.status_code == 200 and "@example.org" not in response.get_data(as_text=True)
    assert count(world.app, Comment) > 0


