"""rate counts

Budgets shared by every web process: signups per network, confirmation
emails per mailbox and per site, each counted per fixed window.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rate_counts',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('window', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window'),
    )


def downgrade() -> None:
    op.drop_table('rate_counts')
