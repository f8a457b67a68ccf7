"""App speed: latent-lab rerun time, and training throughput with the app open vs the headless CLI.

    python -m bench.app_latency [--changes 30] [--rounds 6] [--epochs 4]

(1) Server time of the latent-lab fragment for an 8x9 sweep grid (plus the big digit and a 10-image
    interpolation strip): AppTest drives 30 slider changes; app.py, with GANLAB_TIMING_FILE set, times
    the fragment function itself (widgets, one batched generator call, image encoding), so the number is
    what a fragment rerun costs the server, without AppTest's own whole-script overhead.
(2) Training images/s, default recipe, batch 100, quality metrics off, on 5,000 real digits: runs of the
    headless CLI (``python -m gan_core train``) alternate with the same run started from the app
    (``streamlit run app.py``) while one headless Chromium page watches the live panel. Both rates come
    from the runs' own per-epoch timings in losses.csv (first epoch skipped), measured the same way;
    the ratio is of the medians.

CPU only (CUDA_VISIBLE_DEVICES is cleared). Needs /usr/bin/chromium for (2). Takes about 3 minutes on
an idle 2-core machine. Chromium runs on the same two cores as the trainer, so the page's own rendering
is part of what is measured; the CPU split of the app runs is printed with the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from gan_core.data import write_bundled_mnist

REPO = Path(__file__).resolve().parents[1]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# --- (1) latent lab ------------------------------------------------------------------------------------

def lab_latency(work: Path, data: Path, changes: int) -> list[float]:
    from streamlit.testing.v1 import AppTest

    from gan_core import GANConfig, Trainer

    root = work / "lab_ckpt"
    trainer = Trainer(GANConfig(epochs=1, eval_every=0), "lab", checkpoints=root, data_dir=data)
    trainer.start()
    trainer.join()
    timing = work / "timing.txt"
    os.environ.update(GANLAB_CHECKPOINTS=str(root), GANLAB_DATA_DIR=str(data), GANLAB_TIMING_FILE=str(timing))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("ganlab/pages/explore.py").run()  # the lab's page
    return slider_changes(at, changes, timing)


def slider_changes(at: object, changes: int, timing: Path) -> list[float]:
    """Move the lab's direction sliders ``changes`` times (AppTest ``at`` on the Explore page) and return the
    lab fragment's server time of each change, read from the GANLAB_TIMING_FILE ``timing``."""
    assert not at.exception, at.exception
    keys = sorted(str(s.key) for s in at.slider if str(s.key).startswith("lab_dir_"))
    assert len(keys) == 6, f"expected the 6 default principal-direction sliders, got {keys}"
    for i in range(changes):
        at.slider(key=keys[i % len(keys)]).set_value(round(-2.5 + 5.0 * ((i * 7) % 10) / 9, 1)).run()
        assert not at.exception, at.exception
    times = [float(line.split()[1]) for line in timing.read_text().splitlines() if line.startswith("latent_lab ")]
    return times[-changes:]


# --- (2) throughput --------------------------------------------------------------------------------------

def epoch_rate(folder: Path, images_per_epoch: int) -> float:
    """images/s over all epochs but the first: it holds the warm-up and, in the app, the page's
    first full render right after the Train click, which would swamp a short run."""
    with open(folder / "losses.csv", newline="") as handle:
        seconds = [float(row["seconds"]) for row in csv.DictReader(handle)][1:]
    return images_per_epoch * len(seconds) / sum(seconds)


