"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from datetime import datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.discussion.storing import _INSERT_UNLESS_DUPLICATE
from app.extensions import db

# Older revisions build an expression index that Alembic cannot reflect on SQLite.
pytestmark = pytest.mark.filterwarnings("ignore:.*expression-based index")


def _pending_diff(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_no_pending_autogenerate_diff(app):
    assert _pending_diff(app) == []


def test_downgrade_to_nothing_and_back(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(db.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.engine.dispose()
    assert _pending_diff(app) == []


@pytest.mark.parametrize("parent_id", [None, 7])
def test_the_duplicate_check_uses_its_index(app, parent_id):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            statement = _INSERT_UNLESS_DUPLICATE.compile(dialect=db.engine.dialect)
            now = datetime.now(timezone.utc)
            params = statement.construct_params({
                "author_id": 1, "text_key": "0" * 64, "since": now, "article_id": 1, "parent_id": parent_id,
                "body": "b", "body_html": "<p>b</p>", "root_id": parent_id, "depth": 0, "status": "approved",
                "created_at": now, "decided_at": now, "edited_at": None, "pinned": False, "score": 0,
                "upvotes": 0, "downvotes": 0, "open_flags": 0, "shown_replies": 0, "spam_score": None,
                "held_because": None})
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(statement), tuple(params[name] for name in statement.positiontup)).all()
            assert "ix_comments_author_text" in str(plan), plan
        else:
            found = db.session.scalar(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_comments_author_text'"))
            assert "(author_id, text_key, article_id, created_at)" in found
