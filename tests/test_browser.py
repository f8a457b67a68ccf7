"""End to end in a real headless Chromium: ``streamlit run app.py`` driven by Playwright.

Train, watch the step counter rise and the charts render, move a latent slider and see the digit
change, Pause, Stop, restart the server and Resume from the saved epoch; never a Streamlit exception.

Needs Debian's ``chromium`` at /usr/bin/chromium (``playwright install`` is never used). Without it the
test is skipped, except under CI (env ``CI`` set), where a missing browser is a failure.
Set ``GANLAB_SCREENSHOT=path.png`` to save a screenshot of the page (docs/app.png is made that way).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EXCEPTION = '[data-testid="stException"]'
WAIT_MS = 45_000

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: CI must install the Debian package 'chromium'", pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

from gan_core.data import write_bundled_mnist  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,000 real digits (all labels) as IDX files, so no download is attempted and epochs are short."""
    return write_bundled_mnist(tmp_path_factory.mktemp("data"), 1000)


@contextlib.contextmanager
def streamlit_server(checkpoints: Path, data: Path, log: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "GANLAB_CHECKPOINTS": str(checkpoints), "GANLAB_DATA_DIR": str(data),
           "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"streamlit did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()  # SIGTERM: Streamlit shuts down; the daemon trainer thread dies with it
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def progress_step(page) -> int:
    text = page.locator('[data-testid="stProgress"]').first.inner_text()
    found = re.search(r"step ([\d,]+)", text)
    return int(found.group(1).replace(",", "")) if found else -1


def progress_epoch(page) -> int:
    found = re.search(r"epoch (\d+) of", page.locator('[data-testid="stProgress"]').first.inner_text())
    return int(found.group(1)) if found else -1


def wait_until(page, predicate, what: str, timeout: float = WAIT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            shot = Path(os.environ.get("PYTEST_DEBUG_TEMPROOT", "/tmp")) / "ganlab_browser_timeout.png"
            page.screenshot(path=str(shot), full_page=True)
            panel = page.locator('[data-testid="stProgress"]')
            state = panel.first.inner_text() if panel.count() else "no progress bar"
            raise AssertionError(f"timed out waiting for {what} (progress: {state!r}; screenshot {shot})")
        assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
        page.wait_for_timeout(250)


def click(page, key: str) -> None:
    # A button with a help tooltip is rendered twice, one copy hidden: click the visible one.
    button = page.locator(f".st-key-{key} button:visible").first
    sync_api.expect(button).to_be_enabled(timeout=WAIT_MS)
    button.click()


def digit_src(page) -> str:
    image = page.locator('[data-testid="stImage"]').filter(has_text="current sliders").locator("img")
    return image.first.get_attribute("src") or ""


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.get_by_role("heading", name="GAN lab").wait_for()
    return page


def set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")


def test_train_explore_pause_stop_restart_resume(tmp_path: Path, data_dir: Path) -> None:
    checkpoints = tmp_path / "checkpoints"
    log = tmp_path / "streamlit.log"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            with streamlit_server(checkpoints, data_dir, log) as url:
                page = open_page(browser, url)
                # Tiny and fast: 1,000 digits in batches of 50 = 20 cheap steps per epoch.
                set_number(page, "Batch size", 50)
                sync_api.expect(page.get_by_label("Batch size", exact=True)).to_have_value("50")
                set_number(page, "Epochs", 40)
                sync_api.expect(page.get_by_label("Epochs", exact=True)).to_have_value("40")
                page.get_by_text("Model and logging").click()  # no quality judge: it would train first
                set_number(page, "Evaluate every (epochs)", 0)
                sync_api.expect(page.get_by_label("Evaluate every (epochs)", exact=True)).to_have_value("0")
                click(page, "btn_train")

                # The live panel refreshes by itself: the step counter rises, the charts render.
                wait_until(page, lambda: progress_step(page) > 0, "the first steps")
                first = progress_step(page)
                wait_until(page, lambda: progress_step(page) > first, "the step counter to rise")
                page.locator('[data-testid="stVegaLiteChart"]').first.locator("canvas, svg").first.wait_for()
                sync_api.expect(page.get_by_text(re.compile(r"Data: MNIST: 1,000 images"))).to_be_visible()

                click(page, "btn_pause")
                wait_until(page, lambda: metric(page, "Status") == "paused", "paused")

                # Move a latent slider with the keyboard: only the lab reruns and the digit changes.
                page.locator(".st-key-lab_z_0").scroll_into_view_if_needed()
                before = digit_src(page)
                assert before
                thumb = page.locator('.st-key-lab_z_0 input[type="range"]')
                key = "ArrowRight" if float(thumb.input_value()) < 0.5 else "ArrowLeft"
                thumb.focus()
                for _ in range(25):
                    thumb.press(key)
                wait_until(page, lambda: digit_src(page) not in ("", before), "the digit to change")

                click(page, "btn_stop")
                wait_until(page, lambda: metric(page, "Status") == "idle", "stopped")
                saved_step, saved_epoch = progress_step(page), progress_epoch(page)
                assert saved_step > 0
                assert page.locator(EXCEPTION).count() == 0
                page.close()

            # A new server process: nothing in memory, the run continues from its checkpoint.
            with streamlit_server(checkpoints, data_dir, log) as url:
                page = open_page(browser, url)
                sync_api.expect(page.get_by_label("Run name", exact=True)).to_have_value("mnist-1")
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
