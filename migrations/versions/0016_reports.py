"""Reports: indexes for the dashboard's response times and resolutions, and the daily roll-up.

Revision ID: 0016
Revises: 0010
Create Date: 2026-11-30 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.create_index('ix_inquiries_first_response', ['first_response_at'], unique=False)
        batch_op.create_index('ix_inquiries_resolved', ['resolved_at'], unique=False)
    op.create_table(
        'report_daily_rollup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('topic_id', sa.Integer(), nullable=True),
        sa.Column('organisation_kind', sa.String(length=40), nullable=True),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('trusted_partner', sa.Boolean(), nullable=False),
        sa.Column('priority', sa.String(length=16), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('restricted', sa.Boolean(), nullable=False),
        sa.Column('received', sa.Integer(), nullable=False),
        sa.Column('first_responses', sa.Integer(), nullable=False),
        sa.Column('first_response_met', sa.Integer(), nullable=False),
        sa.Column('resolved', sa.Integer(), nullable=False),
        sa.Column('resolution_met', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_daily_rollup')),
    )
    with op.batch_alter_table('report_daily_rollup', schema=None) as batch_op:
        batch_op.create_index('ix_report_daily_rollup_day', ['day'], unique=False)


def downgrade():
    with op.batch_alter_table('report_daily_rollup', schema=None) as batch_op:
        batch_op.drop_index('ix_report_daily_rollup_day')
    op.drop_table('report_daily_rollup')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_index('ix_inquiries_resolved')
        batch_op.drop_index('ix_inquiries_first_response')
