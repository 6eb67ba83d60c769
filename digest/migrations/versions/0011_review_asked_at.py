"""when the editors were asked to review a draft

A draft committed by a daemon that died before mailing the editors, or whose
request the mail server refused, was never asked for again: under "required"
it was then held without anyone having seen it. The leader now asks again for
drafts in review with no `asked_at`. Drafts made before this column are
taken as asked (their request went out, or failed in the log, long ago).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import subscribers.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('review_drafts', sa.Column('asked_at', subscribers.db.UTCDateTime(timezone=True), nullable=True))
    drafts = sa.table('review_drafts', sa.column('asked_at'), sa.column('created_at'))
    op.execute(drafts.update().values(asked_at=drafts.c.created_at))


def downgrade() -> None:
    with op.batch_alter_table('review_drafts', schema=None) as batch_op:
        batch_op.drop_column('asked_at')
