"""EMA decay benchmark: one training run per seed, several EMA generators averaged beside it.

    nice -n 10 python -m bench.ema_decay --seed 0 --epochs 100 --out bench/out/ema   # one process per seed
    python -m bench.ema_decay --report bench/out/ema                                  # judge every snapshot
    python -m bench.ema_decay --runs RUN1,RUN2,RUN3 --checkpoints DIR   # or: finished CLI runs, EMA vs raw G

The EMA never changes the training, so one run gives the raw G and an EMA generator per candidate decay,
all from the same trajectory. The loop is the Trainer's (``GANState.fresh``, a fresh permutation per epoch,
one ``train_step`` per full batch, on the training split G trains on), so the raw G and the EMA at the
config's decay equal what ``python -m gan_core train`` makes with that seed. At the chosen epochs the
generators (BatchNorm statistics re-estimated for the averaged ones) are saved; ``--report`` judges them
(FID, IS, classes, precision, recall) and prints the tables for docs/trust.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from gan_core.data import load_training_data
from gan_core.gan import ema
from gan_core.gan.state import GANState
from gan_core.presets import preset_config

DECAYS = (0.99, 0.995, 0.999, 0.9995)
SAVE_AT = (10, 25, 50, 75, 100)


def train(seed: int, epochs: int, out: Path, data_dir: str) -> None:
    data = load_training_data("mnist", data_dir)  # the training split: G never sees the held-out images
    config = preset_config("stable", seed=seed, epochs=epochs, device="cpu", ema_decay=0.0)
    state = GANState.fresh(config)
    shadows = {d: ema.averaged_copy(state.generator) for d in DECAYS}
    images, batch = data.images, config.batch_size
    per_epoch = len(images) // batch
    started = time.monotonic()
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(len(images))
        for b in range(per_epoch):
            state.train_step(images[perm[b * batch:(b + 1) * batch]])
            for decay, shadow in shadows.items():
                ema.update(shadow, state.generator, decay, state.step)
            state.step += 1
        if epoch in SAVE_AT or epoch == epochs:
            snapshot = {"raw": {k: v.clone() for k, v in state.generator.state_dict().items()}}
            for decay, shadow in shadows.items():
                ema.recalibrate_batchnorm(shadow)
                snapshot[str(decay)] = {k: v.clone() for k, v in shadow.state_dict().items()}
            out.mkdir(parents=True, exist_ok=True)
            torch.save({"seed": seed, "epoch": epoch, "step": state.step, "config": config.to_dict(),
                        "generators": snapshot}, out / f"seed{seed}-epoch{epoch:03d}.pt")
            print(f"seed {seed} epoch {epoch} step {state.step} {time.monotonic() - started:.0f}s", flush=True)


def report(out: Path, data_dir: str, judge_cache: str, samples: int) -> None:
    from gan_core.config import GANConfig
    from gan_core.gan.model import generate
    from gan_core.gan.nets import make_generator
    from gan_core.quality.judge import eval_noise, load_or_train_judge

    data = load_training_data("mnist", data_dir)
    judge = load_or_train_judge(data, judge_cache, "mnist")
    rows = []
    for path in sorted(out.glob("seed*-epoch*.pt")):
        snap = torch.load(path, weights_only=True)
        config = GANConfig.from_dict(snap["config"])
        z = eval_noise(samples, config.z_dim)
        for name, weights in snap["generators"].items():
            g = make_generator(config)
            g.load_state_dict(weights)
            row = judge.evaluate(generate(g.eval(), z))
            rows.append({"seed": snap["seed"], "epoch": snap["epoch"], "which": name,
                         **{k: row.get(k) for k in ("fid", "fid_floor", "inception_score", "classes_present",
                                                    "precision", "recall", "precision_real", "recall_real")}})
            print(json.dumps(rows[-1]), flush=True)
    (out / "report.json").write_text(json.dumps(rows, indent=1))
    print(summary(rows))


def report_runs(names: list[str], checkpoints: Path, data_dir: str, samples: int) -> None:
    """Judge the EMA generator and the raw G of finished runs (as ``python -m gan_core train`` made them)."""
    from gan_core.gan.model import generate
    from gan_core.quality.judge import JUDGE_DIR, eval_noise, load_or_train_judge
    from gan_core.runs.checkpoint import load_generator
    from gan_core.runs.folder import RunPaths

    data = load_training_data("mnist", data_dir)
    judge = load_or_train_judge(data, checkpoints / JUDGE_DIR, "mnist")
    rows = []
    for name in names:
        for which in ("raw", "ema"):
            g, record = load_generator(RunPaths.of(checkpoints, name).checkpoint, which=which)
            config = record["config"]
            row = judge.evaluate(generate(g, eval_noise(samples, config.z_dim)))
            label = "raw" if which == "raw" else f"{config.ema_decay:g}"
            rows.append({"seed": config.seed, "epoch": record["epoch"], "which": label,
                         **{k: row.get(k) for k in ("fid", "fid_floor", "inception_score", "classes_present",
                                                    "precision", "recall", "precision_real", "recall_real")}})
            print(json.dumps(rows[-1]), flush=True)
    print(summary(rows))


def summary(rows: list[dict]) -> str:
    """Mean ± sd over seeds per (epoch, generator)."""
    lines = ["| epoch | generator | seeds | FID | IS | precision | recall | classes |",
             "|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r["epoch"], r["which"]) for r in rows}, key=lambda k: (k[0], k[1] != "raw", k[1]))
    for epoch, which in keys:
        group = [r for r in rows if (r["epoch"], r["which"]) == (epoch, which)]

        def ms(name: str, fmt: str, group: list[dict] = group) -> str:
            values = np.array([r[name] for r in group if r.get(name) is not None], float)
            if not len(values):
                return "-"
            sd = values.std(ddof=1) if len(values) > 1 else 0.0
            return f"{values.mean():{fmt}} ± {sd:{fmt}}"

        classes = "/".join(str(r["classes_present"]) for r in group)
        label = "raw G" if which == "raw" else f"EMA {which}"
        lines.append(f"| {epoch} | {label} | {len(group)} | {ms('fid', '.1f')} | {ms('inception_score', '.2f')} | "
                     f"{ms('precision', '.3f')} | {ms('recall', '.3f')} | {classes} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--out", default="bench/out/ema")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report", metavar="FOLDER", help="judge the saved generators in FOLDER instead")
    parser.add_argument("--runs", help="comma-separated finished runs to judge instead (EMA vs raw G)")
    parser.add_argument("--checkpoints", default="checkpoints", help="their checkpoints root (with --runs)")
    parser.add_argument("--judge-cache", default="checkpoints/_judge")
    parser.add_argument("--samples", type=int, default=2000, help="generated samples per evaluation")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.runs:
        report_runs(args.runs.split(","), Path(args.checkpoints), args.data_dir, args.samples)
    elif args.report:
        report(Path(args.report), args.data_dir, args.judge_cache, args.samples)
    else:
        train(args.seed, args.epochs, Path(args.out), args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
