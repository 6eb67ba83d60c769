"""Gathering: every due source fetched at once through one guarded client, new articles stored as they come."""

from __future__ import annotations

import dataclasses
import logging
import threading
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from digest import metrics, store
from digest.settings import NewsletterSettings, SourceSettings
from digest.content import FetchResult
from digest.flows.runtime import Runtime
from digest.gather import feeds, sources
from digest.net import fetch

log = logging.getLogger(__name__)


def gather_all(rt: Runtime, newsletters: tuple[NewsletterSettings, ...] | None = None,
               stop: threading.Event | None = None) -> list[FetchResult]:
    """Fetch every due source at once (a source shared by newsletters once) and store new articles.

    A source fetched less than its min_interval_minutes ago is not asked
    again; it reports "not modified". Results come back in config order;
    each is stored as soon as its source finishes, in this thread only.
    """
    configured: dict[str, SourceSettings] = {}
    for newsletter in newsletters or rt.settings.newsletters:
        for source in newsletter.sources:
            configured.setdefault(source.url, source)
    g, now = rt.settings.gather, rt.now()
    jobs, results = [], {}
    with rt.sessions() as session:
        for url, source in configured.items():
            state = store.source_state(session, url)
            if state and state.last_fetched_at and source.min_interval_minutes and (
                    now - state.last_fetched_at < timedelta(minutes=source.min_interval_minutes)):
                log.info("source %s: fetched %s ago, less than its min_interval_minutes (%g); not fetched",
                         source.name, str(now - state.last_fetched_at).split(".")[0], source.min_interval_minutes)
                results[url] = FetchResult(source.name, url, not_modified=True)
                continue
            jobs.append(sources.Job(source, fetch_url=(state.fetch_url or "") if state else "",
                                    etag=state.etag if state else None, modified=state.modified if state else None,
                                    first_run=state is None or state.first_fetched_at is None))

    def known(uids):
        with rt.sessions() as session:
            return store.known_uids(session, list(uids))

    # Every configured source's origin is trusted as the operator wrote it, whichever newsletters run now.
    trusted = [s.url for n in rt.settings.newsletters for s in n.sources]
    with fetch.Fetcher.for_settings(g, trusted, stop) as fetcher:
        for job, result in sources.gather_concurrently(fetcher, jobs, g, known, now):
            results[job.source.url] = _store_fetch(rt, job, result)
    return [results[url] for url in configured]


def _store_fetch(rt: Runtime, job: sources.Job, result: FetchResult) -> FetchResult:
    now = rt.now()
    mailable = None
    if job.first_run and not result.error:
        mailable = feeds.select_first_run(result.entries, now, max_items=rt.settings.gather.first_run_max_items,
                                          max_age_days=rt.settings.gather.first_run_max_age_days)
    for attempt in range(3):
        try:
            with rt.sessions() as session, session.begin():
                new, backlog = store.save_fetch(session, result, mailable, now)
            break
        except IntegrityError:
            # Another process stored this source's state or entries between our look and our insert (two
            # sends racing on a first fetch): look again; what it stored is now known, not new.
            if attempt == 2:
                raise
    result = dataclasses.replace(result, new=new, backlog=backlog)
    name = job.source.name
    if result.error:
        metrics.SOURCE_ERRORS.labels(name).inc()
        log.error("source %s skipped: %s", name, result.error)
    else:
        metrics.ARTICLES_GATHERED.labels(name).inc(new)
        log.info("source %s: %s", name, result.summary())
    return result


__all__ = ["gather_all"]
