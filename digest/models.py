"""Article, SourceState, Issue, IssueArticle, Delivery, the console's operators, sessions, audit, drafts, story choices.

Uniqueness carries the promises: an article is stored once (uid), an article
goes out once per newsletter (IssueArticle newsletter+article), a slot makes
one issue (Issue newsletter+slot), and a subscriber gets an issue once
(Delivery issue+subscriber).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from digest.content import LEGACY_UNSUBSCRIBE_MARK
from subscribers.db import Base, UTCDateTime, utcnow


class SourceState(Base):
    """What we remember about one feed URL between runs (conditional GET, health)."""

    __tablename__ = "source_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    # Where the source is fetched from now (after a permanent redirect or feed autodiscovery); articles
    # stay keyed by `url`, the configured one, so newsletters keep finding them.
    fetch_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    etag: Mapped[str | None] = mapped_column(Text, nullable=True)
    modified: Mapped[str | None] = mapped_column(Text, nullable=True)
    first_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row, since the last success
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(2048), unique=True)
    source_url: Mapped[str] = mapped_column(String(2048), index=True)
    source_name: Mapped[str] = mapped_column(String(200))
    link: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[str] = mapped_column(Text, default="")  # newline-separated
    # For an entry whose date could not be read, the time it was first seen (for ordering only).
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # True when the feed gave no readable date: never shown with a time, never new on a first run.
    undated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Stored on a source's first run but never mailed: the backlog a new feed brings.
    backlog: Mapped[bool] = mapped_column(Boolean, default=False)
    # Lead image (a sanitized http(s) URL) and its alt text; "" when none.
    image_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    image_alt: Mapped[str] = mapped_column(Text, default="", server_default="")
    image_width: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0: unknown


class IssueStatus(enum.Enum):
    sending = "sending"
    paused = "paused"  # too many failures in a row; `digest send` resumes it
    sent = "sent"


class Issue(Base):
    __tablename__ = "issues"
    __table_args__ = (UniqueConstraint("newsletter", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    newsletter: Mapped[str] = mapped_column(String(100), index=True)
    slot: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[IssueStatus] = mapped_column(
        Enum(IssueStatus, native_enum=False, length=20), default=IssueStatus.sending
    )
    # The rendered issue is kept so a resumed send mails exactly what the first run did.
    subject: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # Where html and text hold each reader's unsubscribe link: random per issue (content.new_personal_mark).
    personal_mark: Mapped[str] = mapped_column(String(64), server_default=LEGACY_UNSUBSCRIBE_MARK)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Failures in a row across every process sending it (a success anywhere resets it): the pause limit.
    failures_in_a_row: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Readers with a pause of their own when the outbox was made: no delivery row, counted here.
    paused_readers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # "issue", or "roundup" (the week's best, to the readers who chose it instead of every issue).
    kind: Mapped[str] = mapped_column(String(10), default="issue", server_default="issue")
    # Readers given no delivery by their own choice, by reason (JSON: {"no_section": n, "roundup": n}).
    held_readers: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Delivery counts per state (JSON), frozen when the issue is sent: its outbox no longer changes (a
    # requeue clears them), and counting 100,000 rows on every console page is what this spares.
    final_counts: Mapped[str | None] = mapped_column(Text, nullable=True)


class IssueArticle(Base):
    __tablename__ = "issue_articles"
    __table_args__ = (UniqueConstraint("newsletter", "article_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    newsletter: Mapped[str] = mapped_column(String(100))
    section: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    # False for articles that were new but did not fit (max_items, section limits):
    # recorded so tomorrow's issue does not serve them up as news.
    included: Mapped[bool] = mapped_column(Boolean, default=True)


class DeliveryStatus(enum.Enum):
    queued = "queued"
    sent = "sent"
    failed = "failed"
    skipped = "skipped"  # unsubscribed after the outbox was made


class IssueVariant(Base):
    """The issue as rendered for one choice of sections: made once with the outbox, read by every sender."""

    __tablename__ = "issue_variants"
    __table_args__ = (UniqueConstraint("issue_id", "sections"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    sections: Mapped[str] = mapped_column(Text)  # the titles it carries, as Subscription.sections holds them
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)


class Delivery(Base):
    """The outbox: one row per (issue, subscriber), marked sent right after the server accepts."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id"),
        Index("ix_deliveries_claim", "issue_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=20), default=DeliveryStatus.queued
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    plain_text: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # the reader's choice
    # The reader's sections when they are not all of the issue's; NULL: the whole issue.
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("issue_variants.id", ondelete="CASCADE"), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    # A sender claims rows by leasing them; a lease that runs out (its sender
    # died) makes the row claimable again.
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # After a 4xx the row waits until then (exponential backoff with jitter).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Feedback(Base):
    """What came back about one message: a bounce (hard, soft), a complaint, an auto-reply.

    `delivery_id` is set when the signed return path named an issue delivery
    (then one row per delivery and kind: an MTA that sends the same DSN twice
    counts once); transactional mail (a confirmation) has none.
    """

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("delivery_id", "kind"), Index("ix_feedback_issue_kind", "issue_id", "kind"),
                      Index("ix_feedback_domain_at", "domain", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), nullable=True)
    email: Mapped[str] = mapped_column(String(320))
    # hard, soft (the reader's temporary trouble), sender (a refusal of us), unclassified, complaint,
    # report (ARF about us), auto_reply, delivered, delayed
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="")  # the DSN's x.y.z, or the ARF feedback type
    # Why (inbound/classify.py: userunknown, mailboxfull, blocked, ..., unclassified) and whose side it is on.
    reason: Mapped[str] = mapped_column(String(30), default="", server_default="")
    side: Mapped[str] = mapped_column(String(10), default="", server_default="")  # reader, sender or ""
    domain: Mapped[str] = mapped_column(String(255), default="", server_default="")  # the receiving domain
    reporting_mta: Mapped[str] = mapped_column(Text, default="")
    diagnostic: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")  # what the policy did
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class KeptMail(Base):
    """Inbound mail we could not act on (unparseable, unsigned, unknown): kept for the operator, never lost."""

    __tablename__ = "kept_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    mail_from: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)


