"""Pages that follow the server, in headless Chromium, each test on a fresh install (empty checkpoints, the
shipped demo run): a click on Explore during the first page load still shows the demo; and a page opened before
another page's Train, never reloaded, shows that run as training within seconds, and its Stop stops it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gan_core.data import write_bundled_mnist

import browser as web

web.require_chromium()

DEMO = Path(__file__).resolve().parents[2] / "demo"
CLICK_AFTER = 1.0  # seconds after the first load (the navigation shown) that Explore is clicked
# The first test's server opens the demo slowly (browser.slow_call), so that a click at CLICK_AFTER always
# lands while the session's first fill waits for it, as it did on a slow machine.
SLOW_DEMO = 2.0  # seconds the demo takes to open there
FOLLOW_WITHIN = 5.0  # seconds from a Train on one page to every other page showing it
DEMO_BANNER = re.compile(r"The demo run \(\d+ epochs")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundled_mnist(tmp_path_factory.mktemp("data"), 1000)  # on disk: no download is tried


@pytest.fixture()
def server(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh install: no runs, the shipped demo. One per test: the first test's Explore page goes on
    computing after its tab closes, which would slow the next test's pages."""
    monkeypatch.setenv("GANLAB_DEMO_DIR", str(DEMO))
    yield from serve(tmp_path, data_dir)


@pytest.fixture()
def slow_demo_server(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh install whose demo takes SLOW_DEMO seconds to open."""
    web.slow_call(monkeypatch, tmp_path / "hook", "gan_core.runs.demo:open_demo", SLOW_DEMO)
    monkeypatch.setenv("GANLAB_DEMO_DIR", str(DEMO))
    yield from serve(tmp_path, data_dir)


def serve(tmp_path: Path, data_dir: Path) -> Iterator[str]:
    with web.streamlit_server(tmp_path / "checkpoints", data_dir, tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    with web.chromium() as browser:
        yield browser


def test_explore_clicked_during_the_first_load_shows_the_demo(slow_demo_server: str, chromium: object) -> None:
    """The server's first session: the navigation shows before the session's first fill ends, and a click
    on Explore stops that fill's run at its next access to session state, wherever it was."""
    page = chromium.new_page(viewport={"width": 1500, "height": 1000})
    page.set_default_timeout(web.WAIT_MS)
    page.goto(slow_demo_server)
    explore = page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Explore").first
    explore.wait_for()  # the earliest a user can click: the fill is running now
    page.wait_for_timeout(CLICK_AFTER * 1000)
    explore.click()
    page.get_by_role("heading", name="Explore").wait_for()
    outcome = page.get_by_text(DEMO_BANNER).or_(page.get_by_text("opens once the run has weights")).first
    outcome.wait_for()
    assert page.get_by_text(DEMO_BANNER).count() == 1, "the demo is not shown after a click during the first load"
    web.expect()(page.get_by_text("What the generator of demo (read-only) has learned.")).to_be_visible()
    assert page.locator(web.EXCEPTION).count() == 0
    page.close()


def test_a_page_opened_before_a_train_elsewhere_follows_and_stops_it(server: str, chromium: object) -> None:
    b = web.open_page(chromium, server)  # opened first, never reloaded
    b.get_by_text(DEMO_BANNER).wait_for()
    a = web.open_page(chromium, server)
    a.get_by_text(DEMO_BANNER).wait_for()
    web.expect()(b.locator(".st-key-btn_stop button:visible").first).to_be_disabled()
    a.get_by_text("Model and logging").click()
    web.set_number(a, "Evaluate every (epochs)", 0)  # no judge to train first: the run steps at once
    web.click(a, "btn_train")
    clicked = time.monotonic()
    # B, on the Train page of the demo: which run trains, a button to show it, and Pause and Stop for it.
    web.wait_on_page(b, lambda: b.get_by_text(re.compile(r"Training run mnist-1 in the background")).count() > 0,
                     "page B to see A's run training", timeout=4 * FOLLOW_WITHIN)
    followed_after = time.monotonic() - clicked
    for key in ("btn_pause", "btn_stop", "btn_show_trainer"):
        web.expect()(b.locator(f".st-key-{key} button:visible").first).to_be_enabled(timeout=1000)
    assert followed_after <= FOLLOW_WITHIN, f"page B saw the run after {followed_after:.1f} s"
    # Its other pages carry the trainer bar: B stops A's run from the Runs page.
    web.goto(b, "Runs")
    b.get_by_text(re.compile(r"Run mnist-1 is training on this server")).wait_for()
    web.click(b, "bar_stop")
    web.wait_on_page(b, lambda: b.locator(".st-key-bar_stop").count() == 0, "the bar to go with the trainer")
    # A, never touched since its Train, sees its run stopped: Train is offered again, Stop is not.
    web.wait_on_page(a, lambda: web.metric(a, "Status") == "idle", "page A to see its run stopped")
    web.expect()(a.locator(".st-key-btn_stop button:visible").first).to_be_disabled()
    web.expect()(a.locator(".st-key-btn_train button:visible").first).to_be_enabled()
    assert a.locator(web.EXCEPTION).count() == 0 and b.locator(web.EXCEPTION).count() == 0
    print(f"page B followed A's Train after {followed_after:.1f} s")
