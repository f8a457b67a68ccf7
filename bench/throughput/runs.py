"""Figures 1, 3 and 4: a whole default run as a user runs it, and the bare training step alone."""

from __future__ import annotations

import tempfile
import time
from typing import Any

import torch

from bench import common
from gan_core.data import TrainingData
from gan_core.gan.state import GANState
from gan_core.presets import DEFAULT_PRESET, preset_config
from gan_core.quality.judge import Judge
from gan_core.train.trainer import Trainer


def default_run(data: TrainingData, judge: Judge, epochs: int, device: str, metrics: bool,
                **changes: Any) -> tuple[float, float]:
    """(images/s from the first step to the end, seconds spent evaluating) of a whole Trainer run with the
    defaults (precision ``auto``: what this machine resolves it to), but for ``changes``."""
    with tempfile.TemporaryDirectory() as root:
        if not metrics:
            changes["eval_every"] = 0
        config = preset_config(DEFAULT_PRESET, epochs=epochs, device=device, **changes)
        trainer = Trainer(config, "bench", checkpoints=root, data=data, judge=judge if metrics else None)
        trainer.start()
        trainer.join()
        finished = time.monotonic()
        snap = trainer.snapshot()
        if snap.error or snap.first_step_seconds is None:
            raise RuntimeError(snap.error or "the run made no step")
        seconds = finished - trainer.started_at - snap.first_step_seconds
        evaluating = sum(row.get("eval_seconds", 0.0) for row in trainer.metrics())
        return (snap.step - 1) * config.batch_size / seconds, evaluating


def step_rate(data: TrainingData, preset: str, steps: int, device: torch.device, precision: str = "fp32") -> float:
    """Images/s of GANState.train_step alone on real batches in a random order, after 5 warm-up steps."""
    state = GANState.fresh(preset_config(preset, device=str(device), precision=precision))
    batch = state.config.batch_size
    images = data.images.to(device)
    perm = torch.randperm(len(images), device=device)
    batches = [images[perm[i * batch:(i + 1) * batch]] for i in range(len(images) // batch)]
    return common.step_rate(state, batches, steps, warmup=5)
