"""Email in (issue 17): messages received, stored once; bounced addresses; a message's whole email.

Revision ID: 0015
Revises: 0010
Create Date: 2026-11-30 12:00:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'inbound_emails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=True),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('raw', sa.LargeBinary(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sender_key', sa.String(length=400), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=100), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_emails')),
        sa.UniqueConstraint('content_hash', name=op.f('uq_inbound_emails_content_hash')),
        sa.UniqueConstraint('message_id', name=op.f('uq_inbound_emails_message_id')),
    )
    op.create_index('ix_inbound_emails_sender_received', 'inbound_emails', ['sender_key', 'received_at'])
    op.create_table(
        'mail_bounced_addresses',
        sa.Column('address_key', sa.String(length=400), nullable=False),
        sa.Column('soft_count', sa.Integer(), nullable=False),
        sa.Column('hard_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('address_key', name=op.f('pk_mail_bounced_addresses')),
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inbound_email_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_messages_inbound_email_id'), ['inbound_email_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_messages_inbound_email_id_inbound_emails'), 'inbound_emails',
                                    ['inbound_email_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_messages_inbound_email_id_inbound_emails'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_messages_inbound_email_id'))
        batch_op.drop_column('inbound_email_id')
    op.drop_table('mail_bounced_addresses')
    op.drop_index('ix_inbound_emails_sender_received', table_name='inbound_emails')
    op.drop_table('inbound_emails')
