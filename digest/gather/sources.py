"""Configured sources -> FetchResults: every source at once, each by its kind, pages fetched when needed.

A source is a feed (RSS, Atom, JSON Feed; a homepage that advertises one is
followed) or, for sites without a feed, an html listing page whose links that
match `link_pattern` are the articles. Teaser entries (or every entry, with
`full_text`) get their article page's main text when it is longer.

Sources run in one thread pool and article pages in another, so a source
waiting for its pages never starves the pool its pages need, and one slow
source never holds up the rest. Politeness (User-Agent, per-host limit,
timeouts, size cap) is digest.net.fetch's; the bounds on how many pages one run
fetches are here. Which entries are already stored is asked through `known`,
so this module never touches the database, and nothing here raises: a broken
source is a FetchResult with `error` set.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from digest.content import FeedEntry, FetchResult
from digest.errors import FeedError
from digest.gather.extract import extract_text
from digest.gather.feeds import canonical_url, parse_feed, select_first_run
from digest.gather.pages import Page, read_page
from digest.net.fetch import Fetcher, Response
from digest.settings import GatherSettings, SourceSettings

log = logging.getLogger(__name__)

TEASER_WORDS = 60  # an entry with fewer words than this is a teaser: its page is fetched
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
               "text/xml;q=0.9, text/html;q=0.5, */*;q=0.1")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)
_GONE = re.compile(r": HTTP (404|410)\b")

Known = Callable[[Sequence[str]], set[str]]
T = TypeVar("T")
# Parsing and extraction hold the GIL, so more than two at once buys no speed, only memory. They run
# on these two threads, not on the fetching threads: glibc gives each thread that allocates its own
# arena, and eight page threads each parsing a 3 MB page held 475 MB where two parser threads hold 200.
PARSER = ThreadPoolExecutor(2, thread_name_prefix="digest-parse")


def parsed(function: Callable[..., T], *args, **kwargs) -> T:
    """function(*args, **kwargs) on a parser thread; its exceptions are raised here."""
    return PARSER.submit(function, *args, **kwargs).result()


@dataclass(frozen=True)
class Job:
    """One source and what was remembered about it."""

    source: SourceSettings
    fetch_url: str = ""  # a remembered permanent redirect or discovered feed; "" means source.url
    etag: str | None = None
    modified: str | None = None
    first_run: bool = False


def gather_concurrently(fetcher: Fetcher, jobs: Sequence[Job], settings: GatherSettings, known: Known,
                        now: datetime) -> Iterator[tuple[Job, FetchResult]]:
    """(job, result) pairs in the order sources finish, not the order they were given."""
    if not jobs:
        return
    workers = max(1, min(settings.max_concurrency, len(jobs)))
    with ThreadPoolExecutor(workers, thread_name_prefix="digest-source") as pool, \
            ThreadPoolExecutor(settings.max_concurrency, thread_name_prefix="digest-page") as pages:
        futures = {pool.submit(gather_source, fetcher, job, settings, known, now, pages): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def gather_source(fetcher: Fetcher, job: Job, settings: GatherSettings, known: Known, now: datetime,
                  pages: Executor | None = None) -> FetchResult:
    """Fetch one source by its kind; any failure is the result's `error`."""
    source = job.source
    url = job.fetch_url or source.url
    try:
        if source.kind == "html":
            result = _html_source(fetcher, job, url, settings, known, pages)
        else:
            result = _feed_source(fetcher, job, url, settings, known, now, pages)
    except FeedError as exc:
        # A remembered URL that is gone: forget it, so the next run starts from the configured one again.
        forget = "" if job.fetch_url and _GONE.search(str(exc)) else None
        return FetchResult(source.name, source.url, error=str(exc), fetch_url=forget)
    except Exception as exc:  # a bug or a library surprise must cost one source, not the run
        log.exception("source %s: unexpected failure", source.name)
        return FetchResult(source.name, source.url, error=f"unexpected {exc.__class__.__name__}: {exc}")
    if source.category:
        entries = tuple(e if source.category in e.categories else replace(e, categories=(*e.categories,
                        source.category)) for e in result.entries)
        result = replace(result, entries=entries)
    return result


