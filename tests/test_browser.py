"""One real browser (Debian's chromium, headless, driven by Playwright) through the whole reader journey:
signup -> confirmation email -> confirm -> digest received -> one-click unsubscribe."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from conftest import DATA, SECRET, free_port, run_cli, serving, write_config

CHROMIUM = Path("/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
if os.environ.get("CI") and not CHROMIUM.exists():  # .ci/run installs it: in CI its absence is a failure
    raise RuntimeError("CI: /usr/bin/chromium is missing although .ci/run installs it")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def axe_violations(page) -> list:
    import axe_playwright_python

    source = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    page.evaluate(source)
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa',
        'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}, resultTypes: ['violations']})""")
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]


@pytest.fixture
def site(tmp_path, smtp_server):
    """`digest serve`'s app under uvicorn on 127.0.0.1, with base_url pointing at it."""

    from digest.flows.runtime import Runtime
    from digest.config import load_settings
    from digest.web.app import create_app

    port = free_port()
    shutil.copy(DATA / "wire.xml", tmp_path / "wire.xml")
    config = write_config(tmp_path, smtp_port=smtp_server.port, extra_newsletter='roundup_schedule = "0 8 * * 1"',
                          sources="""
        [[newsletters.sources]]
        name = "Wire"
        url = "wire.xml"

        [[newsletters.sections]]
        title = "Culture"
        categories = ["Culture"]

        [[newsletters.sections]]
        title = "Everything else"
        """)
    config.write_text(config.read_text().replace("https://gazette.example.org", f"http://127.0.0.1:{port}"))
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    with serving(create_app(settings, rt.sessions, rt.transport_factory), port):
        yield f"http://127.0.0.1:{port}", config, rt


def wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_reader_journey_in_a_real_browser(site, smtp_server, tmp_path):
    base, config, rt = site
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        page.goto(base + "/")
        assert axe_violations(page) == []  # with "Email me my link" below the newsletters (issue 25)
        form = page.locator("form.signup").first
        email = form.get_by_placeholder("Enter your email to subscribe")
        email.fill("not-an-address")
        form.get_by_role("button", name="Subscribe").click()
        playwright_api.expect(form.get_by_role("status")).to_have_text("Please, enter correct email address")

        email.fill("reader@example.com")
        form.get_by_role("button", name="Subscribe").click()
        playwright_api.expect(form.get_by_role("status")).to_have_text(
            "Thank you for signing up for this newsletter. We\u2019ve sent you a confirmation email.")
        assert wait_for(lambda: len(smtp_server.messages) == 1)
        confirmation = smtp_server.messages[0].message.get_body(("plain",)).get_content()
        link = re.search(r"(http://127\.0\.0\.1:\d+/confirm\?token=\S+)", confirmation).group(1)

        page.goto(link)
        page.get_by_role("button", name="Confirm subscription").click()
        playwright_api.expect(page.get_by_role("heading", level=1)).to_have_text("Successfully subscribed")
        page.screenshot(path=str(tmp_path / "confirmed.png"))

        sent = run_cli("send", "daily", config=config)
        assert sent.returncode == 0, sent.stderr
        digest = smtp_server.messages[-1].message
        assert digest["To"] == "reader@example.com" and "Museum finds lost map" in digest["Subject"]
        one_click = re.search(r"<(http://[^>]+)>", digest["List-Unsubscribe"]).group(1)
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # The reader's own page, from the digest's footer (issue 25): a pause, then resume; axe at both widths.
        manage = re.search(r"Manage your subscriptions: (\S+)", digest.get_body(("plain",)).get_content()).group(1)
        page.goto(manage)
        playwright_api.expect(page.get_by_role("heading", level=1)).to_have_text("Your subscriptions")
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            assert axe_violations(page) == [], width
        page.get_by_label("Pause for").select_option("2")
        page.get_by_role("button", name="Pause", exact=True).click()
        playwright_api.expect(page.get_by_role("status")).to_contain_text("Gazette Daily is paused until")
        assert axe_violations(page) == []
        page.get_by_role("button", name="Resume now").click()
        playwright_api.expect(page.get_by_role("status")).to_contain_text("is no longer paused")
        page.set_viewport_size({"width": 375, "height": 800})

        # One section only: the next issue, with none of it, is not sent to this reader.
        page.get_by_role("checkbox", name="Everything else").uncheck()
        page.get_by_role("button", name="Save sections").click()
        playwright_api.expect(page.get_by_role("status")).to_contain_text("Your sections of Gazette Daily are saved")
        assert page.get_by_role("checkbox", name="Culture").is_checked()
        assert not page.get_by_role("checkbox", name="Everything else").is_checked()
        assert axe_violations(page) == []
        shutil.copy(DATA / "desk.atom", tmp_path / "wire.xml")  # transport and unlabelled stories: no culture
        count = len(smtp_server.messages)
        second = run_cli("send", "daily", config=config)
        assert second.returncode == 0 and "0 sent" in second.stdout, second.stdout + second.stderr
        assert len(smtp_server.messages) == count

        # The weekly roundup instead of every issue: the week's culture story, once.
        page.get_by_role("radio", name="A weekly roundup of the best").check()
        page.get_by_role("button", name="Save how often").click()
        playwright_api.expect(page.get_by_role("status")).to_contain_text("as a weekly roundup")
        weekly = run_cli("roundup", "daily", config=config)
        assert weekly.returncode == 0 and "1 sent" in weekly.stdout, weekly.stdout + weekly.stderr
        roundup = smtp_server.messages[-1].message
        assert roundup["To"] == "reader@example.com" and "the week" in roundup["Subject"]
        body = roundup.get_body(("plain",)).get_content()
        assert "Museum finds lost map" in body and "Ferry service" not in body and "cycle lanes" not in body
        page.get_by_role("radio", name="Every issue").check()
        page.get_by_role("button", name="Save how often").click()
        playwright_api.expect(page.get_by_role("status")).to_contain_text("with every issue")
        page.get_by_role("checkbox", name="Everything else").check()
        page.get_by_role("button", name="Save sections").click()
        playwright_api.expect(page.get_by_role("status")).to_contain_text("Your sections of Gazette Daily are saved")

        # A new address, confirmed from the mail the new mailbox received.
        page.get_by_label("New email address").fill("reader.new@example.org")
        page.get_by_role("button", name="Send me the link").click()
        playwright_api.expect(page.get_by_role("status")).to_contain_text("We sent a link to reader.new@example.org")
        assert wait_for(lambda: smtp_server.messages[-1].rcpt_tos == ["reader.new@example.org"])
        mail = smtp_server.messages[-1].message.get_body(("plain",)).get_content()
        page.goto(re.search(r"(http://127\.0\.0\.1:\d+/preferences/move\?token=\S+)", mail).group(1))
        page.get_by_role("button", name="Confirm my new address").click()
        playwright_api.expect(page.get_by_role("status")).to_contain_text("Your newsletters now come to this address")
        assert wait_for(lambda: smtp_server.messages[-1].rcpt_tos == ["reader@example.com"])  # the old one is told
        shutil.copy(DATA / "notes.json", tmp_path / "wire.xml")
        moved = run_cli("send", "daily", "--force", config=config)
        assert moved.returncode == 0, moved.stderr
        assert smtp_server.messages[-1].rcpt_tos == ["reader.new@example.org"]

        # What a mail provider does when the reader presses its Unsubscribe button (RFC 8058); the first
        # digest's link still names this reader, now at the new address.
        reply = page.request.post(one_click, form={"List-Unsubscribe": "One-Click"})
        assert reply.status == 200 and reply.text() == "Unsubscribed from Gazette Daily."
        page.goto(one_click)  # the link in the body still shows a page, changing nothing more
        playwright_api.expect(page.get_by_role("button", name="Unsubscribe")).to_be_visible()
        browser.close()

    again = run_cli("send", "daily", "--force", config=config)
    assert again.returncode == 0 and "0 sent" in again.stdout
