"""Full-text search over inquiries: an FTS5 table (SQLite) or a tsvector table with a GIN index (PostgreSQL).

The table is named fts_inquiries on both databases and is not among the models (env.py
ignores fts_* tables when comparing); see inquiry_desk/inquiries/search.py. The index is
filled for the inquiries that exist, with a copy of that module's folding as it is at this
revision (a later change to the folding must come with a migration that re-indexes).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:00:00.000000

"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BATCH_SIZE = 1000
MAX_DOCUMENT_CHARS = 100_000
MAX_WORD_CHARS = 100
_WORD = re.compile(r"[^\W_]+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})


def _fold(value):
    value = value.translate(_LIGATURES).casefold()
    if value.isascii():
        return value
    decomposed = unicodedata.normalize("NFKD", value)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def _document(parts):
    document = " ".join(word for part in parts for word in _WORD.findall(_fold(part or ""))
                        if len(word) <= MAX_WORD_CHARS)
    if len(document) > MAX_DOCUMENT_CHARS:
        document = document[:MAX_DOCUMENT_CHARS].rsplit(" ", 1)[0]
    return document


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.create_table('fts_inquiries',
        sa.Column('inquiry_id', sa.Integer(), nullable=False),
        sa.Column('document', postgresql.TSVECTOR(), nullable=False),
        sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_fts_inquiries_inquiry_id_inquiries'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('inquiry_id', name=op.f('pk_fts_inquiries'))
        )
        # A small pending list: new documents are cheap to add, and a search never reads more
        # than 256 kB of not-yet-merged entries (the 4 MB default costs milliseconds per search).
        op.create_index('ix_fts_inquiries_document', 'fts_inquiries', ['document'], unique=False,
                        postgresql_using='gin', postgresql_with={'gin_pending_list_limit': 256})
        # Frequencies of the 3,000 commonest words (the default keeps 1,000): search.py picks its
        # plan from the planner's estimate, which must tell a word in 0.5 % of inquiries from a
        # rare one. More would slow the planning of every search (0.3 ms at 10,000 words).
        op.execute("ALTER TABLE fts_inquiries ALTER COLUMN document SET STATISTICS 300")
        insert = sa.text("INSERT INTO fts_inquiries (inquiry_id, document) "
                         "VALUES (:id, to_tsvector('simple', :document))")
    else:
        op.execute("CREATE VIRTUAL TABLE fts_inquiries USING fts5(document, tokenize='unicode61 remove_diacritics 2')")
        # A batch migration that rebuilds `inquiries` on SQLite drops this trigger: recreate it there.
        op.execute("CREATE TRIGGER fts_inquiries_delete AFTER DELETE ON inquiries "
                   "BEGIN DELETE FROM fts_inquiries WHERE rowid = old.id; END")
        insert = sa.text("INSERT INTO fts_inquiries (rowid, document) VALUES (:id, :document)")
    _fill(bind, insert)
    if bind.dialect.name == "postgresql":
        op.execute("ANALYZE fts_inquiries")


def _fill(bind, insert):
    """Index every existing inquiry, in keyset batches (the fields in search.document_text's order)."""
    inquiries_query = sa.text(
        "SELECT i.id, i.reference, i.subject, c.name, c.email, i.organisation_name, o.name "
        "FROM inquiries i JOIN contacts c ON c.id = i.contact_id "
        "LEFT JOIN organisations o ON o.id = i.organisation_id "
        "WHERE i.id > :after ORDER BY i.id LIMIT :limit"
    )
    messages_query = sa.text(
        "SELECT inquiry_id, body FROM messages WHERE inquiry_id IN :ids ORDER BY inquiry_id, created_at, id"
    ).bindparams(sa.bindparam("ids", expanding=True))
    after = 0
    while True:
        rows = bind.execute(inquiries_query, {"after": after, "limit": BATCH_SIZE}).all()
        if not rows:
            return
        bodies = {}
        for inquiry_id, body in bind.execute(messages_query, {"ids": [row[0] for row in rows]}):
            bodies.setdefault(inquiry_id, []).append(body)
        bind.execute(insert, [{"id": row[0], "document": _document([*row[1:], *bodies.get(row[0], [])])}
                              for row in rows])
        after = rows[-1][0]


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_fts_inquiries_document', table_name='fts_inquiries', postgresql_using='gin')
        op.drop_table('fts_inquiries')
    else:
        op.execute("DROP TRIGGER IF EXISTS fts_inquiries_delete")
        op.execute("DROP TABLE fts_inquiries")
