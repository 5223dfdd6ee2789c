"""The send engine: bulk sends, their deliveries, suppressed addresses, the shared rate limit.

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-30 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('from_address', sa.String(length=400), nullable=False),
    sa.Column('reply_to', sa.String(length=400), nullable=True),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('extra_headers', sa.JSON(), nullable=False),
    sa.Column('left_out_suppressed', sa.Integer(), nullable=False),
    sa.Column('left_out_duplicate', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_sends')),
    sa.UniqueConstraint('key', name=op.f('uq_mail_sends_key'))
    )
    op.create_table('mail_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('send_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=False),
    sa.Column('address_key', sa.String(length=400), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('smtp_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['send_id'], ['mail_sends.id'], name=op.f('fk_mail_deliveries_send_id_mail_sends'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_deliveries')),
    sa.UniqueConstraint('send_id', 'address_key', name='uq_mail_deliveries_send_address')
    )
    with op.batch_alter_table('mail_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_mail_deliveries_due', ['status', 'next_attempt_at', 'id'], unique=False)
        batch_op.create_index('ix_mail_deliveries_send_status', ['send_id', 'status'], unique=False)

    op.create_table('mail_suppressions',
    sa.Column('address_key', sa.String(length=400), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('smtp_code', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('address_key', name=op.f('pk_mail_suppressions'))
    )
    op.create_table('mail_throttle',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('next_free', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_mail_throttle'))
    )


def downgrade():
    op.drop_table('mail_throttle')
    op.drop_table('mail_suppressions')
    with op.batch_alter_table('mail_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_deliveries_send_status')
        batch_op.drop_index('ix_mail_deliveries_due')
    op.drop_table('mail_deliveries')
    op.drop_table('mail_sends')
