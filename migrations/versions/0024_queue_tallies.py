"""Queue counts kept by the database (issue 19): tally rows written by triggers on inquiries.

Every insert, delete, and change of status, assignee or due time of an inquiry adds rows of
+1/-1 to ``queue_tallies`` in the same transaction (inquiries/tallies.py says why rows and not
counters). The table starts from a count of the inquiries already there.

Note for later migrations: a batch rebuild of ``inquiries`` on SQLite drops its triggers; put
them back with ``SQLITE_TRIGGERS`` (as 0018 does for the search trigger).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

_COLUMNS = "(status, assignee_id, has_due, delta)"
_OLD = "(OLD.status, COALESCE(OLD.assignee_id, 0), OLD.due_at IS NOT NULL, -1)"
_NEW = "(NEW.status, COALESCE(NEW.assignee_id, 0), NEW.due_at IS NOT NULL, 1)"
_MOVED = ("OLD.status IS NOT NEW.status OR COALESCE(OLD.assignee_id, 0) <> COALESCE(NEW.assignee_id, 0) "
          "OR (OLD.due_at IS NULL) <> (NEW.due_at IS NULL)")

SQLITE_TRIGGERS = (
    f"CREATE TRIGGER IF NOT EXISTS inquiries_tally_insert AFTER INSERT ON inquiries "
    f"BEGIN INSERT INTO queue_tallies {_COLUMNS} VALUES {_NEW}; END",
    f"CREATE TRIGGER IF NOT EXISTS inquiries_tally_delete AFTER DELETE ON inquiries "
    f"BEGIN INSERT INTO queue_tallies {_COLUMNS} VALUES {_OLD}; END",
    f"CREATE TRIGGER IF NOT EXISTS inquiries_tally_update AFTER UPDATE OF status, assignee_id, due_at ON inquiries "
    f"WHEN {_MOVED} BEGIN INSERT INTO queue_tallies {_COLUMNS} VALUES {_OLD}, {_NEW}; END",
)

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION queue_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO queue_tallies {_COLUMNS} VALUES {_OLD};
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO queue_tallies {_COLUMNS} VALUES {_NEW};
    END IF;
    RETURN NULL;
END $$
"""
POSTGRES_TRIGGERS = (
    "CREATE TRIGGER inquiries_tally AFTER INSERT OR DELETE ON inquiries FOR EACH ROW EXECUTE FUNCTION queue_tally()",
    "CREATE TRIGGER inquiries_tally_update AFTER UPDATE OF status, assignee_id, due_at ON inquiries FOR EACH ROW "
    f"WHEN ({_MOVED.replace(' IS NOT ', ' IS DISTINCT FROM ')}) EXECUTE FUNCTION queue_tally()",
)


def upgrade():
    op.create_table('queue_tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('has_due', sa.Boolean(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_tallies'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.execute(f"INSERT INTO queue_tallies {_COLUMNS} SELECT status, COALESCE(assignee_id, 0), "
               "due_at IS NOT NULL, count(*) FROM inquiries GROUP BY 1, 2, 3")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS inquiries_tally_update ON inquiries")
        op.execute("DROP TRIGGER IF EXISTS inquiries_tally ON inquiries")
        op.execute("DROP FUNCTION IF EXISTS queue_tally()")
    else:
        for name in ("inquiries_tally_insert", "inquiries_tally_delete", "inquiries_tally_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('queue_tallies')
