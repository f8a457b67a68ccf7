"""Ship a trained run as the repository's demo run, with the figures docs/trust.md quotes.

    python -m tools.export_demo --run demo --checkpoints checkpoints --out demo \
        --command "python -m gan_core train --run demo --epochs 100 --seed 0"

Writes ``demo/demo.safetensors`` and ``demo/demo.json`` (see ``gan_core.demo``), judges the demo as
shipped (float16 weights, read back through ``open_demo``): FID, IS, classes, precision and recall on the
fixed evaluation noise, and the nearest-training-digit distances of its preview grid against those of the
held-out real digits; the evaluation goes into demo.json and is printed as Markdown.
"""

from __future__ import annotations

import argparse
import json

from gan_core.data import load_training_data
from gan_core.gan.model import generate, grid_labels, with_label
from gan_core.latent.starts import readable_latents
from gan_core.quality.judge import JUDGE_DIR, eval_noise, load_or_train_judge
from gan_core.quality.loader import evaluate_generator
from gan_core.quality.neighbours import NeighbourIndex, memorisation
from gan_core.quality.referee import TRAIN_STEPS as REFEREE_STEPS
from gan_core.runs.demo import export_demo, open_demo
from gan_core.runs.folder import RunPaths

SAMPLES = 2000  # as every metrics row of a run (GANConfig.eval_samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--checkpoints", default="checkpoints")
    parser.add_argument("--out", default="demo")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--command", required=True, help="the command that trained the run")
    args = parser.parse_args()
    paths = RunPaths.of(args.checkpoints, args.run)
    export_demo(paths.checkpoint, args.out, command=args.command)
    run = open_demo(args.out)
    data = load_training_data(run.config.dataset, args.data_dir)
    judge = load_or_train_judge(data, paths.root / JUDGE_DIR, run.config.dataset, referee_steps=REFEREE_STEPS)
    row = evaluate_generator(judge, run.generator, eval_noise(SAMPLES, run.config.z_dim))  # conditional: all classes
    index = NeighbourIndex.build(judge.net, data.images, paths.root / JUDGE_DIR)
    grid = generate(run.generator, run.preview_z, grid_labels(run.generator, len(run.preview_z)))
    held = data.held_out()[0]
    nearest = {space: memorisation(index, grid, held, space) for space in ("features", "pixels")}
    evaluation = {k: row[k] for k in ("readable", "readable_real", "readable_ratio", "readable_histogram", "fid",
                                      "fid_floor", "fid_n", "fid_ref_n", "inception_score", "classes_present",
                                      "histogram", "max_class_share", "min_class_share", "precision", "recall",
                                      "precision_real", "recall_real", "pr_k", "pr_n", "judge")}
    evaluation.update({k: row[k] for k in ("asked", "asked_per_class") if k in row})  # a conditional run's
    evaluation["samples"] = SAMPLES
    evaluation["memorisation"] = {space: {k: v for k, v in m.items() if k not in ("generated", "held_out")}
                                  for space, m in nearest.items()}
    # The lab opens a conditional run asking for class 0: its first z is one whose 0 both classifiers read.
    lab_generator = with_label(run.generator, 0) if run.config.conditional else run.generator
    first = readable_latents(lab_generator, judge.referee, run.config.z_dim, judge_net=judge.net)
    lab_seed = int(first.seeds[0]) if len(first) else 0
    export_demo(paths.checkpoint, args.out, command=args.command, evaluation=evaluation, lab_seed=lab_seed)
    open_demo(args.out)  # what was written reads back
    print(json.dumps(evaluation, indent=1))
    print(f"lab_seed: {lab_seed} (the first seed whose digit the judge and the referee both read, p >= 0.9)")


if __name__ == "__main__":
    main()
