"""comments.shown_replies (publicly shown direct replies); indexes for replies in order, a reader's
own comments in a thread, and the duplicate check

Revision ID: a11e09shown0
Revises: a11e08spam00
Create Date: 2026-12-07 04:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11e09shown0'
down_revision = 'a11e08spam00'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shown_replies', sa.Integer(), server_default='0', nullable=False))
    op.create_index('ix_comments_children', 'comments', ['parent_id', 'created_at'])
    op.create_index('ix_comments_author_article', 'comments', ['author_id', 'article_id', 'status'])
    # The duplicate check's index also names the article: strictly better than ix_comments_thread for
    # it, so no planner (SQLite's has no statistics) can prefer walking the article's comments.
    op.drop_index('ix_comments_author_text', table_name='comments')
    op.create_index('ix_comments_author_text', 'comments', ['author_id', 'text_key', 'article_id', 'created_at'])
    # Count every comment's publicly shown replies, deepest level first (a tombstone is shown when
    # one of its replies is), as app/discussion/shown.py keeps them from now on.
    deepest = op.get_bind().scalar(sa.text("SELECT max(depth) FROM comments"))
    for depth in range((deepest or 0), -1, -1):
        op.execute(sa.text(
            "UPDATE comments SET shown_replies = (SELECT count(*) FROM comments AS child "
            "WHERE child.parent_id = comments.id "
            "AND (child.status = 'approved' OR child.shown_replies > 0)) "
            "WHERE depth = :depth").bindparams(depth=depth))


def downgrade():
    op.drop_index('ix_comments_author_text', table_name='comments')
    op.create_index('ix_comments_author_text', 'comments', ['author_id', 'text_key', 'created_at'])
    op.drop_index('ix_comments_author_article', table_name='comments')
    op.drop_index('ix_comments_children', table_name='comments')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('shown_replies')
