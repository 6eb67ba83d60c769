"""The digest email as readers and mail providers see it: structure, size, templates, DKIM, web version."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timedelta, timezone

import dkim
import lxml.html
import pytest
from conftest import SECRET, write_config
from dkim import dknewkey
from starlette.testclient import TestClient

from digest.flows.runtime import Runtime
from digest.compose import build_issue
from digest.config import load_settings
from digest.settings import NewsletterSettings, SectionSettings, SiteSettings, SourceSettings
from digest.content import ArticleItem
from digest.errors import ConfigError, RenderError
from digest.render.message import build_template, personalize
from digest.models import Issue
from digest.render.html import make_environment, render_issue
from digest.web.app import create_app

NOW = datetime(2026, 11, 24, 7, tzinfo=timezone.utc)
SITE = SiteSettings(name="The Riverton Ledger", base_url="https://ledger.example.org",
                    postal_address="12 Quay Street, Riverton", unsubscribe_mailbox="unsub@ledger.example.org")
NEWSLETTER = NewsletterSettings(
    slug="morning", title="Riverton Morning Briefing", from_address="The Ledger <briefing@ledger.example.org>",
    sources=(SourceSettings("News desk", "u"), SourceSettings("Culture desk", "c")), timezone="Europe/London",
    max_items=60, sections=(SectionSettings("City Hall", categories=("Politics",)),
                            SectionSettings("Culture", sources=("Culture desk",)), SectionSettings("More news")))
SENTENCE = "The council voted on Monday to extend the night bus trial for another year, after a long debate."
WEB_URL = "https://ledger.example.org/issues/morning/2026-11-24"


def sample_items(count: int = 5, sentences: int = 2) -> list[ArticleItem]:
    # Titles share no words: compose merges similar stories from different sources.
    return [ArticleItem(id=i + 1, title=f"Story{i + 1}: council{i} & harbour{i} <update{i}>",
                        link=f"https://ledger.example.org/2026/11/{i + 1}", source_name="Culture desk" if i % 3 == 2
                        else "News desk", published=NOW - timedelta(minutes=7 * i),
                        categories=("Politics",) if i % 3 == 0 else (), summary=(SENTENCE,) * sentences)
            for i in range(count)]


def render(items, env=None, **kwargs):
    return render_issue(build_issue(NEWSLETTER, items, NOW), SITE, NEWSLETTER, env or make_environment(), **kwargs)


def body_of(html: str):
    return lxml.html.document_fromstring(html.encode("utf-8"))


def test_sample_digest_structure_accessibility_and_inlined_styles():
    rendered = render(sample_items())
    doc = body_of(rendered.html)
    assert doc.get("lang") == "en" and rendered.html.startswith("<!DOCTYPE html>")
    tables = doc.findall(".//table")
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert all(img.get("alt") is not None for img in doc.iter("img"))
    assert [h.text_content() for h in doc.iter("h1")] == ["Riverton Morning Briefing"]
    assert [h.text_content() for h in doc.iter("h2")] == ["City Hall", "Culture", "More news"]
    assert len(list(doc.iter("h3"))) == 5
    container = doc.find_class("container")[0]
    assert container.get("width") == "600" and "max-width:600px" in container.get("style").replace(" ", "")
    for element in doc.body.iter():
        if element.get("class") and element.tag not in ("div",):
            assert element.get("style"), element.get("class")  # every styled element carries its CSS inline
    links = {a.text_content().strip(): a.get("href") for a in doc.iter("a")}
    assert links["View in your browser"] == f"{WEB_URL}?issue={rendered.web_mark}"  # the id, once stored
    # Labels say what the links do (issue 13 item 15): the reader's own page manages every newsletter (issue 25).
    assert links["Manage your subscriptions"] == f"{rendered.mark}&view=preferences"
    assert "one click" not in rendered.html
    assert links["Unsubscribe from Riverton Morning Briefing"] == rendered.mark
    read_more = [text for text in links if text.startswith("Read more")]
    assert len(read_more) == 5 and all(len(text) > len("Read more: ") for text in read_more)
    assert "Read more: Story1: council0 &amp; harbour0 &lt;update0&gt;" in rendered.html  # escaped
    assert doc.find_class("preheader")[0].text_content().startswith("Also: Story")
    assert "12 Quay Street, Riverton" in doc.find_class("footer")[0].text_content()
    assert "prefers-color-scheme: dark" in rendered.html and 'name="color-scheme"' in rendered.html
    assert "/*" not in rendered.html  # CSS comments stay in the template


def test_plain_text_part_reads_on_its_own():
    rendered = render(sample_items())
    text = rendered.text
    assert "<" not in re.sub(r"<update\d+>", "", text)
    assert "CITY HALL\n=========\n" in text and "MORE NEWS\n=========\n" in text
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", text, re.M)]
    assert numbers == [1, 2, 3, 4, 5]
    assert "   Read more: https://ledger.example.org/2026/11/1\n" in text
    assert f"View in your browser: {WEB_URL}?issue={rendered.web_mark}" in text and f"Unsubscribe: {rendered.mark}" in text
    assert f"Manage your subscriptions: {rendered.mark}&view=preferences" in text
    # lines with a link (the mark becomes each reader's own) may run long; prose stays within 78
    assert max(len(line) for line in text.splitlines() if "http" not in line and rendered.mark not in line) <= 78


def test_fifty_long_items_stay_under_gmails_clip_with_the_rest_as_links():
    items = sample_items(50, sentences=20)
    full = render(items, budget_bytes=10_000_000)
    assert len(full.html.encode()) > 102 * 1024  # the test is meaningful: all in full would be clipped
    rendered = render(items, budget_bytes=90_000)
    size = len(rendered.html.encode())
    assert size <= 90_000 < 102 * 1024
    doc = body_of(rendered.html)
    shown_full, briefs = len(doc.find_class("item")), len(doc.find_class("brief"))
    assert shown_full >= 5 and briefs >= 1 and shown_full + briefs == 50
    hrefs = {a.get("href") for a in doc.iter("a")}
    assert all(item.link in hrefs for item in items)  # every story still linked
    assert f"This email shows {shown_full} of 50 stories in full" in doc.find_class("notice")[0].text_content()
    assert " ".join(rendered.text.split()).count(SENTENCE) == 50 * 20  # the text part keeps every story in full


def test_a_tiny_budget_lists_fewer_links_and_points_to_the_web_version():
    rendered = render(sample_items(30), budget_bytes=12_000)
    doc = body_of(rendered.html)
    assert not doc.find_class("item") and 0 < len(doc.find_class("brief")) < 30
    more = doc.find_class("more-stories")[0]
    assert "more stories in this issue" in more.text_content() and more.find(".//a").get("href") == f"{WEB_URL}?issue={rendered.web_mark}"


def test_custom_templates_dir_overrides_and_falls_back(tmp_path):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "digest.txt").write_text("{# mine #}OUR OWN {{ issue.title }} {{ unsubscribe_url }}\n")
    (tmp_path / "email" / "digest.css").write_text(".masthead-title { color: #004488; }\n")
    rendered = render(sample_items(), make_environment(tmp_path))
    assert rendered.text == f"OUR OWN Riverton Morning Briefing {rendered.mark}\n"
    assert "color:#004488" in rendered.html.replace(" ", "")  # our digest.html with their CSS
    with pytest.raises(ConfigError, match="templates_dir"):
        make_environment(tmp_path / "missing")


def test_no_template_can_print_the_site_secret(tmp_path):
    """Templates are the operator's to change, maybe by a designer: the key that signs every reader's links
    never reaches one (red team: `{{ site }}` and `{{ site.secret_key }}` in a custom template)."""
    from dataclasses import replace

    from digest.render.notice import confirmation_email

    (tmp_path / "email").mkdir()
    leak = "KEY[{{ site.secret_key }}] SITE[{{ site }}] {{ unsubscribe_url if unsubscribe_url is defined else '' }}\n"
    (tmp_path / "email" / "digest.txt").write_text(leak)
    (tmp_path / "email" / "confirm.txt").write_text(leak)
    site = replace(SITE, secret_key="s3cret-signing-key-of-the-site")
    env = make_environment(tmp_path)
    rendered = render_issue(build_issue(NEWSLETTER, sample_items(), NOW), site, NEWSLETTER, env)
    assert "KEY[None]" in rendered.text and "s3cret" not in rendered.text + rendered.html
    mail = confirmation_email(env, site, NEWSLETTER, "reader@example.org", "token123", now=NOW, ttl_hours=48)
    assert b"KEY[None]" in mail and b"s3cret" not in mail


@pytest.mark.parametrize("source, line, what", [
    ("{# top #}\n<p>\n{% for x in %}\n", 3, "Expected an expression"),  # syntax error
    ("<p>\n\n{{ 1 // 0 }}\n", 3, "ZeroDivisionError"),  # runtime error
    ("<p>\n{{ issue.nonexistent.deeper }}\n", 2, "UndefinedError"),  # unknown variable
])
def test_a_broken_template_names_its_file_and_line(tmp_path, source, line, what):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "digest.html").write_text(source)
    with pytest.raises(RenderError) as caught:
        render(sample_items(), make_environment(tmp_path))
    message = str(caught.value)
    assert str(tmp_path / "email" / "digest.html") in message or "email/digest.html" in message
    assert f"line {line}" in message and what in message


def test_dkim_signature_verifies_and_covers_the_unsubscribe_headers(tmp_path):
    key_file, dns_file = tmp_path / "dkim.key", tmp_path / "dkim.dns"
    dknewkey.GenRSAKeys(str(key_file), verbose=False)
    dknewkey.ExtractRSADnsPublicKey(str(key_file), str(dns_file), verbose=False)
    txt = dns_file.read_bytes()

    def dnsfunc(name, timeout=5):
        assert name == b"news._domainkey.ledger.example.org."
        return txt

    template = build_template(render(sample_items()), from_address=NEWSLETTER.from_address, list_id="morning",
                              list_name=NEWSLETTER.title, base_url=SITE.base_url,
                              unsubscribe_mailbox=SITE.unsubscribe_mailbox, message_id_prefix="digest.1.x", date=NOW,
                              feedback_id="ledger", campaign_id="1", dkim_selector="news",
                              dkim_domain="ledger.example.org", dkim_private_key=key_file.read_text())
    raw = personalize(template, to="reader@example.com", token="tok-A", personal_id="1")
    assert raw.startswith(b"DKIM-Signature: ")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert dkim.verify(raw, dnsfunc=dnsfunc)
    signature = email.message_from_bytes(raw, policy=email.policy.default)["DKIM-Signature"]
    signed = {h.strip().lower() for h in re.search(r"h=([^;]+)", signature).group(1).split(":")}
    assert {"from", "to", "subject", "list-unsubscribe", "list-unsubscribe-post", "feedback-id"} <= signed
    tampered = raw.replace(b"token=tok-A>", b"token=tok-B>", 1)
    assert tampered != raw and not dkim.verify(tampered, dnsfunc=dnsfunc)
    other = personalize(template, to="other@example.com", token="tok-B", personal_id="2")
    assert dkim.verify(other, dnsfunc=dnsfunc)  # each message its own signature
    with pytest.raises(ConfigError, match="DKIM"):
        build_template(render(sample_items()), from_address=NEWSLETTER.from_address, list_id="morning",
                       list_name="x", base_url=SITE.base_url, unsubscribe_mailbox=SITE.unsubscribe_mailbox,
                       message_id_prefix="p", date=NOW, dkim_selector="news", dkim_domain="ledger.example.org")


@pytest.fixture
def archive_app(tmp_path):
    config = write_config(tmp_path, sources='[[newsletters.sources]]\nname = "A"\nurl = "a.xml"\n',
                          extra_newsletter='timezone = "Europe/Kyiv"')
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    newsletter = settings.newsletter("daily")
    items = [ArticleItem(id=0, title="Ferry to Gull Island", link="https://gazette.example.org/f",
                         source_name="A", published=NOW, summary=("It sails again.",))]

    def make(when: datetime, slot: str) -> int:
        draft = build_issue(newsletter, items, when)
        rendered = render_issue(draft, settings.site, newsletter, rt.templates)
        with rt.sessions() as session, session.begin():
            issue = Issue(newsletter="daily", slot=slot, created_at=when, subject=rendered.subject,
                          html=rendered.html, text=rendered.text)
            session.add(issue)
            session.flush()
            return issue.id

    # 22:30 UTC on the 23rd is already the 24th in Kyiv: the issue's date is the newsletter's day.
    ids = [make(datetime(2026, 11, 23, 22, 30, tzinfo=timezone.utc), "a"),
           make(datetime(2026, 11, 24, 9, tzinfo=timezone.utc), "b"),
           make(datetime(2026, 11, 20, 9, tzinfo=timezone.utc), "c")]
    app = create_app(settings, rt.sessions, rt.transport_factory)
    with TestClient(app, base_url="https://gazette.example.org") as client:
        yield client, ids


def test_web_version_and_archive(archive_app):
    client, (early, late, older) = archive_app
    page = client.get("/issues/daily/2026-11-24")
    assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "Ferry to Gull Island" in html and 'lang="en"' in html
    assert "@@" not in html and "token=" not in html and "unsubscribe" not in html.lower()
    assert "preheader" not in html.split("</style>")[1] and "View in your browser" not in html
    assert "Gazette Daily" in html and "1 Test Road, Testville" in html
    assert client.get(f"/issues/daily/2026-11-24?issue={early}").status_code == 200
    assert client.get("/issues/daily/2026-11-20").status_code == 200

    archive = client.get("/issues/daily")
    assert archive.status_code == 200
    links = re.findall(r'href="(/issues/daily/[^"]+)"', archive.text)
    assert links == ["/issues/daily/2026-11-24", f"/issues/daily/2026-11-24?issue={early}",
                     "/issues/daily/2026-11-20"]  # newest first; the day's link serves its latest issue
    for missing in ("/issues/daily/2026-11-21", "/issues/daily/not-a-date", "/issues/nope",
                    "/issues/nope/2026-11-24", f"/issues/daily/2026-11-20?issue={late}"):
        assert client.get(missing).status_code == 404, missing
    assert older


def test_dkim_signatures_of_many_personalized_hostile_messages_verify_independently(tmp_path):
    """Our OpenSSL signer checked by dkimpy's verifier: long lines, dot-led lines, non-ASCII, real tokens."""
    from digest.content import RenderedIssue
    from subscribers import make_unsubscribe_token

    key_file, dns_file = tmp_path / "dkim.key", tmp_path / "dkim.dns"
    dknewkey.GenRSAKeys(str(key_file), verbose=False)
    dknewkey.ExtractRSADnsPublicKey(str(key_file), str(dns_file), verbose=False)
    txt = dns_file.read_bytes()
    mark = "@@unsubscribe-test-mark@@"
    text = ("Ünïcödé headline — “quoted” and ☃\n.a line that starts with a dot\n..two dots\n\n"
            + "word " * 400 + "\n" + "x" * 1500 + f"\nUnsubscribe: {mark}\n\n\n")
    html = f"<p>{'long ' * 500}</p>\n.<p>dot-led</p>\n<a href=\"{mark}\">Unsubscribe ✓</a>\n"
    rendered = RenderedIssue("Ünïcödé subject — with a long tail " * 3, html, text, mark)
    template = build_template(rendered, from_address="Ledger <news@ledger.example.org>", list_id="morning",
                              list_name="Ledger", base_url=SITE.base_url, unsubscribe_mailbox=SITE.unsubscribe_mailbox,
                              message_id_prefix="digest.9.x", date=NOW, dkim_selector="news",
                              dkim_domain="ledger.example.org", dkim_private_key=key_file.read_text())
    for n in range(40):
        token = make_unsubscribe_token("a-real-secret", 1000 + n, "morning")
        raw = personalize(template, to=f"r{n}@example.com", token=token, personal_id=str(1000 + n))
        assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: txt), n
        assert not dkim.verify(raw.replace(b"r%d@example.com" % n, b"x@example.com", 1),
                               dnsfunc=lambda name, timeout=5: txt)


def test_directional_controls_from_feeds_never_reach_a_part():
    """Red team: U+202E and friends in a feed survived into the text and HTML parts (only subjects were clean)."""
    from digest import store
    from digest.models import Article

    trojan = "Council \u202eetov\u202c approves \u2066budget\u2069 \u200f"
    article = Article(id=7, uid="t", source_url="https://wire.example.org/feed", source_name=f"Wire {trojan}",
                      link="https://news.example.org/7", title=f"Title {trojan}", text=f"Body {trojan}. " * 3,
                      author="", categories=f"Local {trojan}", published_at=NOW, fetched_at=NOW, image_alt=trojan,
                      image_url="https://img.example.org/7.jpg", image_width=800, undated=False)
    item = store.to_item(article, summary=(f"Summary {trojan}.",))
    rendered = render([item])
    for part in (rendered.subject, rendered.html, rendered.text):
        assert not any(c in part for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
    assert "Council etov approves budget" in rendered.text
