"""Recording an SOP change from the dashboard in a real browser (headless Chromium, driven by
Playwright, as in test_dashboard_e2e.py) against `rca serve` on a writable copy of the fitted
demo, and seeing it on the theme page; then an escalation's deep-dive page from the period's
escalations."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import copy_home

from rca.api.auth import hash_key, new_key
from rca.api.server import serving
from rca.settings import Settings

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("RCA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
WRITER, READER = new_key(), new_key()

if not shutil.which(CHROMIUM):
    if os.environ.get("RCA_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is required (apt-get install chromium)")
    pytest.skip(f"no {CHROMIUM}", allow_module_level=True)


@pytest.fixture(scope="module")
def base(fitted_demo: Settings, tmp_path_factory: pytest.TempPathFactory):
    home = copy_home(fitted_demo, tmp_path_factory.mktemp("sop-e2e") / "home")
    keys = f'["writer:{hash_key(WRITER)}:sop-author", "reader:{hash_key(READER)}:pm"]'
    env = {"RCA_UI_SECRET": "e2e-secret", "RCA_API_KEYS": keys}
    with serving(home.home, env=env, timeout_s=120) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def _login(browser, base: str, key: str):
    page = browser.new_context().new_page()
    page.goto(f"{base}/ui/login")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/")
    return page


def test_record_a_change_from_the_theme_page_and_see_it_there(base: str, browser) -> None:
    page = _login(browser, base, WRITER)
    page.locator("section[aria-labelledby=dr] tbody a").first.click()
    page.wait_for_url(f"{base}/ui/themes/**")
    theme_url = page.url.split("?")[0]
    assert page.locator("#sop").inner_text().count("No SOP change recorded") == 1
    page.fill("#sop-title", "Refund macro asks for the order number first")
    page.fill("#sop-effective", "2026-10-14")
    page.fill("#sop-description", "Agents confirm the order before promising a date.")
    page.click("form.sop-form button[type=submit]")
    page.wait_for_url(f"{theme_url}?recorded=SOP-*")
    change = page.locator("article.sop-change")
    assert change.count() == 1
    text = change.inner_text()
    assert "Refund macro asks for the order number first" in text
    assert "effective 2026-10-14" in text and "sop-author" in text
    assert "repeat rate" in text and "escalation rate" in text
    assert page.locator("article.sop-change svg.chart line.mark").count() == 1
    assert page.locator("[role=status]").inner_text().startswith("Recorded SOP-")
    page.context.close()


def test_a_reader_gets_no_form_and_follows_an_escalation_to_its_deep_dive(
    base: str, browser
) -> None:
    page = _login(browser, base, READER)
    page.click("nav a[href='/ui/escalations']")
    page.wait_for_url(f"{base}/ui/escalations")
    assert page.locator("h1").inner_text().startswith("Escalations")
    page.locator("a.dive").first.click()
    page.wait_for_url(f"{base}/ui/contacts/**")
    assert page.locator("h1").inner_text().startswith("Deep dive")
    assert page.locator("#ch").count() == 1 and page.locator("table.chain tbody tr").count() >= 1
    similar = page.locator("ol.similar li")
    assert similar.count() >= 3
    assert "resolution:" in similar.first.inner_text()
    page.locator("a[href^='/ui/themes/']").first.click()
    page.wait_for_url(f"{base}/ui/themes/**")
    assert "needs a writer key" in page.locator("#sop").inner_text()
    assert page.locator("form.sop-form").count() == 0
    page.context.close()
