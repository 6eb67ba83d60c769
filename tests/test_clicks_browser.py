"""Click analytics end to end in Debian's chromium (issue 26): a real send to aiosmtpd, its links followed through
the web app under a real uvicorn, and the console showing the counts.

A scanner (behind the site's proxy, from Microsoft's network) HEADs and then GETs every link of the received
message within a second; later a reader opens the message in chromium and clicks one story. The editor's
console, in chromium, shows that story with one person beside three requests, and every other with none.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from conftest import SECRET, copy_feed, free_port, import_readers, run_cli, serving, wait_until, write_config
from sqlalchemy import func, select, update
from test_browser import CHROMIUM, LAUNCH_ARGS, axe_violations, playwright_api
from test_clicks import BROWSER

from digest.config import load_settings
from digest.flows.runtime import Runtime
from digest.models import Delivery
from digest.models_clicks import Click, ClickOptOut
from digest.web.admin import accounts
from digest.web.app import create_app

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
PASSWORD = "correct horse battery staple"


def send_to_ann(tmp_path, smtp_server, port: int, analytics: str):
    """A site whose base_url is the uvicorn about to serve it, one reader, one real send: (config, message)."""
    copy_feed("wire.xml", tmp_path)
    config = write_config(tmp_path, smtp_port=smtp_server.port, extra_newsletter=analytics,
                          sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n')
    config.write_text(config.read_text().replace("https://gazette.example.org", f"http://127.0.0.1:{port}")
                      + '\n[web]\ntrusted_proxies = ["127.0.0.1/32"]\n')  # the site's own proxy on this machine
    (tmp_path / "readers.csv").write_text("email\nann@example.com\n")
    import_readers(config)
    result = run_cli("send", "daily", config=config)
    assert result.returncode == 0 and "1 sent" in result.stdout, result.stderr
    (received,) = smtp_server.messages
    return config, received.message


def test_the_console_shows_people_and_all_requests_after_a_real_send_and_real_clicks(tmp_path, smtp_server):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config, message = send_to_ann(tmp_path, smtp_server, port, "[newsletters.analytics]\nclicks = true")
    body = message.get_body(("html",)).get_content()
    links = list(dict.fromkeys(re.findall(rf"{re.escape(base)}/r/[A-Za-z0-9_.-]+", body)))
    assert len(links) == 4  # three stories and the hidden canary
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    with rt.sessions() as session, session.begin():
        accounts.add_operator(session, "ed", "editor", PASSWORD, datetime.now(timezone.utc))
        # The reader comes minutes after delivery (the first 30 s count as machines whatever they do).
        session.execute(update(Delivery).values(sent_at=datetime.now(timezone.utc) - timedelta(minutes=10)))
    (tmp_path / "message.html").write_text(body, encoding="utf-8")

    with serving(create_app(settings, rt.sessions, rt.transport_factory), port):
        scanner = {"User-Agent": BROWSER, "X-Forwarded-For": "40.94.1.7"}  # through the proxy, as it says
        with httpx.Client(headers=scanner) as client:
            assert {client.head(link).status_code for link in links} == {302}
            assert {client.get(link).status_code for link in links} == {302}
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
            reader = browser.new_context(user_agent=BROWSER)  # a reader's browser, not "HeadlessChrome"
            page = reader.new_page()
            page.goto((tmp_path / "message.html").as_uri())
            with page.expect_request(lambda r: "/r/" in r.url) as followed:
                page.get_by_role("link", name="Museum finds lost map of the old harbour").first.click(
                    no_wait_after=True)
            assert followed.value.url in links
            assert wait_until(lambda: _rows(rt) == 9), _rows(rt)  # written by the recorder, off the request path

            console = browser.new_page(viewport={"width": 1280, "height": 900})
            console.goto(base + "/admin")
            console.get_by_label("Name").fill("ed")
            console.get_by_label("Password").fill(PASSWORD)
            console.get_by_role("button", name="Log in").click()
            console.goto(base + "/admin/issues/1")
            playwright_api.expect(console.get_by_text("What readers clicked")).to_be_visible()
            rows = {title: console.locator("tr", has_text=title).first.locator("td.num").all_inner_texts()
                    for title in ("Museum finds lost map of the old harbour", "Storm warning for the coast on Friday")}
            assert axe_violations(console) == []
            browser.close()
    assert rows["Museum finds lost map of the old harbour"][-2:] == ["1", "3"]  # people, all requests
    assert rows["Storm warning for the coast on Friday"][-2:] == ["0", "2"]
    with rt.sessions() as session:
        verdicts = dict(session.execute(select(Click.verdict, func.count()).group_by(Click.verdict)).all())
    assert verdicts["head"] == 4 and verdicts["person"] == 1 and sum(verdicts.values()) == 9, verdicts


def _rows(rt) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(Click))



def test_a_reader_sees_per_reader_counting_and_switches_it_off_in_chromium(tmp_path, smtp_server):
    port = free_port()
    config, message = send_to_ann(tmp_path, smtp_server, port,
                                  "[newsletters.analytics]\nclicks = true\nper_reader = true")
    manage = re.search(r"Manage your subscriptions: (\S+)", message.get_body(("plain",)).get_content()).group(1)
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    with serving(create_app(settings, rt.sessions, rt.transport_factory), port):
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
            page = browser.new_page()
            page.goto(manage)
            box = page.locator("#clicks")
            playwright_api.expect(box.get_by_role("heading", name="Your clicks")).to_be_visible()
            playwright_api.expect(box).to_contain_text("tied to you. After 30 days only totals are kept.")
            for width in (375, 1280):
                page.set_viewport_size({"width": width, "height": 900})
                assert axe_violations(page) == [], width
            box.get_by_role("button", name="Count my clicks only in totals").click()
            playwright_api.expect(page.get_by_role("status")).to_contain_text("your clicks count only in totals")
            playwright_api.expect(page.locator("#clicks")).to_contain_text("never tied to you")
            assert axe_violations(page) == []
            browser.close()
    with rt.sessions() as session:
        assert session.scalars(select(ClickOptOut.subscriber_id)).all() == [1]
