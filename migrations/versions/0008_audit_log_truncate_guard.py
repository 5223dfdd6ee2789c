"""The audit log refuses TRUNCATE too (PostgreSQL); UPDATE and DELETE were refused already.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite has no TRUNCATE (its DELETE is refused by the triggers of revision 0001).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