class Operator(Base):
    """Someone who may use the console: an admin (everything) or an editor (the review of drafts).

    Only the Argon2 hash of the password is kept. `credentials_at` changes with
    the password: sessions opened before it are dead (a changed password logs
    out everywhere).
    """

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(320), default="", server_default="")
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    credentials_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OperatorSession(Base):
    """One login: the cookie's token is random and only its SHA-256 is stored (a database leak logs no one in)."""

    __tablename__ = "operator_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    """Append-only: who did what, when, from where. The operator's name is copied, so it outlives the account."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    operator: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")


class ReviewDraft(Base):
    """The issue an editor reviews before its slot: one per (newsletter, slot), whoever prepares it.

    `items` is the edited issue as JSON (sections of articles with their titles
    and summaries); on approval the rendering is frozen into `subject`, `html`
    and `text`, and exactly those bytes become the issue. `version` grows with
    every edit, so an approval names the version the editor saw.
    """

    __tablename__ = "review_drafts"
    __table_args__ = (UniqueConstraint("newsletter", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    newsletter: Mapped[str] = mapped_column(String(100), index=True)
    slot: Mapped[str] = mapped_column(String(64))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default="review")  # review approved held sent superseded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    items: Mapped[str] = mapped_column(Text)
    left_out: Mapped[str] = mapped_column(Text, default="")  # article ids used up without being carried
    note: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    mark: Mapped[str | None] = mapped_column(String(64), nullable=True)
    web_mark: Mapped[str | None] = mapped_column(String(64), nullable=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"), nullable=True)
    # When the editors' review request went out; none yet (a refused mail, a crash in between): asked again.
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # Every UPDATE names the version it read: a concurrent edit, approval or send fails instead of overwriting.
    __mapper_args__ = {"version_id_col": version}


class StoryChoice(Base):
    """An editor's word on two articles (issue 32): "split", never one story; "merge", always one story.

    Kept per newsletter and pair (the lower article id first), the latest word replacing an earlier one;
    grouping reads it for every later draft (flows.story_memory). It goes with either article.
    """

    __tablename__ = "story_choices"
    __table_args__ = (UniqueConstraint("newsletter", "first_id", "second_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    newsletter: Mapped[str] = mapped_column(String(100))
    first_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    second_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    choice: Mapped[str] = mapped_column(String(10))  # split merge
    operator: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
