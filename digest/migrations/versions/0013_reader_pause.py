"""a reader's own pause and plain-text choice per newsletter, and how many readers an issue held back

Readers manage their subscriptions on their own page (issue 25): a pause of
some weeks ends by itself on its date, so it is a date on the subscription,
not a job. An issue counts the paused readers it made no delivery for. A reader
may take a newsletter as plain text only: the choice is copied onto each
delivery when the outbox is made, so a sender needs no look-up per message.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subscribers.db import UTCDateTime

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_until', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('plain_text', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plain_text', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_readers', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('plain_text')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('paused_readers')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('plain_text')
        batch_op.drop_column('paused_until')
