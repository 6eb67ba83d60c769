"""console

The operator's console: operators (Argon2 hashes), their sessions (token
hashes), the audit log, and the drafts editors review before a slot. One
index lets the console count a newsletter's audience by state without
reading its rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import subscribers.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'operators',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('email', sa.String(length=320), server_default='', nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('created_at', subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('credentials_at', subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'operator_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('created_at', subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('user_agent', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_operator_sessions_operator_id', 'operator_sessions', ['operator_id'])
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('operator', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target', sa.Text(), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_table(
        'review_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('newsletter', sa.String(length=100), nullable=False),
        sa.Column('slot', sa.String(length=64), nullable=False),
        sa.Column('slot_at', subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('created_at', subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('items', sa.Text(), nullable=False),
        sa.Column('left_out', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('approved_by', sa.String(length=64), nullable=True),
        sa.Column('approved_at', subscribers.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('subject', sa.Text(), nullable=True),
        sa.Column('html', sa.Text(), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('mark', sa.String(length=64), nullable=True),
        sa.Column('web_mark', sa.String(length=64), nullable=True),
        sa.Column('issue_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('newsletter', 'slot'),
    )
    op.create_index('ix_review_drafts_newsletter', 'review_drafts', ['newsletter'])
    op.create_index('ix_subscriptions_newsletter_status', 'subscriptions', ['newsletter', 'status'])
    op.create_index('ix_subscriptions_newsletter_confirmed_at', 'subscriptions', ['newsletter', 'confirmed_at'])
    op.create_index('ix_subscriptions_newsletter_unsubscribed_at', 'subscriptions', ['newsletter', 'unsubscribed_at'])


def downgrade() -> None:
    op.drop_index('ix_subscriptions_newsletter_unsubscribed_at', table_name='subscriptions')
    op.drop_index('ix_subscriptions_newsletter_confirmed_at', table_name='subscriptions')
    op.drop_index('ix_subscriptions_newsletter_status', table_name='subscriptions')
    op.drop_table('review_drafts')
    op.drop_table('audit_log')
    op.drop_table('operator_sessions')
    op.drop_table('operators')
