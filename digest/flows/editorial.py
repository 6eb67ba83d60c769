"""Editorial review: the draft an editor shapes and approves before a slot, and what the slot then sends.

States of a draft (one per newsletter and slot, whichever process prepares it):

    review --approve--> approved --slot--> sent
      ^  |                 |
      +--+-- any edit -----+      review --slot + grace, "required"--> held
                                  review --slot, "optional"----------> sent (as drafted)

Approval renders the draft once and keeps the bytes; the slot turns exactly
those bytes into the issue, inside one transaction that first re-reads the
draft's row (locked on PostgreSQL) and finds it still approved at the version
the editor saw. An edit after approval puts the draft back in review, so
nothing the editor has not seen is ever sent under "required". Issues stay
unique per (newsletter, slot) as before, so two replicas or a restart can
never send a slot twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from digest import audience, store
from digest.settings import NewsletterSettings
from digest.content import ArticleItem, IssueDraft, RenderedIssue, Section
from digest.models import ReviewDraft
from digest.flows.clicklinks import count_links
from digest.flows.draft_rows import ReviewError
from digest.flows.draft_rows import locked as _locked
from digest.flows.draft_rows import unapprove as _unapprove
from digest.flows.drafting import draft_issue, section_renderer
from digest.flows.editor_mail import ask_editors, review_link, tell_editors
from digest.flows.gathering import gather_all
from digest.flows.roundup import ROUNDUP_SLOT, draft_roundup
from digest.flows.roundup import title as roundup_title
from digest.flows.runtime import Runtime, secret_key
from digest.flows.sending import send_existing_issue
from digest.render.html import render_issue

log = logging.getLogger(__name__)
PINNED_SECTION = "Editor's picks"
MAX_TITLE, MAX_SUMMARY, MAX_NOTE = 500, 3000, 2000
EDITS = ("remove", "restore", "pin", "unpin", "up", "down", "save")


def _items_json(issue: IssueDraft) -> str:
    rows = []
    for section in issue.sections:
        for item in section.items:
            row = asdict(item)
            row["published"] = item.published.isoformat() if item.published else None
            rows.append({**row, "section": section.title, "removed": False, "pinned": False})
    return json.dumps(rows, ensure_ascii=False)


def items_of(row: ReviewDraft) -> list[dict]:
    return json.loads(row.items)


def issue_of(row: ReviewDraft, newsletter: NewsletterSettings, date: datetime) -> IssueDraft:
    """The draft's items as the issue readers get: pinned first, removed left out, sections in first-seen order."""
    items = [i for i in items_of(row) if not i["removed"]]
    order: dict[str, list[ArticleItem]] = {}
    for entry in [i for i in items if i["pinned"]] + [i for i in items if not i["pinned"]]:
        fields = {k: v for k, v in entry.items() if k not in ("section", "removed", "pinned")}
        fields["published"] = datetime.fromisoformat(fields["published"]) if fields["published"] else None
        for key in ("categories", "summary", "also_in"):
            fields[key] = tuple(fields[key])
        order.setdefault(PINNED_SECTION if entry["pinned"] else entry["section"], []).append(ArticleItem(**fields))
    title = roundup_title(newsletter) if row.slot.startswith(ROUNDUP_SLOT) else newsletter.title
    return IssueDraft(newsletter.slug, title, newsletter.description, date,
                      tuple(Section(title, tuple(group)) for title, group in order.items()), note=row.note)


def render(rt: Runtime, row: ReviewDraft, newsletter: NewsletterSettings) -> RenderedIssue:
    from zoneinfo import ZoneInfo

    date = row.slot_at.astimezone(ZoneInfo(newsletter.timezone))
    return render_issue(issue_of(row, newsletter, date), rt.settings.site, newsletter, rt.templates,
                        budget_bytes=rt.settings.render.html_budget_bytes)


def find(session, slug: str, slot: str) -> ReviewDraft | None:
    return session.scalar(select(ReviewDraft).where(ReviewDraft.newsletter == slug, ReviewDraft.slot == slot))


