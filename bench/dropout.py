"""G's dropout, forward and backward at its shape in the step: torch's ``F.dropout`` vs ``gan_core.model.Dropout``.

    python -m bench.dropout [--repeats 5] [--calls 200]

Both on a (batch 100, 1024) input with keep 0.5, on all the cores, interleaved; medians of ms per call.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from gan_core.gan.model import G_HIDDEN, Dropout
from gan_core.threads import physical_cores


def ms_per_call(fn, x: torch.Tensor, grad: torch.Tensor, calls: int) -> float:
    for _ in range(10):
        fn(x).backward(grad)
    started = time.perf_counter()
    for _ in range(calls):
        fn(x).backward(grad)
    return (time.perf_counter() - started) / calls * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(physical_cores())
    x = torch.randn(100, G_HIDDEN[-1], requires_grad=True)
    grad = torch.randn(100, G_HIDDEN[-1])
    ours = Dropout(0.5)
    cases = {"torch F.dropout (bernoulli_ mask)": lambda t: F.dropout(t, 0.5, True),
             "gan_core Dropout (uniform draw < keep)": ours}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, fn in cases.items():
            times[name].append(ms_per_call(fn, x, grad, args.calls))
    print(f"dropout forward + backward on (100, {G_HIDDEN[-1]}), keep 0.5, {physical_cores()} threads, "
          f"median of {args.repeats}:")
    for name, values in times.items():
        print(f"  {name}: {statistics.median(values):.3f} ms")
    torch_ms, ours_ms = (statistics.median(v) for v in times.values())
    print(f"  torch / gan_core: {torch_ms / ours_ms:.2f}x")


if __name__ == "__main__":
    main()
