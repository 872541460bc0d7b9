"""The HTML report in headless Chromium: the detail table shows one page at a time and a gallery
card opens the page of its row. Skipped like tests/test_service_e2e.py without Chromium or
playwright (a failure under PHOTOCHECK_REQUIRE_E2E=1). Load time at 300,000 rows is measured
by benchmarks/report_scale.py, not here."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from photocheck import i18n
from photocheck.report import PAGE_ROWS, write_report

CHROMIUM = Path(os.environ.get("PHOTOCHECK_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("PHOTOCHECK_REQUIRE_E2E") == "1"

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    sync_playwright = None
_reason = ("the playwright package is not installed" if sync_playwright is None else
           None if CHROMIUM.is_file() else f"no Chromium at {CHROMIUM}")
if _reason is not None:
    if REQUIRED:
        pytest.fail(f"PHOTOCHECK_REQUIRE_E2E=1 but {_reason}", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)


def test_report_pages_its_details_and_cards_open_their_page(tmp_path):
    rows = [{"path": f"arsip/{k:03d}.jpg", "sha256": f"{k:064x}", "decision": "eligible",
             "reasons": ["blurry"], "measures": {"edge_blur_px": 4.0 - k / 100}}
            for k in range(80)]
    source = tmp_path / "hasil.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    html = write_report(source, tmp_path / "laporan.html", thumbnails=False, worst=80)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(html.as_uri())
            pages = len(rows) // PAGE_ROWS + 1
            expect(page.locator("#page-of")).to_have_text(f"Halaman 1 dari {pages}")
            assert page.locator("tbody.page > tr:visible").count() == PAGE_ROWS
            page.click("#page-next")
            expect(page.locator("#page-of")).to_have_text(f"Halaman 2 dari {pages}")
            # The 60th card's row is on page 3: following the card shows that page.
            page.click('a.card[href="#photo-60"]')
            expect(page.locator("#page-of")).to_have_text(f"Halaman 3 dari {pages}")
            expect(page.locator("#photo-60")).to_be_visible()
            expect(page.locator("#photo-10")).to_be_hidden()
            text = page.inner_text("body")
            assert i18n.text("review.blurry", "en") not in text
            assert i18n.reason_text("blurry", "id") in text
        finally:
            browser.close()