def prepare(rt: Runtime, newsletter: NewsletterSettings, slot: str, slot_at: datetime, *,
            fetch: bool = True) -> tuple[ReviewDraft | None, bool]:
    """(the slot's draft, whether this call made it); (None, False) when there is nothing new to draft."""
    with rt.sessions() as session:
        existing = find(session, newsletter.slug, slot)
    if existing is not None:
        return existing, False
    roundup = slot.startswith(ROUNDUP_SLOT)  # the week's issues, nothing to gather
    if fetch and not roundup:
        gather_all(rt, (newsletter,))
    draft = draft_roundup(rt, newsletter, slot_at) if roundup else draft_issue(rt, newsletter)
    if not draft.issue.items:
        return None, False
    row = ReviewDraft(newsletter=newsletter.slug, slot=slot, slot_at=slot_at, state="review", created_at=rt.now(),
                      version=1, items=_items_json(draft.issue), left_out=json.dumps(list(draft.left_out)), note="")
    try:
        with rt.sessions() as session, session.begin():
            session.add(row)
    except IntegrityError:  # another replica drafted this slot first: theirs is the draft
        with rt.sessions() as session:
            return find(session, newsletter.slug, slot), False
    log.info("%s: draft %d prepared for slot %s (%d articles), waiting for review", newsletter.slug, row.id, slot,
             len(draft.issue.items))
    return row, True


def edit(rt: Runtime, draft_id: int, action: str, item_id: int | None = None, *, title: str = "",
         summary: str = "", note: str | None = None) -> ReviewDraft:
    """One editor's change; any change takes an approval back (what is approved is what was seen)."""
    try:
        return _edit(rt, draft_id, action, item_id, title=title, summary=summary, note=note)
    except StaleDataError:
        raise ReviewError("someone else changed this draft at the same moment: look at it again") from None


def _edit(rt: Runtime, draft_id: int, action: str, item_id: int | None, *, title: str, summary: str,
          note: str | None) -> ReviewDraft:
    with rt.sessions() as session, session.begin():
        row = _locked(session, draft_id)
        if row.state not in ("review", "approved"):
            raise ReviewError(f"this draft is {row.state}: it can no longer be changed")
        items = items_of(row)
        if note is not None:
            row.note = " ".join(note.split())[:MAX_NOTE] if note.strip() else ""
        else:
            index = next((i for i, entry in enumerate(items) if entry["id"] == item_id), None)
            if index is None or action not in EDITS:
                raise ReviewError("there is no such item in this draft")
            entry = items[index]
            if action in ("remove", "restore"):
                entry["removed"] = action == "remove"
            elif action in ("pin", "unpin"):
                entry["pinned"] = action == "pin"
            elif action == "save":
                clean = " ".join(title.split())[:MAX_TITLE]
                if not clean:
                    raise ReviewError("a title cannot be empty")
                entry["title"] = clean
                entry["summary"] = [" ".join(summary.split())[:MAX_SUMMARY]] if summary.strip() else []
            else:
                _move(items, index, -1 if action == "up" else 1)
            row.items = json.dumps(items, ensure_ascii=False)
        _unapprove(row)
        return row


def _move(items: list[dict], index: int, step: int) -> None:
    """Swap with the nearest neighbour of the same section (pinned items move among the pinned)."""
    entry = items[index]
    same = [i for i, other in enumerate(items) if other["section"] == entry["section"]
            and other["pinned"] == entry["pinned"]]
    at = same.index(index)
    if 0 <= at + step < len(same):
        other = same[at + step]
        items[index], items[other] = items[other], items[index]


