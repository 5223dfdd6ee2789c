"""Protected information: restricted inquiries and topics, staff named on an inquiry, redacted messages,
people concerned and consent to disclose, the audit log's hash chain (audit_seals).

Revision ID: 0009
Revises: 0013
Create Date: 2026-11-30 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0013'
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
    op.create_table('audit_seals',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_seals')),
    sa.UniqueConstraint('event_id', name=op.f('uq_audit_seals_event_id'))
    )
    # The seals are append-only like the log (revision 0001 made the log so).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_seals_no_{event.lower()} BEFORE {event} ON audit_seals "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_seals_no_truncate ON audit_seals")
        op.execute("DROP TRIGGER audit_seals_append_only ON audit_seals")
    op.drop_table('audit_seals')
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
