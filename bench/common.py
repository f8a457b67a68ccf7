"""What every bench measures with: one timing rule, one bare-step rate, one way to interleave and report.

The timing rule (``seconds_per_call``): a warm-up that is not timed, then the calls timed with
``time.perf_counter`` between two device syncs, so a GPU's queued work is inside the figure and nothing
before it is. Benches that compare cases run them in turn (``interleaved``), so drift in a shared
machine's load hits every case alike, and read medians (``compare``).
"""

from __future__ import annotations

import itertools
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

from gan_core.gan.state import GANState
from gan_core.threads import physical_cores

T = TypeVar("T")

BATCH = 100  # the batch every bench measures at: the presets' own (GANConfig.batch_size)


def sync(device: torch.device | str | None) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously; the CPU has nothing to wait for)."""
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def seconds_per_call(fn: Callable[[], object], calls: int, warmup: int = 10,
                     device: torch.device | str | None = None) -> float:
    """Mean wall seconds of ``fn()`` over ``calls`` calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    sync(device)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    sync(device)
    return (time.perf_counter() - start) / calls


def ms_per_call(fn: Callable[[], object], calls: int, warmup: int = 10) -> float:
    """``seconds_per_call`` in milliseconds, on the CPU."""
    return seconds_per_call(fn, calls, warmup) * 1e3


def step_rate(state: GANState, batches: Sequence[torch.Tensor], steps: int, warmup: int) -> float:
    """Images/s of ``state.train_step`` alone (what the trainer's inner loop calls), on ``batches`` in turn."""
    turn = itertools.cycle(batches)
    return len(batches[0]) / seconds_per_call(lambda: state.train_step(next(turn)), steps, warmup, state.device)


def on_fresh_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` on a new thread with all the cores, as a training process runs its trainer:
    the thread's OpenMP team ends with it, so no measurement is slowed by the team an earlier one left
    behind (gan_core.threads)."""
    result: list[T] = []

    def run() -> None:
        torch.set_num_threads(physical_cores())
        result.append(fn(*args, **kwargs))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if not result:
        raise RuntimeError(f"{fn.__name__} failed on its thread (see above)")
    return result[0]


def interleaved(cases: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each case's figure ``rounds`` times, the cases taking turns within each round."""
    figures: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, measure in cases.items():
            figures[name].append(measure())
    return figures


def compare(title: str, cases: dict[str, Callable[[], float]], rounds: int, line: str) -> list[float]:
    """Measure the cases ``interleaved``, print ``title`` and one ``line`` per case (a format with
    ``{median}`` and ``{runs}``, the figures one by one), and return the medians in the cases' order."""
    figures = interleaved(cases, rounds)
    print(title)
    medians = [statistics.median(values) for values in figures.values()]
    for (name, values), median in zip(figures.items(), medians, strict=True):
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"  {name}: " + line.format(median=median, runs=runs))
    return medians


def load_average() -> str:
    """The machine's 1, 5 and 15-minute load averages, for a bench's first line."""
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def device_name(device: torch.device, threads: int) -> str:
    """The GPU's name, or the CPU and the threads the bench's measurements run on."""
    return torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {threads} threads"
