"""a reader's sections and weekly roundup per newsletter; an issue rendered once per choice of sections

Readers choose which sections of a newsletter they take and whether they take
every issue or the weekly roundup (issue 25). The choice of sections is kept as
a sorted JSON list, so readers with the same choice share one rendering of an
issue (issue_variants), made with the outbox; a delivery names its variant.
An issue counts the readers it held back by choice, by reason.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sections', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('frequency', sa.String(length=10), server_default='each', nullable=False))
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=10), server_default='issue', nullable=False))
        batch_op.add_column(sa.Column('held_readers', sa.Text(), server_default='', nullable=False))
    op.create_table(
        'issue_variants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('sections', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('issue_id', 'sections'),
    )
    with op.batch_alter_table('issue_variants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_variants_issue_id'), ['issue_id'], unique=False)
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_deliveries_variant_id', 'issue_variants', ['variant_id'], ['id'],
                                    ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('fk_deliveries_variant_id', type_='foreignkey')
        batch_op.drop_column('variant_id')
    with op.batch_alter_table('issue_variants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_variants_issue_id'))
    op.drop_table('issue_variants')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('held_readers')
        batch_op.drop_column('kind')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('frequency')
        batch_op.drop_column('sections')
