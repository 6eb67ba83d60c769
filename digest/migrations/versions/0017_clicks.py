"""click analytics: each issue's link targets, raw clicks with their verdict, daily roll-up

Click analytics (issue 26): /r/<token> finds its target in click_links (never
in the URL); a click row holds only the issue, the link number, the time and
whether a person or a machine made it. Rows older than
analytics.retention_days become daily counts in click_days.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subscribers.db import UTCDateTime

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'click_links',
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=True),
        sa.Column('section', sa.Text(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('issue_id', 'number'),
    )
    op.create_table(
        'clicks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('verdict', sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clicks_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_clicks_issue_id'), ['issue_id'], unique=False)
    op.create_table(
        'click_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.Column('machines', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('day', 'issue_id', 'number'),
    )


def downgrade() -> None:
    op.drop_table('click_days')
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clicks_issue_id'))
        batch_op.drop_index(batch_op.f('ix_clicks_at'))
    op.drop_table('clicks')
    op.drop_table('click_links')
