"""Page heights, printed pages and screenshots of the citizen pages, for before/after comparisons.

    .venv/bin/python -m bench.page_layout http://127.0.0.1:8000 --shots /tmp/shots --tag after

Prints, per view and width (phone 390 px, desktop 1366 px), the page's full height in CSS
pixels, and the number of A4 pages the plan prints as (Chromium's print path, page.pdf).
Needs the python playwright package (the test extra) and Chromium (KUSEI_CHROMIUM or
/usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import sync_playwright

VIEWS = {
    "plan": "/id/plan/141089/2024",
    "plan-izumi": "/id/plan/141160/2024",
    "ward": "/ward/141089",
    "years": "/ward/141089/years",
    "compare": "/compare",
    "search": "/search?q=" + quote("防災"),
}
PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")
WIDTHS = {"phone": (390, 844), "desktop": (1366, 900)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--shots", type=Path, help="directory for full-page screenshots")
    parser.add_argument("--tag", default="", help="suffix of the screenshot names (before, after)")
    args = parser.parse_args()
    chromium = os.environ.get("KUSEI_CHROMIUM", "/usr/bin/chromium")
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        for width_name, (width, height) in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
            page = context.new_page()
            for name, path in VIEWS.items():
                page.goto(args.url + path)
                full = page.evaluate("document.documentElement.scrollHeight")
                print(f"{name:12} {width_name:8} {full:7d} px")
                if args.shots:
                    page.screenshot(path=str(args.shots / f"{name}-{width_name}-{args.tag}.png"), full_page=True)
            context.close()
        page = browser.new_page()
        page.goto(args.url + VIEWS["plan"])
        pdf = page.pdf(format="A4")
        pages = len(PDF_PAGE.findall(pdf))
        print(f"plan printed: {pages} A4 pages")
        if args.shots:
            page.emulate_media(media="print")
            page.screenshot(path=str(args.shots / f"print-desktop-{args.tag}.png"), full_page=True)
            (args.shots / f"plan-{args.tag}.pdf").write_bytes(pdf)
        browser.close()


if __name__ == "__main__":
    main()
