"""End to end in a real headless Chromium: ``streamlit run app.py`` driven by Playwright.

Train, watch the step counter rise and the charts render, move a latent slider on the Explore page and see
the digit change, Pause, Stop, restart the server and Resume from the saved epoch; never a Streamlit
exception. Needs Debian's ``chromium`` (see tests/browser.py).
Set ``GANLAB_SCREENSHOT=path.png`` to save a screenshot of the page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gan_core.data import write_bundled_mnist

from browser import (
    EXCEPTION,
    click,
    digit_src,
    expect,
    goto,
    launch,
    metric,
    open_page,
    progress_epoch,
    progress_step,
    require_chromium,
    set_number,
    streamlit_server,
    wait_until,
)

require_chromium()
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 real digits (all labels) as IDX files, so no download is attempted and epochs are short."""
    return write_bundled_mnist(tmp_path_factory.mktemp("data"), 1000)


def test_train_explore_pause_stop_restart_resume(tmp_path: Path, data_dir: Path) -> None:
    checkpoints = tmp_path / "checkpoints"
    log = tmp_path / "streamlit.log"
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            with streamlit_server(checkpoints, data_dir, log) as url:
                page = open_page(browser, url)
                # Tiny and fast: 1,000 digits in batches of 50 = 20 cheap steps per epoch.
                set_number(page, "Batch size", 50)
                expect()(page.get_by_label("Batch size", exact=True)).to_have_value("50")
                set_number(page, "Epochs", 40)
                expect()(page.get_by_label("Epochs", exact=True)).to_have_value("40")
                page.get_by_text("Model and logging").click()  # no quality judge: it would train first
                set_number(page, "Evaluate every (epochs)", 0)
                expect()(page.get_by_label("Evaluate every (epochs)", exact=True)).to_have_value("0")
                click(page, "btn_train")

                # The live panel refreshes by itself: the step counter rises, the charts render.
                wait_until(page, lambda: progress_step(page) > 0, "the first steps")
                first = progress_step(page)
                wait_until(page, lambda: progress_step(page) > first, "the step counter to rise")
                page.locator('[data-testid="stVegaLiteChart"]').first.locator("canvas, svg").first.wait_for()
                held_out = re.compile(r"Data: MNIST: 800 training images .* \(\+200 held out")
                expect()(page.get_by_text(held_out)).to_be_visible()

                click(page, "btn_pause")
                wait_until(page, lambda: metric(page, "Status") == "paused", "paused")

                # Move a latent slider with the keyboard: only the lab reruns and the digit changes.
                goto(page, "Explore")
                page.locator(".st-key-lab_z_0").scroll_into_view_if_needed()
                before = digit_src(page)
                assert before
                thumb = page.locator('.st-key-lab_z_0 input[type="range"]')
                key = "ArrowRight" if float(thumb.input_value()) < 0.5 else "ArrowLeft"
                thumb.focus()
                for _ in range(25):
                    thumb.press(key)
                wait_until(page, lambda: digit_src(page) not in ("", before), "the digit to change")
                goto(page, "Train")

                click(page, "btn_stop")
                wait_until(page, lambda: metric(page, "Status") == "idle", "stopped")
                saved_step, saved_epoch = progress_step(page), progress_epoch(page)
                assert saved_step > 0
                assert page.locator(EXCEPTION).count() == 0
                page.close()

            # A new server process: nothing in memory, the run continues from its checkpoint.
            with streamlit_server(checkpoints, data_dir, log) as url:
                page = open_page(browser, url)
                expect()(page.get_by_label("Run name", exact=True)).to_have_value("mnist-1")
                wait_until(page, lambda: progress_step(page) == saved_step, "the saved step after restart")
                click(page, "btn_resume")
                wait_until(page, lambda: metric(page, "Status") == "running", "running again")
                wait_until(page, lambda: progress_epoch(page) > saved_epoch + 1, "an epoch beyond the saved one",
                           timeout=60)
                assert progress_step(page) > saved_step
                if os.environ.get("GANLAB_SCREENSHOT"):
                    # Streamlit scrolls inside its own container: a tall window shows charts and lab at once.
                    page.set_viewport_size({"width": 1500, "height": 2000})
                    page.wait_for_timeout(3000)
                    page.screenshot(path=os.environ["GANLAB_SCREENSHOT"])
                click(page, "btn_stop")
                wait_until(page, lambda: metric(page, "Status") == "idle", "stopped again")
                assert page.locator(EXCEPTION).count() == 0
                page.close()
        finally:
            browser.close()
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
