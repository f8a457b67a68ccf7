"""Quality benchmark: train recipes from scratch for a fixed number of epochs and print the judge's metrics.

    python -m bench.quality                          # seed vs stable, seed 0, 100 epochs, side by side
    python -m bench.quality --variants seed,lsgan --seeds 0,1,2 --epochs 100 --json bench/out/q.json
    python -m bench.quality --summary bench/out/*.json   # mean ± sd over seeds, one row per variant

Every evaluation reports the readable share (the judge and the referee both read the same digit with
p >= 0.9) beside the same share of the held-out real digits, and the FID of 2,000 samples against all
1,000 held-out digits beside its real-vs-real floor at those sizes. Each finished run leaves a sheet, its
first 100 evaluation samples beside 100 held-out real digits, in ``--grids``.

The loop is the Trainer's (same batches, same RNG draws, metrics on a dedicated noise generator), so a
preset's numbers here match ``python -m gan_core train`` with that preset. Besides the presets, a few
experimental variants that were screened for the ``stable`` preset are defined here only (``sn``, spectral
norm on D, won and is now the ``stable`` preset): ``mbstd`` (minibatch std-dev in D), ``noise`` (instance noise).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_core.config import GANConfig
from gan_core.data import evenly_spaced, load_training_data
from gan_core.gan.model import D_HIDDEN, IMAGE_PIXELS, generate
from gan_core.gan.nets import init_weights
from gan_core.gan.state import GANState, adam
from gan_core.images import comparison_sheet, save_png
from gan_core.presets import PRESETS
from gan_core.quality.judge import eval_noise, load_or_train_judge
from gan_core.quality.metrics import format_row
from gan_core.quality.referee import TRAIN_STEPS as REFEREE_STEPS


class MinibatchStdD(nn.Module):
    """The seed's D with a minibatch-stddev feature after the first hidden layer (groups of 4 images,
    never mixing the real and the fake half of the batch)."""

    GROUP = 4

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        slope = config.leaky_slope
        self.first = nn.Sequential(nn.Linear(IMAGE_PIXELS, D_HIDDEN[0]), nn.LeakyReLU(slope))
        layers: list[nn.Module] = []
        width = D_HIDDEN[0] + 1
        for hidden in D_HIDDEN[1:]:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(slope)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.rest = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h = self.first(images.reshape(images.shape[0], IMAGE_PIXELS))
        g = self.GROUP if h.shape[0] % self.GROUP == 0 else 1
        std = h.reshape(-1, g, h.shape[1]).std(dim=1, unbiased=False).mean(dim=1) if g > 1 else h.new_zeros(len(h))
        feature = std.repeat_interleave(g).unsqueeze(1)
        return self.rest(torch.cat((h, feature), dim=1)).squeeze(1)


class NoisyD(nn.Module):
    """Instance noise: Gaussian noise on every D input, its std annealed linearly to 0 over the run."""

    def __init__(self, inner: nn.Module, sigma: float, total_steps: int) -> None:
        super().__init__()
        self.inner, self.sigma, self.total, self.calls = inner, sigma, total_steps, 0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.calls += 1  # two calls per step: D step and G step
        s = self.sigma * max(0.0, 1.0 - self.calls / (2 * self.total))
        return self.inner(images + s * torch.randn_like(images))


# name -> (GANConfig overrides, hook(state, total_steps) that may swap D)
def _swap_d(state: GANState, d: nn.Module) -> None:
    state.discriminator = d.to(state.device)
    c = state.config
    state.opt_d = adam(d.parameters(), c.lr_d, c.beta1_d, c.beta2)


def _mbstd(state: GANState, steps: int) -> None:
    d = MinibatchStdD(state.config)
    init_weights(d, state.config.init_std)
    _swap_d(state, d)


def _noise(state: GANState, steps: int) -> None:
    _swap_d(state, NoisyD(state.discriminator, 0.1, steps))


VARIANTS = {name: (dict(overrides), None) for name, overrides in PRESETS.items()}
# The recipe search of docs/quality.md (issue 21): the stable preset plus one change at a time, then together.
_SN = {"spectral_norm": True}
_LS = {**_SN, "loss": "lsgan"}
_LS4 = {**_LS, "lr_d": 4e-4, "lr_g": 4e-4}
VARIANTS.update({
    "hinge": ({**_SN, "loss": "hinge"}, None),
    "lsgan": (_LS, None),
    "lsgan-bs50": ({**_LS, "batch_size": 50}, None),
    "lsgan-keep1": ({**_LS, "dropout_keep": 1.0}, None),
    "lsgan-lr4": (_LS4, None),
    "lsgan-lr8": ({**_LS, "lr_d": 8e-4, "lr_g": 8e-4}, None),
    "lsgan-lr4-keep1": ({**_LS4, "dropout_keep": 1.0}, None),
    "lsgan-lr4-bs50": ({**_LS4, "batch_size": 50}, None),
    "lsgan-lr4-b05": ({**_LS4, "beta1_d": 0.5}, None),
    "lsgan-lr4-r1": ({**_LS4, "r1_gamma": 1.0}, None),
    "lsgan-lr4-dat": ({**_LS4, "augment": "translation"}, None),
    "lsgan-lr4-datc": ({**_LS4, "augment": "translation-cutout"}, None),
    "lsgan-lr8-keep1": ({**_LS, "lr_d": 8e-4, "lr_g": 8e-4, "dropout_keep": 1.0}, None),
    "lsgan-lr8-b05": ({**_LS, "lr_d": 8e-4, "lr_g": 8e-4, "beta1_d": 0.5}, None),
    "lsgan-lr8-bs50": ({**_LS, "lr_d": 8e-4, "lr_g": 8e-4, "batch_size": 50}, None),
    "lsgan-lr16": ({**_LS, "lr_d": 1.6e-3, "lr_g": 1.6e-3}, None),
    "lsgan-d16-g32": ({**_LS, "lr_d": 1.6e-3, "lr_g": 3.2e-3}, None),
    "clean-r1": ({**PRESETS["clean"], "r1_gamma": 1.0}, None),
    "clean-datc": ({**PRESETS["clean"], "augment": "translation-cutout"}, None),
    "clean-cutout": ({**PRESETS["clean"], "augment": "cutout"}, None),
    "clean-bs50": ({**PRESETS["clean"], "batch_size": 50}, None),
    "clean-d2": ({**PRESETS["clean"], "d_steps": 2}, None),
    "clean-ttur": ({**PRESETS["clean"], "lr_d": 3.2e-3}, None),
    "pack2": ({"pack": 2}, None),
    "pack2-b05": ({"pack": 2, "beta1_d": 0.5}, None),
    "b05": ({"beta1_d": 0.5}, None),
    "pack4-b05": ({"pack": 4, "beta1_d": 0.5}, None),
    "mbstd": ({}, _mbstd),
    "sn": ({"spectral_norm": True}, None),  # = the stable preset
    "noise": ({}, _noise),
    "mbstd-b05": ({"beta1_d": 0.5}, _mbstd),
    "sn-b05": ({"spectral_norm": True, "beta1_d": 0.5}, None),
    "noise-b05": ({"beta1_d": 0.5}, _noise),
})


class Run:
    """One (variant, seed) training run, advanced an epoch at a time. It keeps its own copy of the global
    torch RNG state, so runs interleaved in one process draw exactly what they would draw alone."""

    def __init__(self, variant: str, seed: int, epochs: int, eval_every: int, eval_samples: int, data, judge,
                 out_dir: Path | None, steps: int | None = None) -> None:
        """``epochs`` passes over the training digits, or exactly ``steps`` D updates where given."""
        overrides, hook = VARIANTS[variant]
        self.config = GANConfig(**{**overrides, "seed": seed, "device": "cpu", "eval_samples": eval_samples})
        self.per_epoch = len(data.images) // self.config.batch_size
        steps = epochs * self.per_epoch if steps is None else steps
        self.state = GANState.fresh(self.config)
        if hook is not None:
            hook(self.state, steps)
        self.rng = torch.get_rng_state()
        self.variant, self.seed, self.steps, self.eval_every = variant, seed, steps, eval_every
        self.data, self.judge, self.out_dir = data, judge, out_dir
        self.epochs = math.ceil(steps / self.per_epoch)
        self.epoch = 0
        self.z = eval_noise(eval_samples, self.config.z_dim)
        self.rows: list[dict] = []
        self.seconds = 0.0

    @property
    def done(self) -> bool:
        return self.state.step >= self.steps

    def run_epoch(self) -> None:
        """The Trainer's epoch: a fresh permutation, then one train_step per full batch."""
        started = time.monotonic()
        torch.set_rng_state(self.rng)
        state, images, batch = self.state, self.data.images, self.config.batch_size
        perm = torch.randperm(len(images))
        losses = []
        for b in range(self.per_epoch):
            if state.step >= self.steps:
                break
            real = images[perm[b * batch:(b + 1) * batch]]
            losses.append(state.train_step(real, update_g=(state.step + 1) % self.config.d_steps == 0))
            state.step += 1
        self.rng = torch.get_rng_state()
        self.epoch += 1
        means = torch.stack(losses).double().mean(0).tolist()
        self.seconds += time.monotonic() - started
        if self.epoch % self.eval_every == 0 or self.done:
            row = self.judge.evaluate(generate(state.shown_generator(), self.z))  # what the trainer evaluates
            row.update(epoch=self.epoch, step=state.step, d_loss=means[0], g_loss=means[1], seconds=self.seconds)
            self.rows.append(row)
            print(f"[{self.variant} seed {self.seed}] epoch {self.epoch:3d} step {state.step:5d} d {means[0]:.3f} "
                  f"g {means[1]:.3f} | {format_row(row)}", flush=True)
        if self.done and self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            save_png(sheet(state.shown_generator(), self.data, self.config.z_dim),
                     self.out_dir / f"{self.variant}-seed{self.seed}-epoch{self.epoch}.png")

    def result(self) -> dict:
        return {"variant": self.variant, "seed": self.seed, "steps": self.steps, "step": self.state.step,
                "config": self.config.to_dict(), "rows": self.rows}


