"""What spectral norm adds to one D pass: forward and backward on 200 rows, ``nn.Linear`` vs ``SNLinear``.

    python -m bench.sn_pass [--repeats 5] [--calls 100] [--precision bf16]

D's four layers as the seed recipe builds them (plain ``nn.Linear``) and as the ``stable`` preset does
(``gan_core.spectral.SNLinear``, one power iteration per forward), on 100 real + 100 fake rows as the
D step's single pass, under the precision's autocast, gradients cleared before each pass as the
optimizer does. All cores, interleaved, medians of ms per pass.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from gan_core.model import D_HIDDEN, IMAGE_PIXELS
from gan_core.spectral import SNLinear
from gan_core.threads import physical_cores


def discriminator(spectral: bool) -> nn.Sequential:
    sizes = (IMAGE_PIXELS, *D_HIDDEN, 1)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(SNLinear(nn.Linear(a, b)) if spectral else nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def d_pass(d: nn.Module, x: torch.Tensor, precision: str) -> Callable[[], None]:
    def run() -> None:
        d.zero_grad(set_to_none=True)  # accumulating into old gradients is not what a step does
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            y = d(x)
        y.float().sum().backward()
    return run


def ms_per_call(fn: Callable[[], None], calls: int) -> float:
    for _ in range(10):
        fn()
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    args = parser.parse_args()
    torch.set_num_threads(physical_cores())
    x = torch.rand(200, IMAGE_PIXELS)
    passes = {name: d_pass(discriminator(spectral), x, args.precision)
              for name, spectral in (("nn.Linear (seed)", False), ("SNLinear (stable)", True))}
    times: dict[str, list[float]] = {name: [] for name in passes}
    for _ in range(args.repeats):
        for name, fn in passes.items():
            times[name].append(ms_per_call(fn, args.calls))
    plain, spectral = (statistics.median(t) for t in times.values())
    print(f"{args.precision}, {torch.get_num_threads()} threads, D forward + backward on 200 rows, "
          f"medians of {args.repeats} repeats:")
    print(f"  nn.Linear {plain:.3f} ms, SNLinear {spectral:.3f} ms: SN adds {spectral - plain:.3f} ms "
          f"({spectral / plain:.2f}x)")


if __name__ == "__main__":
    main()
