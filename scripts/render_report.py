"""Render the e-mail report to PNG screenshots in headless Chromium, for people to look at.

    .venv/bin/python scripts/render_report.py --home .rca --period 2026-W47 --out docs

Runs `rca report --dry-run` in-process, then screenshots the HTML part at desktop and phone
widths with Debian's `/usr/bin/chromium` (not part of `make test`: CI has no browser). The
dry run's HTML already points at the chart files (the mail's `cid:` images), so Chromium shows
what a mail client would. Also writes a self-contained copy (charts as data: URIs) beside the
pictures. Without a store, run `HF_HUB_OFFLINE=1 .venv/bin/rca demo` first.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageChops

from rca.report.job import run_report
from rca.settings import get_settings

CHROMIUM = "/usr/bin/chromium"
#: (file suffix, window width in CSS px): a desktop mail pane and a phone.
WIDTHS = (("", 900), ("-phone", 390))
#: Tall enough for the whole report; the empty bottom is trimmed afterwards.
WINDOW_HEIGHT = 6000
PHONE_SCALE = 1  # 2 matches a phone's screen but triples the bytes in docs/


def screenshot(html: Path, png: Path, width: int, scale: int = 1) -> None:
    """One headless Chromium screenshot, isolated from any profile and the network."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
             f"--force-device-scale-factor={scale}", f"--window-size={width},{WINDOW_HEIGHT}",
             f"--screenshot={png}", html.resolve().as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    trim_bottom(png)


def trim_bottom(png: Path, margin: int = 16) -> None:
    """Cut the uniform background below the content (the window is taller than the page),
    and store the picture with a palette."""
    image = Image.open(png).convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((image.width - 1, image.height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    if box:
        bottom = min(image.height, box[3] + margin)
        image = image.crop((0, 0, image.width, bottom))
    # 256 colours: text stays crisp, the picture is a third of the bytes in the repository
    image.quantize(colors=256).save(png, optimize=True)


def self_contained(html: str, folder: Path) -> str:
    """The dry-run HTML with each chart inlined as a data: URI (one file for docs/)."""
    for chart in sorted(folder.glob("chart-*.png")):
        data = base64.b64encode(chart.read_bytes()).decode("ascii")
        html = html.replace(f'src="{chart.name}"', f'src="data:image/png;base64,{data}"')
    return html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--period", default="last-week")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--name", default="report-demo")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    settings = get_settings(args.home)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "dry-run"
        started = time.perf_counter()
        outcome = run_report(settings, period=args.period, dry_run=True, out=folder,
                             now=datetime.now(UTC))  # fmt: skip
        built = time.perf_counter() - started
        args.out.mkdir(parents=True, exist_ok=True)
        for suffix, width in WIDTHS:
            scale = PHONE_SCALE if suffix == "-phone" else 1
            target = args.out / f"{args.name}{suffix}.png"
            screenshot(folder / "report.html", target, width, scale)
            print(f"{target}  ({width} px wide, {target.stat().st_size // 1024} KB)")
        html = self_contained((folder / "report.html").read_text(encoding="utf-8"), folder)
        (args.out / f"{args.name}.html").write_text(html, encoding="utf-8")
        shutil.copy2(folder / "report.txt", args.out / f"{args.name}.txt")
    print(f"subject: {outcome.subject}")
    print(f"built in {built:.1f} s; message {outcome.bytes:,} bytes")


if __name__ == "__main__":
    main()
