"""Latent-lab benchmark: the numbers of docs/latent-lab.md, on a trained run.

    python -m gan_core train --run bench100 --epochs 100       # a 100-epoch `stable` run first
    python -m bench.latent --run bench100 [--parts layers,edits,inversion,truncation,lab] [--json FILE]

Parts:
  layers      per layer of G: slider effect (mean |pixel change| per unit of z travelled, top 8 principal
              directions at ±3 sigma) and distinctness; the effect ratio against 8 raw z[i] sliders
  edits       "toward d" from 100 seeded latents per digit, the referee decides (it never steers): share
              with p >= 0.9 for the asked digit, and the mean |pixel change| from the start
  inversion   100 held-out real digits: share the judge reads as the true digit, pixel MSE against the
              best of 20,000 random latents, seconds per inversion (and while a run trains: --while-training)
  truncation  FID and judge confidence of 2,000 samples at psi 1, 0.8, 0.6, 0.4
  lab         library time of one lab view after a slider change with principal directions on
  app         the app's latent-tools fragment per slider change (AppTest, as bench.app_latency)
Every torch call runs on one intra-op thread, as the app's lab does.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from gan_core.data import TrainingData, load_training_data
from gan_core.gan.model import generate, seeded_z
from gan_core.images import make_grid, png_bytes
from gan_core.latent.directions import (
    LAYERS,
    SIGMA_RANGE,
    distinctness,
    move,
    principal_directions,
    raw_directions,
    slider_effect,
    sweep_directions,
)
from gan_core.latent.inversion import invert
from gan_core.latent.sampling import interpolate, truncate
from gan_core.latent.steering import (
    JITTER,
    MAX_PIXEL_CHANGE,
    PULL,
    RESTARTS,
    SHIFTS,
    STEP_SIZE,
    STEPS,
    TARGET_P,
    toward_digit,
)
from gan_core.quality.distance import squared_distances
from gan_core.quality.judge import JUDGE_DIR, Judge, eval_noise, load_or_train_judge
from gan_core.quality.referee import Referee, load_or_train_referee, splits
from gan_core.runs.checkpoint import load_generator
from gan_core.runs.folder import RunPaths

TOP = 8
BASES = 200


def jacobian_spectrum(generator: torch.nn.Module, z: torch.Tensor, eps: float = 1e-4) -> np.ndarray:
    """Singular values of G's average Jacobian: sqrt of the eigenvalues of E_z[J(z)^T J(z)] (descending),
    J by central differences in float64 at the latents z."""
    g64 = copy.deepcopy(generator).double().eval()
    basis = eps * torch.eye(generator.z_dim, dtype=torch.float64)
    gram = torch.zeros(generator.z_dim, generator.z_dim, dtype=torch.float64)
    with torch.no_grad():
        for base in z.double():
            jac = (g64(base + basis) - g64(base - basis)) / (2 * eps)  # (z_dim, 784): row i is dG/dz_i
            gram += jac @ jac.T
    eigenvalues = torch.linalg.eigvalsh(gram / len(z)).flip(0).clamp_min(0)
    return eigenvalues.sqrt().numpy()


def part_layers(generator: torch.nn.Module) -> dict:
    z = seeded_z(1, generator.z_dim, BASES)
    raw = raw_directions(generator.z_dim, range(TOP))
    raw_effect = float(slider_effect(generator, z, raw, span=1.0).mean())
    rows = {"raw": {"effect": raw_effect, "distinctness": distinctness(generator, z, raw * 0.5)}}
    print(f"{'layer':6} {'seconds':>8} {'effect':>8} {'ratio':>6} {'distinct':>8}  explained (top 3)")
    print(f"{'raw':6} {'-':>8} {raw_effect:8.4f} {1.0:6.2f} {rows['raw']['distinctness']:8.3f}")
    for layer in LAYERS:
        started = time.perf_counter()
        directions = principal_directions(generator, layer)
        seconds = time.perf_counter() - started
        vectors = directions.vectors[:TOP]
        effect = float(slider_effect(generator, z, vectors, span=SIGMA_RANGE).mean())
        distinct = distinctness(generator, z, vectors)
        rows[layer] = {"seconds": seconds, "effect": effect, "ratio": effect / raw_effect, "distinctness": distinct,
                       "explained": directions.explained[:TOP].tolist()}
        print(f"{layer:6} {seconds:8.2f} {effect:8.4f} {effect / raw_effect:6.2f} {distinct:8.3f}  "
              + " ".join(f"{e:.3f}" for e in directions.explained[:3]))
    # What any 8 linear directions could reach: for a near-linear G the best 8 (the top singular vectors of
    # its Jacobian) change the image mean(sigma_1..8) per unit of z, a random raw z[i] about rms(sigma).
    sigma = jacobian_spectrum(generator, z)
    bound = float(sigma[:TOP].mean() / np.sqrt((sigma ** 2).mean()))
    rows["jacobian"] = {"sigma": sigma.tolist(), "bound_ratio": bound,
                        "top_share": float((sigma[:TOP] ** 2).sum() / (sigma ** 2).sum())}
    print(f"Jacobian of G: top-8 mean(sigma) / rms(sigma) = {bound:.2f} (the ratio a near-linear G allows); "
          f"top 8 hold {rows['jacobian']['top_share']:.0%} of sum(sigma^2); sigma 1-8: "
          + " ".join(f"{v:.2f}" for v in sigma[:TOP]) + f"; rms {np.sqrt((sigma ** 2).mean()):.2f}")
    return rows


def referee_on_real(referee: Referee, data: TrainingData) -> dict:
    """Per class, the share of held-out real digits the referee gives p >= 0.9: what the edits' criterion
    makes of real digits."""
    _, _, images, labels = splits(data)
    probs, labels = referee.probabilities(images), labels.numpy()
    shares = {c: float((probs[labels == c, c] >= 0.9).mean()) for c in range(10)}
    print("real held-out digits with referee p >= 0.9: " + " ".join(f"{c}:{v:.0%}" for c, v in shares.items()))
    return shares


def part_edits(generator: torch.nn.Module, judge_net: torch.nn.Module, referee: Referee,
               args: argparse.Namespace) -> dict:
    print(f"steering: {STEPS} steps of {STEP_SIZE} in z on the judge's mean log-probability over {len(SHIFTS)} "
          f"shifted views, pull-back {PULL}, pixel cap {MAX_PIXEL_CHANGE}, stop at judge p {TARGET_P} with the referee "
          f"agreeing; {RESTARTS} restarts (jitter {JITTER}) for edits the referee rejects")
    z = seeded_z(2024, generator.z_dim, args.edit_seeds)
    start_images = generate(generator, z)
    start_probs = referee.probabilities(start_images)
    rows = {}
    digits = [int(d) for d in args.digits.split(",")]
    print(f"{'digit':5} {'success':>8} {'start':>6} {'judge':>6} {'|dpx|':>6} {'steps':>6} {'seconds':>8}")
    for digit in digits:
        started = time.perf_counter()
        edit = toward_digit(generator, judge_net, z, digit, referee=referee)
        seconds = time.perf_counter() - started
        final = generate(generator, torch.from_numpy(edit.final))
        probs = referee.probabilities(final)
        success = float((probs[:, digit] >= 0.9).mean())
        already = float((start_probs[:, digit] >= 0.9).mean())
        judge_ok = float((edit.judge_p[-1] >= 0.9).mean())
        distance = float((final - start_images).abs().mean())
        rows[digit] = {"success": success, "start_share": already, "judge_share": judge_ok,
                       "pixel_distance": distance, "mean_steps": float(edit.steps_taken.mean()), "seconds": seconds}
        print(f"{digit:5} {success:8.0%} {already:6.0%} {judge_ok:6.0%} {distance:6.3f} "
              f"{edit.steps_taken.mean():6.1f} {seconds:8.2f}")
    print(f"every digit >= 80%: {all(r['success'] >= 0.8 for r in rows.values())}; "
          f"worst {min(r['success'] for r in rows.values()):.0%}")
    return rows


def best_of_random_batch(generator: torch.nn.Module, targets: torch.Tensor, n: int = 20_000) -> np.ndarray:
    """Per target, the smallest pixel MSE among the images of ``n`` seeded random latents."""
    images = generate(generator, seeded_z(77, generator.z_dim, n)).reshape(n, -1).double()
    flat = targets.reshape(len(targets), -1).double()
    sq = squared_distances(images, flat)
    return (sq.min(0).values / flat.shape[1]).numpy()


def part_inversion(generator: torch.nn.Module, judge_net: torch.nn.Module, data: TrainingData,
                   args: argparse.Namespace) -> dict:
    _, _, held_images, held_labels = splits(data)
    pick = np.linspace(0, len(held_images) - 1, 100).round().astype(int)
    targets, labels = held_images[pick].reshape(-1, 28, 28), held_labels[pick].numpy()
    seconds, cpu_seconds, mses, recons = [], [], [], []
    for target in targets:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = invert(generator, target.numpy())
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
        mses.append(result.mse)
        recons.append(result.image)
    with torch.no_grad():
        read = judge_net(torch.from_numpy(np.stack(recons))).argmax(1).numpy()
        read_target = judge_net(targets).argmax(1).numpy()
    baseline = best_of_random_batch(generator, targets)
    row = {"judge_same_digit": float((read == labels).mean()),
           "judge_same_as_on_target": float((read == read_target).mean()),
           "mse": float(np.mean(mses)), "best_of_20000_mse": float(baseline.mean()),
           "beats_baseline_share": float((np.array(mses) < baseline).mean()),
           "seconds_mean": float(np.mean(seconds)), "seconds_max": float(np.max(seconds)),
           "cpu_seconds_mean": float(np.mean(cpu_seconds[1:])), "cpu_seconds_first": cpu_seconds[0],
           "load_average": os.getloadavg()[0]}
    print(f"judge reads the true digit in {row['judge_same_digit']:.0%} of reconstructions "
          f"(its reading of the target itself: {row['judge_same_as_on_target']:.0%} agree)")
    print(f"pixel MSE {row['mse']:.4f} vs best of 20,000 random {row['best_of_20000_mse']:.4f} "
          f"(inversion better on {row['beats_baseline_share']:.0%} of digits)")
    print(f"seconds per inversion: mean {row['seconds_mean']:.2f}, max {row['seconds_max']:.2f} "
          f"(load average {row['load_average']:.1f}); CPU seconds (process_time) mean "
          f"{row['cpu_seconds_mean']:.2f} after the first ({row['cpu_seconds_first']:.2f})")
    if args.while_training:
        row["while_training"] = time_while_training(generator, targets[:10], args)
    return row


def time_while_training(generator: torch.nn.Module, targets: torch.Tensor, args: argparse.Namespace) -> dict:
    """Seconds per inversion while `python -m gan_core train` runs a throwaway run in another process."""
    folder = Path(args.checkpoints)
    name = f"bench-latent-bg-{os.getpid()}"
    trainer = subprocess.Popen([sys.executable, "-m", "gan_core", "train", "--run", name, "--epochs", "1000",
                                "--checkpoints", str(folder), "--data-dir", args.data_dir, "--eval-every", "0",
                                "--quiet"], cwd=Path(__file__).resolve().parents[2],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(20)  # past data loading: the trainer is stepping
        seconds = []
        for target in targets:
            started = time.perf_counter()
            invert(generator, target.numpy())
            seconds.append(time.perf_counter() - started)
    finally:
        trainer.terminate()
        trainer.wait()
    shutil.rmtree(folder / name, ignore_errors=True)
    row = {"seconds_mean": float(np.mean(seconds)), "seconds_max": float(np.max(seconds)), "n": len(seconds)}
    print(f"while a run trains: mean {row['seconds_mean']:.2f} s, max {row['seconds_max']:.2f} s "
          f"over {len(seconds)} inversions")
    return row


def part_truncation(generator: torch.nn.Module, judge: Judge) -> dict:
    z = eval_noise(2000, generator.z_dim)
    rows = {}
    print(f"{'psi':>4} {'FID':>7} {'conf':>6} {'IS':>6} {'classes':>7} {'min share':>9}")
    for psi in (1.0, 0.8, 0.6, 0.4):
        row = judge.evaluate(generate(generator, truncate(z, psi)))
        rows[psi] = {k: row[k] for k in ("fid", "confidence", "inception_score", "classes_present",
                                         "min_class_share")}
        print(f"{psi:4.1f} {row['fid']:7.2f} {row['confidence']:6.3f} {row['inception_score']:6.3f} "
              f"{row['classes_present']:7d} {row['min_class_share']:9.1%}")
    return rows


def part_lab(generator: torch.nn.Module) -> dict:
    """One lab view after a slider change: move z, the 8x9 direction sweep and a 10-step strip, one
    generator batch, three PNGs. Principal directions come from the cache (computed once per weights)."""
    directions = principal_directions(generator)
    z = seeded_z(5, generator.z_dim)[0]
    times = []
    for i in range(30):
        started = time.perf_counter()
        moved = move(z, directions.vectors, [0.1 * i, -0.5, 1.0])
        batch = torch.cat([moved[None], sweep_directions(moved, directions.vectors[:TOP]),
                           interpolate(moved, seeded_z(6, generator.z_dim)[0])])
        images = generate(generator, batch).numpy()
        for picture in (images[:1], images[1:1 + 9 * TOP], images[1 + 9 * TOP:]):
            png_bytes(make_grid(picture, ncols=9, scale=2), compress_level=1)
        times.append(time.perf_counter() - started)
    row = {"ms_median": 1000 * float(np.median(times)), "ms_p90": 1000 * float(np.percentile(times, 90))}
    print(f"lab view (library side): median {row['ms_median']:.1f} ms, p90 {row['ms_p90']:.1f} ms")
    return row


def part_lab_app(args: argparse.Namespace, changes: int = 30) -> dict:
    """Server time of the latent lab's fragment per principal-direction slider change, as bench.app_latency
    times it: AppTest drives the sliders, GANLAB_TIMING_FILE times the fragment."""
    from streamlit.testing.v1 import AppTest

    from bench.app_latency import slider_changes

    timing = Path(args.checkpoints) / f".latent-timing-{os.getpid()}.txt"
    os.environ.update(GANLAB_CHECKPOINTS=str(args.checkpoints), GANLAB_DATA_DIR=str(args.data_dir),
                      GANLAB_TIMING_FILE=str(timing))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=600).run()
    at.text_input(key="cfg_run").input(args.run).run()
    at.switch_page("ganlab/pages/explore.py").run()  # the first view computes the directions once
    times = slider_changes(at, changes, timing)
    timing.unlink()
    row = {"ms_median": 1000 * float(np.median(times)), "ms_p90": 1000 * float(np.percentile(times, 90)),
           "ms_max": 1000 * float(np.max(times)), "n": len(times)}
    print(f"latent-lab fragment per slider change: median {row['ms_median']:.1f} ms, p90 {row['ms_p90']:.1f}, "
          f"max {row['ms_max']:.1f} (n={len(times)})")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="bench100")
    parser.add_argument("--checkpoints", default="checkpoints")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--parts", default="layers,edits,inversion,truncation,lab,app")
    parser.add_argument("--while-training", action="store_true", help="also time inversions while a run trains")
    parser.add_argument("--digits", default="0,1,2,3,4,5,6,7,8,9", help="edits: the digits asked for")
    parser.add_argument("--edit-seeds", type=int, default=100, help="edits: latents per digit")
    parser.add_argument("--json", help="write all numbers to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    paths = RunPaths.of(args.checkpoints, args.run)
    generator, record = load_generator(paths.checkpoint)
    config = record["config"]
    print(f"run '{args.run}': epoch {record['epoch']}, step {record['step']}, load average "
          f"{os.getloadavg()[0]:.1f}")
    parts = args.parts.split(",")
    data = load_training_data(config.dataset, args.data_dir)
    judge = load_or_train_judge(data, paths.root / JUDGE_DIR, config.dataset)
    results: dict = {"run": args.run, "epoch": record["epoch"]}
    if "layers" in parts:
        results["layers"] = part_layers(generator)
    if "edits" in parts:
        referee = load_or_train_referee(data, paths.root / JUDGE_DIR, config.dataset)
        print(f"referee: {referee.held_out_accuracy:.1%} on the held-out real digits; {judge.describe()}")
        results["referee_on_real"] = referee_on_real(referee, data)
        results["edits"] = part_edits(generator, judge.net, referee, args)
    if "inversion" in parts:
        results["inversion"] = part_inversion(generator, judge.net, data, args)
    if "truncation" in parts:
        results["truncation"] = part_truncation(generator, judge)
    if "lab" in parts:
        results["lab"] = part_lab(generator)
    if "app" in parts:
        results["app"] = part_lab_app(args)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
