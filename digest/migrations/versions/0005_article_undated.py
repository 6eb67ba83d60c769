"""article undated

Entries whose date could not be read are marked, so they are never shown
with the time they were fetched as if it were their publication time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # add_column only: SQLite alters in place, no table copy (a copy would cascade deletes to issue_articles).
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('undated', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('undated')
