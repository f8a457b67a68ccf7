"""What spectral norm adds to D's two passes of a step, ``nn.Linear`` vs ``SNLinear``.

    python -m bench.sn_pass [--repeats 5] [--calls 100] [--precision bf16]

D's four layers as the seed recipe builds them (plain ``nn.Linear``) and as the ``stable`` preset does
(``gan_core.gan.spectral.SNLinear``), under the precision's autocast: D's update (forward and backward on
100 real + 100 fake rows, weight gradients, one power iteration; gradients cleared before each pass as
the optimizer does) and G's update through a frozen D (100 rows, gradients to the input only, no power
iteration). All cores, interleaved, medians of ms per pass.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from bench.common import interleaved, ms_per_call
from gan_core.config import GANConfig
from gan_core.gan.model import IMAGE_PIXELS
from gan_core.gan.nets import build_models
from gan_core.threads import physical_cores


def discriminator(spectral: bool) -> nn.Module:
    """The project's own D, as the seed recipe (plain ``nn.Linear``) or the ``stable`` preset builds it."""
    return build_models(GANConfig(spectral_norm=spectral))[1]


def d_pass(d: nn.Module, x: torch.Tensor, precision: str) -> Callable[[], None]:
    """D's update: weight gradients (and, with SNLinear, a power iteration)."""
    def run() -> None:
        d.zero_grad(set_to_none=True)  # accumulating into old gradients is not what a step does
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            y = d(x)
        y.float().sum().backward()
    return run


def g_pass(d: nn.Module, x: torch.Tensor, precision: str) -> Callable[[], None]:
    """G's update through D: D frozen, the gradient goes to the input (G's images) only."""
    d.requires_grad_(False)

    def run() -> None:
        images = x.clone().requires_grad_(True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            y = d(images)
        y.float().sum().backward()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    args = parser.parse_args()
    torch.set_num_threads(physical_cores())
    print(f"{args.precision}, {torch.get_num_threads()} threads, medians of {args.repeats} repeats, ms per pass:")
    for what, make, rows in (("D's update (forward + backward, 200 rows)", d_pass, 200),
                             ("G's update through frozen D (100 rows)", g_pass, 100)):
        x = torch.rand(rows, IMAGE_PIXELS)
        passes = {"nn.Linear": make(discriminator(False), x, args.precision),
                  "SNLinear": make(discriminator(True), x, args.precision)}
        times = interleaved({name: partial(ms_per_call, fn, args.calls) for name, fn in passes.items()}, args.repeats)
        plain, spectral = (statistics.median(t) for t in times.values())
        print(f"  {what}: nn.Linear {plain:.3f}, SNLinear {spectral:.3f}; SN adds {spectral - plain:.3f} "
              f"({spectral / plain:.2f}x)")


if __name__ == "__main__":
    main()
