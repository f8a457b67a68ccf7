""""Toward d" on the demo run: how often the referee reads d (p >= 0.9) after the edit, per digit, and what
an edit costs.

    python -m bench.latent.toward_digit [--starts 50] [--digits 0,1,...,9] [--single 10] [--json FILE]

The starts: the first readable latents of the demo (``latent.starts.readable_latents``: seeds from 0 whose
digit the referee reads as some digit with p >= 0.9); for digit d, the first ``--starts`` of them the referee
does not already read as d (starts already reading d are excluded). Every edit of a digit runs in one batch
(``toward_digit`` takes a digit per row), so the success table is quick to make; ``--single`` edits per digit
then run alone, one torch thread, as the Explore page runs one: their wall and CPU seconds are the UI's cost.
Success is measured here from the final latent (G in eval mode, the bundled referee), and compared with the
edit's own verdict (``reached``): every failure must be reported as one.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from gan_core.data import load_training_data
from gan_core.gan.model import generate
from gan_core.latent import steering
from gan_core.latent.starts import readable_latents
from gan_core.quality.judge import JUDGE_DIR, load_or_train_judge
from gan_core.quality.referee import TRAIN_STEPS as REFEREE_STEPS
from gan_core.runs.demo import open_demo

SUCCESS_P = 0.9


def starts_for(pool, digit: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(z, seeds): the first ``count`` starts of ``pool`` the referee does not read as ``digit``."""
    keep = np.flatnonzero(pool.digits != digit)[:count]
    if len(keep) < count:
        raise SystemExit(f"only {len(keep)} readable starts for digit {digit}: draw more")
    return pool.z[keep], pool.seeds[keep]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="demo")
    parser.add_argument("--checkpoints", default="checkpoints", help="the judge cache lives under it")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--starts", type=int, default=50, help="readable starts per digit")
    parser.add_argument("--digits", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--single", type=int, default=5, help="edits per digit timed alone (the UI's cost)")
    parser.add_argument("--json", help="write the numbers to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = open_demo(args.demo)
    generator = run.generator.eval()
    data = load_training_data(run.config.dataset, args.data_dir)
    judge = load_or_train_judge(data, Path(args.checkpoints) / JUDGE_DIR, run.config.dataset,
                                referee_steps=REFEREE_STEPS)
    referee = judge.referee
    digits = [int(d) for d in args.digits.split(",")]
    pool = readable_latents(generator, referee, generator.z_dim, count=2 * args.starts)
    print(f"demo epoch {run.manifest['epoch']}; {judge.describe()}; load average {os.getloadavg()[0]:.1f}")
    print(f"starts: the first {2 * args.starts} readable seeds (up to {int(pool.seeds[-1])}), per digit the first "
          f"{args.starts} not already read as it; " + describe_edit())
    print(f"{'digit':5} {'success':>8} {'reported':>8} {'judge':>6} {'|dpx|':>6} {'steps':>6} "
          f"{'batch s':>8} {'s/edit':>7} {'cpu s':>6}")
    rows = {}
    for digit in digits:
        z, seeds = starts_for(pool, digit, args.starts)
        started = time.perf_counter()
        edit = steering.toward_digit(generator, judge.net, z, digit, **referee_argument(referee))
        batch_seconds = time.perf_counter() - started
        final = generate(generator, torch.from_numpy(edit.final))
        success = referee.probabilities(final)[:, digit] >= SUCCESS_P
        reported = getattr(edit, "reached", None)
        if reported is not None and not np.array_equal(reported, success):
            raise SystemExit(f"digit {digit}: the edit's verdict disagrees with the referee's on the final image")
        change = (final - generate(generator, torch.from_numpy(z))).abs().mean((1, 2)).numpy()
        single = [timed_single(generator, judge.net, referee, z[i:i + 1], digit) for i in range(args.single)]
        wall, cpu = (float(np.mean([s[k] for s in single])) if single else float("nan") for k in (0, 1))
        rows[digit] = {"success": float(success.mean()), "reported": reported is not None,
                       "judge": float((edit.judge_p[-1] >= SUCCESS_P).mean()), "pixel_change": float(change.mean()),
                       "steps": float(edit.steps_taken.mean()), "batch_seconds": batch_seconds,
                       "seconds_per_edit": wall, "cpu_seconds_per_edit": cpu,
                       "failed_seeds": seeds[~success].tolist()}
        print(f"{digit:5} {success.mean():8.0%} {str(reported is not None):>8} {rows[digit]['judge']:6.0%} "
              f"{change.mean():6.3f} {edit.steps_taken.mean():6.1f} {batch_seconds:8.1f} {wall:7.2f} {cpu:6.2f}")
    worst = min(r["success"] for r in rows.values())
    print(f"every digit >= 90%: {worst >= 0.9}; worst {worst:.0%}; load average {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"edit": describe_edit(), "digits": rows}, indent=1))


def describe_edit() -> str:
    names = ("STEPS", "STEP_SIZE", "PULL", "MAX_PIXEL_CHANGE", "TARGET_P", "RESTARTS", "JITTER")
    return "edit: " + ", ".join(f"{n.lower()} {getattr(steering, n)}" for n in names if hasattr(steering, n))


def referee_argument(referee) -> dict:
    """``referee=`` where ``toward_digit`` takes one (the code before it did not)."""
    return {"referee": referee} if "referee" in steering.toward_digit.__code__.co_varnames else {}


def timed_single(generator, judge_net, referee, z: np.ndarray, digit: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one edit alone, as the Explore page runs it."""
    wall, cpu = time.perf_counter(), time.process_time()
    steering.toward_digit(generator, judge_net, z, digit, **referee_argument(referee))
    return time.perf_counter() - wall, time.process_time() - cpu


if __name__ == "__main__":
    main()
