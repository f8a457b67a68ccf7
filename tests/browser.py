"""Shared pieces of the browser tests: a Streamlit server on a free port, Debian's Chromium through
Playwright, and readers of what the page shows (metrics, the progress bar, images)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest
from PIL import Image

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EXCEPTION = '[data-testid="stException"]'
WAIT_MS = 45_000
JUDGE_STEPS = 40  # the classifiers' training in a test server: seconds, not a minute of a core

REQUIRE_BROWSER = "GANLAB_REQUIRE_BROWSER"  # set by .ci/run: there a missing browser fails, never skips


def browser_required() -> bool:
    return bool(os.environ.get(REQUIRE_BROWSER) or os.environ.get("CI"))


def require_chromium():
    """Playwright's sync API for the calling test module, which needs Debian's Chromium too. Without either
    the module is skipped, except under CI (env ``GANLAB_REQUIRE_BROWSER`` or ``CI``), where it fails."""
    try:
        import playwright.sync_api as sync_api
    except ImportError:
        sync_api = None
    missing = "playwright" if sync_api is None else None if CHROMIUM.exists() else str(CHROMIUM)
    if missing is None:
        return sync_api
    if browser_required():
        pytest.fail(f"{missing} is missing: CI must install requirements-dev.txt and the Debian package "
                    "'chromium'", pytrace=False)
    pytest.skip(f"{missing} not installed", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A test-only slowdown for a server: a sitecustomize on its PYTHONPATH wraps one module-level function (the
# app's or Streamlit's) with a sleep before its first ``times`` calls (every call when ``times`` is 0), so a
# click lands inside the slow step every time, as on a slow machine. The function is wrapped as its module
# is first loaded, so every ``from module import function`` gets the slow one. Each wait, as it starts,
# adds a line to the file SLOW_CALL_STARTED beside the hook: a test can click once it is there.
SLOW_CALL_STARTED = "slow-call-started"
SLOW_CALL_HOOK = f"""
import importlib.abc, importlib.util, os, sys, time

MODULE, FUNCTION, SECONDS, TIMES = os.environ["GANLAB_TEST_SLOW_CALL"].split(":")

class SlowCall(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            original, slowed = getattr(module, FUNCTION), []

            def slow(*args, **kwargs):
                if int(TIMES) == 0 or len(slowed) < int(TIMES):
                    slowed.append(True)
                    with open(os.path.join(os.path.dirname(__file__), "{SLOW_CALL_STARTED}"), "a") as started:
                        started.write(FUNCTION + "\\n")
                    time.sleep(float(SECONDS))
                return original(*args, **kwargs)
            setattr(module, FUNCTION, slow)
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, SlowCall())
"""


def slow_call(monkeypatch: pytest.MonkeyPatch, hook_dir: Path, target: str, seconds: float, times: int = 0) -> Path:
    """Make the servers started after this call sleep ``seconds`` before each of the first ``times`` calls
    (0: every call) of ``target`` ("package.module:function"), through SLOW_CALL_HOOK. Returns the file
    that gets a line as each wait starts."""
    hook_dir.mkdir(parents=True, exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(SLOW_CALL_HOOK)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(hook_dir), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("GANLAB_TEST_SLOW_CALL", f"{target}:{seconds}:{times}")
    return hook_dir / SLOW_CALL_STARTED


@contextlib.contextmanager
def streamlit_server(checkpoints: Path, data: Path, log: Path, *, warm_trainer: bool = False,
                     judge_steps: int | None = JUDGE_STEPS, script: Path | str = "app.py") -> Iterator[str]:
    """The app as ``streamlit run app.py`` on a free port (``script``: another one, run the same way, with the
    app's .streamlit/config.toml); yields its URL. ``warm_trainer``: as a user's server, a
    training process waits for each next Train (off: each Train starts its own, and no process started for a
    Train that never comes costs a core for seconds; the first-run walk keeps it on, as a user has it).
    ``judge_steps``: the training steps of the judge and the referee, the lab's and the trainer's (None: their
    own, as a user's server; the offline digits' ones ship trained, others take a core for a minute or more)."""
    port = free_port()
    env = {**os.environ, "GANLAB_CHECKPOINTS": str(checkpoints), "GANLAB_DATA_DIR": str(data),
           "PYTHONUNBUFFERED": "1"}
    env.setdefault("GANLAB_DEMO_DIR", str(log.parent / "no-demo"))  # a test that wants a demo sets its own
    env["GANLAB_WARM_TRAINER"] = "1" if warm_trainer else "0"
    env.pop("GANLAB_JUDGE_STEPS", None)
    if judge_steps is not None:
        env["GANLAB_JUDGE_STEPS"] = str(judge_steps)
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
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


def wait_on_page(page, predicate, what: str, timeout: float = WAIT_MS / 1000) -> None:
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


def playwright_error() -> type[Exception]:
    """Playwright's error class (imported only when a browser test runs)."""
    from playwright.sync_api import Error

    return Error


def expect():  # playwright's assertion helper, imported only when a browser test runs
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def click(page, key: str) -> None:
    # A button with a help tooltip is rendered twice, one copy hidden: click the visible one.
    button = page.locator(f".st-key-{key} button:visible").first
    expect()(button).to_be_enabled(timeout=WAIT_MS)
    button.click()


def image_src(page, caption: str) -> str:
    """The src of the first image captioned ``caption`` ("" while there is none)."""
    image = page.locator('[data-testid="stImage"]').filter(has_text=caption).locator("img")
    return image.first.get_attribute("src") or "" if image.count() else ""


def digit_src(page) -> str:
    """The src of the latent lab's big digit ("" while there is none)."""
    return image_src(page, "current sliders")


# The lab's direction sliders (their keys carry a generation) that a person sees: not the faded ones of a rerun
# in progress, nor the hidden copies Streamlit's frontend may keep of the previous generation after "Sliders to 0"
# redraws them under new keys in a fragment run (0 px high, seen in 2 of 40 resets under load).
LAB_SLIDER = '[class*="st-key-lab_dir_"][data-stale="false"]:visible input[type="range"]'
READABLE_P = 0.9  # the lab's first digit: the referee reads it with at least this probability
FULL_DRAG = 0.1  # mean |pixel change| a full drag of each of the first four sliders must reach at least


def slider_labels(page) -> list[str]:
    """The labels of the latent lab's sliders a person sees now (its direction sliders and its truncation)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '[class*="st-key-lab_dir_"] input[type="range"], [class*="st-key-lab_psi"] input[type="range"]'))
        .filter(e => e.closest('[data-testid="stElementContainer"]').checkVisibility())
        .map(e => e.getAttribute('aria-label'))""")


