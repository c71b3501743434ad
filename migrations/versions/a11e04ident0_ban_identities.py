"""bans that outlive the account; identity checks

Revision ID: a11e04ident0
Revises: a11e03token0
Create Date: 2026-12-06 21:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

from app.accounts.names import skeleton


# revision identifiers, used by Alembic.
revision = 'a11e04ident0'
down_revision = 'a11e03token0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'banned_identities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('banned_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_banned_identities')),
        sa.UniqueConstraint('kind', 'key_hash', name='uq_banned_identities_kind'),
    )
    with op.batch_alter_table('moderation_events') as batch_op:
        batch_op.add_column(sa.Column('user_name', sa.String(length=32), nullable=True))
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('name_skeleton', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('display_skeleton', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_name_skeleton'), ['name_skeleton'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_display_skeleton'), ['display_skeleton'], unique=False)
    _backfill_skeletons()
    # An SSO account's address claims nothing any more (a local account may register it).
    op.execute("UPDATE users SET email_key = NULL WHERE sso_sub IS NOT NULL")


def _backfill_skeletons():
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('display_name', sa.String), sa.column('name_skeleton', sa.String),
                     sa.column('display_skeleton', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.username, users.c.display_name)).all()
    for user_id, username, display_name in rows:
        connection.execute(users.update().where(users.c.id == user_id).values(
            name_skeleton=skeleton(username), display_skeleton=skeleton(display_name)))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_display_skeleton'))
        batch_op.drop_index(batch_op.f('ix_users_name_skeleton'))
        batch_op.drop_column('display_skeleton')
        batch_op.drop_column('name_skeleton')
    with op.batch_alter_table('moderation_events') as batch_op:
        batch_op.drop_column('user_name')
    op.drop_table('banned_identities')
