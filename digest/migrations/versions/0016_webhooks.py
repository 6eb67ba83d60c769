"""webhook events, each endpoint's delivery attempts, and the endpoints' state and read positions

Webhooks (issue 27): each event is derived from the row that already records
the change in its own transaction (a consent event, a draft, an issue) and
keyed by that row, so it is made once however often it is read; one attempt
row per endpoint that wants it is queued until a 2xx (at least once across
crashes).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subscribers.db import UTCDateTime

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhook_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id'),
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_events_at'), ['at'], unique=False)
    op.create_table(
        'webhook_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
        sa.Column('lease_until', UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('delivered_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['webhook_events.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id', 'endpoint'),
    )
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_attempts_due', ['status', 'next_attempt_at'], unique=False)
    op.create_table(
        'webhook_state',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('failures_in_a_row', sa.Integer(), nullable=False),
        sa.Column('disabled_at', UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('cursor', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('webhook_state')
    op.drop_table('webhook_attempts')
    op.drop_table('webhook_events')
