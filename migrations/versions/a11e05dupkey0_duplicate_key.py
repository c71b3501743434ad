"""duplicate check keyed on the parent and the rendered text

Revision ID: a11e05dupkey0
Revises: a11e04ident0
Create Date: 2026-12-06 21:45:00.000000

"""
import hashlib
import unicodedata
from html.parser import HTMLParser

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11e05dupkey0'
down_revision = 'a11e04ident0'
branch_labels = None
depends_on = None

BATCH = 1000
_comments = sa.table('comments', sa.column('id', sa.Integer), sa.column('body_html', sa.Text),
                     sa.column('text_key', sa.String(64)))

# A copy of app.sanitize.text_key as this revision was written: a later change there must not
# change what this migration computes.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def _text_key(html):
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    text = unicodedata.normalize("NFKC", "".join(collector.parts))
    text = "".join(char for char in text if char not in _INVISIBLE and unicodedata.category(char) != "Cf")
    text = " ".join(text.split()).casefold()
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _backfill():
    """Key every existing comment, a batch of rows at a time (in id order)."""
    connection = op.get_bind()
    update = (sa.update(_comments).where(_comments.c.id == sa.bindparam('comment_id'))
              .values(text_key=sa.bindparam('key')))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_comments.c.id, _comments.c.body_html).where(_comments.c.id > last)
            .order_by(_comments.c.id).limit(BATCH)).all()
        if not rows:
            return
        connection.execute(update, [{'comment_id': id_, 'key': _text_key(html or '')} for id_, html in rows])
        last = rows[-1].id


def upgrade():
    # Posts are checked against the hash of their visible text (app.sanitize.text_key), no longer
    # against the first 64 characters of their source. The server default keys '' the rows that
    # the previous release inserts while this one is deployed (it never sets the column).
    op.drop_index('ix_comments_author_body', table_name='comments')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_key', sa.String(length=64), server_default='', nullable=False))
    _backfill()
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_author_text', ['author_id', 'text_key', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_author_text')
        batch_op.drop_column('text_key')
    op.create_index('ix_comments_author_body', 'comments',
                    ['author_id', sa.text('substr(body, 1, 64)'), 'created_at'])
