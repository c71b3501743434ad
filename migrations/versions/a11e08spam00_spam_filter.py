"""spam filter: model versions, the filter's state row, comments.spam_score and held_because

Revision ID: a11e08spam00
Revises: a11e07imprt0
Create Date: 2026-12-09 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11e08spam00'
down_revision = 'a11e07imprt0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spam_score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('held_because', sa.String(length=16), nullable=True))

    op.create_table(
        'spam_models',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('feature_version', sa.Integer(), nullable=False),
        sa.Column('weights', sa.LargeBinary(), nullable=True),
        sa.Column('decisions_approve', sa.Integer(), nullable=False),
        sa.Column('decisions_spam', sa.Integer(), nullable=False),
        sa.Column('through_event_id', sa.Integer(), nullable=True),
        sa.Column('metrics', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_spam_models_feature', 'spam_models', ['feature_version', 'id'])

    op.create_table(
        'spam_filter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=True),
        sa.Column('hold_threshold', sa.Float(), nullable=True),
        sa.Column('spam_threshold', sa.Float(), nullable=True),
        sa.Column('spam_queue_active', sa.Boolean(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=True),
        sa.Column('figures_through_event_id', sa.Integer(), nullable=True),
        sa.Column('retrain_requested_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempted_through_event_id', sa.Integer(), nullable=True),
        sa.Column('training_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('spam_filter')
    op.drop_index('ix_spam_models_feature', table_name='spam_models')
    op.drop_table('spam_models')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('held_because')
        batch_op.drop_column('spam_score')
