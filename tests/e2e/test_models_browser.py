"""A conditional DCGAN in headless Chromium (issue 24): pick ``dcgan`` and "conditional" in the sidebar, Train, and
the grid names its ten rows while it trains; stopped, the lab's digit control draws the same z as another digit
(the big digit changes, the base z's caption stays). Needs Debian's ``chromium`` (see tests/browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gan_core.data import write_bundled_mnist

import browser as web

web.require_chromium()

ROWS = "rows ask for, top to bottom: 0 · 1 · 2 · 3 · 4 · 5 · 6 · 7 · 8 · 9"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundled_mnist(tmp_path_factory.mktemp("data"), 400)


def test_a_conditional_dcgan_trains_and_its_lab_changes_the_digit_not_the_z(tmp_path: Path, data_dir: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with web.chromium() as browser, web.streamlit_server(tmp_path / "checkpoints", data_dir,
                                                         tmp_path / "streamlit.log") as url:
        page = web.open_page(browser, url)
        choice = page.locator(".st-key-cfg_architecture input")
        choice.click()
        choice.fill("dcgan")
        choice.press("Enter")
        page.get_by_text(re.compile(r"Parameters: G [\d,]+ · D [\d,]+ \(dcgan\)")).wait_for()
        page.locator(".st-key-cfg_conditional label").click()
        page.get_by_text(re.compile(r"Parameters: G [\d,]+ · D [\d,]+ \(dcgan, conditional\)")).wait_for()
        web.set_number(page, "Batch size", 50)
        web.set_number(page, "Epochs", 300)
        page.get_by_text("Model and logging").click()
        web.set_number(page, "Evaluate every (epochs)", 0)  # no judge to train first: the run steps at once
        web.expect()(page.get_by_label("Evaluate every (epochs)", exact=True)).to_have_value("0")
        web.click(page, "btn_train")
        grid = page.locator('[data-testid="stImage"]').filter(has_text=ROWS)
        web.wait_on_page(page, lambda: grid.count() > 0 and web.metric(page, "Status") == "running",
                         "the grid's ten labelled rows while it trains", timeout=120)
        web.click(page, "btn_stop")
        web.wait_on_page(page, lambda: web.metric(page, "Status") == "idle", "the run to stop")

        web.goto(page, "Explore")
        web.wait_on_page(page, lambda: web.digit_src(page) != "", "the lab's digit", timeout=120)
        base = page.get_by_text(re.compile(r"^Base z: ")).first.inner_text()
        before = web.digit_src(page)
        page.locator(".st-key-lab_label").get_by_text("7", exact=True).click()
        web.wait_on_page(page, lambda: web.image_src(page, "G(z, 7) for the current sliders") not in ("", before),
                         "the big digit drawn as a 7")
        assert page.get_by_text(re.compile(r"^Base z: ")).first.inner_text() == base  # the same z
        assert page.locator(web.EXCEPTION).count() == 0
