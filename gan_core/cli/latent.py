"""The latent lab's commands: ``invert`` (find the z of a digit image) and ``sample --z`` (render given z).

Kept apart from ``cli.py``'s training commands; ``cli.build_parser`` and ``cli.main`` call in here.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..config import validate_run_name
from ..gan.model import Generator, LabelError, generate, with_label
from ..images import DigitImageError, digit_from_bytes, make_grid, save_png
from ..latent.inversion import STEPS, invert
from ..latent.store import LatentStoreError, npy_bytes, read_latent
from ..runs.checkpoint import load_generator
from ..runs.folder import RunPaths


class LatentCLIError(Exception):
    """A one-line message for the user (the CLI prints it and exits 2)."""


def add_invert_command(commands: argparse._SubParsersAction) -> None:
    invert_parser = commands.add_parser("invert", help="find the latent z whose image best matches a digit image")
    invert_parser.add_argument("--run", required=True)
    invert_parser.add_argument("--checkpoints", default="checkpoints")
    invert_parser.add_argument("--image", required=True, help="PNG/JPEG/... of one digit, any size or mode")
    invert_parser.add_argument("--out", required=True, help="FILE.npy: z as float32 (1, z_dim)")
    invert_parser.add_argument("--steps", type=int, default=STEPS, help=f"optimiser steps (default {STEPS})")
    invert_parser.add_argument("--seed", type=int, default=0, help="seed of the random starts (default 0)")


def add_sample_z_option(sample_parser: argparse.ArgumentParser) -> None:
    sample_parser.add_argument("--z", help="FILE.npy of latents (n, z_dim) to render instead of --n seeded ones")
    sample_parser.add_argument("--label", type=int, help="the class a conditional run draws (0-9; required there)")


def labelled(generator: Generator, label: int | None, run: str) -> nn.Module:
    """``generator`` with ``--label`` fixed (``gan.model.with_label``); one-line errors for a label given to
    an unconditional run, none given to a conditional one, or one out of range."""
    if label is None and generator.classes:
        raise LatentCLIError(f"run '{run}' is conditional: give --label (0 to {generator.classes - 1})")
    if label is not None and not generator.classes:
        raise LatentCLIError(f"run '{run}' is unconditional: it draws no asked-for class; drop --label")
    try:
        return with_label(generator, label)
    except LabelError as exc:
        raise LatentCLIError(f"--label: {exc}") from None


def run_invert(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix != ".npy":
        raise LatentCLIError(f"--out must end in .npy, got {out.name!r}")
    if args.steps < 1:
        raise LatentCLIError("--steps must be at least 1")
    try:
        target = digit_from_bytes(Path(args.image).read_bytes())
    except OSError as exc:
        raise LatentCLIError(f"cannot read {args.image}: {exc.strerror or exc}") from exc
    except DigitImageError as exc:
        raise LatentCLIError(f"{args.image}: {exc}") from exc
    generator, record = _generator(args)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # small batches: one thread is faster, and much faster on a busy machine
    try:
        started = time.perf_counter()
        result = invert(generator, target, steps=args.steps, seed=args.seed)
        seconds = time.perf_counter() - started
    finally:
        torch.set_num_threads(previous)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(npy_bytes(result.z))
    print(f"inverted {args.image} with run '{args.run}' (epoch {record['epoch']}): pixel MSE {result.mse:.4f} "
          f"after {len(result.errors)} steps in {seconds:.2f} s; z written to {out}")
    return 0


def run_sample_z(args: argparse.Namespace) -> int:
    """Render the latents of ``--z`` exactly as the app shows them (G in eval mode)."""
    out = Path(args.out)
    generator, record = _generator(args)
    try:
        z = read_latent(Path(args.z).read_bytes(), generator.z_dim)
    except OSError as exc:
        raise LatentCLIError(f"cannot read {args.z}: {exc.strerror or exc}") from exc
    except LatentStoreError as exc:
        raise LatentCLIError(f"{args.z}: {exc}") from exc
    images = generate(labelled(generator, args.label, args.run), torch.from_numpy(z)).numpy()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, images)
    else:
        save_png(make_grid(images), out)
    print(f"wrote {len(images)} images of run '{args.run}' (epoch {record['epoch']}) from {args.z} to {out}")
    return 0


def _generator(args: argparse.Namespace) -> tuple[Generator, dict]:
    paths = RunPaths.of(args.checkpoints, validate_run_name(args.run))
    if not paths.checkpoint.is_file():
        raise LatentCLIError(f"run '{args.run}' has no checkpoint at {paths.checkpoint}")
    return load_generator(paths.checkpoint)
