"""`flask import isso`: an Isso SQLite database read directly, with Isso's own schema."""
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Article, Comment, User
from app.notifications.models import Event

SCHEMA = Path(__file__).parent / "fixtures" / "imports" / "isso.sql"


@pytest.fixture
def isso_db(tmp_path):
    path = tmp_path / "comments.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(SCHEMA.read_text(encoding="utf-8"))
    return path


def test_an_isso_database_imports_with_its_threads(app, runner, client, isso_db):
    result = runner.invoke(args=["import", "isso", str(isso_db)])
    assert result.exit_code == 0, result.output
    assert "comments: 5 imported (approved 4, pending 1); 1 tombstones" in result.output
    assert "deleted 2" in result.output and "authors: 3 new accounts" in result.output

    data = client.get("/api/v1/articles/posts-first-post/comments", query_string={"replies": 50}).get_json()
    assert data["total"] == 3
    anna, tombstone = data["comments"]
    assert anna["body_html"] == ('<p>Nice post!</p>\n<p>A second paragraph with a <a href="https://example.org/x" '
                                 'rel="nofollow ugc noopener">link</a> and <code>code</code>.</p>')
    assert (anna["upvotes"], anna["downvotes"], anna["score"]) == (3, 1, 2)
    assert [r["body_html"] for r in anna["replies"]] == ["<p>Replying to <strong>Anna</strong>.</p>"]
    assert tombstone["deleted"] and [r["body_html"] for r in tombstone["replies"]] == ["<p>What did they say?</p>"]
    # index.html does not make a second article; raw HTML in Isso's Markdown stays text.
    # Isso keeps no date for a thread: the article is as old as its first comment, not the import.
    with app.app_context():
        first_comment = db.session.scalar(select(func.min(Comment.created_at)).join(Article).where(
            Article.key == "posts-first-post"))
        assert db.session.scalar(select(Article.created_at).where(Article.key == "posts-first-post")) == first_comment
        assert first_comment.year < 2026
    second = client.get("/api/v1/articles/posts-second/comments").get_json()
    [anonymous] = second["comments"]
    assert anonymous["author"] is None
    assert anonymous["body_html"] == "<p>Said without a name. &lt;script&gt;alert(1)&lt;/script&gt;</p>"
    with app.app_context():
        titles = dict(db.session.execute(select(Article.key, Article.title)).all())
        assert titles == {"posts-first-post": "First post", "posts-second": "Second post"}
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0
        ben = db.session.scalar(select(User).where(User.username == "Ben"))
        assert ben.imported_from == "isso" and ben.email == "ben@mail.example" and ben.email_key is None
        assert db.session.scalar(select(func.count()).where(Comment.author_id == ben.id)) == 2

    again = runner.invoke(args=["import", "isso", str(isso_db)])
    assert "comments: 0 imported" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 6
        assert db.session.scalar(select(Article.comment_count).where(Article.key == "posts-first-post")) == 3


def test_a_file_that_is_no_isso_database_is_refused(app, runner, tmp_path):
    path = tmp_path / "not.db"
    path.write_bytes(b"this is not a database" * 100)
    result = runner.invoke(args=["import", "isso", str(path)])
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
