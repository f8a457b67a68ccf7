"""Load: ten browser sessions watch the live panel while the app trains.

    python -m bench.load [--sessions 10] [--seconds 60]

Starts ``streamlit run app.py`` on a free localhost port, starts a run from the first page, opens the
other pages on the same server (every session sees the one trainer), and lets all of them watch the
live panel for ``--seconds``. The sessions share one refresh budget (``ganlab.state.holder.Watchers``):
each of ten pages refreshes 20 times less often than a page alone. It prints: exception elements seen
(target 0), the server's RSS growth over the watch (target < 100 MB), and the run's training images/s
against the headless CLI's on the same data, run for about 30 s before and after (target >= 80%).
Images/s come from the runs' own per-epoch timings in losses.csv. CPU only; needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

import psutil

from bench.app_latency import CHROMIUM, CHROMIUM_ARGS, cli_rate, cpu_seconds, server, start_run
from gan_core.data import write_bundled_mnist

EXCEPTION = '[data-testid="stException"]'


def rate_between(folder: Path, images: int, first_epoch: int) -> tuple[float, int]:
    """images/s over the epochs after ``first_epoch`` (those finished while the pages watched)."""
    with open(folder / "losses.csv", newline="") as handle:
        seconds = [float(row["seconds"]) for row in csv.DictReader(handle)][first_epoch:]
    return (images * len(seconds) / sum(seconds) if seconds else 0.0), len(seconds)


def epochs_done(folder: Path) -> int:
    path = folder / "losses.csv"
    return max(0, len(path.read_text().splitlines()) - 1) if path.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--images", type=int, default=2000, help="real digits per epoch (max 5000)")
    # The machine's speed drifts over minutes: headless windows as long as the watched one (30 s before
    # plus 30 s after) average the drift the same way; 8 epochs (5 s) let the reference swing by up to 30%.
    parser.add_argument("--headless-epochs", type=int, default=40, help="epochs of each headless run (default 40, "
                                                                       "about 30 s here)")
    args = parser.parse_args()
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory(prefix="ganlab-load-") as tmp:
        work = Path(tmp)
        data = write_bundled_mnist(work / "data", args.images)
        root = work / "ckpt"
        before = cli_rate(root, data, "headless-1", args.headless_epochs, args.images)
        print(f"headless CLI before: {before:,.0f} images/s", flush=True)

        with sync_playwright() as playwright, server(root, data, work / "streamlit.log") as (url, process):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = []
            first = browser.new_page(viewport={"width": 1400, "height": 1000})
            first.set_default_timeout(120_000)
            first.goto(url)
            first.get_by_role("heading", name="Train").wait_for()
            start_run(first, "load", 100_000)
            status = first.locator('[data-testid="stMetric"]').filter(has_text="Status").first
            expect(status).to_contain_text("running")
            pages.append(first)
            for _ in range(args.sessions - 1):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(120_000)
                page.goto(url)
                page.locator('[data-testid="stMetric"]').filter(has_text="Status").first.wait_for()
                pages.append(page)
            time.sleep(5)  # every session has rendered once; measure from here
            run = root / "load"
            start_epoch, rss_start = epochs_done(run), process.memory_info().rss
            chromium = [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()]
            trainer = process.children()
            cpu_before = cpu_seconds(trainer), cpu_seconds([process]), cpu_seconds(chromium)
            rss_peak, started = rss_start, time.monotonic()
            while time.monotonic() - started < args.seconds:
                time.sleep(2)
                rss_peak = max(rss_peak, process.memory_info().rss)
            rss_end = process.memory_info().rss
            wall = time.monotonic() - started
            cores = [(after - before) / wall for after, before in
                     zip((cpu_seconds(trainer), cpu_seconds([process]), cpu_seconds(chromium)), cpu_before,
                                                             strict=True)]
            exceptions = sum(page.locator(EXCEPTION).count() for page in pages)
            live = sum("running" in page.locator('[data-testid="stMetric"]').filter(has_text="Status").first
                       .inner_text() for page in pages)
            rate, epochs = rate_between(run, args.images, start_epoch)
            first.locator(".st-key-btn_stop button:visible").first.click()
            expect(status).not_to_contain_text("running", timeout=120_000)  # ten pages keep 2 cores busy
            browser.close()
        after = cli_rate(root, data, "headless-2", args.headless_epochs, args.images)
        headless = (before + after) / 2
        print(f"headless CLI after: {after:,.0f} images/s (mean {headless:,.0f})", flush=True)
    print(f"sessions watching: {len(pages)} (showing 'running' at the end: {live}); exception elements: {exceptions}")
    print(f"server RSS: {rss_start / 2**20:,.0f} MiB -> {rss_end / 2**20:,.0f} MiB after {args.seconds:.0f} s "
          f"(growth {(rss_end - rss_start) / 2**20:+,.0f} MiB, peak {rss_peak / 2**20:,.0f} MiB; target < 100 MB)")
    print(f"CPU during the watch: training process {cores[0]:.2f} cores, server {cores[1]:.2f}, "
          f"Chromium {cores[2]:.2f}")
    print(f"training with {len(pages)} sessions: {rate:,.0f} images/s over {epochs} epochs = "
          f"{rate / headless:.0%} of headless (target >= 80%)")


if __name__ == "__main__":
    main()
