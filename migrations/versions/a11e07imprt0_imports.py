"""imports: users.imported_from and the imported_objects table

Revision ID: a11e07imprt0
Revises: a11e06outbx0
Create Date: 2026-12-08 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11e07imprt0'
down_revision = 'a11e06outbx0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported_from', sa.String(length=64), nullable=True))

    op.create_table(
        'imported_objects',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('source_id', sa.String(length=255), nullable=False),
        sa.Column('local_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('source', 'kind', 'source_id', name='uq_imported_objects_source'),
    )
    op.create_index('ix_imported_objects_local', 'imported_objects', ['kind', 'local_id'])


def downgrade():
    op.drop_index('ix_imported_objects_local', table_name='imported_objects')
    op.drop_table('imported_objects')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('imported_from')