def _feed_source(fetcher: Fetcher, job: Job, url: str, settings: GatherSettings, known: Known,
                 now: datetime, pages: Executor | None) -> FetchResult:
    source = job.source
    limits = {"max_entries": settings.max_entries, "max_bytes": settings.max_bytes}
    response = fetcher.get(url, etag=job.etag, modified=job.modified, accept=FEED_ACCEPT)
    moved = response.moved_to
    if response.not_modified:
        return FetchResult(source.name, source.url, not_modified=True, etag=job.etag, modified=job.modified,
                           final_url=response.final_url, fetch_url=_moved(source, moved))
    try:
        entries = parsed(parse_feed, response.data, source.name, source.url, response.content_type,
                         base_url=response.final_url, **limits)
    except FeedError:
        feeds = parsed(read_page, decode(response), response.final_url).feeds
        if not feeds or url.startswith("file:"):
            raise
        log.info("source %s: %s is a web page; following the feed it advertises, %s",
                 source.name, response.final_url, feeds[0])
        response = fetcher.get(feeds[0], accept=FEED_ACCEPT)  # no ETag: that one belonged to the page
        entries = parsed(parse_feed, response.data, source.name, source.url, response.content_type,
                         base_url=response.final_url, **limits)
        moved = response.moved_to or feeds[0]
    entries = _with_full_text(fetcher, job, entries, settings, known, now, pages)
    return FetchResult(source.name, source.url, entries=entries, etag=response.etag, modified=response.modified,
                       final_url=response.final_url, fetch_url=_moved(source, moved))


def _moved(source: SourceSettings, target: str) -> str | None:
    if not target or target == source.url:
        return None
    log.warning("source %s: %s now lives at %s; fetching from there from now on (update its url in the config)",
                source.name, source.url, target)
    return target


def _with_full_text(fetcher: Fetcher, job: Job, entries: tuple[FeedEntry, ...], settings: GatherSettings,
                    known: Known, now: datetime, pages: Executor | None) -> tuple[FeedEntry, ...]:
    """Entries with their page's main text where the feed gave a teaser; stored entries are never refetched."""
    # A feed read from a local file (the demo, a test, a saved copy) is taken as it is unless asked otherwise.
    teasers = (job.fetch_url or job.source.url).startswith(("http://", "https://"))
    wanted = [e for e in entries if e.link and (job.source.full_text or teasers and len(e.text.split()) < TEASER_WORDS)]
    if not wanted or settings.max_pages_per_source < 1:
        return entries
    new = {e.uid for e in wanted} - known([e.uid for e in wanted])
    if job.first_run:  # the backlog of a new source is stored but never mailed: no need for its pages
        new &= select_first_run(entries, now, max_items=settings.first_run_max_items,
                                max_age_days=settings.first_run_max_age_days)
    wanted = [e for e in wanted if e.uid in new]
    if len(wanted) > settings.max_pages_per_source:
        log.info("source %s: %d teasers; fetching the first %d pages, the rest keep their teaser",
                 job.source.name, len(wanted), settings.max_pages_per_source)
        wanted = wanted[: settings.max_pages_per_source]
    found = dict(zip((e.uid for e in wanted), fetch_articles(fetcher, [e.link for e in wanted], pages), strict=True))
    return tuple(_enrich(entry, found[entry.uid]) if found.get(entry.uid) else entry for entry in entries)


def _enrich(entry: FeedEntry, article: tuple[str, Page]) -> FeedEntry:
    text, page = article
    if len(text.split()) > len(entry.text.split()):
        entry = replace(entry, text=text)
    if not entry.image_url and page.image_url:
        entry = replace(entry, image_url=page.image_url, image_alt=page.image_alt, image_width=page.image_width)
    if page.canonical and page.canonical != entry.link:  # the uid stays: it is what dedup across runs keys on
        entry = replace(entry, link=page.canonical)
    return entry


