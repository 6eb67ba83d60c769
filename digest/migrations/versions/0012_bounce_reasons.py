"""a reason and a side for every bounce, the receiving domain, and failures in a row per issue

Bounces were hard or soft by status code alone, so a full mailbox or a
receiving server blocking us could suppress readers. Each feedback row now
says why (the reason family) and whose side that is (reader or sender), and
which receiving domain it came from, for the sender-reputation counts and the
pause they can cause. Issues count failures in a row across every sending
process, so several processes pause together at the limit.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from digest.migrations.batched import update_in_batches

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=30), server_default='', nullable=False))
        batch_op.add_column(sa.Column('side', sa.String(length=10), server_default='', nullable=False))
        batch_op.add_column(sa.Column('domain', sa.String(length=255), server_default='', nullable=False))
        batch_op.create_index('ix_feedback_domain_at', ['domain', 'at'], unique=False)
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failures_in_a_row', sa.Integer(), server_default='0', nullable=False))
    domain = "split_part(email, '@', 2)" if op.get_bind().dialect.name == "postgresql" else \
        "substr(email, instr(email, '@') + 1)"
    # Every bounce ever recorded: millions of rows on a big list, hence batches (batched.py).
    update_in_batches(op.get_bind(), revision, "feedback",
                      f"domain = CASE WHEN email LIKE '%@%' THEN lower({domain}) ELSE domain END, "
                      "side = CASE WHEN kind = 'hard' THEN 'reader' ELSE side END",
                      "email LIKE '%@%' OR kind = 'hard'")


def downgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('failures_in_a_row')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_domain_at')
        batch_op.drop_column('domain')
        batch_op.drop_column('side')
        batch_op.drop_column('reason')