def lab_slider_values(page) -> list[float]:
    """The values of the lab's direction sliders now (faded ones of a rerun in progress left out)."""
    return [float(v) for v in page.locator(LAB_SLIDER).evaluate_all("els => els.map(e => e.value)")]


def shown_digit(page) -> np.ndarray:
    """The lab's big digit as 28 x 28 pixels in [0, 1] (it is drawn 10x, nearest neighbour)."""
    src = digit_src(page)
    assert src, "no lab digit"
    picture = Image.open(io.BytesIO(page.request.get(urljoin(page.url, src)).body())).convert("L")
    return (np.asarray(picture, np.float32) / 255.0)[5::10, 5::10]


def drag_to(page, index: int, key: str) -> np.ndarray:
    """Drag the lab's slider ``index`` to one end (``key`` Home or End); the digit once redrawn. The key is
    pressed again while the slider is not there yet (a rerun may replace the slider under the focus)."""
    before = digit_src(page)
    thumb = page.locator(LAB_SLIDER).nth(index)
    end = thumb.get_attribute("min" if key == "Home" else "max")

    def at_end() -> bool:
        if float(thumb.input_value()) != float(end):
            thumb.focus()
            thumb.press(key)
            page.wait_for_timeout(500)
        return float(thumb.input_value()) == float(end)

    wait_on_page(page, at_end, f"slider {index} at its {key} end")
    wait_on_page(page, lambda: digit_src(page) not in ("", before), f"the digit after slider {index} {key}")
    return shown_digit(page)


def check_first_view(page) -> list[float]:
    """The latent lab's first view (on the Explore page): a digit the referee reads with p >= READABLE_P,
    principal-direction sliders and no other latent sliders, and each of the first four sliders, dragged
    from one end to the other, changing the big digit by at least FULL_DRAG (mean |pixel change|). Returns
    those four changes; the sliders are back at 0 afterwards."""
    wait_on_page(page, lambda: digit_src(page) != "", "the lab's digit", timeout=120)
    reading = page.get_by_text(re.compile(r"Referee reads \d \(\d+%\)")).first.inner_text()
    assert int(re.search(r"\((\d+)%\)", reading).group(1)) / 100 >= READABLE_P, reading
    mode = page.locator(".st-key-lab_mode label").filter(has=page.locator("input:checked"))
    assert mode.inner_text().strip() == "Principal directions"
    wait_on_page(page, lambda: len(slider_labels(page)) >= 7, "the lab's sliders")
    labels = slider_labels(page)
    assert sorted(labels[:6]) == [f"PC {i} σ" for i in (1, 2, 3, 4, 5, 6)], labels
    assert labels[6:] == ["Truncation ψ (1 = off)"], labels  # one set of latent sliders, no second lab
    changes = []
    for index in range(4):
        low, high = drag_to(page, index, "Home"), drag_to(page, index, "End")
        changes.append(float(np.abs(high - low).mean()))
        click(page, "lab_zero")  # the sliders are drawn again, at 0, under new keys
        wait_on_page(page, lambda: lab_slider_values(page) == [0.0] * 6,
                     f"the six sliders back at 0: {lab_slider_values(page)}")
    assert min(changes) >= FULL_DRAG, changes
    return changes


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.get_by_role("heading", name="Train").wait_for()
    return page


def set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")


def goto(page, title: str) -> None:
    """Open one of the app's pages (Train, Explore, Runs) through the sidebar's navigation."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
    page.get_by_role("heading", name=title).wait_for()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium through Playwright (a Browser), closed afterwards; the calling module has called
    ``require_chromium``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Every block's title: headings (st.title/header/subheader, markdown #...####) and metric labels. A block
# drawn twice shows its title twice; a tooltip's hidden copy or a collapsed expander's content does not count.
TITLES = 'h1, h2, h3, h4, [data-testid="stMetricLabel"]'
TITLES_JS = """(selector) => Array.from(document.querySelectorAll(selector))
    .filter(e => e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}) && e.innerText.trim())
    .map(e => [e.innerText.trim(), !!e.closest('[data-stale="true"]')])"""


def titles(page, *, with_stale: bool = True) -> list[str]:
    """The visible block titles on the page now, in page order (``with_stale``: the faded elements of a rerun
    in progress too, as a screenshot shows them)."""
    return [text for text, stale in page.evaluate(TITLES_JS, TITLES) if with_stale or not stale]


def repeated(texts: list[str], allowed: frozenset[str] = frozenset()) -> dict[str, int]:
    """The texts that occur more than once, with their counts, except the ``allowed`` ones."""
    counts: dict[str, int] = {}
    for text in texts:
        counts[text] = counts.get(text, 0) + 1
    return {text: n for text, n in counts.items() if n > 1 and text not in allowed}
