"""articles: titles and urls an admin set are kept

Revision ID: a11e02artcl0
Revises: a11e01staff0
Create Date: 2026-12-06 21:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11e02artcl0'
down_revision = 'a11e01staff0'
branch_labels = None
depends_on = None


def upgrade():
    # Existing articles count as settled ("page"): views never changed their titles before either.
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meta_source', sa.String(length=8), server_default='page',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_articles_meta_source'), "meta_source IN ('view', 'page', 'admin')")


def downgrade():
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_articles_meta_source'), type_='check')
        batch_op.drop_column('meta_source')
