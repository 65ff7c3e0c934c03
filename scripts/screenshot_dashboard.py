"""Screenshots of every dashboard page, for docs/ and for a person to look at.

    python scripts/screenshot_dashboard.py --home .rca      # after `make demo`

Starts `rca serve` on the home, issues a key named "screenshots", logs in through the login
page in headless Chromium (Debian's /usr/bin/chromium driven by Playwright; no browser
download), and writes docs/dashboard-*.png (desktop) and docs/dashboard-week-phone.png. Prints
each page's load time as the browser saw it.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from rca.api.auth import add_key
from rca.api.server import serving
from rca.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=ROOT / ".rca")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    settings = Settings(home=args.home)
    key = add_key(settings.resolved_api_keys_file, role="admin", name="screenshots", replace=True)
    with serving(args.home) as base:
        while json.loads(urllib.request.urlopen(f"{base}/readyz").read()).get("detail"):
            time.sleep(0.5)  # the background warm-up of every theme page
        shoot(base, key, args)


def shoot(base: str, key: str, args: argparse.Namespace) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/ui/login")
        page.screenshot(path=args.out / "dashboard-login.png")
        page.fill("#api_key", key)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/ui/")
        timed(page, f"{base}/ui/", args.out / "dashboard-week.png")
        spike = page.locator("section[aria-labelledby=sp] tbody a").first
        link = spike if spike.count() else page.locator("section[aria-labelledby=dr] tbody a").first
        theme_url = base + link.get_attribute("href")
        timed(page, theme_url, args.out / "dashboard-theme.png")
        timed(page, f"{base}/ui/model", args.out / "dashboard-model.png")
        page.goto(f"{base}/ui/classify")
        page.fill("#text", "My card payment was declined at a shop in Berlin, twice today.")
        page.click("main button[type=submit]")
        page.wait_for_selector("[aria-live=polite]")
        page.screenshot(path=args.out / "dashboard-classify.png", full_page=True)
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        phone.context.add_cookies(page.context.cookies())
        timed(phone, f"{base}/ui/", args.out / "dashboard-week-phone.png")
        browser.close()


def timed(page, url: str, path: Path) -> None:
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_load_state("load")
    print(f"{url}: {1000 * (time.perf_counter() - started):.0f} ms")
    page.screenshot(path=path, full_page=True)


if __name__ == "__main__":
    main()
