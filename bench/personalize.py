"""Per-recipient cost of a finished digest message: our byte substitution vs an EmailMessage per reader.

Prints messages per second on one core for both, for a 30-item issue rendered
once, and the cost of DKIM-signing each message (RSA-2048, relaxed/simple,
OpenSSL through `cryptography`; the key comes from the openssl CLI). Run:
.venv/bin/python bench/personalize.py [recipients]
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP

from digest.compose import build_issue
from digest.settings import NewsletterSettings, SiteSettings, SourceSettings
from digest.content import ArticleItem
from digest.render.message import build_template, personalize
from digest.render.html import make_environment, render_issue
from subscribers import make_unsubscribe_token

NOW = datetime(2026, 11, 24, 7, tzinfo=timezone.utc)
SITE = SiteSettings(name="Bench Gazette", base_url="https://gazette.example.org", postal_address="1 Road",
                    unsubscribe_mailbox="unsub@gazette.example.org")
NEWSLETTER = NewsletterSettings(slug="daily", title="Bench Daily", from_address="Bench <d@gazette.example.org>",
                                sources=(SourceSettings("Wire", "u"),), max_items=30)
SENTENCE = "The council voted on Monday to extend the night bus trial for another year, at a cost of 1.2 million."


def main(count: int) -> None:
    items = [ArticleItem(id=i, title=f"Story number {i} about the harbour", link=f"https://x.example/{i}",
                         source_name="Wire", published=NOW - timedelta(minutes=i), summary=(SENTENCE,) * 3)
             for i in range(30)]
    started = time.perf_counter()
    rendered = render_issue(build_issue(NEWSLETTER, items, NOW), SITE, NEWSLETTER, make_environment())
    template = build_template(rendered, from_address=NEWSLETTER.from_address, list_id="daily",
                              list_name=NEWSLETTER.title, base_url=SITE.base_url,
                              unsubscribe_mailbox=SITE.unsubscribe_mailbox, message_id_prefix="digest.1.x", date=NOW)
    once = time.perf_counter() - started
    print(f"render + inline CSS + build template once: {once * 1000:.1f} ms; HTML {len(rendered.html)} chars")

    started = time.perf_counter()
    size = 0
    for n in range(count):
        token = make_unsubscribe_token("secret", n, "daily")
        size += len(personalize(template, to=f"reader{n}@example.com", token=token, personal_id=str(n)))
    elapsed = time.perf_counter() - started
    print(f"personalize (token + bytes): {count} messages in {elapsed:.2f} s = {count / elapsed:,.0f} msg/s "
          f"({elapsed / count * 1e6:.0f} us each, {size / count / 1024:.1f} KiB each)")

    key = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True, text=True).stdout
    signed = build_template(rendered, from_address=NEWSLETTER.from_address, list_id="daily",
                            list_name=NEWSLETTER.title, base_url=SITE.base_url,
                            unsubscribe_mailbox=SITE.unsubscribe_mailbox, message_id_prefix="digest.1.x", date=NOW,
                            dkim_selector="bench", dkim_domain="gazette.example.org", dkim_private_key=key)
    signed_count = max(count // 20, 200)
    started = time.perf_counter()
    for n in range(signed_count):
        token = make_unsubscribe_token("secret", n, "daily")
        personalize(signed, to=f"reader{n}@example.com", token=token, personal_id=str(n))
    elapsed_signed = time.perf_counter() - started
    print(f"personalize + DKIM (rsa-sha256 2048): {signed_count} messages in {elapsed_signed:.2f} s = "
          f"{signed_count / elapsed_signed:,.0f} msg/s ({elapsed_signed / signed_count * 1e3:.2f} ms each; "
          f"signing adds {(elapsed_signed / signed_count - elapsed / count) * 1e3:.2f} ms)")

    baseline = max(count // 10, 200)
    started = time.perf_counter()
    for n in range(baseline):
        url = f"https://gazette.example.org/unsubscribe?token={make_unsubscribe_token('secret', n, 'daily')}"
        message = EmailMessage(policy=SMTP)
        message["From"], message["To"], message["Subject"] = NEWSLETTER.from_address, f"r{n}@example.com", "x"
        message["List-Unsubscribe"] = f"<{url}>"
        message.set_content(rendered.text.replace(rendered.mark, url), cte="quoted-printable")
        message.add_alternative(rendered.html.replace(rendered.mark, url), subtype="html",
                                cte="quoted-printable")
        message.as_bytes()
    elapsed = time.perf_counter() - started
    print(f"EmailMessage per recipient (baseline): {baseline} messages in {elapsed:.2f} s = "
          f"{baseline / elapsed:,.0f} msg/s ({elapsed / baseline * 1e3:.2f} ms each)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