def sheet(generator: nn.Module, data, z_dim: int) -> np.ndarray:
    """100 samples (the first 100 evaluation latents, as the metrics see them) beside 100 held-out real
    digits spread evenly over the held-out split (ten of each digit in the label-sorted offline split)."""
    held = data.held_out()[0]
    real = held[evenly_spaced(len(held), 100)]
    return comparison_sheet(generate(generator, eval_noise(100, z_dim)).numpy(), real.numpy())


def side_by_side(results: list[dict]) -> str:
    """Per evaluated epoch: FID / classes present / max share of each run, as one table."""
    names = [f"{r['variant']}/s{r['seed']}" for r in results]
    epochs = sorted({row["epoch"] for r in results for row in r["rows"]})
    lines = ["epoch  " + "  ".join(f"{n:>26}" for n in names),
             "       " + "  ".join(f"{'readable  FID  floor  min':>26}" for _ in names)]
    for e in epochs:
        cells = []
        for r in results:
            row = next((x for x in r["rows"] if x["epoch"] == e), None)
            cells.append(f"{_share(row.get('readable')):>6} {row['fid']:7.2f} {row['fid_floor']:5.2f} "
                         f"{row['min_class_share']:5.1%}" if row else "-")
        lines.append(f"{e:5d}  " + "  ".join(f"{c:>26}" for c in cells))
    return "\n".join(lines)