def edit_all(rt: Runtime, draft_id: int, version: int, changes: dict[int, dict]) -> bool:
    """The whole draft in one save: per item id, keep, pin, title, summary and a position that orders the items
    within their section (ties keep the current order). Refused if the draft moved on since `version` was read.
    False when nothing changed (an approval then stands)."""
    try:
        with rt.sessions() as session, session.begin():
            row = _locked(session, draft_id)
            if row.state not in ("review", "approved") or row.version != version:
                raise ReviewError("this draft changed since you opened it (or can no longer change): look again")
            items, before = items_of(row), row.items
            for entry in items:
                change = changes.get(entry["id"])
                if change is None:
                    continue
                title = " ".join(change["title"].split())[:MAX_TITLE]
                if not title:
                    raise ReviewError(f"a title cannot be empty (was: {entry['title']})")
                summary = " ".join(change["summary"].split())[:MAX_SUMMARY]
                if summary != " ".join(" ".join(entry["summary"]).split()):  # untouched: its sentences stay as they are
                    entry["summary"] = [summary] if summary else []
                entry.update(title=title, removed=not change["keep"], pinned=change["pin"])
            sections = list(dict.fromkeys(entry["section"] for entry in items))
            place = {e["id"]: (sections.index(e["section"]), changes.get(e["id"], {}).get("position", k + 1), k)
                     for k, e in enumerate(items)}
            items.sort(key=lambda e: place[e["id"]])
            if json.dumps(items, ensure_ascii=False) == before:
                return False
            row.items = json.dumps(items, ensure_ascii=False)
            _unapprove(row)
            return True
    except StaleDataError:
        raise ReviewError("someone else changed this draft at the same moment: look at it again") from None


def approve(rt: Runtime, draft_id: int, version: int, editor: str) -> ReviewDraft:
    """Freeze the rendering of the version the editor looked at; refused if it changed since."""
    try:
        return _approve(rt, draft_id, version, editor)
    except StaleDataError:
        raise ReviewError("the draft changed while you approved it: look at it again, then approve") from None


def _approve(rt: Runtime, draft_id: int, version: int, editor: str) -> ReviewDraft:
    newsletter_of = {n.slug: n for n in rt.settings.newsletters}
    with rt.sessions() as session, session.begin():
        row = _locked(session, draft_id)
        if row.state != "review":
            raise ReviewError(f"this draft is {row.state}: there is nothing to approve")
        if row.version != version:
            raise ReviewError("the draft changed since you opened it: look at it again, then approve")
        if not [i for i in items_of(row) if not i["removed"]]:
            raise ReviewError("every item is removed: restore one, or let the slot go by")
        rendered = render(rt, row, newsletter_of[row.newsletter])
        row.subject, row.html, row.text, row.mark, row.web_mark = (rendered.subject, rendered.html, rendered.text,
                                                                    rendered.mark, rendered.web_mark)
        row.state, row.approved_by, row.approved_at = "approved", editor, rt.now()
        return row


def send(rt: Runtime, newsletter: NewsletterSettings, draft_id: int, *, required: bool, stop=None) -> str:
    """Make the slot's issue from the draft and send it; returns what happened, for the log and /status."""
    issue, result = make_issue(rt, newsletter, draft_id, required=required)
    if issue is None:
        return result
    report = send_existing_issue(rt, newsletter, issue, secret_key(rt), stop=stop)
    return f"{result}: {report.sent} sent"


