"""Figure 5: start-up, from a CLI launch and from the app's Train, to the first training step."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gan_core.presets import preset_config

FIRST_STEP = re.compile(r"first step ([0-9.]+) s after launch")


def startup_seconds(data_dir: Path, checkpoints: Path, run: str) -> float:
    """CLI launch to first step, as the CLI reports it (process creation to the end of step 1)."""
    command = [sys.executable, "-m", "gan_core", "train", "--run", run, "--epochs", "1", "--quiet",
               "--data-dir", str(data_dir), "--checkpoints", str(checkpoints)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        for line in process.stderr:  # type: ignore[union-attr]
            found = FIRST_STEP.search(line)
            if found:
                return float(found.group(1))
        raise RuntimeError(f"no first step reported by {' '.join(command)}")
    finally:
        process.kill()
        process.wait()


def app_start_seconds(data_dir: Path, checkpoints: Path, run: str, prestarted: bool) -> float:
    """The app's Train to first step: ``TrainerProcess.start()`` to a snapshot past step 0, with a training
    process started ahead of the click (``prestart``, as the app does while nothing trains) or without."""
    from gan_core.train import process

    config = preset_config("stable", epochs=1, device="cpu")
    if prestarted:
        process.prestart()
        time.sleep(20)  # the app starts it when a page is drawn: long before a person clicks Train
    trainer = process.TrainerProcess(config, run, checkpoints=checkpoints, data_dir=data_dir)
    clicked = time.monotonic()
    trainer.start()
    try:
        while trainer.snapshot().step < 1:
            if not trainer.is_alive():
                raise RuntimeError(f"the training process ended: {trainer.snapshot().error}")
            time.sleep(0.02)
        return time.monotonic() - clicked
    finally:
        trainer.stop(60)


def startup_figures() -> tuple[float, float, float, float]:
    """(CLI fresh, CLI cached, app with a waiting process, app without), seconds to the first step."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fresh = startup_seconds(root / "data", root / "checkpoints", "fresh")
        cached = startup_seconds(root / "data", root / "checkpoints", "cached")
        cold = app_start_seconds(root / "data", root / "checkpoints", "app-cold", prestarted=False)
        warm = app_start_seconds(root / "data", root / "checkpoints", "app-warm", prestarted=True)
    return fresh, cached, warm, cold
