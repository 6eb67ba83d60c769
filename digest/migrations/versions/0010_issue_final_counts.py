"""an issue's delivery counts, frozen when it is sent

The console shows sent / failed / skipped per issue on most of its pages;
counted from the outbox, the last fifty issues of a 100,000-reader list
cost 0.6 s on SQLite (bench/console.py). A sent issue's outbox no longer
changes (a requeue makes it "sending" again and clears the figures), so the
counts are kept on the issue. Issues already sent are counted once here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('issues', sa.Column('final_counts', sa.Text(), nullable=True))
    connection = op.get_bind()
    issues = sa.table('issues', sa.column('id', sa.Integer), sa.column('status', sa.String),
                      sa.column('final_counts', sa.Text))
    deliveries = sa.table('deliveries', sa.column('issue_id', sa.Integer), sa.column('status', sa.String),
                          sa.column('attempts', sa.Integer))
    sent = [row.id for row in connection.execute(sa.select(issues.c.id).where(issues.c.status == 'sent'))]
    counts = {issue_id: {"queued": 0, "retrying": 0, "sent": 0, "failed": 0, "skipped": 0} for issue_id in sent}
    state = sa.case((sa.and_(deliveries.c.status == 'queued', deliveries.c.attempts > 0), 'retrying'),
                    else_=deliveries.c.status)
    for issue_id, name, count in connection.execute(
            sa.select(deliveries.c.issue_id, state, sa.func.count())
            .where(deliveries.c.issue_id.in_(sa.select(issues.c.id).where(issues.c.status == 'sent')))
            .group_by(deliveries.c.issue_id, state)):
        counts[issue_id][name] = count
    if counts:
        connection.execute(issues.update().where(issues.c.id == sa.bindparam('b_id'))
                           .values(final_counts=sa.bindparam('b_counts')),
                           [{"b_id": issue_id, "b_counts": json.dumps(value)} for issue_id, value in counts.items()])


def downgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('final_counts')
