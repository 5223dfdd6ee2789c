"""Bulletin series: a recurring bulletin (template, rule, lead time, editors) and one row per occurrence,
unique per series and time, so that each edition is created and decided once.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 15:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulletin_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rule', sa.String(length=16), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('business_day', sa.Integer(), nullable=True),
    sa.Column('at_minute', sa.Integer(), nullable=False),
    sa.Column('lead_minutes', sa.Integer(), nullable=False),
    sa.Column('editor_ids', sa.JSON(), nullable=False),
    sa.Column('sender_name', sa.String(length=200), nullable=False),
    sa.Column('list_ids', sa.JSON(), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_fr', sa.String(length=200), nullable=False),
    sa.Column('subject_en', sa.String(length=200), nullable=False),
    sa.Column('subject_fr', sa.String(length=200), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('body_fr', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('template_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bulletin_series_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['template_by_id'], ['users.id'], name=op.f('fk_bulletin_series_template_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin_series'))
    )
    op.create_table('bulletin_series_occurrences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('occurs_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('bulletin_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_bulletin_series_occurrences_bulletin_id_bulletins'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['series_id'], ['bulletin_series.id'], name=op.f('fk_bulletin_series_occurrences_series_id_bulletin_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin_series_occurrences')),
    sa.UniqueConstraint('bulletin_id', name=op.f('uq_bulletin_series_occurrences_bulletin_id')),
    sa.UniqueConstraint('series_id', 'occurs_at', name=op.f('uq_bulletin_series_occurrences_series_id'))
    )
    with op.batch_alter_table('bulletin_series_occurrences', schema=None) as batch_op:
        batch_op.create_index('ix_bulletin_series_occurrences_state_occurs_at', ['state', 'occurs_at'], unique=False)



def downgrade():
    with op.batch_alter_table('bulletin_series_occurrences', schema=None) as batch_op:
        batch_op.drop_index('ix_bulletin_series_occurrences_state_occurs_at')

    op.drop_table('bulletin_series_occurrences')
    op.drop_table('bulletin_series')
