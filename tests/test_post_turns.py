"""One author's posts on PostgreSQL: only the same text takes turns (the duplicate check,
``storing.take_turn_with_same_text``); posts of other texts by the same author go on while one is still
being written. Runs on a PostgreSQL database of its own in both suites (SQLite's write lock makes every
write take turns)."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.discussion import posting
from app.errors import ApiError
from app.extensions import db
from app.models import Article, Comment, User

from .conftest import app_on_own_postgres

LIMITS = posting.Limits(max_length=5000, max_depth=8)


@pytest.fixture(scope="module")
def app():
    with app_on_own_postgres(SECRET_KEY="post-turns") as app:
        with app.app_context():
            for key in ("turns", "elsewhere"):
                db.session.add(Article(key=key, title=key, url=f"https://news.example/{key}"))
            db.session.add(User(username="writer", username_key="writer", email="w@example.com",
                                email_key="w@example.com", display_name="Writer", role="reader"))
            db.session.commit()
        yield app


def _post(app, text: str, started: threading.Event | None = None, release: threading.Event | None = None,
          key: str = "turns"):
    """Post ``text`` on ``key`` as the writer in a transaction of its own; with ``release``, hold the
    transaction open (``started`` set once written) until it is set. The comment's id, or the
    ApiError's status."""
    with app.app_context():
        try:
            article = db.session.scalar(select(Article).where(Article.key == key))
            author = db.session.scalar(select(User).where(User.username == "writer"))
            comment = posting.post_comment(article, author, text, LIMITS)
            if started is not None:
                started.set()
            if release is not None:
                assert release.wait(30)
            db.session.commit()
            return comment.id
        except ApiError as error:
            db.session.rollback()
            return error.status
        finally:
            db.session.remove()


def test_an_authors_other_texts_do_not_wait_but_the_same_text_does(app):
    written, release = threading.Event(), threading.Event()
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(_post, app, "A first thought on this.", written, release)
        assert written.wait(30)
        # The first post's transaction is open, its rows locked (its article's among them, which every
        # post to that thread waits for): another text by the same author, on another thread, is
        # written and committed meanwhile.
        other = pool.submit(_post, app, "A second, different thought.", key="elsewhere")
        assert isinstance(other.result(timeout=20), int)
        # The same text again (a double click) waits for the first to end, then finds it.
        again = pool.submit(_post, app, "A first thought on this.")
        assert not again.done() and not _finished_within(again, 0.5)
        release.set()
        assert isinstance(first.result(timeout=20), int)
        assert again.result(timeout=20) == 409
    with app.app_context():
        texts = db.session.scalars(select(Comment.body).order_by(Comment.id)).all()
        counts = db.session.execute(select(Article.key, Article.comment_count).order_by(Article.key)).all()
        events = db.session.scalar(select(func.count()).select_from(db.metadata.tables["events"]))
    assert sorted(texts) == ["A first thought on this.", "A second, different thought."]
    assert counts == [("elsewhere", 1), ("turns", 1)] and events == 2


def _finished_within(future, seconds: float) -> bool:
    try:
        future.result(timeout=seconds)
    except TimeoutError:
        return False
    return True
