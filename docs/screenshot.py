"""Retake docs/app.png: a trained run, resumed in the real app, watched by headless Chromium.

    python docs/screenshot.py [--run q] [--checkpoints checkpoints] [--out docs/app.png]

Copies ``<checkpoints>/<run>`` to a temporary folder (the original is never touched), starts
``streamlit run app.py`` on it, resumes the run for a few more epochs from the page and takes the
screenshot while it trains, so the live panel, the latent lab and the timeline all show a trained
generator. Needs /usr/bin/chromium and a run trained with quality metrics, e.g.
``python -m gan_core train --run q --epochs 100``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from app_latency import CHROMIUM, CHROMIUM_ARGS, server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="q")
    parser.add_argument("--checkpoints", type=Path, default=REPO / "checkpoints")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "app.png")
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    from gan_core.checkpoint import load_checkpoint

    saved = load_checkpoint(args.checkpoints / args.run / "checkpoint.pt")["epoch"]
    with tempfile.TemporaryDirectory(prefix="ganlab-shot-") as tmp:
        root = Path(tmp) / "checkpoints"
        shutil.copytree(args.checkpoints / args.run, root / args.run, ignore=shutil.ignore_patterns(".lock"))
        with sync_playwright() as playwright, server(root, Path(tmp) / "data", Path(tmp) / "log") as (url, _):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.set_default_timeout(180_000)
            page.goto(url)
            expect(page.get_by_label("Run name", exact=True)).to_have_value(args.run)
            epochs = page.get_by_label("Epochs", exact=True)
            epochs.fill(str(saved + 8))
            epochs.press("Enter")
            expect(epochs).to_have_value(str(saved + 8))
            page.locator(".st-key-btn_resume button:visible").first.click()
            progress = page.locator('[data-testid="stProgress"]').first
            expect(progress).to_contain_text(f"epoch {saved + 1} of", timeout=180_000)
            time.sleep(3)  # the next refresh of every fragment
            page.set_viewport_size({"width": 1500, "height": 2300})  # Streamlit scrolls inside its container
            time.sleep(6)  # the lab's and the timeline's own refreshes
            page.screenshot(path=str(args.out))
            page.locator(".st-key-btn_stop button:visible").first.click()
            time.sleep(3)
            browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
