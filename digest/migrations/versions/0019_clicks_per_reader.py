"""click analytics per reader: the reader of a click (analytics.per_reader) and the readers who opted out

Click analytics (issue 26): with analytics.per_reader on, each reader's copy
carries a signed reader part, and a click row may name its subscriber (NULL
otherwise, and after `forget`); readers who switch it off on their
preferences page are kept in click_optouts and get aggregate links.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subscribers.db import UTCDateTime

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('clicks', sa.Column('subscriber_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_clicks_subscriber_id'), 'clicks', ['subscriber_id'], unique=False)
    op.create_table(
        'click_optouts',
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('subscriber_id'),
    )


def downgrade() -> None:
    op.drop_table('click_optouts')
    op.drop_index(op.f('ix_clicks_subscriber_id'), table_name='clicks')
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.drop_column('subscriber_id')
