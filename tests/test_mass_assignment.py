"""Mass assignment: a body sets only the fields its endpoint names; the server decides the rest
(auth-attacks.md 1.6, 9.1, 9.4; bad-requests.md W5)."""
from sqlalchemy import select

from app.extensions import db
from app.models import Article, Comment, User

from .conftest import PASSWORD
from .factories import assert_error, post_comment


def test_1_6_only_the_body_of_ones_own_comment_is_editable(world):
    """auth-attacks.md 1.6."""
    response = world.as_bob.patch(f"/api/v1/comments/{world.bobs}", {
        "body": "edited", "article_id": "a2", "article": "a2", "parent_id": world.live, "status": "rejected",
        "created_at": "2000-01-01T00:00:00Z", "author_id": world.alice.id, "score": 99, "pinned": True})
    assert response.status_code == 200
    with world.app.app_context():
        row = db.session.get(Comment, world.bobs)
        a1 = db.session.scalar(select(Article.id).where(Article.key == "a1"))
        assert (row.body, row.article_id, row.parent_id, row.status, row.author_id, row.score, row.pinned) == (
            "edited", a1, None, "approved", world.bob.id, 0, False)
        assert row.created_at.year > 2000


def test_9_1_and_9_4_registration_assigns_nothing_but_its_fields(world):
    """auth-attacks.md 9.1, 9.4."""
    api = world.login()
    response = api.post("/api/v1/auth/register", {
        "username": "eve", "email": "eve@example.org", "password": PASSWORD, "role": "moderator",
        "Role": "admin", "role ": "admin", "is_admin": True, "is_moderator": True, "roles": ["admin"],
        "banned": False, "banned_until": None, "email_verified": True, "id": 4242, "created_at": "2000-01-01",
        "sso_sub": "victim", "password_hash": "x", "user": {"role": "moderator"}, "rank": 2})
    assert response.status_code == 201
    assert response.get_json()["user"]["role"] == "reader"
    with world.app.app_context():
        eve = db.session.scalar(select(User).where(User.username == "eve"))
        assert (eve.role, eve.sso_sub, eve.banned_until) == ("reader", None, None)
        assert eve.id != 4242 and eve.created_at.year > 2000 and eve.password_hash.startswith("scrypt:")
    assert_error(world.login().post("/api/v1/auth/register", [{"role": "admin"}]), 400)


def test_w5_unknown_fields_are_ignored_and_the_server_decides(world):
    """bad-requests.md W5."""
    response = post_comment(world.as_bob, "hi", status="approved", author_id=world.alice.id, user_id=world.alice.id,
                    id=999, article_id="a2", created_at="2000-01-01", score=1000, is_pinned=True,
                    html="<script>alert(1)</script>", ip="1.2.3.4")
    assert response.status_code == 201
    comment = response.get_json()["comment"]
    with world.app.app_context():
        row = db.session.get(Comment, comment["id"])
        a1 = db.session.scalar(select(Article.id).where(Article.key == "a1"))
        assert (row.author_id, row.article_id, row.score, row.pinned) == (world.bob.id, a1, 0, False)
        assert row.id != 999 and row.created_at.year > 2000 and row.body_html == "<p>hi</p>"

