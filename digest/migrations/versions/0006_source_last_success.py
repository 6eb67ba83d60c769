"""source last success

When each source last gave a good answer, for source health in `digest status`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import subscribers.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('source_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_success_at', subscribers.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('source_states', schema=None) as batch_op:
        batch_op.drop_column('last_success_at')
