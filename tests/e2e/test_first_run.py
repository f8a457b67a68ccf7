"""A first run as a new user makes it, in headless Chromium: empty checkpoints and data folders, the
shipped demo run opens with D's verdicts on its grid and its lab digit's nearest real digits; the defaults,
Train; the data line names the held-out split and the sidebar offers the MNIST download again. Then, for
at least a minute of training, staying a few refreshes on the Train page, then on Explore, with a screenshot
every few seconds: no block title (heading or metric label) is shown twice at any screenshot, the step
counter never goes back, the timeline shows the newest epoch, and the latent lab opens by itself
once weights exist and answers a slider. Then Pause, Resume, Stop, a server restart and Continue.
Screenshots of the walk go to ``GANLAB_WALK_DIR`` (default: the test's temporary folder); with
``GANLAB_WALK_DOCS=1`` four of them replace ``docs/app-midrun.png``, ``docs/app-explore.png`` and the demo's
``docs/trust-train.png`` and ``docs/trust-explore.png``.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from gan_core.config import GANConfig

import browser as web

web.require_chromium()

DEMO = Path(__file__).resolve().parents[2] / "demo"
TRAIN_SECONDS = 60  # of training watched, counted from the first step
LAB_OPENS_WITHIN = 30  # seconds after the first published weights
RESUME_RUNWAY = 300  # epochs added before continuing after the restart: Stop comes first (about 1 s an epoch)
TIMELINE_LAG = 10 + 10  # the timeline's refresh period while training, plus an epoch and slack on a loaded machine
STATUS = "Status"
# Screenshots per visit to the Train page (Explore: one fewer) and their spacing: the Train page refreshes
# its progress every 2 s and its charts and quality every 4 s, so a visit sees both refresh in place.
LOOKS, LOOK_MS = 3, 3000
# Titles a page may show twice at once, with the reason: none so far (a title shown twice is a block drawn
# twice, or a leftover of an earlier refresh).
ALLOWED_REPEATS: dict[str, str] = {}


COUNT_JS = """([selector, text, exact, withStale]) => Array.from(document.querySelectorAll(selector)).filter(
    e => (exact ? e.innerText.trim() === text : e.innerText.trim().startsWith(text))
         && (withStale || !e.closest('[data-stale="true"]'))).length"""
SETTLE_SECONDS = 8  # a rerun may show the previous run's elements faded ("stale") until it ends


def count(page, selector: str, text: str = "", *, exact: bool = False, with_stale: bool = False) -> int:
    """Elements matching ``selector`` whose text starts with (``exact``: is) ``text``; the faded elements of
    a rerun in progress only ``with_stale``."""
    return page.evaluate(COUNT_JS, [selector, text, exact, with_stale])


def count_metric(page, label: str, *, with_stale: bool = False) -> int:
    return count(page, '[data-testid="stMetricLabel"]', label, with_stale=with_stale)


def disk_epochs(folder: Path) -> list[int]:
    return sorted(int(p.stem.split("_")[1]) for p in (folder / "samples").glob("epoch_*.png"))


def timeline_epoch(page) -> int | None:
    caption = page.locator('[data-testid="stImage"]').filter(has_text=re.compile(r": epoch \d+$"))
    if not caption.count():
        return None
    return int(re.search(r"epoch (\d+)$", caption.first.inner_text().strip()).group(1))


def lab_is_open(page) -> None:
    assert web.digit_src(page), "the lab closed during training"


class Walk:
    """Screenshots and the checks made at every look at the page."""

    def __init__(self, page, shots: Path, run: Path) -> None:
        self.page, self.shots, self.run = page, shots, run
        self.n, self.last_step = 0, -1
        self.epochs_seen: list[tuple[float, int]] = []  # (time, newest epoch on disk)

    def shot(self, name: str) -> Path:
        """A screenshot, and no block title twice among what it shows (the faded elements of a rerun in
        progress aside: ``settle`` waits for those to go)."""
        self.n += 1
        path = self.shots / f"{self.n:03d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        twice = self.repeats()
        assert not twice, f"{path.name}: shown twice: {twice}"
        return path

    def repeats(self, *, with_stale: bool = False) -> dict[str, int]:
        return web.repeated(web.titles(self.page, with_stale=with_stale), frozenset(ALLOWED_REPEATS))

    def blocks(self, *, with_stale: bool = False) -> dict[str, int]:
        """How often the untitled blocks of the Train page are drawn (``repeats`` counts the titled ones)."""
        page = self.page
        found = {"progress": count(page, '[data-testid="stProgress"]', with_stale=with_stale)}
        found["charts"] = count(page, '[data-testid="stVegaLiteChart"]', with_stale=with_stale)
        found["grid"] = count(page, '[data-testid="stImage"]', with_stale=with_stale)
        return found

    @staticmethod
    def too_many(found: dict[str, int]) -> dict[str, int]:
        # Charts: losses, gradient norms, D output, D's real-vs-generated histogram, FID, precision/recall,
        # class histogram; images: the grid and the most and least realistic samples; the progress bar once.
        limits = {"charts": 7, "grid": 3}
        return {name: n for name, n in found.items() if n > limits.get(name, 1)}

    def settled(self) -> bool:
        return not self.too_many(self.blocks(with_stale=True)) and not self.repeats(with_stale=True)

    def check_train_page(self, settle: bool = False) -> int:
        """Every block at most once (``settle``: also among the faded elements of a rerun, once it ended),
        and a step counter that never goes back."""
        page = self.page
        assert page.locator(web.EXCEPTION).count() == 0, page.locator(web.EXCEPTION).first.inner_text()
        assert not self.too_many(self.blocks()), self.blocks()
        assert not self.repeats(), self.repeats()
        if settle:
            web.wait_on_page(page, self.settled, f"stale blocks to go: {self.blocks(with_stale=True)}, "
                             f"{self.repeats(with_stale=True)}", timeout=SETTLE_SECONDS)
        step = web.progress_step(page)
        assert step >= self.last_step, f"the step counter went back from {self.last_step} to {step}"
        self.last_step = step
        return step

    def check_blocks_present(self) -> None:
        """Once an epoch has ended, the grid and the quality block are on the Train page (a rerun in flight
        may hide them for a moment)."""
        if disk_epochs(self.run):
            web.wait_on_page(self.page, lambda: self.blocks()["grid"] >= 1 and "Quality" in web.titles(self.page),
                             f"the grid and the quality block: {self.blocks()}", timeout=20)

    def look_at_train_page(self, looks: int = LOOKS) -> Path:
        """Switch to Train and check it once drawn (for a moment after the Train heading appears, the Explore
        page's images are still there and not yet faded: CI once counted 9 of them as the Train page's), then
        stay for ``looks`` screenshots while its fragments refresh in place; returns the last one."""
        web.goto(self.page, "Train")
        self.page.wait_for_timeout(3000)
        self.check_train_page(settle=True)
        self.check_blocks_present()
        return self.stay("train", self.check_train_page, looks)

    def stay(self, name: str, check, looks: int) -> Path:
        """``looks`` screenshots ``LOOK_MS`` apart, each checked (``shot``) and followed by ``check()``."""
        for look in range(looks):
            if look:
                self.page.wait_for_timeout(LOOK_MS)
            path = self.shot(name)
            check()
            self.note_epochs()
        return path

    def note_epochs(self) -> None:
        epochs = disk_epochs(self.run)
        if epochs:
            self.epochs_seen.append((time.monotonic(), epochs[-1]))



# The Quality block of the Train page at epoch 23 with the leftovers of its epoch-1 refresh under it, as a
# fixed-up page once showed it (metric labels, one heading), plus what the counter must not count: a faded
# element of a rerun in progress and a tooltip's hidden copy.
LEFTOVER_PAGE = """<h1>Train</h1><h4>Quality</h4>
<div data-testid="stMetricLabel">Inception score</div><div data-testid="stMetricLabel">Classes present</div>
<div data-stale="true"><div data-testid="stMetricLabel">Status</div></div><div data-testid="stMetricLabel">Status</div>
<div style="display: none"><div data-testid="stMetricLabel">Inception score</div></div>
<div id="leftovers"></div>"""
LEFTOVERS = """() => document.getElementById('leftovers').innerHTML =
    '<div data-testid="stMetricLabel">Inception score</div><div data-testid="stMetricLabel">Classes present</div>'"""


def test_the_walk_fails_on_a_title_shown_twice(tmp_path: Path) -> None:
    with web.chromium() as browser:
        page = browser.new_page()
        page.set_content(LEFTOVER_PAGE)
        walk = Walk(page, tmp_path, tmp_path / "run")
        walk.shot("clean")  # a faded copy and a hidden one are no repeat
        assert walk.repeats(with_stale=True) == {"Status": 2}  # ...until the rerun settles
        page.evaluate(LEFTOVERS)
        with pytest.raises(AssertionError, match="shown twice: {'Inception score': 2, 'Classes present': 2}"):
            walk.shot("leftovers")


def test_first_run_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoints, data = tmp_path / "checkpoints", tmp_path / "data"  # both empty: a fresh install
    monkeypatch.setenv("GANLAB_DEMO_DIR", str(DEMO))  # ...with the demo run the repository ships
    shots = Path(os.environ.get("GANLAB_WALK_DIR", tmp_path / "walk"))
    shots.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "streamlit.log"
    run = checkpoints / "mnist-1"
    with web.chromium() as browser:
        # A user's server: the classifiers' own training lengths, so the offline digits' shipped ones serve.
        with web.streamlit_server(checkpoints, data, log, judge_steps=None, warm_trainer=True) as url:
            page = web.open_page(browser, url)
            page.set_viewport_size({"width": 1400, "height": 1600})
            walk = Walk(page, shots, run)
            demo_banner = page.get_by_text(re.compile(r"The demo run \(\d+ epochs"))
            demo_banner.wait_for()  # no run yet: the demo opens by default
            # Its grid carries D's verdicts: coloured borders with their legend, and D's histogram. The demo
            # trains with the default preset's least-squares loss, so D's output is a raw score, not a p.
            for text in ("raw score above 0.5 (the real side)", re.compile(r"Border: D's raw score"),
                         re.compile(r"D's output on \d+ real training digits")):
                web.expect()(page.get_by_text(text)).to_be_visible(timeout=web.WAIT_MS)
            demo_shot = walk.shot("demo")
            # Its lab: a digit and its 5 nearest training digits in both spaces, and the copying check.
            web.goto(page, "Explore")
            # The lab's first view: a digit the referee reads, under principal-direction sliders that each
            # move it (a full drag >= 0.1 mean |pixel change|; the old lab's raw sliders moved it 0.01-0.06).
            web.check_first_view(page)
            for space in ("judge features", "pixels"):
                web.expect()(page.get_by_text(f"5 nearest training digits in {space}").first).to_be_visible(
                    timeout=web.WAIT_MS)
            web.expect()(page.get_by_text(re.compile(r"Judge features: median distance"))).to_be_visible(
                timeout=web.WAIT_MS)
            demo_explore_shot = walk.shot("demo-explore")
            web.goto(page, "Train")
            web.click(page, "btn_train")  # ...and one click trains a new run, which the pages then follow
            web.wait_on_page(page, lambda: demo_banner.count() == 0, "the new run's page")
            walk.shot("clicked-train")
            # Until the first step the page says what it is doing (data, model, judge).
            web.wait_on_page(page, lambda: walk.check_train_page() > 0, "the first step", timeout=180)
            started = time.monotonic()
            walk.shot("first-step")
            # The data line says what G trains on and what is held out from it.
            held_out = re.compile(r"4,000 bundled MNIST digits for training \(\+1,000 held out\)")
            page.get_by_text(held_out).first.wait_for(timeout=10_000)
            # Offline, the sidebar says the bundled digits stay in use and offers the download again.
            page.get_by_role("button", name="Try the MNIST download again").wait_for(timeout=10_000)

            # The lab opens by itself: weights are published with the first steps.
            web.goto(page, "Explore")
            web.wait_on_page(page, lambda: web.digit_src(page) != "", "the lab's digit",
                       timeout=LAB_OPENS_WITHIN)
            before = web.digit_src(page)
            thumb = page.locator(web.LAB_SLIDER).first
            thumb.focus()
            key = "ArrowRight" if float(thumb.input_value()) < 0.5 else "ArrowLeft"
            for _ in range(25):
                thumb.press(key)
            web.wait_on_page(page, lambda: web.digit_src(page) not in ("", before), "the digit to follow the slider")
            walk.shot("lab-slider")

            # A minute of training, looking at both pages every few seconds; Pause and Resume half-way
            # (on a quiet machine the default run can end within the minute). Within the minute too: the run's
            # evaluations chart precision and recall beside FID, and, left open, the Explore page's timeline
            # follows new epochs by itself.
            mid_shot = None
            precision = page.get_by_text(re.compile(r"Epoch \d+: precision \d\.\d\d \(real vs real"))
            charted = followed = False
            while (watched := time.monotonic() - started) < TRAIN_SECONDS or (
                    watched < 2 * TRAIN_SECONDS and not (charted and followed)):
                path = walk.look_at_train_page()
                charted = charted or (precision.count() > 0 and precision.first.is_visible())
                if mid_shot is None and time.monotonic() - started > TRAIN_SECONDS / 2:
                    mid_shot = path
                    half_way = web.metric(page, STATUS)  # Pause and Resume must be tried, never skipped
                    assert half_way == "running", f"half-way the run is {half_way!r}: Pause/Resume untried"
                    web.click(page, "btn_pause")
                    web.wait_on_page(page, lambda: web.metric(page, STATUS) == "paused", "paused")
                    paused_step = walk.check_train_page()
                    walk.shot("paused")
                    web.click(page, "btn_resume")
                    web.wait_on_page(page, lambda paused=paused_step: walk.check_train_page() > paused or
                               web.metric(page, STATUS) == "finished", "steps after resuming")
                newest = disk_epochs(run)
                web.goto(page, "Explore")
                if newest:  # a page just opened shows the newest epoch on disk
                    web.wait_on_page(page, lambda expected=newest[-1]: (timeline_epoch(page) or 0) >= expected,
                               f"the timeline to show epoch {newest[-1]}", timeout=20)
                page.wait_for_timeout(2000)
                explore_shot = walk.stay("explore", lambda: lab_is_open(page), LOOKS - 1)
                if not followed and mid_shot is not None:
                    # Within its refresh period it shows an epoch that was not on disk when the page opened
                    # (or, the run over, the last one).
                    target = min(disk_epochs(run)[-1] + 1, GANConfig().epochs)
                    web.wait_on_page(page, lambda target=target: (timeline_epoch(page) or 0) >= target,
                                     f"the timeline to follow the run to epoch {target}", timeout=TIMELINE_LAG)
                    followed = True
            assert charted, "no precision/recall chart beside FID in the Train page's quality block"
            walk.note_epochs()
            assert len({epoch for _, epoch in walk.epochs_seen}) >= 2, "no epoch finished in a minute"

            end_shot = walk.look_at_train_page(looks=1)
            if web.metric(page, STATUS) == "running":
                web.click(page, "btn_stop")
                web.wait_on_page(page, lambda: web.metric(page, STATUS) == "idle", "stopped")
            else:  # it ended within the minute: Stop is tried after the restart below
                assert web.metric(page, STATUS) == "finished", web.metric(page, STATUS)
            saved_step, saved_epoch = web.progress_step(page), web.progress_epoch(page)
            page.close()

        # A new server process: nothing in memory; the run continues from its checkpoint (a finished
        # run after raising its epoch total).
        with web.streamlit_server(checkpoints, data, log, judge_steps=None, warm_trainer=True) as url:
            page = web.open_page(browser, url)
            web.wait_on_page(page, lambda: web.progress_step(page) == saved_step, "the saved step after a restart")
            # A runway of epochs, so that Stop comes before the end even where an epoch takes a second.
            web.set_number(page, "Epochs", saved_epoch + RESUME_RUNWAY)
            web.click(page, "btn_resume")
            web.wait_on_page(page, lambda: web.progress_epoch(page) > saved_epoch, "an epoch beyond the saved one",
                       timeout=120)
            web.click(page, "btn_stop")
            web.wait_on_page(page, lambda: web.metric(page, STATUS) == "idle", "stopped again")
            assert page.locator(web.EXCEPTION).count() == 0
            page.close()
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    if os.environ.get("GANLAB_WALK_DOCS"):  # retake the README's screenshots from this walk
        docs = Path(__file__).resolve().parents[2] / "docs"
        (docs / "app-midrun.png").write_bytes((mid_shot or end_shot).read_bytes())
        (docs / "app-explore.png").write_bytes(explore_shot.read_bytes())
        (docs / "trust-train.png").write_bytes(demo_shot.read_bytes())
        (docs / "trust-explore.png").write_bytes(demo_explore_shot.read_bytes())
