"""staff trust: audit of edits by others, flags from accounts with history

Revision ID: a11e01staff0
Revises: 3f9a1c2d7e54
Create Date: 2026-12-06 21:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11e01staff0'
down_revision = '3f9a1c2d7e54'
branch_labels = None
depends_on = None


def upgrade():
    # The source a moderator's edit replaced, kept for the audit log (admins read it).
    with op.batch_alter_table('moderation_events') as batch_op:
        batch_op.add_column(sa.Column('previous_body', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('moderation_events') as batch_op:
        batch_op.drop_column('previous_body')
