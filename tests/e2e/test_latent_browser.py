"""The latent lab in a real headless Chromium (its first view on the demo is checked by the first-run walk,
tests/e2e/test_first_run.py, with browser.check_first_view): on a saved run, move a slider,
"toward 7" (reached or reported as failed), draw a stroke on the canvas and invert it into the lab, upload a
PNG, and upload a text file renamed .png to see the refusal. Needs Debian's ``chromium`` (see tests/browser.py)."""

from __future__ import annotations

import io
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from folder_helpers import make_upload_zip, walk_upload
from PIL import Image, ImageDraw

from gan_core.cli.main import main
from gan_core.data import write_bundled_mnist

import browser as web

web.require_chromium()

LAB_SLIDER = web.LAB_SLIDER
SLOW_SIDEBAR = 3.0  # seconds the sidebar test holds its first run between the run name box registered and sent
RUN_NAME_SENT = "streamlit.elements.widgets.text_widgets:create_layout_config"  # what st.text_input calls there


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved 2-epoch run on 1,000 real digits (no judge: eval off)."""
    root = tmp_path_factory.mktemp("latent_browser")
    data = write_bundled_mnist(root / "data", 1000)
    assert main(["train", "--run", "lab", "--epochs", "2", "--checkpoints", str(root / "ckpt"), "--data-dir",
                 str(data), "--batch-size", "50", "--eval-every", "0", "--quiet"]) == 0
    return root


def seven_png() -> bytes:
    picture = Image.new("RGB", (300, 260), "white")
    ImageDraw.Draw(picture).line([(60, 40), (220, 40), (120, 230)], fill="black", width=22)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def drive(page: Any, tmp_path: Path) -> None:
    web.goto(page, "Explore")
    web.wait_on_page(page, lambda: web.digit_src(page) != "", "the lab's digit", timeout=150)

    # Move PC 1 with the keyboard: the digit changes.
    before = web.digit_src(page)
    thumb = page.locator(LAB_SLIDER).first
    thumb.focus()
    for _ in range(15):
        thumb.press("ArrowRight")
    web.wait_on_page(page, lambda: web.digit_src(page) not in ("", before), "the digit to move along PC 1")

    # Ten class sliders replace the six principal ones: none of those is left on the page (a fragment's own
    # rerun used to leave them there, beside the new ones, until the page was run again).
    page.locator(".st-key-lab_mode").get_by_text("Class directions").click()
    class_sliders = sorted([f"toward {d}" for d in range(10)] + ["Truncation ψ (1 = off)"])
    web.wait_on_page(page, lambda: sorted(web.slider_labels(page)) == class_sliders,
                     f"only the class sliders: {web.slider_labels(page)}", timeout=60)
    page.locator(".st-key-lab_mode").get_by_text("Principal directions").click()
    web.wait_on_page(page, lambda: len(web.slider_labels(page)) == 7, "the principal sliders again", timeout=60)

    # Toward 7: the path strip, and the referee's verdict: reached (the lab takes the z, sliders back at 0) or
    # failed (said plainly, the best attempt offered).
    page.get_by_role("tab", name="Toward a digit").click()
    web.click(page, "lt_toward_7")
    path = page.get_by_text("path toward 7")  # a redraw may show the old copy beside the new for a moment
    web.wait_on_page(page, lambda: path.count() == 1, f"one path strip ({path.count()} shown)", timeout=90)
    verdict = page.get_by_text(re.compile(r"Reached 7: the referee|“Toward 7” failed: the referee reads"))
    web.wait_on_page(page, lambda: verdict.count() == 1, f"one verdict ({verdict.count()} shown)", timeout=90)
    # (a redraw of the lab may show a faded copy beside the new one for a moment: texts are read from the first)
    if verdict.first.inner_text().startswith("Reached"):
        web.expect()(page.get_by_text("Base z: “toward 7” from the previous z.").first).to_be_visible(timeout=90_000)
        web.expect()(page.locator(LAB_SLIDER).first).to_have_value("0")  # sliders start again
    else:  # the lab keeps its z until the best attempt is adopted by hand
        web.expect()(page.get_by_text(re.compile(r"Base z: seed \d+")).first).to_be_visible()
        web.click(page, "lt_use_edit")
        adopted = page.get_by_text(re.compile(r"Base z: the best attempt toward 7")).first
        web.expect()(adopted).to_be_visible(timeout=90_000)

    # Draw a stroke on the canvas, invert it and hand the z to the lab.
    page.get_by_role("tab", name="Find the z of a digit").click()
    page.locator(".st-key-lt_source").get_by_text("Draw").click()
    canvas = page.locator(".st-key-lt_canvas canvas").last
    canvas.wait_for()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 70, box["y"] + 50)
    page.mouse.down()
    for x, y in ((150, 50), (110, 120), (90, 190)):
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()
    # The drawing has reached the server once the search's options are offered: a click before that would be
    # interrupted by the canvas's own update (any event stops a running search).
    page.locator(".st-key-lt_features").wait_for()
    web.click(page, "lt_invert")
    web.expect()(page.get_by_text("target | reconstruction G(z)").first).to_be_visible(timeout=90_000)
    web.expect()(page.get_by_text(re.compile(r"pixel MSE \d")).first).to_be_visible(timeout=90_000)
    web.click(page, "lt_use_inverted")
    web.expect()(page.get_by_text("Base z: the inverted digit.").first).to_be_visible(timeout=90_000)

    # Upload a PNG: shown as MNIST would have it; a text file renamed .png is refused.
    page.locator(".st-key-lt_source").get_by_text("Upload").click()
    upload = page.locator(".st-key-lt_upload input[type='file']")
    png = tmp_path / "seven.png"
    png.write_bytes(seven_png())
    upload.set_input_files(str(png))
    web.expect()(page.get_by_text("as MNIST would have it").first).to_be_visible(timeout=90_000)
    fake = tmp_path / "notes.png"
    fake.write_text("these are my notes, not a picture\n")
    upload.set_input_files(str(fake))
    web.expect()(page.get_by_text(re.compile(r"Cannot use notes\.png: this file is not an image")).first) \
        .to_be_visible()
    assert page.locator(web.EXCEPTION).count() == 0


def test_the_sidebar_keeps_its_values_when_explore_is_opened_during_the_first_page_run(
        saved_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Switching to Explore while the first page still draws, then clicking, used to send the sidebar's
    defaults back (an empty run name, zeros): the lab closed and the page asked for a run name.

    The race, made certain: the server's first run is held (browser.slow_call) after the run name box has
    registered its value, filled by the session's first fill in that run, and before the box is sent; Explore
    is clicked during the hold, so that run stops there. The Explore run draws the box for the first time in
    this browser, and Streamlit tells a widget's first drawing a value set in an earlier run only while that
    value is kept under its key, which the registration had moved to the widget's id: without the sidebar
    setting its values again every run (resend_sidebar_values), the browser shows the empty default and sends
    it back with the next click."""
    held = web.slow_call(monkeypatch, tmp_path / "hook", RUN_NAME_SENT, SLOW_SIDEBAR, times=1)
    shutil.copytree(saved_run / "ckpt" / "lab", tmp_path / "ckpt" / "lab")  # the other test's run stays as is
    with web.chromium() as browser, web.streamlit_server(tmp_path / "ckpt", saved_run / "data",
                                                tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(web.WAIT_MS)
        page.goto(url)
        web.wait_on_page(page, held.exists, "the first run to hold the run name box")
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Explore").first.click()
        clicked_after = time.time() - held.stat().st_mtime
        assert clicked_after < SLOW_SIDEBAR - 1, f"Explore clicked {clicked_after:.1f} s into the hold: too late"
        page.get_by_role("heading", name="Latent lab").wait_for()
        page.locator(".st-key-lab_mode").get_by_text("Raw z[i]").click()
        # The click reached the server: the raw sliders, or the page asking for the run name it was sent.
        page.locator(".st-key-lab_dims").or_(page.get_by_text("Pick a valid run name in the sidebar.")).wait_for()
        assert page.get_by_label("Run name", exact=True).input_value() == "lab"
        assert page.get_by_label("Batch size", exact=True).input_value() == "50"
        assert page.locator(".st-key-lab_dims").count() == 1
        page.close()


def test_directions_edit_draw_invert_upload_then_train_on_an_uploaded_zip(
        saved_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab's tools on a saved run; then, on the same server, issue 25's walk: a .zip of 500 pictures (497
    digits as PNG and JPEG of assorted sizes in class sub-folders, 3 broken files) uploaded as the dataset, a
    short run trained on it, its broken files listed, its grid, quality block and lab shown."""
    with web.chromium() as browser, web.streamlit_server(saved_run / "ckpt", saved_run / "data",
                                                tmp_path / "streamlit.log") as url:
        page = web.open_page(browser, url)
        try:
            drive(page, tmp_path)
            walk_upload(page, make_upload_zip(tmp_path / "mine.zip"), epochs=1)
        except Exception:
            page.screenshot(path=str(tmp_path / "latent_failure.png"), full_page=True)
            raise
        if os.environ.get("GANLAB_SCREENSHOT"):
            page.screenshot(path=os.environ["GANLAB_SCREENSHOT"], full_page=True)
