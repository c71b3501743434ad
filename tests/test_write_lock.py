"""SQLite's write lock is taken explicitly (``database.writing``), never from the HTTP method; a write
that forgot it fails under test; every change of what a thread shows goes through ``thread_changed``."""
import sqlite3

import pytest
from sqlalchemy import bindparam, select, update

from app.database import list_param, one_of, run, writing
from app.discussion.articles import THREAD_HEAD
from app.extensions import db
from app.models import Article

LITERAL_KEY = "a1"


def _on_sqlite(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def _other_writer_can_start(app) -> bool:
    """Whether another connection gets the write lock at once (BEGIN IMMEDIATE, no waiting)."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_a_write_request_reads_without_the_lock_until_writing(app, article):
    with app.test_request_context("/", method="POST"):
        loaded = db.session.get(Article, article.id)
        if not _on_sqlite(app):  # PostgreSQL locks rows: writing() leaves the transaction alone
            transaction = db.session().get_transaction()
            with writing():
                assert db.session().get_transaction() is transaction
            db.session.rollback()
            return
        assert _other_writer_can_start(app)  # the method does not matter: reads begin deferred
        with writing():
            assert not _other_writer_can_start(app)
            assert loaded.title == "The first article"  # still usable after the read's commit
            with writing():  # nested: nothing changes
                assert db.session.get(Article, article.id) is loaded
        db.session.rollback()
        assert _other_writer_can_start(app)


def test_a_write_without_writing_fails_under_test(app, article):
    with app.test_request_context("/", method="POST"):
        db.session.get(Article, article.id).title = "changed"
        if not _on_sqlite(app):  # no single write lock to forget on PostgreSQL
            db.session.flush()
            db.session.rollback()
            return
        with pytest.raises(Exception, match="writing()"):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(Exception, match="writing()"):
            db.session.execute(update(Article).values(title="changed"))
        db.session.rollback()


def test_run_on_its_own_connection_reads_and_writes(app, article):
    with app.app_context():
        assert run(THREAD_HEAD, {"key": "a1"}, own_connection=True) == [(article.id, "a1", article.version, 0)]
        assert run(THREAD_HEAD, {"key": "nope"}, own_connection=True) == []
        # Values written in the statement itself, with parameters given and with none.
        by_key_and_status = select(Article.key).where(Article.key == LITERAL_KEY, Article.status == "open",
                                                      Article.id == bindparam("id"))
        assert run(by_key_and_status, {"id": article.id}, own_connection=True) == [("a1",)]
        assert run(select(Article.key).where(Article.key == LITERAL_KEY), own_connection=True) == [("a1",)]
        ids = select(Article.key).where(one_of(Article.id, "ids", db.engine.dialect.name))
        assert run(ids, {"ids": list_param([article.id, -1], db.engine.dialect.name)}, own_connection=True) == [("a1",)]
        assert run(ids, {"ids": list_param([], db.engine.dialect.name)}, own_connection=True) == []
        with writing():
            run(update(Article).where(Article.id == article.id).values(title="by run"))
        db.session.commit()
        assert db.session.scalar(select(Article.title)) == "by run"


def test_closing_an_article_invalidates_its_cached_pages(app, login, article, mod):
    with app.app_context():
        before = db.session.scalar(select(Article.version))
    api = login(mod)
    assert api.patch("/api/v1/articles/a1", {"status": "closed"}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Article.version)) == before + 1
    assert api.patch("/api/v1/articles/a1", {"title": "Only the title"}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Article.version)) == before + 1  # not shown in the thread
