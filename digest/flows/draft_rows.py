"""A review draft's row as every change to it takes it: locked for the change, and its approval taken back.

Shared by the editorial flows (flows.editorial: items, notes, approval; flows.story_edits:
splitting and merging stories), so each edit locks and un-approves the same way.
"""

from __future__ import annotations

from sqlalchemy import select

from digest.models import ReviewDraft


class ReviewError(Exception):
    """An edit or approval that cannot be done (the draft moved on, or changed under the editor)."""


def locked(session, draft_id: int) -> ReviewDraft:
    """The draft's row, locked on PostgreSQL until the transaction ends (SQLite has one writer anyway)."""
    query = select(ReviewDraft).where(ReviewDraft.id == draft_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise ReviewError("there is no such draft")
    return row


def unapprove(row: ReviewDraft) -> None:
    """Any change takes an approval back: what is approved is what the editor saw."""
    row.state, row.approved_by, row.approved_at = "review", None, None
    row.subject = row.html = row.text = row.mark = row.web_mark = None


__all__ = ["ReviewError", "locked", "unapprove"]
