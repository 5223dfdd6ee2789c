"""Everyday use (issue 10): inquiries logged by staff without a stakeholder, partners' networks
spared by the public form's rate limit, and staff invitations.

Revision ID: 0018
Revises: 0010
Create Date: 2026-11-30 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

FTS_TRIGGER = ("CREATE TRIGGER IF NOT EXISTS fts_inquiries_delete AFTER DELETE ON inquiries "
               "BEGIN DELETE FROM fts_inquiries WHERE rowid = old.id; END")


def _contact_nullable(nullable):
    if op.get_bind().dialect.name == "postgresql":
        # ALTER COLUMN … DROP/SET NOT NULL: no rewrite of the table (SET scans it once).
        op.alter_column('inquiries', 'contact_id', existing_type=sa.Integer(), nullable=nullable)
        return
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.alter_column('contact_id', existing_type=sa.Integer(), nullable=nullable)
    # The batch rebuild of `inquiries` on SQLite dropped the search trigger of migration 0004.
    op.execute(FTS_TRIGGER)


def upgrade():
    _contact_nullable(True)
    op.create_table('rate_limit_exempt_networks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=50), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_rate_limit_exempt_networks_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_limit_exempt_networks')),
    sa.UniqueConstraint('network', name=op.f('uq_rate_limit_exempt_networks_network'))
    )
    op.create_table('staff_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_staff_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staff_invitations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_invitations_token_hash'))
    )
    with op.batch_alter_table('staff_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_invitations_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_invitations_user_id'))
    op.drop_table('staff_invitations')
    op.drop_table('rate_limit_exempt_networks')
    # Inquiries logged without a stakeholder cannot go back to a column that requires one.
    op.execute("DELETE FROM inquiries WHERE contact_id IS NULL")
    _contact_nullable(False)
