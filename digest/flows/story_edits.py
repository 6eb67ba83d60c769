"""An editor splits a wrong story or merges two in a review draft, and the choice sticks for later drafts.

Grouping weighs precision first, yet it errs both ways: two events of one kind grouped
(one hides the other), or one event told twice. The editor sees each story's versions and
says which. The draft changes at once (a split-off version becomes its own item, summarized
like any other, next to the story it left; a merged story's item goes, its versions credited
to the other), and the choice is stored per pair of articles (flows.story_memory.remember) so
every later draft of the newsletter groups them the same way: a split pair is never one story
again, a merged pair always is. Like every edit, it takes an approval back.
"""

from __future__ import annotations

import dataclasses
import json

from sqlalchemy import select

from digest import compose, store
from digest.content import ArticleItem
from digest.flows.draft_rows import ReviewError, locked, unapprove
from digest.flows.runtime import Runtime
from digest.flows.story_memory import remember
from digest.models import Article, ReviewDraft
from digest.summarize.backends import summarize_articles

MAX_VERSIONS = 100  # versions of one story an edit touches (a story is a few papers' reports, not a flood)


def versions_of(session, items: list[dict]) -> dict[int, ArticleItem]:
    """Every version the draft's stories credit, by article id: what the editor sees of each."""
    wanted = sorted({v for entry in items for v in entry.get("versions", [])[:MAX_VERSIONS]})
    found = {}
    for k in range(0, len(wanted), 500):
        for article in session.scalars(select(Article).where(Article.id.in_(wanted[k:k + 500]))):
            found[article.id] = store.to_item(article)
    return found


def split(rt: Runtime, draft_id: int, version: int, item_id: int, version_id: int, operator: str) -> ReviewDraft:
    """Take one version out of a story: its own item from now on, never grouped with the story's others again."""
    with rt.sessions() as session:
        article = session.get(Article, version_id)
        if article is None:
            raise ReviewError("that version is no longer stored")
        alone = store.to_item(article)
    newsletter = rt.settings.newsletter(_newsletter_of(rt, draft_id))
    summary = summarize_articles([(alone.title, alone.text)], settings=rt.settings.summarize,
                                 max_sentences=newsletter.summary_sentences)[0]  # outside the lock: it may take a while
    with rt.sessions() as session, session.begin():
        row, items = _open(session, draft_id, version)
        entry = _entry(items, item_id)
        if version_id not in entry.get("versions", []):
            raise ReviewError("that version is not in this story (any more): look again")
        members = [entry["id"], *entry["versions"]][:MAX_VERSIONS]
        remember(session, row.newsletter, [(version_id, m) for m in members if m != version_id], "split", operator,
                 rt.now())
        entry["versions"] = [v for v in entry["versions"] if v != version_id]
        _credit(session, entry)
        row_item = _as_entry(dataclasses.replace(alone, summary=tuple(summary)), entry["section"])
        items.insert(items.index(entry) + 1, row_item)
        row.left_out = json.dumps([i for i in json.loads(row.left_out or "[]") if i != version_id])
        return _save(row, items)


def merge(rt: Runtime, draft_id: int, version: int, item_id: int, into_id: int, operator: str) -> ReviewDraft:
    """Two items are one story: `item_id` goes, its versions credited to `into_id`; grouped together from now on."""
    if item_id == into_id:
        raise ReviewError("choose another story to merge with")
    with rt.sessions() as session, session.begin():
        row, items = _open(session, draft_id, version)
        entry, into = _entry(items, item_id), _entry(items, into_id)
        ours = [entry["id"], *entry.get("versions", [])][:MAX_VERSIONS]
        theirs = [into["id"], *into.get("versions", [])][:MAX_VERSIONS]
        remember(session, row.newsletter, [(a, b) for a in ours for b in theirs], "merge", operator, rt.now())
        into["versions"] = list(dict.fromkeys([*into.get("versions", []), *ours]))[:MAX_VERSIONS]
        _credit(session, into)
        items.remove(entry)
        row.left_out = json.dumps(list(dict.fromkeys([*json.loads(row.left_out or "[]"), entry["id"]])))
        return _save(row, items)


def _newsletter_of(rt: Runtime, draft_id: int) -> str:
    with rt.sessions() as session:
        row = session.get(ReviewDraft, draft_id)
        if row is None:
            raise ReviewError("there is no such draft")
        return row.newsletter


def _open(session, draft_id: int, version: int) -> tuple[ReviewDraft, list[dict]]:
    row = locked(session, draft_id)
    if row.state not in ("review", "approved") or row.version != version:
        raise ReviewError("this draft changed since you opened it (or can no longer change): look again")
    return row, json.loads(row.items)


def _entry(items: list[dict], item_id: int) -> dict:
    entry = next((entry for entry in items if entry["id"] == item_id), None)
    if entry is None:
        raise ReviewError("there is no such story in this draft")
    return entry


def _credit(session, entry: dict) -> None:
    """The item's "also in" again from its versions as they now are (compose.credit: each other source once)."""
    lead = ArticleItem(id=entry["id"], title="", link=entry["link"], source_name=entry["source_name"], published=None)
    story = [lead, *versions_of(session, [entry]).values()]
    also_in, links = compose.credit(lead, story)
    entry["also_in"], entry["also_in_links"] = list(also_in), list(links)


def _as_entry(item: ArticleItem, section: str) -> dict:
    """A draft item as flows.editorial stores them (its `_items_json`)."""
    row = dataclasses.asdict(item)
    row["published"] = item.published.isoformat() if item.published else None
    return {**row, "section": section, "removed": False, "pinned": False}


def _save(row: ReviewDraft, items: list[dict]) -> ReviewDraft:
    row.items = json.dumps(items, ensure_ascii=False)
    unapprove(row)
    return row


__all__ = ["MAX_VERSIONS", "merge", "split", "versions_of"]
