"""Samples a person can trust, in headless Chromium: a fresh install (empty checkpoints and data folders) with
a demo run shipped opens the demo, whose grid carries D's verdicts and whose lab digit shows its nearest real
digits; a short training then charts precision and recall. Needs Debian's ``chromium`` (see tests/browser.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from browser import (
    EXCEPTION,
    WAIT_MS,
    click,
    digit_src,
    expect,
    goto,
    launch,
    open_page,
    require_chromium,
    set_number,
    streamlit_server,
    wait_until,
)
from helpers import tiny_demo

require_chromium()
sync_api = pytest.importorskip("playwright.sync_api")


def visible(locator) -> None:
    """Wait for ``locator`` to be visible: a loaded machine may take a while (Playwright's default is 5 s)."""
    expect()(locator).to_be_visible(timeout=WAIT_MS)


def shots(page, folder: Path) -> None:
    """The Train page's grid and quality block, and the Explore page's lab, in a viewport tall enough for each."""
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.wait_for_timeout(6000)  # the live panel's next refresh draws at the new size
    page.screenshot(path=str(folder / "trust-train.png"))
    goto(page, "Explore")
    wait_until(page, lambda: digit_src(page) != "", "the lab's digit")
    visible(page.get_by_text(re.compile(r"Judge features: median distance")))
    page.wait_for_timeout(3000)
    page.screenshot(path=str(folder / "trust-explore.png"))


def charts(page) -> int:
    return page.locator('[data-testid="stVegaLiteChart"]').count()


def test_demo_verdicts_neighbours_then_precision_recall_after_training(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANLAB_DEMO_DIR", str(tiny_demo(tmp_path / "demo")))
    checkpoints, data = tmp_path / "checkpoints", tmp_path / "data"  # empty: the offline digits, bundled judge
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            with streamlit_server(checkpoints, data, tmp_path / "streamlit.log") as url:
                page = open_page(browser, url)
                try:
                    # The demo opens by itself; its grid carries D's verdicts (legend, caption, histogram).
                    visible(page.get_by_text(re.compile(r"The demo run \(2 epochs")))
                    grid = page.locator('[data-testid="stImage"]').filter(has_text="fixed noise · EMA generator")
                    visible(grid.locator("img"))
                    visible(page.get_by_text("D says real (p = 1)"))
                    visible(page.get_by_text(re.compile(r"Border: D's probability that each image is real")))
                    visible(page.get_by_text(re.compile(r"D's output on \d+ real training digits")))

                    # The lab: a digit and its 5 nearest training digits in both spaces.
                    goto(page, "Explore")
                    wait_until(page, lambda: digit_src(page) != "", "the lab's digit")
                    for space in ("judge features", "pixels"):
                        visible(page.get_by_text(f"5 nearest training digits in {space}").first)  # lab digit
                    visible(page.get_by_text(re.compile(r"Judge features: median distance")))

                    # One click trains a run of one's own; its evaluations chart precision and recall.
                    goto(page, "Train")
                    set_number(page, "Epochs", 1)
                    click(page, "btn_train")
                    expect()(page.get_by_text(re.compile(r"Epoch 1: precision \d\.\d\d \(real vs real"))) \
                        .to_be_visible(timeout=120_000)
                    assert page.get_by_text(re.compile(r"The demo run \(")).count() == 0
                    assert charts(page) >= 5  # losses, D output, D's histogram, FID, precision/recall, ...
                    assert page.locator(EXCEPTION).count() == 0
                    if os.environ.get("GANLAB_TRUST_SHOTS"):  # docs/trust-*.png: the views as a person sees them
                        shots(page, Path(os.environ["GANLAB_TRUST_SHOTS"]))
                except Exception:
                    page.screenshot(path=str(tmp_path / "trust_failure.png"), full_page=True)
                    raise
        finally:
            browser.close()
