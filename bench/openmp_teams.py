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
import statistics
import subprocess
import sys
import threading
import time

import torch

from gan_core.gan.state import GANState
from gan_core.presets import preset_config
from gan_core.threads import physical_cores


def child(main_threads: int, steps: int, precision: str) -> None:
    """Print ms per step of a training thread after the main thread ran a matmul on ``main_threads``."""
    torch.set_num_threads(main_threads)
    a = torch.randn(512, 512)
    a @ a  # on more than one thread, this leaves the main thread an OpenMP team
    result: list[float] = []

    def train() -> None:
        torch.set_num_threads(physical_cores())
        state = GANState.fresh(preset_config("stable", precision=precision))
        real = torch.rand(state.config.batch_size, 784)
        for _ in range(10):
            state.train_step(real)
        started = time.perf_counter()
        for _ in range(steps):
            state.train_step(real)
        result.append((time.perf_counter() - started) / steps * 1e3)

    thread = threading.Thread(target=train)
    thread.start()
    thread.join()
    print(f"{result[0]:.3f}")


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
    cases = {"main thread on one core (no second team)": 1, "main thread left a team": physical_cores()}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, threads in cases.items():
            out = subprocess.run([sys.executable, "-m", "bench.openmp_teams", "--child", str(threads),
                                  "--steps", str(args.steps), "--precision", args.precision],
                                 check=True, capture_output=True, text=True).stdout
            times[name].append(float(out.split()[-1]))
    print(f"stable step on a training thread with {physical_cores()} threads, precision {args.precision}, "
          f"median of {args.rounds}:")
    for name, values in times.items():
        print(f"  {name}: {statistics.median(values):6.1f} ms/step   ({', '.join(f'{v:.1f}' for v in values)})")
    alone, shared = (statistics.median(v) for v in times.values())
    print(f"  with the second team / without: {shared / alone:.2f}x")


if __name__ == "__main__":
    main()
