"""story choices: an editor's split or merge of two articles' stories

One story, once (issue 32): the editor's word on a pair of articles ("split":
never one story; "merge": always one story), read by every later draft of the
newsletter. It goes with either article.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subscribers.db import UTCDateTime

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'story_choices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('newsletter', sa.String(length=100), nullable=False),
        sa.Column('first_id', sa.Integer(), nullable=False),
        sa.Column('second_id', sa.Integer(), nullable=False),
        sa.Column('choice', sa.String(length=10), nullable=False),
        sa.Column('operator', sa.String(length=64), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['first_id'], ['articles.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['second_id'], ['articles.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('newsletter', 'first_id', 'second_id'),
    )
    op.create_index(op.f('ix_story_choices_first_id'), 'story_choices', ['first_id'], unique=False)
    op.create_index(op.f('ix_story_choices_second_id'), 'story_choices', ['second_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_story_choices_second_id'), table_name='story_choices')
    op.drop_index(op.f('ix_story_choices_first_id'), table_name='story_choices')
    op.drop_table('story_choices')
