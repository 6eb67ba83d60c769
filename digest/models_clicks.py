"""The tables of click analytics (issue 26): each issue's link targets, raw clicks, and their daily roll-up.

Kept apart from models.py; digest.db imports it. No table has an address or a
user agent: a click is (issue, link number, when, verdict), and the reader's
id only when analytics.per_reader is on and the reader has not opted out
(click_optouts); `digest subscribers forget` erases it, the roll-up drops it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from subscribers.db import Base, UTCDateTime


class ClickLink(Base):
    """Where /r/<token> sends a reader: the target comes from here, never from the URL (no open redirect)."""

    __tablename__ = "click_links"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # link, canary (hidden: no person sees it), open (the pixel)
    url: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    section: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")


class Click(Base):
    """One request to a link; `verdict` is "person" or the rule that marked it a machine (analytics.classify)."""

    __tablename__ = "clicks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    verdict: Mapped[str] = mapped_column(String(10))
    # analytics.per_reader only: whose copy the link came from (no foreign key: a forgotten reader's id is
    # set to NULL here, the click itself stays in the counts).
    subscriber_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class ClickOptOut(Base):
    """A reader who switched per-reader counting off on their preferences page: their links stay aggregate."""

    __tablename__ = "click_optouts"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClickDay(Base):
    """Clicks older than analytics.retention_days, counted per day and link: all the figures still need."""

    __tablename__ = "click_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    people: Mapped[int] = mapped_column(Integer, default=0)
    machines: Mapped[int] = mapped_column(Integer, default=0)
