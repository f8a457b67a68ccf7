"""Fitting the bench into its budget: how many of each figure, and how long the whole runs, on this machine."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from bench.common import BATCH

BUDGET_SECONDS = 285.0  # the 5 minutes, less a margin for the last measurement running long


# A whole default run's images/s as a fraction of its bare step's (0.84-0.95 measured, docs/performance.md);
# lower here, so that a run's length is overestimated rather than under.
RUN_PER_STEP = 0.8


def run_seconds(epochs: int, images: int, stable_rates: list[float]) -> float:
    """About how long a whole default run takes, from the bare ``stable`` step's images/s."""
    return epochs * (images // BATCH) * BATCH / (RUN_PER_STEP * statistics.median(stable_rates))


def fitted_epochs(epochs: int, pair_seconds: float, seconds_left: float) -> int:
    """``epochs``, or fewer (at least 2: a first and a last evaluation) where a pair of whole runs of
    ``epochs`` would take longer than ``seconds_left``: on a slow CPU the bench still ends in its budget."""
    if pair_seconds <= seconds_left:
        return epochs
    return max(2, int(epochs * max(seconds_left, 0.0) / pair_seconds))


def measure_within(budget: float, short: Callable[[], None], pair: Callable[[], None], every: Callable[[], None],
                   repeats: int, pairs: int, clock: Callable[[], float] = time.monotonic) -> tuple[int, int, int]:
    """Run the bench's measurements in the order that fits ``budget`` seconds (from now) best: one repeat of
    the short figures and one pair of whole runs (metrics on and off) always, however slow the machine;
    then, timed by how long the first of each took, more short repeats (up to ``repeats``) while the
    wanted ``pairs`` still fit, more pairs, and with what is left one checkpoint-every-epoch run per pair.
    Returns how many of each ran."""
    ends = clock() + budget
    took: dict[str, float] = {}

    def run(what: str, fn: Callable[[], None]) -> None:
        started = clock()
        fn()
        took[what] = clock() - started

    run("short", short)
    run("pair", pair)
    done = {"short": 1, "pair": 1, "every": 0}
    while done["short"] < repeats and clock() + took["short"] + (pairs - done["pair"]) * took["pair"] <= ends:
        run("short", short)
        done["short"] += 1
    while done["pair"] < pairs and clock() + took["pair"] <= ends:
        run("pair", pair)
        done["pair"] += 1
    while done["every"] < done["pair"] and clock() + took.get("every", took["pair"] / 2) <= ends:
        run("every", every)
        done["every"] += 1
    return done["short"], done["pair"], done["every"]
