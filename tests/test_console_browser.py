"""The console in Debian's chromium (Playwright): an editor reviews and approves a draft and the SMTP server
gets exactly that; every main screen at 1280 and 375 px passes axe-core with 0 violations, and is saved
under docs/console/ as the screenshots the README shows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import REPO, SECRET, free_port, serving
from test_browser import CHROMIUM, LAUNCH_ARGS, axe_violations, playwright_api
from test_console import PASSWORD, make_console

from digest.flows import editorial, gathering
from digest.flows.runtime import Runtime
from digest.web.admin import accounts
from digest.web.app import create_app
from subscribers import Origin, add_subscriber

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
SHOTS = REPO / "docs" / "console"


@pytest.fixture
def served(tmp_path, smtp_server):

    port = free_port()
    settings, rt, clock = make_console(tmp_path, smtp_server.port, extra_newsletter='review = "required"')
    config = settings.config_path
    config.write_text(config.read_text().replace("https://gazette.example.org", f"http://127.0.0.1:{port}"))
    from digest.config import load_settings

    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    with rt.sessions() as session, session.begin():
        accounts.add_operator(session, "ed", "editor", PASSWORD, rt.now(), email="ed@example.org")
        accounts.add_operator(session, "ann", "admin", PASSWORD, rt.now())
        for address in ("r1@example.com", "r2@example.com"):
            add_subscriber(session, address, "daily", confirmed=True, origin=Origin("test"), now=rt.now())
    gathering.gather_all(rt)
    with serving(create_app(settings, rt.sessions, rt.transport_factory), port):
        yield f"http://127.0.0.1:{port}", rt


def log_in(page, base, name):
    page.goto(base + "/admin")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    playwright_api.expect(page.get_by_role("button", name=f"Log out {name}")).to_be_visible()


def test_editor_reviews_in_a_real_browser_and_screens_pass_axe(served, smtp_server):
    base, rt = served
    newsletter = rt.settings.newsletters[0]
    slot_at = rt.now() + timedelta(minutes=30)
    row, _ = editorial.prepare(rt, newsletter, "browser-slot", slot_at, fetch=False)
    items = editorial.items_of(row)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/admin/login")
        assert axe_violations(page) == []
        log_in(page, base, "ed")
        page.goto(f"{base}/admin/review/{row.id}")
        assert axe_violations(page) == []  # the editor's page in review, preview beside the items
        page.screenshot(path=str(SHOTS / "review-open-1280.png"), full_page=True)
        page.locator(f"#item-{items[0]['id']}").get_by_role("checkbox", name="Keep").uncheck()
        page.locator(f"#item-{items[1]['id']}").locator("summary").click()
        page.locator(f"#summary-{items[1]['id']}").fill("A summary the editor wrote.")
        page.locator(f"#position-{items[0]['id']}").fill("2")  # reordered in the same save
        page.locator(f"#position-{items[1]['id']}").fill("1")
        page.get_by_role("button", name="Save all changes").first.click()
        playwright_api.expect(page.get_by_role("status")).to_have_text("Saved.")
        assert "[left out]" in page.locator(f"#item-{items[0]['id']}").inner_text()
        playwright_api.expect(page.get_by_role("heading", name="What changed since it was drafted")).to_be_visible()
        page.set_viewport_size({"width": 375, "height": 900})
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / "review-open-375.png"))
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_label("Comment with the approval (optional)").fill("Checked the figures.")
        page.get_by_role("button", name="Approve this version").click()
        playwright_api.expect(page.get_by_role("status")).to_contain_text("Approved")
        rt.now = lambda: slot_at
        assert editorial.fire(rt, "daily", "browser-slot", slot_at, timedelta(minutes=30)).endswith("2 sent")
        received = [m.message for m in smtp_server.messages if "r1@example.com" in m.rcpt_tos]
        html = received[0].get_body(("html",)).get_content()
        assert "A summary the editor wrote." in html and items[0]["title"] not in html

        page.context.clear_cookies()
        log_in(page, base, "ann")
        screens = {"dashboard": "/admin", "newsletter": "/admin/newsletters/daily", "issues": "/admin/issues",
                   "issue": "/admin/issues/1", "review": f"/admin/review/{row.id}", "next": "/admin/newsletters/daily/next",
                   "readers": "/admin/readers?q=r1", "audit": "/admin/audit", "operators": "/admin/operators",
                   "account": "/admin/account", "apikeys": "/admin/apikeys"}
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            for name, path in screens.items():
                page.goto(base + path)
                assert axe_violations(page) == [], (name, width)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
                page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=width == 1280)
        browser.close()