def summary(paths: list[str], at_epoch: int | None = None) -> str:
    results = []
    for p in paths:
        results += json.loads(Path(p).read_text())["results"]
    by_variant: dict[str, list[dict]] = {}
    for r in results:
        rows = [row for row in r["rows"] if at_epoch is None or row["epoch"] == at_epoch]
        if rows:
            by_variant.setdefault(f"{r['variant']}@{rows[-1]['epoch']}", []).append(rows[-1])
    lines = [f"{'variant@epoch':22} {'seeds':>5} {'readable':>12} {'/ real':>11} {'FID mean±sd':>12} "
             f"{'floor':>5} {'FID/floor':>9} {'classes min-max':>16} {'precision':>9} {'recall':>7}"]
    for key, rows in by_variant.items():
        ratio = [r.get("readable_ratio") for r in rows]
        low, high = min(r["min_class_share"] for r in rows), max(r["max_class_share"] for r in rows)
        lines.append(f"{key:22} {len(rows):5d} {_mean_sd([r.get('readable') or 0 for r in rows], '.3f'):>12} "
                     f"{_mean_sd([v or 0 for v in ratio], '.3f'):>11} {_mean_sd([r['fid'] for r in rows], '.1f'):>12} "
                     f"{np.mean([r['fid_floor'] for r in rows]):5.2f} "
                     f"{np.mean([r['fid'] / r['fid_floor'] for r in rows]):9.1f} {low:7.1%}-{high:.1%} "
                     f"{np.mean([r.get('precision') or 0 for r in rows]):9.3f} "
                     f"{np.mean([r.get('recall') or 0 for r in rows]):7.3f}")
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _mean_sd(values: list[float], fmt: str = ".2f") -> str:
    v = np.array(values, dtype=float)
    return f"{v.mean():{fmt}}±{v.std(ddof=1) if len(v) > 1 else 0:{fmt}}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="seed,stable", help=f"comma list of {', '.join(VARIANTS)}")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--steps", type=int, help="exactly this many D updates instead of --epochs")
    parser.add_argument("--eval-every", type=int, default=10, help="epochs between evaluations (default 10)")
    parser.add_argument("--eval-samples", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--judge-cache", default="checkpoints/_judge")
    parser.add_argument("--json", help="write all results to this JSON file")
    parser.add_argument("--grids", default="bench/out", help="folder for the final 10x10 sample grids")
    parser.add_argument("--interleave", action="store_true",
                        help="advance all runs an epoch at a time (each keeps its own RNG stream)")
    parser.add_argument("--at-epoch", type=int, help="with --summary: the row of this epoch, not the last")
    parser.add_argument("--summary", nargs="+", help="only summarise these JSON result files")
    args = parser.parse_args()
    if args.summary:
        print(summary(args.summary, args.at_epoch))
        return 0
    torch.set_num_threads(args.threads)
    data = load_training_data(args.dataset, args.data_dir)
    judge = load_or_train_judge(data, args.judge_cache, args.dataset, referee_steps=REFEREE_STEPS)
    print(f"data: {data.message}\n{judge.describe()}", flush=True)
    runs = []
    for variant in args.variants.split(","):
        if variant not in VARIANTS:
            parser.error(f"unknown variant {variant!r}")
        runs += [Run(variant, int(seed), args.epochs, args.eval_every, args.eval_samples, data, judge,
                     Path(args.grids) if args.grids else None, steps=args.steps) for seed in args.seeds.split(",")]
    # --interleave: every run advances one epoch in turn (all runs progress together); else one by one.
    order = [runs] if args.interleave else [[r] for r in runs]
    for group in order:
        while not all(r.done for r in group):
            for r in group:
                if not r.done:
                    r.run_epoch()
            if args.json:
                Path(args.json).parent.mkdir(parents=True, exist_ok=True)
                Path(args.json).write_text(json.dumps({"judge_accuracy": judge.held_out_accuracy,
                                                       "results": [r.result() for r in runs]}, indent=1))
    results = [r.result() for r in runs]
    print(side_by_side(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
