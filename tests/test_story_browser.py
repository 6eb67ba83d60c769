"""A draft's stories in Debian's chromium (Playwright): the editor sees a story's versions, splits one off and merges
two stories through the forms (the console's login, CSRF token and same-origin POST, as a browser sends them);
the page passes axe-core with 0 violations at 1280 and 375 px and does not scroll sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_browser import CHROMIUM, LAUNCH_ARGS, axe_violations, playwright_api
from test_console_browser import log_in, served  # noqa: F401  (served: the fixture)
from test_story_memory import add_article, draft_row
from test_stories import CHILE, JAPAN, WIRE

from digest.flows import editorial

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


def test_an_editor_splits_and_merges_stories_in_a_real_browser(served):  # noqa: F811
    base, rt = served
    clock = rt.now
    wire = add_article(rt, clock, "s-wire", "Wire", "Portugal approves sale of TAP stake to Lufthansa", WIRE, 2)
    post = add_article(rt, clock, "s-post", "Post", "Lisbon lawmakers back airline deal", WIRE[:-60], 1)
    chile = add_article(rt, clock, "s-chile", "Wire", "Magnitude 6.4 earthquake strikes central Chile", CHILE, 0.5)
    japan = add_article(rt, clock, "s-japan", "Post", "Magnitude 6.1 earthquake strikes northeastern Japan", JAPAN,
                        0.5)
    row, _ = editorial.prepare(rt, rt.settings.newsletters[0], "stories-slot", rt.now() + timedelta(hours=1),
                               fetch=False)
    assert next(e for e in editorial.items_of(row) if e["id"] == post)["versions"] == [wire]
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(page, base, "ed")
        page.goto(f"{base}/admin/review/{row.id}")
        page.get_by_role("link", name="Stories and their versions").click()
        story = page.locator(f"#story-{post}")
        playwright_api.expect(story).to_contain_text("Portugal approves sale of TAP stake to Lufthansa")
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            assert axe_violations(page) == [], width
            assert page.evaluate("document.documentElement.scrollWidth") <= width, width
        page.set_viewport_size({"width": 1280, "height": 900})
        story.get_by_role("button", name="Not this story").click()
        playwright_api.expect(page.get_by_role("status")).to_have_text("Saved.")
        playwright_api.expect(page.locator(f"#story-{wire}")).to_contain_text("No other version.")
        merge = page.locator(f"#story-{japan}")
        merge.get_by_label("The same story as").select_option(str(chile))
        merge.get_by_role("button", name="Merge").click()
        playwright_api.expect(page.get_by_role("status")).to_have_text("Saved.")
        playwright_api.expect(page.locator(f"#story-{chile}")).to_contain_text("northeastern Japan")
        assert page.locator(f"#story-{japan}").count() == 0
        assert axe_violations(page) == []
        browser.close()
    ids = {entry["id"] for entry in editorial.items_of(draft_row(rt, row.id))}
    assert {wire, post, chile} <= ids and japan not in ids

