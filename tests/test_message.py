"""Rendering once per issue and personalizing bytes per recipient."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone

from digest.compose import build_issue
from digest.settings import NewsletterSettings, SiteSettings, SourceSettings
from digest.content import LEGACY_UNSUBSCRIBE_MARK, ArticleItem, DotlessMessage, RenderedIssue
from digest.render.message import build_template, personalize
from digest.render.html import make_environment, make_subject, render_issue

NOW = datetime(2026, 11, 24, 7, tzinfo=timezone.utc)
SITE = SiteSettings(name="Gazette", base_url="https://gazette.example.org", postal_address="1 Road, Town",
                    unsubscribe_mailbox="unsub@gazette.example.org")
NEWSLETTER = NewsletterSettings(slug="daily", title="Gazette Dailý", from_address="Gazette <d@gazette.example.org>",
                                sources=(SourceSettings("Wire", "u"),))


def rendered_issue(items):
    draft = build_issue(NEWSLETTER, items, NOW)
    return render_issue(draft, SITE, NEWSLETTER, make_environment())


def items():
    return [ArticleItem(id=1, title="Rates <rise> & fall", link="https://x.example/a?b=1&c=2", source_name="Wire",
                        published=NOW, summary=("First sentence.", "Second — with ünïcode.")),
            ArticleItem(id=2, title="Second story", link="https://x.example/b", source_name="Wire",
                        published=NOW - timedelta(hours=1), summary=("Only sentence.",))]


def test_render_escapes_inlines_css_and_marks_the_personal_link():
    rendered = rendered_issue(items())
    assert "Rates &lt;rise&gt; &amp; fall" in rendered.html
    assert 'href="https://x.example/a?b=1&amp;c=2"' in rendered.html
    assert 'style="' in rendered.html and 'class="item-title"' in rendered.html
    assert "&#39;" not in rendered.html  # the <style> block is CSS, not escaped text
    # Each reader's own link: the unsubscribe link, and the same token for their preferences page.
    assert rendered.html.count(rendered.mark) == 2 and rendered.text.count(rendered.mark) == 2
    assert rendered.mark != rendered_issue(items()).mark  # random per render
    assert "1 Road, Town" in rendered.html and "1 Road, Town" in rendered.text
    assert "Rates <rise> & fall" in rendered.text and "Read more: https://x.example/a?b=1&c=2" in rendered.text
    assert rendered.subject == "Gazette Dailý, 24 Nov 2026: Rates <rise> & fall"


def test_subject_is_cut_at_a_word():
    long = [ArticleItem(id=1, title="word " * 40, link="", source_name="W", published=NOW)]
    subject = make_subject(build_issue(NEWSLETTER, long, NOW))
    assert len(subject) <= 110 and subject.endswith("word…")


def test_personalized_messages_differ_only_in_personal_parts():
    template = build_template(rendered_issue(items()), from_address=NEWSLETTER.from_address, list_id="daily",
                              list_name=NEWSLETTER.title, base_url=SITE.base_url,
                              unsubscribe_mailbox=SITE.unsubscribe_mailbox, message_id_prefix="digest.9.x",
                              date=NOW)
    one = personalize(template, to="a@example.com", token="tok-A", personal_id="1")
    two = personalize(template, to="b@example.com", token="tok-B", personal_id="2")
    assert all(len(line) <= 998 for line in one.split(b"\r\n"))
    assert b"\n" not in one.replace(b"\r\n", b"")  # CRLF everywhere
    for raw, to, token, number in ((one, "a@example.com", "tok-A", "1"), (two, "b@example.com", "tok-B", "2")):
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["To"] == to
        assert message["Message-ID"] == f"<digest.9.x.{number}@gazette.example.org>"
        assert message["Subject"] == "Gazette Dailý, 24 Nov 2026: Rates <rise> & fall"
        assert message["List-Unsubscribe"] == (
            f"<https://gazette.example.org/unsubscribe?token={token}>, "
            f"<mailto:unsub@gazette.example.org?subject=unsubscribe%20{token}>")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Date"].datetime == NOW
        plain, html = [part.get_content() for part in message.iter_parts()]
        assert message.get_content_type() == "multipart/alternative"
        assert f"Unsubscribe: https://gazette.example.org/unsubscribe?token={token}" in plain
        assert f'href="https://gazette.example.org/unsubscribe?token={token}"' in html
        assert "Second — with ünïcode." in plain and "Second — with ünïcode." in html
        assert "@@" not in plain + html


def test_bulk_sender_headers_reply_to_feedback_id_and_line_limits():
    template = build_template(rendered_issue(items()), from_address="d@gazette.example.org", list_id="daily",
                              list_name=NEWSLETTER.title, base_url=SITE.base_url,
                              unsubscribe_mailbox=SITE.unsubscribe_mailbox, message_id_prefix="digest.9.x",
                              date=NOW, reply_to="Letters <letters@gazette.example.org>",
                              feedback_id="gazette-news", campaign_id="9")
    raw = personalize(template, to="a@example.com", token="tok-A", personal_id="1")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # the UTF-8 subject and display names are encoded words
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 998 for line in lines)
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if b"unsubscribe" not in line.lower())
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["From"] == "Gazette Dailý <d@gazette.example.org>"  # no display name given: the title
    assert message["Reply-To"] == "Letters <letters@gazette.example.org>"
    assert message["Feedback-ID"] == "9:daily:digest:gazette-news"
    assert message["Precedence"] == "bulk"
    assert message["List-Id"] == "Gazette Dailý <daily.gazette.example.org>"
    assert message["List-Archive"] == "<https://gazette.example.org/issues/daily>"
    assert message["Message-ID"].endswith("@gazette.example.org>")
    assert "Reply-To" not in email.message_from_bytes(personalize(
        build_template(rendered_issue(items()), from_address=NEWSLETTER.from_address, list_id="daily",
                       list_name=NEWSLETTER.title, base_url=SITE.base_url, unsubscribe_mailbox=SITE.unsubscribe_mailbox,
                       message_id_prefix="p", date=NOW), to="b@example.com", token="t", personal_id="2"))


def test_real_tokens_and_hostile_titles_keep_the_message_intact():
    from digest.content import RenderedIssue
    from subscribers import make_unsubscribe_token

    mark = LEGACY_UNSUBSCRIBE_MARK  # an issue stored before marks were random still sends
    rendered = RenderedIssue("Title with @@TEXT_BODY@@ and @@HTML_BODY@@ in it", "<p>html " + "x" * 300 + "</p>",
                             "text line\n" + mark + "\nend", mark)
    rendered = RenderedIssue(rendered.subject, rendered.html + mark, rendered.text, mark)
    template = build_template(rendered, from_address="G <g@gazette.example.org>", list_id="daily", list_name="G",
                              base_url="https://gazette.example.org/some/longer/path/prefix",
                              unsubscribe_mailbox="u@gazette.example.org", message_id_prefix="d.1", date=NOW)
    token = make_unsubscribe_token("a-real-secret-key", 123456, "daily")
    raw = personalize(template, to="a@example.com", token=token, personal_id="1")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare LF anywhere (RFC 5321)
    assert all(len(line) <= 78 for line in raw.split(b"\r\n")[raw.split(b"\r\n").index(b""):])
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Title with @@TEXT_BODY@@ and @@HTML_BODY@@ in it"
    plain, html = [part.get_content() for part in message.iter_parts()]
    url = f"https://gazette.example.org/some/longer/path/prefix/unsubscribe?token={token}"
    assert url in plain and url in html


def test_no_line_of_a_message_starts_with_a_dot_and_the_text_survives():
    """Dot-led lines are written =2E (quoted-printable), so SMTP has nothing to dot-stuff; readers see the dots."""

    mark = "@@mark@@"
    text = ".Leading dot\n..two\n" + "x" * 74 + ".after a soft break\n" + "word " * 60 + f"\n{mark}\n.end\n"
    html = f"<p>{'.' * 300}</p>\n.<b>x</b>\n<a href=\"{mark}\">Unsubscribe</a>\n"
    template = build_template(RenderedIssue("Dots", html, text, mark), from_address="News <n@example.org>",
                              list_id="daily", list_name="Daily", base_url="https://gazette.example.org",
                              unsubscribe_mailbox="u@example.org", message_id_prefix="digest.1.x", date=NOW)
    raw = personalize(template, to="a@example.com", token="a." * 60 + "b", personal_id="1")
    assert not raw.startswith(b".") and b"\r\n." not in raw  # so the SMTP transport may skip stuffing it:
    assert isinstance(raw, DotlessMessage)
    assert all(len(line) <= 76 for line in raw.partition(b"\r\n\r\n")[2].split(b"\r\n"))  # QP keeps 76
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n").startswith(".Leading dot\n..two\n")
    assert ".end" in message.get_body(("plain",)).get_content() and "." * 300 in message.get_body(("html",)).get_content()