def _html_source(fetcher: Fetcher, job: Job, url: str, settings: GatherSettings, known: Known,
                 pages: Executor | None) -> FetchResult:
    source = job.source
    response = fetcher.get(url, etag=job.etag, modified=job.modified, accept=PAGE_ACCEPT)
    if response.not_modified:
        return FetchResult(source.name, source.url, not_modified=True, etag=job.etag, modified=job.modified,
                           final_url=response.final_url, fetch_url=_moved(source, response.moved_to))
    listing = parsed(read_page, decode(response), response.final_url)
    pattern = re.compile(source.link_pattern)
    itself = canonical_url(response.final_url)
    links = [link for link in listing.links if pattern.search(link) and link != itself]
    if not links:
        log.warning("source %s: no link on %s matches link_pattern %r", source.name, response.final_url,
                    source.link_pattern)
    stored = known([f"link:{link}" for link in links])
    fresh = [link for link in links if f"link:{link}" not in stored]
    todo = fresh[: settings.max_pages_per_source]
    entries, failed = [], 0
    for link, article in zip(todo, fetch_articles(fetcher, todo, pages), strict=True):
        if article is None:
            failed += 1
            continue
        text, page = article
        title = page.title or text.split("\n", 1)[0][:120]
        if title or text:
            entries.append(FeedEntry(uid=f"link:{link}", link=link, title=title, text=text,
                                     source_name=source.name, source_url=source.url, published=page.published,
                                     image_url=page.image_url, image_alt=page.image_alt,
                                     image_width=page.image_width))
    # Links left for later (over the bound, or failed) must not hide behind a 304 next time.
    complete = not failed and len(fresh) == len(todo)
    return FetchResult(source.name, source.url, entries=tuple(entries),
                       etag=response.etag if complete else None, modified=response.modified if complete else None,
                       final_url=response.final_url, fetch_url=_moved(source, response.moved_to))


def fetch_articles(fetcher: Fetcher, links: Sequence[str], pages: Executor | None = None
                   ) -> list[tuple[str, Page] | None]:
    """(main text, page facts) per link, None where the page could not be had; in the order given."""
    if pages is None:
        return [fetch_article(fetcher, link) for link in links]
    return list(pages.map(lambda link: fetch_article(fetcher, link), links))


def fetch_article(fetcher: Fetcher, link: str) -> tuple[str, Page] | None:
    try:
        response = fetcher.get(link, accept=PAGE_ACCEPT, max_bytes=fetcher.max_page_bytes)
    except FeedError as exc:
        log.info("article page skipped: %s", exc)
        return None
    if response.content_type and "html" not in response.content_type.lower():
        log.info("article page skipped: %s is %s, not HTML", link, response.content_type)
        return None
    html = decode(response)
    return parsed(_read_article, html, response.final_url)


def _read_article(html: str, url: str) -> tuple[str, Page]:
    return extract_text(html, url), read_page(html, url)


def decode(response: Response) -> str:
    """A page's text by its declared charset (HTTP header, then <meta>), else UTF-8 with replacements."""
    match = re.search(r"charset=[\"']?([\w-]+)", response.content_type, re.IGNORECASE) or _CHARSET.search(
        response.data[:4096])
    charset = match.group(1) if match else "utf-8"
    charset = charset.decode("ascii", "replace") if isinstance(charset, bytes) else charset
    try:
        text = response.data.decode(charset, errors="replace")
    except LookupError:
        text = response.data.decode("utf-8", errors="replace")
    # lxml refuses str input that still declares an encoding.
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text.lstrip("\ufeff"))


def describe(result: FetchResult) -> list[str]:
    """Lines for an operator: what the gatherer takes from a source, one block per entry."""
    if result.error:
        return [f"ERROR {result.error}"]
    if result.not_modified:
        return ["not modified"]
    lines = [f"{len(result.entries)} entries" + (f" (from {result.final_url})" if result.final_url else "")]
    for entry in result.entries:
        date = entry.published.isoformat() if entry.published else "no date"
        lines += ["", entry.title, f"  date:  {date}", f"  link:  {entry.link or '(none)'}",
                  f"  text:  {len(entry.text.split())} words",
                  f"  image: {entry.image_url}" + (f" ({entry.image_alt})" if entry.image_alt else "")
                  + (f", {entry.image_width} px" if entry.image_width else "") if entry.image_url else "  image: (none)"]
    return lines

