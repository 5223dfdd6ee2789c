"""Indexes for the dashboard at a million inquiries (issue 18): workload and top organisations.

``ix_inquiries_open_assignee_due``: the open inquiries (not merged) per assignee and due time, so
the workload's open / due soon / overdue counts read a partial index, not the whole table.
``ix_inquiries_received_organisation``: the inquiries of an organisation received in a period
(the top organisations). ``ix_inquiries_unresolved``: the inquiries open now (the backlog's start). On PostgreSQL both carry the columns of the reader's need-to-know
condition (INCLUDE) so that the default dashboard reads them by index-only scans.
No table is rebuilt: the triggers on ``inquiries`` stay as they are.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 20:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

OPEN = "status IN ('new', 'open', 'waiting') AND merged_into_id IS NULL"
UNRESOLVED = "resolved_at IS NULL AND merged_into_id IS NULL"
WITH_ORGANISATION = "organisation_id IS NOT NULL"


def upgrade():
    op.create_index("ix_inquiries_open_assignee_due", "inquiries", ["assignee_id", "due_at"],
                    postgresql_include=["id", "restricted", "topic_id"],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index("ix_inquiries_unresolved", "inquiries", ["assignee_id"],
                    postgresql_include=["id", "restricted", "topic_id"],
                    postgresql_where=sa.text(UNRESOLVED), sqlite_where=sa.text(UNRESOLVED))
    op.create_index("ix_inquiries_received_organisation", "inquiries", ["received_at", "organisation_id"],
                    postgresql_include=["id", "merged_into_id", "restricted", "topic_id", "assignee_id"],
                    postgresql_where=sa.text(WITH_ORGANISATION), sqlite_where=sa.text(WITH_ORGANISATION))


def downgrade():
    op.drop_index("ix_inquiries_received_organisation", table_name="inquiries")
    op.drop_index("ix_inquiries_unresolved", table_name="inquiries")
    op.drop_index("ix_inquiries_open_assignee_due", table_name="inquiries")
