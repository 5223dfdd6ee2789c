"""The directory: organisations' names, partnership status and its history, tags, domain verification,
contacts' details, merges and erasure; imports.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_fr', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('short_name', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=40), nullable=False, server_default='prospective'))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('country', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_organisations_merged_into_id_organisations'), 'organisations',
                                    ['merged_into_id'], ['id'], ondelete='SET NULL')
    organisations = sa.table('organisations', sa.column('trusted', sa.Boolean()), sa.column('status', sa.String()),
                             sa.column('kind', sa.String()), sa.column('created_at', sa.DateTime(timezone=True)),
                             sa.column('status_changed_at', sa.DateTime(timezone=True)))
    op.execute(organisations.update().values(
        status=sa.case((organisations.c.trusted == sa.true(), 'trusted_referral_partner'), else_='active'),
        status_changed_at=organisations.c.created_at))
    op.execute(organisations.update().where(organisations.c.kind == 'government').values(kind='province_territory'))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_name')
        batch_op.drop_column('trusted')
        batch_op.create_index('ix_organisations_name_id', ['name', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_status'), ['status'], unique=False)

    op.create_table('organisation_tags',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_tags_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'tag', name=op.f('pk_organisation_tags'))
    )
    with op.batch_alter_table('organisation_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_tags_tag'), ['tag'], unique=False)

    op.create_table('organisation_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status_before', sa.String(length=40), nullable=True),
    sa.Column('status_after', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_organisation_status_changes_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_status_changes_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_status_changes'))
    )
    with op.batch_alter_table('organisation_status_changes', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_status_changes_org_at', ['organisation_id', 'at'], unique=False)

    with op.batch_alter_table('organisation_domains', schema=None) as batch_op:
        batch_op.add_column(sa.Column('include_subdomains', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('verification_method', sa.String(length=300), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_organisation_domains_verified_by_id_users'), 'users',
                                    ['verified_by_id'], ['id'], ondelete='SET NULL')
    # Domains on file before this revision matched their subdomains; new entries say so explicitly.
    with op.batch_alter_table('organisation_domains', schema=None) as batch_op:
        batch_op.alter_column('include_subdomains', server_default=sa.false())

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('notes', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_contacts_merged_into_id_contacts'), 'contacts',
                                    ['merged_into_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_contacts_name_id', ['name', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_merged_into_id'), ['merged_into_id'], unique=False)

    # Plain CREATE INDEX (no batch): a batch rebuild of `inquiries` on SQLite would drop the
    # search trigger of revision 0004.
    op.create_index('ix_inquiries_organisation_received', 'inquiries', ['organisation_id', 'received_at', 'id'])
    op.create_index('ix_inquiries_contact_received', 'inquiries', ['contact_id', 'received_at', 'id'])

    op.create_table('directory_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_directory_imports_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_imports'))
    )


def downgrade():
    op.drop_table('directory_imports')
    op.drop_index('ix_inquiries_contact_received', table_name='inquiries')
    op.drop_index('ix_inquiries_organisation_received', table_name='inquiries')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_merged_into_id'))
        batch_op.drop_index('ix_contacts_name_id')
        batch_op.drop_constraint(batch_op.f('fk_contacts_merged_into_id_contacts'), type_='foreignkey')
        for column in ('updated_at', 'erased_at', 'merged_into_id', 'active', 'notes', 'title'):
            batch_op.drop_column(column)
    with op.batch_alter_table('organisation_domains', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_organisation_domains_verified_by_id_users'), type_='foreignkey')
        for column in ('verification_method', 'verified_by_id', 'include_subdomains'):
            batch_op.drop_column(column)
    op.drop_index('ix_organisation_status_changes_org_at', table_name='organisation_status_changes')
    op.drop_table('organisation_status_changes')
    op.drop_index(op.f('ix_organisation_tags_tag'), table_name='organisation_tags')
    op.drop_table('organisation_tags')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trusted', sa.Boolean(), nullable=False, server_default=sa.false()))
    organisations = sa.table('organisations', sa.column('trusted', sa.Boolean()), sa.column('status', sa.String()),
                             sa.column('kind', sa.String()))
    op.execute(organisations.update().where(organisations.c.status == 'trusted_referral_partner')
               .values(trusted=sa.true()))
    op.execute(organisations.update().where(organisations.c.kind.in_(['province_territory', 'federal_partner']))
               .values(kind='government'))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_status'))
        batch_op.drop_index(batch_op.f('ix_organisations_kind'))
        batch_op.drop_index('ix_organisations_name_id')
        batch_op.create_index('ix_organisations_name', ['name'], unique=False)
        batch_op.drop_constraint(batch_op.f('fk_organisations_merged_into_id_organisations'), type_='foreignkey')
        for column in ('updated_at', 'merged_into_id', 'active', 'country', 'status_changed_at', 'status',
                       'short_name', 'name_fr'):
            batch_op.drop_column(column)
