"""The dashboard in a real browser: headless Chromium (Debian's package, driven by Playwright;
no browser download) against `rca serve` on a loopback port.

Log in, open this week, follow a driver to its theme, download the CSV, log out; a page without
a session redirects to login. Skipped when /usr/bin/chromium is absent, unless
RCA_REQUIRE_BROWSER=1 (CI sets it, so there a missing browser fails instead of skipping).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rca.api.auth import hash_key, new_key
from rca.api.server import serving
from rca.settings import Settings

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("RCA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
KEY = new_key()

if not shutil.which(CHROMIUM):
    if os.environ.get("RCA_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is required (apt-get install chromium)")
    pytest.skip(f"no {CHROMIUM}", allow_module_level=True)


@pytest.fixture(scope="module")
def base(fitted_demo: Settings):
    env = {"RCA_UI_SECRET": "e2e-secret", "RCA_API_KEYS": f'["reader:{hash_key(KEY)}:e2e"]'}
    with serving(fitted_demo.home, env=env, timeout_s=120) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def test_log_in_follow_a_driver_download_and_log_out(base: str, browser, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/ui/")
    assert page.url.startswith(f"{base}/ui/login")  # no session: the login page

    page.fill("#api_key", KEY)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/")
    assert page.locator("h1").inner_text().startswith("Week")
    cookie = next(c for c in context.cookies() if c["name"] == "rca_session")
    assert cookie["httpOnly"] and KEY not in cookie["value"]

    driver = page.locator("section[aria-labelledby=dr] tbody a").first
    label = driver.inner_text()
    driver.click()
    page.wait_for_url(f"{base}/ui/themes/**")
    assert label.split("/")[0].strip() in page.locator("h1").inner_text()
    assert page.locator("svg.chart").count() == 1

    with page.expect_download() as info:
        page.click("a.download")
    saved = tmp_path / "cases.csv"
    info.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert text.startswith('"kind","rank","contact_id"') and text.count("\n") >= 2

    page.click("header button[type=submit]")  # log out
    page.wait_for_url(f"{base}/ui/login")
    page.goto(f"{base}/ui/model")
    assert page.url.startswith(f"{base}/ui/login")
    context.close()


def test_open_the_vendors_page_and_drill_into_a_site(base: str, browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/ui/vendors")
    page.fill("#api_key", KEY)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/vendors")
    assert page.locator("h1").inner_text().startswith("Vendors")
    page.click("nav[aria-label=Levels] a:text('Sites')")
    page.wait_for_url("**level=site**")
    assert page.locator("svg.chart[aria-labelledby='oe-title oe-desc']").count() == 1
    site = page.locator("section[aria-labelledby=sc] tbody a").first
    name = site.inner_text()
    site.click()
    page.wait_for_url(f"{base}/ui/vendors/site/**")
    assert page.locator("h1").inner_text().startswith(name)
    assert page.locator("section[aria-labelledby=tr] svg.chart").count() == 3
    assert page.locator("a[aria-current=page]").inner_text() == "Vendors"
    context.close()


def test_pages_are_keyboard_reachable_and_labelled(base: str, browser) -> None:
    page = browser.new_page()
    page.goto(f"{base}/ui/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.locator("label[for=api_key]").count() == 1
    page.close()


def test_switch_the_themes_page_to_parent_groups_and_open_a_theme(base: str, browser) -> None:
    """Themes from the navigation, the Parent groups switch (the period picker keeps it), and
    a theme listed under its group opens its page."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/ui/")
    page.fill("#api_key", KEY)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/")
    page.click("nav a[href='/ui/themes']")
    page.wait_for_url(f"{base}/ui/themes")
    assert page.locator("h1").inner_text().startswith("Themes")
    page.click("nav[aria-label=Granularity] a:text('Parent groups')")
    page.wait_for_url("**granularity=parent**")
    assert page.locator("thead th").first.inner_text() == "Group"
    assert page.locator("h1").inner_text().startswith("Parent groups")
    picker = page.locator("form.picker input[name=granularity]")  # another period keeps it
    assert picker.get_attribute("value") == "parent"
    member = page.locator("ul.members a").first
    name = member.inner_text()
    member.click()
    page.wait_for_url(f"{base}/ui/themes/**")
    assert name in page.locator("h1").inner_text()
    context.close()
