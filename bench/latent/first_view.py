"""The latent lab's first view on the shipped demo: what a full drag of each slider does to the big digit.

    python -m bench.latent.first_view [--starts 50] [--data-dir data] [--checkpoints checkpoints]

For the lab's first digit (the first seed the referee reads with p >= 0.9) and for the first ``--starts``
readable starts of any digit, a full drag of each of the first four sliders (from one end to the other)
changes the big digit by the mean |pixel change| printed here: principal directions (h1, -3 to +3 sigma, the
lab's default) beside raw coordinates z[0..3] (offsets -1 to +1, the old lab's sliders). Pixels in [0, 1].
The referee and the directions are the app's: the referee trained as the app trains it, directions from
10,000 latents (ganlab.state.models.UI_DIRECTION_SAMPLES). One torch thread, as the app's lab.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from gan_core.data import load_training_data
from gan_core.latent.directions import SIGMA_RANGE, full_drag, principal_directions, raw_directions
from gan_core.latent.starts import readable_latents
from gan_core.quality.judge import JUDGE_DIR
from gan_core.quality.referee import load_or_train_referee
from gan_core.runs.demo import open_demo

SLIDERS = 4
DIRECTION_SAMPLES = 10_000  # as the app (ganlab.state.models.UI_DIRECTION_SAMPLES)
RAW_SPAN = 1.0  # as the app's raw sliders (ganlab.explore.directions.RAW_SPAN)


def full_drag_change(generator: torch.nn.Module, z: torch.Tensor, vectors: np.ndarray, span: float) -> np.ndarray:
    """(n, k) mean |pixel change| per start and slider over a full drag (``latent.directions.full_drag``)."""
    return full_drag(generator, z, vectors, span)[0].numpy()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default=str(Path(__file__).resolve().parents[2] / "demo"))
    parser.add_argument("--starts", type=int, default=50)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--checkpoints", default="checkpoints", help="where the referee is cached")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    run = open_demo(args.demo)
    generator = run.generator_copy()
    referee = load_or_train_referee(load_training_data(run.config.dataset, args.data_dir),
                                    Path(args.checkpoints) / JUDGE_DIR, run.config.dataset)
    starts = readable_latents(generator, referee, run.config.z_dim, None, args.starts)
    z = torch.from_numpy(starts.z)
    principal = principal_directions(generator, n=DIRECTION_SAMPLES).vectors[:SLIDERS]
    raw = raw_directions(run.config.z_dim, range(SLIDERS))
    first = {"principal": full_drag_change(generator, z[:1], principal, SIGMA_RANGE)[0],
             "raw": full_drag_change(generator, z[:1], raw, RAW_SPAN)[0]}
    many = {"principal": full_drag_change(generator, z, principal, SIGMA_RANGE),
            "raw": full_drag_change(generator, z, raw, RAW_SPAN)}
    print(f"first view: seed {starts.seeds[0]}, the referee reads {starts.digits[0]} (p = {starts.referee_p[0]:.3f})")
    print(f"{'slider':<8}{'principal (first view)':>24}{'raw (first view)':>18}"
          f"{f'principal ({len(z)} starts)':>24}{f'raw ({len(z)} starts)':>20}")
    for k in range(SLIDERS):
        print(f"{k + 1:<8}{first['principal'][k]:>24.3f}{first['raw'][k]:>18.3f}"
              f"{many['principal'][:, k].mean():>24.3f}{many['raw'][:, k].mean():>20.3f}")
    print(f"starts whose first four principal sliders all reach 0.1: "
          f"{(many['principal'] >= 0.1).all(1).mean():.0%} of {len(z)}")


if __name__ == "__main__":
    main()
