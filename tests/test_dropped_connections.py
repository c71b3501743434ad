"""PostgreSQL drops every connection when it restarts (or an operator terminates them): the pool has no
pre-ping (a round trip per checkout), so a page view that finds its pooled connection dead retries
once on a new one, and the reader never sees it. Runs on a PostgreSQL database of its own in both
suites."""
import sqlalchemy as sa

from app.extensions import db
from app.models import Article

from .conftest import app_on_own_postgres


def _terminate_connections_to(url: str) -> int:
    """What a restart does to the app's connections: every backend of that database is terminated."""
    name = sa.engine.make_url(url).database
    admin = sa.create_engine(sa.engine.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": name}).all())
    finally:
        admin.dispose()


def test_a_page_view_survives_the_database_dropping_its_connections():
    with app_on_own_postgres(SECRET_KEY="dropped-connections") as app:
        with app.app_context():
            db.session.add(Article(key="a1", title="An article", url="https://news.example/a1"))
            db.session.commit()
        client = app.test_client()
        first = client.get("/api/v1/articles/a1/comments")
        assert first.status_code == 200
        assert _terminate_connections_to(app.config["DATABASE_URL"]) >= 1
        for _ in range(3):
            again = client.get("/api/v1/articles/a1/comments")
            assert again.status_code == 200, again.get_json()
            assert again.get_json() == first.get_json()
