"""Issue 24's model matrix: mlp / dcgan x unconditional / conditional, the default recipe otherwise.

Each cell (a model and a seed) trains through the real ``Trainer`` on one torch thread, is evaluated at its
end by the judge and the referee (the trainer's own evaluation: FID, the agreed-readable share, per class;
for a conditional run with balanced labels, plus the share the judge reads as the asked-for class), times
its bare training step (batch 100, one thread: images/s), saves its sample sheet, and writes one JSON file.
A cell whose JSON exists is skipped and a cell whose run was cut off continues from its checkpoint, so the
matrix can run as many processes side by side (one cell each) and be resumed. ``--report`` merges every
cell's JSON into the table between the markers of docs/models.md and copies each model's sheet (its
lowest seed) to docs/models/.

    python -m bench.models --models dcgan-cond --seeds 1 --epochs 100      # one cell (run several at once)
    python -m bench.models --seeds 0,1,2 --epochs 100                      # every missing cell, in turn
    python -m bench.models --rates                                         # images/s of the 4 steps, in turns
    python -m bench.models --report                                        # the table and the sheets
    python -m bench.models --seeds 0 --epochs 2 --out /tmp/m --doc /tmp/models.md   # a quick check
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.common import BATCH, interleaved, load_average, seconds_per_call
from gan_core.config import GANConfig
from gan_core.data import CLASS_NAMES, TrainingData, evenly_spaced, load_training_data
from gan_core.gan.model import balanced_labels, generate, grid_labels
from gan_core.gan.state import GANState
from gan_core.images import comparison_sheet, save_png
from gan_core.presets import DEFAULT_PRESET, PRESETS, preset_config
from gan_core.quality.judge import Judge, eval_noise, load_or_train_judge
from gan_core.quality.loader import evaluate_generator
from gan_core.quality.referee import TRAIN_STEPS as REFEREE_STEPS
from gan_core.runs.checkpoint import load_generator
from gan_core.runs.folder import RunPaths
from gan_core.train.trainer import Trainer

MODELS = {"mlp": {"architecture": "mlp"}, "mlp-cond": {"architecture": "mlp", "conditional": True},
          "dcgan": {"architecture": "dcgan"}, "dcgan-cond": {"architecture": "dcgan", "conditional": True}}
DOC = Path("docs/models.md")
BEGIN, END = "<!-- bench.models table: begin -->", "<!-- bench.models table: end -->"
RATE_STEPS = 30  # timed training steps per model (after 5 untimed)


def cell_name(model: str, seed: int) -> str:
    return f"{model}-s{seed}"


def step_images_per_second(config: GANConfig, steps: int = RATE_STEPS) -> float:
    """Images/s of ``GANState.train_step`` alone at batch 100 on one thread, a fresh state (random batches)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            state = GANState.fresh(config.replace(batch_size=BATCH))
            real = torch.rand(BATCH, 784)
            labels = balanced_labels(state.generator, BATCH)
            return BATCH / seconds_per_call(lambda: state.train_step(real, labels=labels), steps, warmup=5)
    finally:
        torch.set_num_threads(previous)


def side_by_side_rates(out: Path, rounds: int = 5) -> dict[str, float]:
    """Every model's step images/s measured in turns (``bench.common.interleaved``: a shared machine's load
    drifts alike over all), medians; written to ``out/rates.json`` for the report, which prefers them to the
    cells' own figures (those ran beside whatever else the machine ran)."""
    cases = {model: (lambda m=model: step_images_per_second(preset_config(DEFAULT_PRESET, **MODELS[m], device="cpu",
                                                                         precision="fp32"), steps=10))
             for model in MODELS}
    figures = interleaved(cases, rounds)
    rates = {model: statistics.median(values) for model, values in figures.items()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "rates.json").write_text(json.dumps({"rates": rates, "load": load_average()}, indent=1))
    return rates


def run_cell(model: str, seed: int, epochs: int, data: TrainingData, judge: Judge, out: Path,
             eval_samples: int, preset: str = DEFAULT_PRESET) -> dict[str, Any]:
    """Train (or continue) one cell with ``preset``'s recipe (the app's default unless told), evaluate it, save
    its sheet; returns its JSON result."""
    config = preset_config(preset, **MODELS[model], seed=seed, epochs=epochs, device="cpu", eval_every=0)
    name = cell_name(model, seed)
    paths = RunPaths.of(out / "runs", name)
    started = time.monotonic()
    trainer = Trainer(config, name, checkpoints=out / "runs", data=data, threads=1,
                      continue_run=paths.checkpoint.is_file())
    trainer.start()
    trainer.join()
    snap = trainer.snapshot()
    if snap.error:
        raise RuntimeError(f"{name}: {snap.error}")
    generator, _ = load_generator(paths.checkpoint)  # the EMA generator, as every view shows
    noise = eval_noise(eval_samples, config.z_dim)
    row = evaluate_generator(judge, generator, noise)
    held = data.held_out()[0]
    real = held[evenly_spaced(len(held), 100)].numpy()
    grid = generate(generator, noise[:100], grid_labels(generator, 100)).numpy()  # conditional: row r asks for r
    save_png(comparison_sheet(grid, real), out / f"{name}.png")
    result = {"model": model, "seed": seed, "epochs": snap.epoch, "wall_seconds": time.monotonic() - started,
              "images_per_second": step_images_per_second(config), "judge_accuracy": judge.held_out_accuracy,
              "data": data.message, **{k: row.get(k) for k in (
                  "fid", "fid_floor", "fid_n", "readable", "readable_real", "readable_histogram", "asked",
                  "asked_per_class", "classes_present")}}
    (out / f"{name}.json").write_text(json.dumps(result, indent=1))
    return result


