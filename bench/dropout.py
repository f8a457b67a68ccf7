"""G's dropout, forward and backward at its shape in the step: torch's ``F.dropout`` vs ``gan_core.gan.model.Dropout``.

    python -m bench.dropout [--repeats 5] [--calls 200]

Both on a (batch 100, 1024) input with keep 0.5, on all the cores, interleaved; medians of ms per call.
"""

from __future__ import annotations

import argparse
from functools import partial

import torch
import torch.nn.functional as F

from bench.common import compare, ms_per_call
from gan_core.gan.model import G_HIDDEN, Dropout
from gan_core.threads import physical_cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(physical_cores())
    x = torch.randn(100, G_HIDDEN[-1], requires_grad=True)
    grad = torch.randn(100, G_HIDDEN[-1])
    ours = Dropout(0.5)
    cases = {"torch F.dropout (bernoulli_ mask)": lambda: F.dropout(x, 0.5, True).backward(grad),
             "gan_core Dropout (uniform draw < keep)": lambda: ours(x).backward(grad)}
    title = (f"dropout forward + backward on (100, {G_HIDDEN[-1]}), keep 0.5, {physical_cores()} threads, "
             f"median of {args.repeats}:")
    timed = {name: partial(ms_per_call, fn, args.calls) for name, fn in cases.items()}
    torch_ms, ours_ms = compare(title, timed, args.repeats, "{median:.3f} ms")
    print(f"  torch / gan_core: {torch_ms / ours_ms:.2f}x")


if __name__ == "__main__":
    main()
