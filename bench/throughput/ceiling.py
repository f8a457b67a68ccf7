"""The machine's limit for the step (figures 3 and 4): the step's own matmuls, at their shapes, and nothing else."""

from __future__ import annotations

import itertools

import torch

from bench.common import BATCH, seconds_per_call
from gan_core.gan.model import D_HIDDEN, G_HIDDEN, IMAGE_PIXELS


def matmul_flops_per_second(device: torch.device, size: int = 2048, repeats: int = 10) -> float:
    """The machine's matmul FLOP/s on large square fp32 matrices (3 warm-up products)."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    return 2 * size**3 / seconds_per_call(lambda: a @ b, repeats, warmup=3, device=device)


def step_gemms(batch: int = BATCH) -> list[tuple[int, int, int, str]]:
    """The matrix multiplies of one training step as gan_core runs it, as (rows, in, out, kind), kind one
    of "fwd" (x @ W.T), "dx" (grad @ W) and "dw" (grad.T @ x): the layouts nn.Linear uses."""
    g = list(itertools.pairwise([100, *G_HIDDEN, IMAGE_PIXELS]))
    d = list(itertools.pairwise([IMAGE_PIXELS, *D_HIDDEN, 1]))
    b2 = 2 * batch
    d_update = ([(batch, i, o, "fwd") for i, o in g] + [(b2, i, o, "fwd") for i, o in d]
                + [(b2, i, o, "dw") for i, o in d] + [(b2, i, o, "dx") for i, o in d[1:]])
    g_update = ([(batch, i, o, "fwd") for i, o in g + d] + [(batch, i, o, "dx") for i, o in d]
                + [(batch, i, o, "dw") for i, o in g] + [(batch, i, o, "dx") for i, o in g[1:]])
    return d_update + g_update


def step_gemm_rate(device: torch.device, batch: int = BATCH, repeats: int = 50, precision: str = "fp32") -> float:
    """Images/s if a step were nothing but its matmuls, timed at the step's own (small) shapes and in the
    step's precision (bf16: operands already bf16, no casts): the ceiling for any implementation of this
    step that uses torch's matmul kernels on this machine."""
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    calls = []
    for rows, fan_in, fan_out, kind in step_gemms(batch):
        weight = torch.randn(fan_out, fan_in, device=device, dtype=dtype)
        x = torch.randn(rows, fan_in, device=device, dtype=dtype)
        grad = torch.randn(rows, fan_out, device=device, dtype=dtype)
        calls.append({"fwd": (x, weight.t()), "dx": (grad, weight), "dw": (grad.t(), x)}[kind])

    def one_step() -> None:
        for left, right in calls:
            left @ right

    return batch / seconds_per_call(one_step, repeats, warmup=5, device=device)


def step_flops(batch: int = BATCH) -> float:
    """Matmul FLOPs of one training step as gan_core runs it (D on 2B rows, D frozen in the G step)."""
    return float(sum(2 * rows * fan_in * fan_out for rows, fan_in, fan_out, _ in step_gemms(batch)))
