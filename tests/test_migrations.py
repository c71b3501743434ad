"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from datetime import datetime, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.comments import _SAME_START
from app.extensions import db

# Alembic cannot reflect expression indexes on SQLite; the last test checks that one directly.
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


def test_the_duplicate_check_has_its_expression_index(app):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            found = db.session.scalar(text(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'ix_comments_author_body'"))
            assert "substr(body, 1, 64)" in found
            statement = _SAME_START.compile(dialect=db.engine.dialect)
            params = {"author_id": 1, "key": "x", "since": datetime.now(timezone.utc), "article_id": 1}
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(statement), tuple(params[name] for name in statement.positiontup)).all()
            assert "ix_comments_author_body" in str(plan)
        else:
            found = db.session.scalar(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_comments_author_body'"))
            assert "substr(body, 1, 64)" in found
