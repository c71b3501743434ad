"""index for the duplicate check of every post

Revision ID: 3f9a1c2d7e54
Revises: 0e00b3a7cd87
Create Date: 2026-12-01 03:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f9a1c2d7e54'
down_revision = '0e00b3a7cd87'
branch_labels = None
depends_on = None


def upgrade():
    # An expression index: the author, the first 64 characters of the body, the time
    # (app.models.DUPLICATE_KEY_LENGTH). substr() counts characters on SQLite and PostgreSQL alike.
    op.create_index('ix_comments_author_body', 'comments',
                    ['author_id', sa.text('substr(body, 1, 64)'), 'created_at'])


def downgrade():
    op.drop_index('ix_comments_author_body', table_name='comments')
