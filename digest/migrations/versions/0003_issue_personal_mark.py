"""issue personal mark

Each issue remembers the random mark where its readers' unsubscribe links go;
issues made before keep the fixed mark they were rendered with.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personal_mark', sa.String(length=64), server_default='@@UNSUBSCRIBE_URL@@',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('personal_mark')
