"""Reports: business minutes per first response and resolution, the rolled-up days, the changes checked.

The roll-up's ``restricted`` now means restricted one by one (a restricted topic is applied when it
is read): the old rows are deleted, and no day is marked rolled up until the job or
``flask reports rollup`` counts it again.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 15:30:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def _dimensions():
    return [
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('topic_id', sa.Integer(), nullable=True),
        sa.Column('organisation_kind', sa.String(length=40), nullable=True),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('trusted_partner', sa.Boolean(), nullable=False),
        sa.Column('priority', sa.String(length=16), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('restricted', sa.Boolean(), nullable=False),
    ]


def upgrade():
    op.execute('DELETE FROM report_daily_rollup')
    op.create_table(
        'report_inquiry_times',
        sa.Column('inquiry_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('measure', sa.String(length=16), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('met', sa.Boolean(), nullable=False),
        *_dimensions(),
        sa.PrimaryKeyConstraint('inquiry_id', 'measure', name=op.f('pk_report_inquiry_times')),
    )
    with op.batch_alter_table('report_inquiry_times', schema=None) as batch_op:
        batch_op.create_index('ix_report_inquiry_times_measure_day', ['measure', 'day'], unique=False)
    op.create_table(
        'report_rolled_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('rolled_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_report_rolled_days')),
    )
    op.create_table(
        'report_rollup_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('changes_checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_rollup_state')),
    )


def downgrade():
    op.drop_table('report_rollup_state')
    op.drop_table('report_rolled_days')
    with op.batch_alter_table('report_inquiry_times', schema=None) as batch_op:
        batch_op.drop_index('ix_report_inquiry_times_measure_day')
    op.drop_table('report_inquiry_times')