def cli_rate(root: Path, data: Path, run: str, epochs: int, images: int) -> float:
    subprocess.run([sys.executable, "-m", "gan_core", "train", "--run", run, "--epochs", str(epochs),
                    "--checkpoints", str(root), "--data-dir", str(data), "--eval-every", "0", "--quiet"],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return epoch_rate(root / run, images)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(root: Path, data: Path, log: Path):
    port = free_port()
    env = {**os.environ, "GANLAB_CHECKPOINTS": str(root), "GANLAB_DATA_DIR": str(data)}
    env.pop("GANLAB_TIMING_FILE", None)
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                    "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                                   cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            time.sleep(0.3)
        yield url, psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(30)


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def children_seconds(process: psutil.Process) -> float:
    """CPU seconds of the process's children that have ended (the app's training processes)."""
    times = process.cpu_times()
    return times.children_user + times.children_system


def start_run(page, run: str, epochs: int) -> None:  # page: a Playwright Page
    """Fill the sidebar (run name, epochs, metrics off) and click Train."""
    from playwright.sync_api import expect

    for label, value in (("Run name", run), ("Epochs", str(epochs))):
        page.get_by_label(label, exact=True).fill(value)
        page.get_by_label(label, exact=True).press("Enter")
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    evaluate = page.get_by_label("Evaluate every (epochs)", exact=True)
    if not evaluate.is_visible():
        page.get_by_text("Model and logging").click()
    evaluate.fill("0")
    evaluate.press("Enter")
    expect(evaluate).to_have_value("0")
    page.locator(".st-key-btn_train button:visible").first.click()


def interleaved_rates(root: Path, data: Path, epochs: int, rounds: int, work: Path,
                      images: int) -> tuple[list[float], list[float], str]:
    """Alternate a headless CLI run and an app run watched by one Chromium page, ``rounds`` times.

    One server and one page stay up throughout; while the CLI trains, the page shows the finished
    previous run and does not refresh. Short alternating runs keep a slow drift of the machine's speed
    (seen here: +-15% over minutes) out of the ratio."""
    from playwright.sync_api import expect, sync_playwright

    cli, app = [], []
    server_cpu = trainer_cpu = browser_cpu = wall = 0.0
    with sync_playwright() as playwright, server(root, data, work / "streamlit.log") as (url, server_process):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(url)
        page.get_by_role("heading", name="Train").wait_for()
        status = page.locator('[data-testid="stMetric"]').filter(has_text="Status").first
        for r in range(rounds):
            cli.append(cli_rate(root, data, f"cli-{r}", epochs, images))
            chromium = [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()]
            before = (cpu_seconds([server_process]), cpu_seconds(chromium), time.monotonic(),
                      children_seconds(server_process))
            start_run(page, f"app-{r}", epochs)
            expect(status).to_contain_text("running")
            expect(status).to_contain_text("finished", timeout=300_000)  # the page keeps polling meanwhile
            server_cpu += cpu_seconds([server_process]) - before[0]
            trainer_cpu += children_seconds(server_process) - before[3]
            browser_cpu += cpu_seconds(chromium) - before[1]
            wall += time.monotonic() - before[2]
            app.append(epoch_rate(root / f"app-{r}", images))
            print(f"    round {r + 1}: headless CLI {cli[-1]:,.0f}, app + page {app[-1]:,.0f} images/s", flush=True)
        cli.append(cli_rate(root, data, f"cli-{rounds}", epochs, images))
        browser.close()
    where = (f"during the app runs: training process {trainer_cpu / wall:.2f} cores, server process "
             f"{server_cpu / wall:.2f} cores, Chromium {browser_cpu / wall:.2f} cores")
    return cli, app, where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run; the first is not counted")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--images", type=int, default=5000, help="real digits used for (2) (max 5000)")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    with tempfile.TemporaryDirectory(prefix="ganlab-bench-") as tmp:
        work = Path(tmp)
        data = write_bundled_mnist(work / "data")
        times = lab_latency(work, data, args.changes)
        ms = sorted(t * 1000 for t in times)
        print(f"(1) latent-lab fragment, 6 principal sliders, 6x9 sweep + digit + 10-strip + tools + nearest digits, "
              f"{len(ms)} slider changes: "
              f"median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} ms, "
              f"max {ms[-1]:.1f} ms (target <= 50 ms)", flush=True)
        if args.skip_throughput:
            return
        root, n = work / "ckpt", args.images
        small = write_bundled_mnist(work / "small", n)
        print(f"(2) {args.rounds} rounds of {args.epochs} epochs x {n} digits, batch 100, default recipe, "
              f"metrics off, CPU: headless CLI and app + 1 Chromium page, alternating", flush=True)
        cli, app, where = interleaved_rates(root, small, args.epochs, args.rounds, work, n)
        headless, with_app = statistics.median(cli), statistics.median(app)
        # Each app run against the mean of the CLI runs just before and after it: drift cancels.
        paired = [a / ((c0 + c1) / 2) for a, c0, c1 in zip(app, cli, cli[1:], strict=False)]
        print(f"    headless CLI median {headless:,.0f} images/s ({len(cli)} runs); app + page median "
              f"{with_app:,.0f} images/s ({len(app)} runs)\n    {where}")
        print(f"    ratio app / headless = {with_app / headless:.1%} of medians, "
              f"{statistics.median(paired):.1%} median of paired runs (target >= 90%)")

if __name__ == "__main__":
    main()
