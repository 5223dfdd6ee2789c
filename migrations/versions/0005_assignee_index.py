"""The "Mine" and "Unassigned" queues walk one index newest first.

(assignee_id, status, received_at) made SQLite sort every open inquiry of an
officer for each page, since the queue asks for three statuses at once;
(assignee_id, received_at, id) gives the rows in page order and the status is
checked on the way.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 08:05:00
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # Plain index operations: a batch operation would rebuild `inquiries` on SQLite and
    # drop the search trigger of revision 0004.
    op.drop_index('ix_inquiries_assignee_status_received', table_name='inquiries')
    op.create_index('ix_inquiries_assignee_received', 'inquiries', ['assignee_id', 'received_at', 'id'])


def downgrade():
    op.drop_index('ix_inquiries_assignee_received', table_name='inquiries')
    op.create_index('ix_inquiries_assignee_status_received', 'inquiries',
                    ['assignee_id', 'status', 'received_at', 'id'])
