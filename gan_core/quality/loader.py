"""The judge, prepared on its own thread while the GAN already trains.

Loading cached or bundled weights takes a moment; training a judge for new data takes tens of seconds
on a small CPU. Neither should delay the GAN's first step: the trainer starts a ``JudgeLoader`` and asks
it at each epoch's end whether the judge is ready. Metrics begin with the first epoch that ends after
it is. The loader reports a status line and its progress through ``on_status``; ``cancel`` stops a
training with its progress saved (see ``judge_net.train_judge``), so a stopped run loses nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data import TrainingData
from ..gan.model import balanced_labels, generate
from ..threads import one_thread_here
from .classifier import TRAIN_STEPS as JUDGE_STEPS
from .classifier import Cancelled
from .judge import Judge, load_or_train_judge
from .referee import TRAIN_STEPS as REFEREE_STEPS
from .unlabeled import UnlabeledJudge, label_free_judge, needs_label_free

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 0.5  # at most this often a progress line is published


def evaluate_generator(judge: Judge | UnlabeledJudge, generator: nn.Module, noise: torch.Tensor) -> dict[str, Any]:
    """The judge's metrics row of ``noise`` through ``generator`` (eval mode). A conditional G is asked for
    every class alike (``balanced_labels``) and the row adds the share read as the asked-for class; an
    unconditional one is evaluated exactly as before labels existed (so either judge serves it)."""
    asked = balanced_labels(generator, len(noise))
    images = generate(generator, noise, asked)
    return judge.evaluate(images) if asked is None else judge.evaluate(images, asked)


def judge_for(data: TrainingData, cache_dir: Path | None, dataset: str, **kwargs: Any) -> Judge | UnlabeledJudge:
    """The quality judge of ``data``: label-free for data without usable classes (no referee either), else the
    judge classifier, loaded or trained (``load_or_train_judge``'s keyword arguments pass through)."""
    if needs_label_free(data):
        return label_free_judge(data)
    return load_or_train_judge(data, cache_dir, dataset, **kwargs)


class JudgeLoader:
    """Prepares the judge, then the referee, on one thread. ``steps``: how long each classifier trains when
    no cached or bundled weights serve (None: each one's own length; tests pass a short one)."""

    def __init__(self, data: TrainingData, cache_dir: Path | None, dataset: str,
                 on_status: Callable[[str, float | None], None], *, steps: int | None = None) -> None:
        self._data, self._cache_dir, self._dataset = data, cache_dir, dataset
        self._steps = steps
        self._on_status = on_status  # (status line, progress in [0, 1] or None)
        self._cancel = threading.Event()
        self._settled = threading.Event()  # set once the judge is ready or will not be (the referee may follow)
        self._judge: Judge | UnlabeledJudge | None = None
        self.failure: str | None = None
        self._started = 0.0
        self._last_progress = 0.0
        self._first_done: int | None = None  # a resumed training starts past 0
        self._thread = threading.Thread(target=self._run, name="gan-judge", daemon=True)

    def start(self) -> None:
        self._started = time.monotonic()
        self._on_status("judge network: loading ...", None)
        self._thread.start()

    def ready(self) -> Judge | UnlabeledJudge | None:
        """The judge once prepared, else None (never blocks)."""
        return self._judge

    def wait(self, timeout: float | None = None) -> Judge | UnlabeledJudge | None:
        """The judge once it is ready or has failed (None then), waiting up to ``timeout`` s. It does not wait
        for the referee that may still be training after it: its figures come with the first evaluation
        after it is ready."""
        self._settled.wait(timeout)
        return self._judge

    def cancel(self, timeout: float = 10.0) -> None:
        """Stop a training in progress (saving it) and wait up to ``timeout`` s for the thread."""
        self._cancel.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        one_thread_here()  # beside the training thread, whose OpenMP team must stay the only one
        try:
            self._prepare()
        finally:
            self._settled.set()  # ready, failed or cancelled: the last epoch's evaluation stops waiting
        # The referee (readability) comes second: shipped for the offline digits, trained for other data
        # while the metrics already run without it.
        judge = self._judge
        if isinstance(judge, Judge):
            try:
                judge.add_referee(self._data, self._cache_dir, self._dataset, steps=self._steps or REFEREE_STEPS)
            except Exception:  # readability is optional too
                log.exception("referee network unavailable; no readability figures")

    def _prepare(self) -> None:
        """The judge (``judge_for``), with its status line."""
        try:
            judge = judge_for(self._data, self._cache_dir, self._dataset, progress=self._progress,
                              cancel=self._cancel, steps=self._steps or JUDGE_STEPS)
        except Cancelled as exc:
            self._on_status(f"judge network: {exc}", None)
            return
        except Exception as exc:  # metrics are optional; the GAN must still train
            log.exception("judge network unavailable")
            self.failure = f"{type(exc).__name__}: {exc}"
            self._on_status(f"judge network unavailable ({self.failure}); no quality metrics", None)
            return
        self._judge = judge
        self._on_status(f"{judge.describe()}; ready after {time.monotonic() - self._started:.1f} s", 1.0)

    def _progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last_progress < PROGRESS_SECONDS:
            return
        self._last_progress = now
        if self._first_done is None:
            self._first_done = done - 1
        rate = (done - self._first_done) / max(now - self._started, 1e-9)
        left = (total - done) / rate if rate > 0 else None
        eta = "" if left is None else f", about {left:.0f} s left"
        self._on_status(f"judge network: training it once for this dataset, step {done}/{total}{eta}; "
                        f"quality metrics start when it is ready", done / total)
