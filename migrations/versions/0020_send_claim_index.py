"""Send engine: claims walk one send at a time through (send_id, status, next_attempt_at, id), so the rows
of a paused send are never read; the index replaces (send_id, status), which it covers.

Revision ID: 0020
Revises: 0010
Create Date: 2026-11-30 12:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mail_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_mail_deliveries_send_due', ['send_id', 'status', 'next_attempt_at', 'id'],
                              unique=False)
        batch_op.drop_index('ix_mail_deliveries_send_status')


def downgrade():
    with op.batch_alter_table('mail_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_mail_deliveries_send_status', ['send_id', 'status'], unique=False)
        batch_op.drop_index('ix_mail_deliveries_send_due')
