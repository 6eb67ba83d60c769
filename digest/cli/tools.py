"""Operator tools on the `digest` command that need no config file or database.

`digest summarize FILE` shows what the offline summarizer makes of one article,
so an editor can judge it (or file a bug) without a feed, a send or a model
server: a whole web page goes through the same article extractor as a page the
daemon fetches, so what it prints is what a digest would carry. `digest stories
FILE` prints which items the digest would take for one story (issue 32), so the
grouping can be judged from outside. They live apart from digest/cli/main.py so
the command group stays about the newsletter job; cli.py imports this module to
register it.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime

import click

from digest.compose.stories import StoryItem, group
from digest.errors import DigestError
from digest.gather.extract import extract_text
from digest.gather.feeds import html_to_text
from digest.settings import GatherSettings
from digest.summarize.extractive import summarize

# Markup we recognise as HTML rather than prose that happens to contain "<".
_HTML = re.compile(r"<(?:!doctype|html|head|body|article|main|div|p|br|h[1-6]|span|a|ul|ol|li|table)\b",
                   re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
# html_to_text is made for feed fragments: on a whole page it would keep the <title> glued to the body.
_HEAD = re.compile(r"<head\b.*?</head\s*>", re.IGNORECASE | re.DOTALL)
# A whole page, not a fragment from a feed: its menus, teasers and footers are around the article.
_PAGE = re.compile(r"<(?:!doctype\s+html|html|body)\b", re.IGNORECASE)
# What the gatherer fetches of a page at most: a saved page larger than that is refused as a fetched one would be
# (the summary reads at most its first 100,000 characters of text anyway, so a long plain text is only cut).
PAGE_LIMIT = GatherSettings().max_page_bytes


@click.command("summarize")
@click.argument("file", type=click.File("r", encoding="utf-8", errors="replace"))
@click.option("--title", help="The article's headline (helps choose sentences); HTML: defaults to <title>.")
@click.option("--sentences", type=click.IntRange(min=1), default=3, show_default=True,
              help="At most this many sentences.")
@click.option("--url", help="The page's address, for site-specific extraction rules (a whole HTML page only).")
def summarize_command(file, title: str | None, sentences: int, url: str | None) -> None:
    """Print the extractive summary of FILE (plain text, a feed's HTML fragment or a whole web page; - reads
    stdin), one sentence per line."""
    raw = file.read(PAGE_LIMIT + 1)
    if len(raw) > PAGE_LIMIT and _HTML.search(raw):
        raise DigestError(f"{getattr(file, 'name', '-')}: larger than {PAGE_LIMIT:,} characters, the gatherer's limit for a page "
                          "(gather.max_page_bytes); a fetched page that large is refused too")
    text, found_title = article_text(raw[:PAGE_LIMIT], url)
    for sentence in summarize(text, title=title or found_title, max_sentences=sentences):
        click.echo(sentence)


def article_text(raw: str, url: str | None = None) -> tuple[str, str | None]:
    """(plain text, the HTML <title> if any) of a file that may be plain text, a fragment or a whole page.

    A whole page's article is what the extractor keeps (its navigation, teasers and footers would otherwise be
    sentences to choose from); a page where it keeps nothing falls back to all of the page's text."""
    if not _HTML.search(raw):
        return raw, None
    match = _TITLE.search(raw)
    title = " ".join(html.unescape(match.group(1)).split()) if match else None
    article = extract_text(raw, url) if _PAGE.search(raw) else ""
    return article or html_to_text(_HEAD.sub("", raw)), title or None


@click.command("stories")
@click.argument("file", type=click.File("r", encoding="utf-8", errors="replace"))
def stories_command(file) -> None:
    """Group FILE's items into stories as the digest does (- reads stdin).

    FILE holds JSON lines {id, title, lead, text, published, source} (published: ISO 8601
    or null); prints one JSON line {id, story} per item in the same order, story being the
    id of the story's first item.
    """
    items = [_story_item(number, line) for number, line in enumerate(file, 1) if line.strip()]
    for item, story in zip(items, group(items)):
        click.echo(json.dumps({"id": item.id, "story": items[story].id}, ensure_ascii=False))


def _story_item(number: int, line: str) -> StoryItem:
    try:
        row = json.loads(line)
        published = row.get("published")
        return StoryItem(id=row["id"], title=str(row.get("title") or ""), lead=str(row.get("lead") or ""),
                         text=str(row.get("text") or ""), source=str(row.get("source") or ""),
                         published=datetime.fromisoformat(published.replace("Z", "+00:00")) if published else None)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise DigestError(f"line {number}: not an item {{id, title, lead, text, published, source}} ({error})")
