"""Inquiry links, holds, reply notices; the staff notification choice.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inquiry_links',
    sa.Column('low_id', sa.Integer(), nullable=False),
    sa.Column('high_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('low_id < high_id', name=op.f('ck_inquiry_links_ordered_pair')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_inquiry_links_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['high_id'], ['inquiries.id'], name=op.f('fk_inquiry_links_high_id_inquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['low_id'], ['inquiries.id'], name=op.f('fk_inquiry_links_low_id_inquiries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('low_id', 'high_id', name=op.f('pk_inquiry_links'))
    )
    with op.batch_alter_table('inquiry_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiry_links_high_id'), ['high_id'], unique=False)

    op.create_table('reply_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_reply_notices_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_reply_notices_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reply_notices_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_notices')),
    sa.UniqueConstraint('message_id', name=op.f('uq_reply_notices_message_id'))
    )
    with op.batch_alter_table('reply_notices', schema=None) as batch_op:
        batch_op.create_index('ix_reply_notices_unseen', ['inquiry_id', 'seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reply_notices_user_id'), ['user_id'], unique=False)

    # Plain ALTER TABLE (no batch): a batch rebuild of `inquiries` on SQLite would drop the
    # search trigger of revision 0004.
    op.add_column('inquiries', sa.Column('hold_reason', sa.String(length=500), nullable=True))
    op.add_column('inquiries', sa.Column('held_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('wants_notifications', sa.Boolean(), nullable=False,
                                     server_default=sa.true()))


def downgrade():
    op.drop_column('users', 'wants_notifications')
    op.drop_column('inquiries', 'held_at')
    op.drop_column('inquiries', 'hold_reason')
    op.drop_index('ix_reply_notices_user_id', table_name='reply_notices')
    op.drop_index('ix_reply_notices_unseen', table_name='reply_notices')
    op.drop_table('reply_notices')
    op.drop_index('ix_inquiry_links_high_id', table_name='inquiry_links')
    op.drop_table('inquiry_links')
