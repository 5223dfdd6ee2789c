"""The progress of a directory import, kept on its row so that every web process can show it.

Revision ID: 0019
Revises: 0010
Create Date: 2026-11-30 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('directory_imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_done', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('progress_total', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('progress_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('directory_imports', schema=None) as batch_op:
        batch_op.drop_column('progress_at')
        batch_op.drop_column('progress_total')
        batch_op.drop_column('progress_done')
