"""Where the training step's time goes (issue 14 item 4): torch's profiler over the bare step, grouped.

    python -m bench.profile_step [--preset stable] [--steps 60] [--threads 1]

Runs ``GANState.train_step`` on the offline digits (no checkpoints, grids or metrics), profiles the last
``--steps`` steps on the CPU, and prints the self CPU time of every op grouped into what the step is made
of: the matmuls (the algorithm's arithmetic), Adam, elementwise work (activations, BatchNorm, dropout,
losses, spectral norm's small ops), random numbers, copies and concatenations, and autograd's bookkeeping.
One thread by default, so the shares are the step's own and not the scheduler's.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile

from gan_core.data import load_training_data
from gan_core.gan.state import GANState
from gan_core.presets import preset_config

# The first matching group wins; order matters ("addmm" before "add").
GROUPS = (
    ("matmul", ("addmm", "addmv", "mm", "bmm", "matmul", "linear", "mv", "dot", "vdot")),
    ("Adam", ("_fused_adam", "optimizer.step", "_foreach", "adam", "lerp", "addcmul", "addcdiv", "sqrt")),
    ("spectral norm's own function (forward, outside its matmuls)", ("_snlinearfunction",)),
    ("random numbers", ("uniform", "bernoulli", "normal", "rand", "randperm")),
    ("copies and concatenations", ("cat", "copy", "clone", "contiguous", "to", "_to_copy", "stack", "slice",
                                   "select", "view", "reshape", "index", "narrow", "as_strided", "t",
                                   "transpose", "expand", "empty", "zeros", "ones", "fill", "resize")),
    ("elementwise and reductions", ("leaky", "sigmoid", "batch_norm", "native_batch_norm", "dropout", "mul",
                                    "div", "add", "sub", "sum", "mean", "norm", "log", "exp", "softplus",
                                    "binary_cross", "clamp", "neg", "where", "threshold", "max", "min",
                                    "relu", "abs", "pow", "var", "rsub", "gt", "lt", "eq", "ne",
                                    "linalg_vector_norm")),
)


def group_of(name: str) -> str:
    """The group of a profiler key such as ``aten::addmm`` (autograd's nodes and engine calls apart)."""
    if "Backward" in name or name.startswith("autograd::"):  # incl. _SNLinearFunctionBackward's own time
        return "autograd bookkeeping"
    op = name.removeprefix("aten::").lower()
    for group, prefixes in GROUPS:
        # Short names (t, to, view...) match exactly or with a suffix; the others as prefixes.
        exact = group == "copies and concatenations"
        if any(op == p or op.startswith(p + "_") or (not exact and op.startswith(p)) for p in prefixes):
            return group
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="stable")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_training_data("mnist", args.data_dir)
    state = GANState.fresh(preset_config(args.preset, device="cpu", ema_decay=0.0, eval_every=0))
    batches = data.images[: (len(data.images) // 100) * 100].reshape(-1, 100, 784)
    for i in range(args.warmup):
        state.train_step(batches[i % len(batches)])
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for i in range(args.steps):
            state.train_step(batches[i % len(batches)])
    totals: dict[str, float] = defaultdict(float)
    ops: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for event in prof.key_averages():
        group = group_of(event.key)
        totals[group] += event.self_cpu_time_total
        ops[group][event.key] += event.self_cpu_time_total
    whole = sum(totals.values())
    print(f"{args.preset} step, {args.threads} thread(s), {args.steps} steps profiled: "
          f"{whole / args.steps / 1000:.1f} ms of self CPU time per step")
    for group, micros in sorted(totals.items(), key=lambda kv: -kv[1]):
        top = sorted(ops[group].items(), key=lambda kv: -kv[1])[:4]
        names = ", ".join(f"{name.removeprefix('aten::')} {t / whole:.1%}" for name, t in top)
        print(f"  {group:60s} {micros / whole:6.1%}   ({names})")


if __name__ == "__main__":
    main()
