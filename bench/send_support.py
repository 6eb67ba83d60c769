"""Helpers of bench/send.py: Postfix's sink and source, and the benchmark's data (config, readers, articles)."""

from __future__ import annotations

import importlib.util
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMTP_LIMIT = REPO.parent / "shared" / "tools" / "smtp_limit" / "smtp_limit.py"
HOST = "127.0.0.1"
SECRET = "bench-secret-key-not-for-production"
SLUG = "daily"
PG_ADMIN = os.environ.get("DIGEST_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NOW = datetime.now(UTC).replace(microsecond=0)
TARGET_RENDERED = 30_000  # bytes of rendered HTML + text
MIB = 1024 * 1024

# Targets from issue 4 (2-core machine).
T_ONE = 0.25
T_TWO_PG = 0.35
T_RSS_MB = 120.0
T_FLAT = 0.10
T_ENQUEUE_S = 2.0
# Targets from issue 17: DKIM on / off in one process; one command on all cores with DKIM vs smtp-source.
T_DKIM = 0.9
T_ALL_CORES = 0.5
# Target from issue 25: an issue with readers' choices (8 section sets, 10 % plain text, 5 % paused) against the
# same issue without them, in the same run.
T_CHOICES = 0.9


def dkim_key() -> str:
    """A fresh RSA-2048 private key (PEM) for the DKIM-on runs, made here: nothing is fetched."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


# --------------------------------------------------------------------------------------------
# Helpers borrowed from ../shared/tools/smtp_limit (imported, not copied)
# --------------------------------------------------------------------------------------------

def load_smtp_limit():
    if not SMTP_LIMIT.exists():
        sys.exit(f"bench/send.py: {SMTP_LIMIT} not found (the smtp_limit tool beside the repository)")
    spec = importlib.util.spec_from_file_location("smtp_limit", SMTP_LIMIT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["smtp_limit"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def ensure_postfix(postfix_dir: str) -> None:
    """smtp-source/smtp-sink from Debian's postfix package: `apt-get download` + `dpkg -x`, nothing installed."""
    sbin = Path(postfix_dir) / "usr/sbin"
    if (sbin / "smtp-source").exists() and (sbin / "smtp-sink").exists():
        return
    print(f"setup: apt-get download postfix; dpkg -x into {postfix_dir}", flush=True)
    dl = tempfile.mkdtemp(prefix="bench-send-deb.", dir="/tmp")
    os.chmod(dl, 0o755)
    try:
        if subprocess.run(["apt-get", "download", "postfix"], cwd=dl, capture_output=True,
                          check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "download", "postfix"], cwd=dl, check=True)
        debs = list(Path(dl).glob("postfix_*.deb"))
        os.makedirs(postfix_dir, exist_ok=True)
        subprocess.run(["dpkg", "-x", str(debs[0]), postfix_dir], check=True)
    finally:
        shutil.rmtree(dl, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Process bookkeeping: everything started here is stopped in Children.close()
# --------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------
# The data: config, subscribers, articles
# --------------------------------------------------------------------------------------------

PLACES = ["Kyiv", "Lviv", "the harbour district", "the old town", "the northern suburbs", "Odesa", "the river port",
          "the university quarter", "the central market", "the airport"]
SUBJECTS = ["The city council", "The regional health office", "A group of local traders", "The transport authority",
            "The school board", "Residents of the district", "The energy company", "The fire service",
            "A coalition of tenants", "The museum's director"]
VERBS = ["approved a plan", "asked for more money", "published new figures", "announced a review",
         "warned of delays", "opened a consultation", "signed a contract", "postponed a decision"]
OBJECTS = ["to repair the tram lines", "to extend the night bus trial", "for the new water mains",
           "on winter heating", "about school meals", "for a second bridge", "on rents in the centre",
           "to plant two thousand trees", "on the future of the market hall", "about parking permits"]
TAILS = ["after a meeting that lasted until late on Monday evening",
         "citing a shortfall of about {n} million in this year's budget",
         "and said the first results should be known by {month}",
         "although critics said the figures did not add up",
         "following complaints from more than {n} hundred residents",
         "in a statement published on its website on Tuesday",
         "with work due to start in {month} if the money arrives",
         "despite a petition signed by {n} thousand people"]
MONTHS = ["March", "April", "May", "June", "September", "October", "November"]


def article_texts(count: int, seed: int = 4) -> list[tuple[str, str]]:
    rnd = random.Random(seed)
    out = []
    for k in range(count):
        sentences = []
        for _ in range(9):
            tail_ = rnd.choice(TAILS).format(n=rnd.randint(2, 40), month=rnd.choice(MONTHS))
            sentences.append(f"{rnd.choice(SUBJECTS)} in {rnd.choice(PLACES)} {rnd.choice(VERBS)} "
                             f"{rnd.choice(OBJECTS)}, {tail_}.")
        title = f"{rnd.choice(SUBJECTS)} {rnd.choice(VERBS)} {rnd.choice(OBJECTS)} (story {k + 1})"
        out.append((title, " ".join(sentences)))
    return out


ARTICLES = 60  # stored per database; newsletter.max_items (calibrated) picks how many go into the issue


def write_config(folder: Path, *, url: str, port: int, connections: int, max_items: int,
                 processes: int = 1, sections: tuple[str, ...] = ()) -> Path:
    """The bench's config.toml; DKIM off (set_dkim turns it on: the key comes from DIGEST_DKIM_PRIVATE_KEY).

    `sections`: one `[[newsletters.sections]]` per title, taking the feed category of that name (populate
    gives the articles those categories). delivery.batch_size is left at digest's default: the bench
    measures what a user gets."""
    path = folder / "config.toml"
    path.write_text(textwrap.dedent(f"""\
        [site]
        name = "Bench Gazette"
        base_url = "https://gazette.example.org"
        postal_address = "1 Bench Road, Benchville"
        unsubscribe_mailbox = "unsubscribe@gazette.example.org"
        feedback_id = "bench"

        [storage]
        url = "{url}"

        [delivery]
        transport = "smtp"
        connections = {connections}
        processes = {processes}

        [delivery.smtp]
        host = "{HOST}"
        port = {port}
        timeout = 30.0

        [dkim]
        selector = ""
        domain = ""

        [[newsletters]]
        slug = "{SLUG}"
        title = "Bench Daily"
        description = "Benchmark digest."
        from_address = "Bench Daily <daily@gazette.example.org>"
        max_items = {max_items}
        summary_sentences = 3
        reply_to = "letters@gazette.example.org"

        [[newsletters.sources]]
        name = "Wire"
        url = "wire.xml"
        category = "News"
        """) + "".join(f'\n[[newsletters.sections]]\ntitle = "{title}"\ncategories = ["{title}"]\n'
                       for title in sections), encoding="utf-8")
    return path


def set_dkim(config: Path, on: bool) -> None:
    """DKIM on (selector "bench", the key in DIGEST_DKIM_PRIVATE_KEY) or off in a bench config."""
    text = config.read_text()
    text, n = re.subn(r'(?m)^selector = ".*"\ndomain = ".*"$',
                      'selector = "bench"\ndomain = "gazette.example.org"' if on else 'selector = ""\ndomain = ""',
                      text)
    if n != 1:
        raise RuntimeError("bench config: no [dkim] selector/domain lines")
    config.write_text(text)


def populate(url: str, config: Path, subscribers: int, *, sections: tuple[str, ...] = (),
             choices: Callable[[int], dict] | None = None) -> float:
    """Schema (Alembic), `subscribers` confirmed subscribers and the articles, with SQLAlchemy core. Seconds.

    `sections`: article k gets the category sections[k % len(sections)] (else "News"), so the newest
    articles fill every section in turn. `choices(id)`: that reader's own columns of Subscription
    (sections, plain_text, paused_until), the same keys for every reader."""
    from sqlalchemy import insert

    from digest.config import load_settings
    from digest.db import create_schema, make_engine
    from digest.models import Article
    from subscribers.models import Subscriber, Subscription

    started = time.perf_counter()
    source_url = load_settings(config, {}).newsletter(SLUG).sources[0].url
    engine = make_engine(url)
    create_schema(engine)
    chunk = 50_000
    with engine.begin() as connection:
        for first in range(0, subscribers, chunk):
            ids = range(first + 1, min(first + chunk, subscribers) + 1)
            connection.execute(insert(Subscriber.__table__),
                               [{"id": i, "email": f"reader{i}@example.com", "created_at": NOW} for i in ids])
            connection.execute(insert(Subscription.__table__),
                               [{"id": i, "subscriber_id": i, "newsletter": SLUG, "status": "confirmed",
                                 "created_at": NOW, "confirmed_at": NOW, **(choices(i) if choices else {})}
                                for i in ids])
        connection.execute(insert(Article.__table__), [
            {"uid": f"bench-{k}", "source_url": source_url, "source_name": "Wire",
             "link": f"https://news.example.org/2026/story-{k}", "title": title, "text": text,
             "author": "Desk", "categories": sections[k % len(sections)] if sections else "News",
             "published_at": NOW - timedelta(minutes=k), "fetched_at": NOW, "backlog": False}
            for k, (title, text) in enumerate(article_texts(ARTICLES))])
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # sequences past the explicit ids; fresh statistics
            from sqlalchemy import text
            connection.execute(text("SELECT setval('subscribers_id_seq', (SELECT max(id) FROM subscribers))"))
            connection.execute(text("SELECT setval('subscriptions_id_seq', (SELECT max(id) FROM subscriptions))"))
            connection.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def calibrate(folder: Path, port: int) -> tuple[int, int, int, bytes]:
    """max_items whose rendered HTML + text is closest to TARGET_RENDERED; also one finished message's bytes."""
    import dataclasses

    from digest.flows import drafting, sending
    from digest.flows.runtime import Runtime
    from digest.config import load_settings
    from digest.render.message import personalize
    from subscribers import make_unsubscribe_token

    url = f"sqlite:///{folder / 'calibrate.db'}"
    config = write_config(folder, url=url, port=port, connections=1, max_items=ARTICLES)
    populate(url, config, 1)
    settings = load_settings(config, {"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    sizes = {}

    def size(k: int) -> int:
        if k not in sizes:
            newsletter = dataclasses.replace(settings.newsletter(SLUG), max_items=k)
            r = drafting.draft_issue(rt, newsletter).rendered
            sizes[k] = len(r.html.encode()) + len(r.text.encode())
        return sizes[k]

    low, high = 1, ARTICLES
    while low < high:  # smallest k with size >= target
        mid = (low + high) // 2
        if size(mid) >= TARGET_RENDERED:
            high = mid
        else:
            low = mid + 1
    k = low
    if k > 1 and TARGET_RENDERED - size(k - 1) < size(k) - TARGET_RENDERED:
        k -= 1
    newsletter = dataclasses.replace(settings.newsletter(SLUG), max_items=k)
    draft = drafting.draft_issue(rt, newsletter)
    template = sending._template(rt, newsletter, draft.rendered, "digest.1.20261124070000")
    message = personalize(template, to="reader1@example.com",
                          token=make_unsubscribe_token(SECRET, 1, SLUG), personal_id="1")
    rt.sessions.kw["bind"].dispose()
    return k, size(k), len(draft.issue.items), message


