"""The audit log page: an index per filter, in the page's order (at, id), newest first.

(at) and (actor_id) alone give way to (at, id), (actor_id, at, id) and (action, at, id). On
PostgreSQL the indexes are built CONCURRENTLY, outside a transaction: a plain CREATE INDEX would
hold back every write to the audit log (so nearly every request) while a large log is read.

Revision ID: 0017
Revises: 0010
Create Date: 2026-11-30 12:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

NEW = (
    ('ix_audit_events_at_id', ['at', 'id']),
    ('ix_audit_events_actor_at', ['actor_id', 'at', 'id']),
    ('ix_audit_events_action_at', ['action', 'at', 'id']),
)
OLD = (
    ('ix_audit_events_at', ['at']),
    ('ix_audit_events_actor_id', ['actor_id']),
)


def _swap(create, drop):
    concurrently = op.get_bind().dialect.name == 'postgresql'
    if concurrently:
        with op.get_context().autocommit_block():
            for name, columns in create:
                op.create_index(name, 'audit_events', columns, unique=False, postgresql_concurrently=True,
                                if_not_exists=True)
            for name, _ in drop:
                op.drop_index(name, table_name='audit_events', postgresql_concurrently=True, if_exists=True)
        return
    for name, columns in create:
        op.create_index(name, 'audit_events', columns, unique=False)
    for name, _ in drop:
        op.drop_index(name, table_name='audit_events')


def upgrade():
    _swap(NEW, OLD)


def downgrade():
    _swap(OLD, NEW)
