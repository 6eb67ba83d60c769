"""bounces, complaints and the suppression list

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subscribers.db import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'suppressions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=30), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('lifted_at', UTCDateTime(), nullable=True),
        sa.Column('lifted_reason', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email'),
    )
    op.create_index('ix_suppressions_active', 'suppressions', ['active'])
    op.create_table(
        'bounce_scores',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('last_bounce_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email'),
    )
    op.create_table(
        'feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), sa.ForeignKey('deliveries.id', ondelete='CASCADE'), nullable=True),
        sa.Column('issue_id', sa.Integer(), sa.ForeignKey('issues.id', ondelete='CASCADE'), nullable=True),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reporting_mta', sa.Text(), nullable=False),
        sa.Column('diagnostic', sa.Text(), nullable=False),
        sa.Column('action', sa.Text(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('delivery_id', 'kind'),
    )
    op.create_index('ix_feedback_issue_kind', 'feedback', ['issue_id', 'kind'])
    op.create_index('ix_feedback_at', 'feedback', ['at'])
    op.create_table(
        'kept_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('mail_from', sa.Text(), nullable=False),
        sa.Column('recipients', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('raw', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_kept_mail_received_at', 'kept_mail', ['received_at'])


def downgrade() -> None:
    op.drop_table('kept_mail')
    op.drop_table('feedback')
    op.drop_table('bounce_scores')
    op.drop_table('suppressions')
