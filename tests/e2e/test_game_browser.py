"""The game in a real headless Chromium: pause a run, take a D step then a G step (the step counter moves
by one, the grid changes), edit G's learning rate while training (a rule appears on the curves), launch a
2x2 tiny sweep from the Runs page and see its runs grouped by recipe. Needs Debian's ``chromium``."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core.data import write_bundled_mnist

import browser as web

web.require_chromium()
EDIT_RGB = np.array([0x94, 0x67, 0xBD])  # ganlab.charts.EDIT_COLOR


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundled_mnist(tmp_path_factory.mktemp("data"), 1000)


def edit_pixels(page) -> int:
    """Pixels of the edit rules' colour in the first curve chart (0 while a rerun replaces the chart)."""
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    try:
        shot = chart.screenshot(timeout=5000)
    except web.playwright_error():  # detached by a rerun between finding and shooting it: look again
        return 0
    picture = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)
    return int((np.abs(picture - EDIT_RGB).sum(axis=2) < 40).sum())



def test_step_edit_and_sweep(tmp_path: Path, data_dir: Path) -> None:
    log = tmp_path / "streamlit.log"
    with web.chromium() as browser, web.streamlit_server(tmp_path / "checkpoints", data_dir, log) as url:
        page = web.open_page(browser, url)
        web.set_number(page, "Batch size", 50)
        web.expect()(page.get_by_label("Batch size", exact=True)).to_have_value("50")
        web.set_number(page, "Epochs", 400)
        page.get_by_text("Model and logging").click()
        web.set_number(page, "Evaluate every (epochs)", 0)
        web.expect()(page.get_by_label("Evaluate every (epochs)", exact=True)).to_have_value("0")
        web.click(page, "btn_train")
        web.wait_on_page(page, lambda: web.progress_step(page) > 0, "the first steps", timeout=120)

        # A live edit of G's learning rate: a rule on the curves.
        page.get_by_text("Step by step · live edits").click()
        page.locator('[data-testid="stVegaLiteChart"]').first.locator("canvas, svg").first.wait_for()
        before_rules = edit_pixels(page)
        box = page.locator(".st-key-edit_lr_g input")
        box.fill("0.001")
        box.press("Enter")
        web.wait_on_page(page, lambda: edit_pixels(page) > before_rules + 20, "the edit's rule on the curves",
                   timeout=90)

        # Pause, one D step, one G step.
        web.click(page, "btn_pause")
        web.wait_on_page(page, lambda: web.metric(page, "Status") == "paused", "paused")
        step = web.progress_step(page)
        web.click(page, "btn_step_D")
        web.wait_on_page(page, lambda: web.progress_step(page) == step + 1, "the step counter to move by one")
        web.click(page, "btn_step_G")
        web.expect()(page.get_by_text("Last step (G)")).to_be_visible(timeout=60_000)
        assert web.progress_step(page) == step + 1  # a G step alone uses no real batch
        assert web.image_src(page, "raw G before") != web.image_src(page, "raw G after")  # the grid changed
        web.click(page, "btn_stop")
        web.wait_on_page(page, lambda: web.metric(page, "Status") == "idle", "stopped")

        # A 2x2 tiny sweep from the Runs page, then its runs grouped by recipe.
        web.goto(page, "Runs")
        page.get_by_text("Launch a sweep").click()
        for key, value in (("sweep_seeds", "0,1"), ("sweep_epochs", "1"), ("sweep_name", "tiny"),
                           ("sweep_sets", "loss=non-saturating,hinge; batch_size=50; eval_every=0")):
            box = page.locator(f".st-key-{key} input")
            box.fill(value)
            box.press("Enter")
            web.expect()(box).to_have_value(value)
        web.click(page, "btn_sweep")
        table = page.locator('[data-testid="stTable"]')
        web.wait_on_page(page, lambda: table.count() > 0 and "hinge" in table.first.inner_text(),
                   "the sweep's grouped table", timeout=600)
        text = table.first.inner_text()
        assert "clean + batch_size=50" in text and "0, 1" in text  # the default preset, as launched
        assert page.locator(web.EXCEPTION).count() == 0
        page.close()
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