def make_issue(rt: Runtime, newsletter: NewsletterSettings, draft_id: int, *, required: bool):
    """(the issue made from the draft, what happened): approved bytes, or (optional review) the draft as it is."""
    try:
        with rt.sessions() as session, session.begin():
            row = _locked(session, draft_id)
            if row.state in ("sent", "held", "superseded"):
                return None, f"draft {row.id} is already {row.state}"
            if row.state != "approved":
                if required:
                    return None, f"draft {row.id} is not approved: not sent"
                rendered = render(rt, row, newsletter)  # optional review: as drafted, edits included
            else:
                rendered = RenderedIssue(row.subject, row.html, row.text, row.mark, row.web_mark or "")
            removed = [i["id"] for i in items_of(row) if i["removed"]]
            reviewed = issue_of(row, newsletter, row.slot_at)
            roundup = row.slot.startswith(ROUNDUP_SLOT)
            issue = store.create_issue(session, reviewed, rendered, row.slot, rt.now(),
                                       [] if roundup else json.loads(row.left_out or "[]") + removed,
                                       render=section_renderer(rt, newsletter, reviewed),
                                       roundup=bool(newsletter.roundup_schedule),
                                       kind=audience.ROUNDUP if roundup else "issue")
            count_links(rt, session, issue, reviewed)
            row.state, row.issue_id = "sent", issue.id  # committed only if no one changed the draft meanwhile
    except StaleDataError:  # an edit (or another sender) got there first: nothing was made; the next round looks again
        return None, f"draft {draft_id} changed while its issue was being made: not sent yet"
    except IntegrityError:  # the slot already has an issue, or a manual send took these articles
        with rt.sessions() as session, session.begin():
            session.execute(update(ReviewDraft).where(ReviewDraft.id == draft_id, ReviewDraft.state.in_(
                ("review", "approved"))).values(state="superseded", version=ReviewDraft.version + 1))
        log.warning("%s: draft %d not sent: its slot already had an issue, or its articles went out",
                    newsletter.slug, draft_id)
        return None, f"draft {draft_id} superseded: the slot or its articles were already sent"
    log.info("%s: slot %s: issue %d made from draft %d (%s)", newsletter.slug, row.slot, issue.id, row.id,
             f"approved by {row.approved_by}" if row.approved_by else "as drafted")
    return issue, f"issue {issue.id} from draft {row.id}"


def hold(rt: Runtime, newsletter: NewsletterSettings, draft_id: int) -> bool:
    """Past slot + grace without approval ("required"): held for good, logged, editors told."""
    with rt.sessions() as session, session.begin():
        held = session.execute(update(ReviewDraft).where(ReviewDraft.id == draft_id, ReviewDraft.state == "review")
                               .values(state="held", version=ReviewDraft.version + 1)).rowcount
    if held:
        log.warning("%s: draft %d was not approved by its slot and the grace period: held, not sent",
                    newsletter.slug, draft_id)
        tell_editors(rt, newsletter, f"Not sent: {newsletter.title} was not approved in time",
                     f"The draft of {newsletter.title} was not approved before its slot and the grace period "
                     f"ran out, so it was held and not sent.\n\n{review_link(rt, draft_id)}\n")
    return bool(held)


def fire(rt: Runtime, slug: str, slot: str, slot_at: datetime, grace: timedelta, stop=None) -> str:
    """What the scheduler does at a slot of a newsletter under review (and again until the draft settles)."""
    newsletter = rt.settings.newsletter(slug)
    required = newsletter.review == "required"
    with rt.sessions() as session:
        row = find(session, slug, slot)
    if row is None:  # not drafted yet (the daemon was down during the lead time): draft it now
        row, made = prepare(rt, newsletter, slot, slot_at)
        if row is None:
            return "nothing new: no issue"
        if made:
            ask_editors(rt, newsletter, row)
    if row.state == "approved" or (row.state == "review" and not required):
        return send(rt, newsletter, row.id, required=required, stop=stop)
    if row.state == "review" and rt.now() > slot_at + grace:
        if hold(rt, newsletter, row.id):
            return f"draft {row.id} held: not approved in time"
        return f"draft {row.id} changed meanwhile (approved, or held by another round): looked at again next round"
    if row.state == "review":
        return f"draft {row.id} waiting for approval"
    return f"draft {row.id} is {row.state}"


def unsettled(rt: Runtime) -> list[ReviewDraft]:
    """Drafts whose slot may still act: in review or approved, not yet sent or held."""
    with rt.sessions() as session:
        return list(session.scalars(select(ReviewDraft).where(ReviewDraft.state.in_(("review", "approved")))
                                    .order_by(ReviewDraft.id)))


__all__ = ["EDITS", "PINNED_SECTION", "ReviewError", "approve", "edit", "edit_all", "fire", "hold",
           "issue_of", "items_of", "make_issue", "prepare", "render", "send", "unsettled"]
