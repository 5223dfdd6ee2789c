"""Protected information: restricted inquiries and topics, staff named on an inquiry, redacted messages,
people concerned and consent to disclose.

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-30 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch): a batch rebuild of `inquiries` on SQLite would drop the
    # trigger that removes a deleted inquiry's search document (migration 0004).
    op.add_column('topics', sa.Column('restricted', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('inquiries', sa.Column('restricted', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('inquiries', sa.Column('restricted_reason', sa.String(length=500), nullable=True))
    op.add_column('messages', sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('inquiry_named_staff',
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_inquiry_named_staff_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_inquiry_named_staff_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inquiry_named_staff_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inquiry_id', 'user_id', name=op.f('pk_inquiry_named_staff'))
    )
    with op.batch_alter_table('inquiry_named_staff', schema=None) as batch_op:
        batch_op.create_index('ix_inquiry_named_staff_user', ['user_id', 'inquiry_id'], unique=False)
    op.create_table('inquiry_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('relationship', sa.String(length=100), nullable=False),
    sa.Column('identifiers', sa.String(length=300), nullable=True),
    sa.Column('consent_how', sa.String(length=100), nullable=True),
    sa.Column('consent_given_on', sa.Date(), nullable=True),
    sa.Column('consent_until', sa.Date(), nullable=True),
    sa.Column('consent_document', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_inquiry_people_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiry_people'))
    )
    with op.batch_alter_table('inquiry_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiry_people_inquiry_id'), ['inquiry_id'], unique=False)


def downgrade():
    with op.batch_alter_table('inquiry_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiry_people_inquiry_id'))
    op.drop_table('inquiry_people')
    with op.batch_alter_table('inquiry_named_staff', schema=None) as batch_op:
        batch_op.drop_index('ix_inquiry_named_staff_user')
    op.drop_table('inquiry_named_staff')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('redacted_at')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_column('restricted_reason')
        batch_op.drop_column('restricted')
    if op.get_bind().dialect.name == "sqlite":
        # The batch rebuild of `inquiries` dropped the search trigger of migration 0004.
        op.execute("CREATE TRIGGER IF NOT EXISTS fts_inquiries_delete AFTER DELETE ON inquiries "
                   "BEGIN DELETE FROM fts_inquiries WHERE rowid = old.id; END")
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_column('restricted')
