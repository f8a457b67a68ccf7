"""Why a training process keeps one OpenMP team (gan_core.threads): the bare step on a training thread, with
and without a team that the main thread left behind, side by side.

    python -m bench.openmp_teams [--steps 100] [--rounds 3] [--precision auto]

Each measurement is a fresh process (a thread's team lives as long as its thread, the main thread's as
long as the process): its main thread runs one matmul on all the cores (``team``) or on one core
(``one``), then a training thread with all the cores times ``GANState.train_step``. Rounds alternate, so
drift in machine load hits both alike; medians are printed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from functools import partial

import torch

from bench.common import compare, ms_per_call, on_fresh_thread
from gan_core.gan.state import GANState
from gan_core.presets import preset_config
from gan_core.threads import physical_cores


def child(main_threads: int, steps: int, precision: str) -> None:
    """Print ms per step of a training thread after the main thread ran a matmul on ``main_threads``."""
    torch.set_num_threads(main_threads)
    a = torch.randn(512, 512)
    a @ a  # on more than one thread, this leaves the main thread an OpenMP team

    def train() -> float:
        state = GANState.fresh(preset_config("stable", precision=precision))
        real = torch.rand(state.config.batch_size, 784)
        return ms_per_call(lambda: state.train_step(real), steps)

    print(f"{on_fresh_thread(train):.3f}")


def in_a_process(main_threads: int, steps: int, precision: str) -> float:
    """``child`` in a fresh process (its main thread's team lives as long as the process): ms per step."""
    out = subprocess.run([sys.executable, "-m", "bench.openmp_teams", "--child", str(main_threads),
                          "--steps", str(steps), "--precision", precision],
                         check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # the main thread's thread count
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.steps, args.precision)
        return
    main_threads = {"main thread on one core (no second team)": 1, "main thread left a team": physical_cores()}
    alone, shared = compare(f"stable step on a training thread with {physical_cores()} threads, precision "
                            f"{args.precision}, median of {args.rounds}:",
                            {name: partial(in_a_process, threads, args.steps, args.precision)
                             for name, threads in main_threads.items()},
                            args.rounds, "{median:6.1f} ms/step   ({runs})")
    print(f"  with the second team / without: {shared / alone:.2f}x")


if __name__ == "__main__":
    main()