def _mean_sd(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):{fmt}} ± {sd:{fmt}}"


def _shares(rows: list[list[float | None]]) -> str:
    """Per-class means over seeds, as percentages, label 0 first."""
    columns = zip(*rows, strict=True)
    return " ".join("-" if None in c else f"{100 * statistics.mean(c):.0f}" for c in columns)


def table(results: list[dict[str, Any]], rates: dict[str, float] | None = None) -> str:
    """The Markdown table of every model's cells: means ± sd over seeds; step images/s from ``rates`` (the
    side-by-side measurement) where given, else the cells' median."""
    names = CLASS_NAMES["mnist"]
    lines = ["| model | seeds | epochs | FID (floor) | agreed readable | readable per class, % of samples "
             f"({' '.join(names)}) | asked-for class read | asked-for per class, % ({' '.join(names)}) | "
             "step images/s (1 thread) |", "|---|---|---|---|---|---|---|---|---|"]
    for model in MODELS:
        cells = sorted((r for r in results if r["model"] == model), key=lambda r: r["seed"])
        if not cells:
            continue
        fid = _mean_sd([r["fid"] for r in cells if r["fid"] is not None], ".2f")
        floor = statistics.mean(r["fid_floor"] or 0.0 for r in cells)
        readable = _mean_sd([100 * (r["readable"] or 0.0) for r in cells], ".1f") + " %"
        conditional = MODELS[model].get("conditional", False)
        asked = _mean_sd([100 * r["asked"] for r in cells], ".1f") + " %" if conditional else "-"
        per_asked = _shares([r["asked_per_class"] for r in cells]) if conditional else "-"
        rate = (rates or {}).get(model) or statistics.median(r["images_per_second"] for r in cells)
        lines.append(f"| {model} | {','.join(str(r['seed']) for r in cells)} | {cells[0]['epochs']} | "
                     f"{fid} ({floor:.2f}) | {readable} | {_shares([r['readable_histogram'] for r in cells])} | "
                     f"{asked} | {per_asked} | {rate:,.0f} |")
    return "\n".join(lines)


def report(out: Path, doc: Path) -> str:
    """Merge every cell's JSON under ``out`` into ``doc``'s table and copy each model's sheet beside it."""
    results = [json.loads(p.read_text()) for p in sorted(out.glob("*-s*.json"))]
    rates_file = out / "rates.json"
    rates = json.loads(rates_file.read_text()) if rates_file.exists() else None
    text = table(results, rates and rates["rates"])
    if rates:
        mlp = rates["rates"]["mlp"]
        text += ("\n\nStep cost against the mlp's, measured side by side (1 thread, batch 100, load "
                 f"{rates['load']}): " + ", ".join(f"{m} {mlp / r:.2f}x" for m, r in rates["rates"].items()))
    sheets = doc.parent / doc.stem
    sheets.mkdir(parents=True, exist_ok=True)
    for model in MODELS:
        seeds = sorted(r["seed"] for r in results if r["model"] == model)
        if seeds:
            shutil.copyfile(out / f"{cell_name(model, seeds[0])}.png", sheets / f"{model}.png")
    body = doc.read_text() if doc.exists() else f"# Models\n\n{BEGIN}\n{END}\n"
    if BEGIN not in body or END not in body:
        body += f"\n{BEGIN}\n{END}\n"
    head, rest = body.split(BEGIN, 1)
    data = results[0]["data"] if results else ""
    doc.write_text(f"{head}{BEGIN}\n{text}\n\nData: {data}. Generated by `python -m bench.models --report`.\n"
                   f"{END}{rest.split(END, 1)[1]}")
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma list of {', '.join(MODELS)}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--eval-samples", type=int, default=2000)
    parser.add_argument("--preset", default=DEFAULT_PRESET, choices=sorted(PRESETS),
                        help="the recipe besides the model's fields (default: the app's)")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--judge-cache", default="checkpoints/_judge")
    parser.add_argument("--out", default="bench/out/models", help="cells' runs, JSON files and sheets")
    parser.add_argument("--doc", default=str(DOC), help="the Markdown file whose table --report rewrites")
    parser.add_argument("--report", action="store_true", help="only merge the cells' JSON into --doc")
    parser.add_argument("--rates", action="store_true", help="only measure the four steps' images/s side by "
                        "side (one thread, in turns) into --out/rates.json, then report")
    args = parser.parse_args()
    out, doc = Path(args.out), Path(args.doc)
    if args.rates:
        print(side_by_side_rates(out), flush=True)
    elif not args.report:
        out.mkdir(parents=True, exist_ok=True)
        torch.set_num_threads(1)
        data = load_training_data(args.dataset, args.data_dir)
        judge = load_or_train_judge(data, args.judge_cache, args.dataset, referee_steps=REFEREE_STEPS)
        print(f"data: {data.message}\n{judge.describe()}", flush=True)
        for model in args.models.split(","):
            if model not in MODELS:
                parser.error(f"unknown model {model!r} (known: {', '.join(MODELS)})")
            for seed in (int(s) for s in args.seeds.split(",")):
                if (out / f"{cell_name(model, seed)}.json").exists():
                    print(f"{cell_name(model, seed)}: done before, skipped", flush=True)
                    continue
                r = run_cell(model, seed, args.epochs, data, judge, out, args.eval_samples, args.preset)
                asked = "" if r["asked"] is None else f", asked-for {r['asked']:.1%}"
                print(f"{cell_name(model, seed)}: FID {r['fid']:.2f}, readable {r['readable']:.1%}{asked}, "
                      f"{r['images_per_second']:,.0f} images/s per step", flush=True)
    print(report(out, doc))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
