"""``python -m gan_core sweep``: build or continue a sweep and run it on Ray (see gan_core.sweep)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from ..config import GANConfig
from ..presets import DEFAULT_PRESET
from ..runs.compare import format_mean_sd, group_by_recipe, load_records, run_figures
from ..runs.folder import RunPaths
from ..sweep.driver import run_sweep, start_ray
from ..sweep.plan import (
    COMPLETE,
    FAILED,
    SweepError,
    expand_grid,
    manifest_path,
    new_manifest,
    parse_set,
    progress,
    read_manifest,
    write_manifest,
)

EXIT_FAILED_RUNS = 1
DEFAULT_EPOCHS = GANConfig().epochs


def add_parser(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep", help="train a grid of runs (presets x seeds x --set values) as Ray tasks; "
                      "run the same sweep again to continue it")
    sweep.add_argument("--name", help="sweep name (default sweep-<date>-<time>); an existing one is continued")
    sweep.add_argument("--presets", help=f"comma-separated presets (default {DEFAULT_PRESET})")
    sweep.add_argument("--seeds", help="comma-separated seeds (default 0)")
    sweep.add_argument("--epochs", type=int, help=f"epochs per run (default {DEFAULT_EPOCHS})")
    sweep.add_argument("--set", action="append", default=[], metavar="FIELD=V1,V2",
                       help="a config field's values to sweep over; repeatable")
    sweep.add_argument("--cpus-per-run", type=float, default=1,
                       help="CPUs each run declares to Ray; torch uses that many threads (default 1)")
    sweep.add_argument("--gpus-per-run", type=float, default=0, help="GPUs each run declares (default 0: CPU runs)")
    sweep.add_argument("--address", help="join this Ray cluster (e.g. HEAD:6379) instead of a local one")
    sweep.add_argument("--checkpoints", default="checkpoints", help="checkpoints root (default checkpoints/)")
    sweep.add_argument("--data-dir", default="data", help="where datasets are found (default data/)")
    sweep.add_argument("--status", action="store_true", help="print the sweep's progress and exit")
    sweep.add_argument("--table", action="store_true",
                       help="print the sweep's runs grouped by recipe (mean ± sd over seeds) and exit")


def main(args: argparse.Namespace) -> int:
    name = args.name or dt.datetime.now().strftime("sweep-%m%d-%H%M%S")
    if args.status:
        _print_progress(args.checkpoints, name)
        return 0
    if args.table:
        _print_table(args.checkpoints, name)
        return 0
    manifest = _manifest(args, name)
    for run, attempt in manifest["attempts"].items():
        if attempt.get("status") == FAILED:
            print(f"{run}: the previous attempt failed ({attempt.get('error')}); trying again")
    start_ray(args.address)
    runs = len(manifest["runs"])
    print(f"sweep '{name}': {runs} runs of {manifest['epochs']} epochs; "
          f"manifest {manifest_path(args.checkpoints, name)}")

    def report(run: str, outcome: dict[str, Any]) -> None:
        if outcome.get("skipped"):
            print(f"{run}: complete before, skipped")
        elif outcome["status"] == COMPLETE:
            print(f"{run}: complete (epoch {outcome.get('epoch')}, pid {outcome.get('pid')} on "
                  f"{outcome.get('host')}, {outcome.get('seconds', 0):.1f} s)", flush=True)
        else:
            print(f"{run}: failed: {outcome.get('error')}", flush=True)

    outcomes = run_sweep(args.checkpoints, name, args.data_dir, on_event=report)
    failed = sorted(run for run, outcome in outcomes.items() if outcome["status"] != COMPLETE)
    print(f"sweep '{name}': {runs - len(failed)}/{runs} runs complete" +
          (f"; failed: {', '.join(failed)} (run the sweep again to retry them)" if failed else ""))
    return EXIT_FAILED_RUNS if failed else 0


def _manifest(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """The sweep's manifest: the stored one when the sweep exists (the grid given, if any, must match),
    else a new one, written before any run starts."""
    grid_given = any((args.presets, args.seeds, args.epochs, args.set))
    if manifest_path(args.checkpoints, name).is_file():
        manifest = read_manifest(args.checkpoints, name)
        if grid_given:
            asked = _expand(args, name)
            epochs = args.epochs or DEFAULT_EPOCHS
            if [r.to_dict() for r in asked] != manifest["runs"] or epochs != manifest["epochs"]:
                raise SweepError(f"sweep '{name}' exists with another grid; continue it without grid options "
                                 f"or pick another --name")
        return manifest
    runs = _expand(args, name)
    taken = [run.name for run in runs if RunPaths.of(args.checkpoints, run.name).folder.exists()]
    if taken:
        raise SweepError(f"run folders already exist outside this sweep: {', '.join(taken[:5])}")
    manifest = new_manifest(name, runs, args.epochs or DEFAULT_EPOCHS, cpus_per_run=args.cpus_per_run,
                            gpus_per_run=args.gpus_per_run)
    write_manifest(args.checkpoints, manifest)
    return manifest


def _expand(args: argparse.Namespace, name: str) -> list:
    presets = [p.strip() for p in (args.presets or DEFAULT_PRESET).split(",") if p.strip()]
    try:
        seeds = [int(s) for s in (args.seeds or "0").split(",") if s.strip()]
    except ValueError as exc:
        raise SweepError(f"--seeds takes comma-separated integers, got {args.seeds!r}") from exc
    sets = dict(parse_set(text) for text in args.set)
    return expand_grid(name, presets, seeds, sets, args.epochs or DEFAULT_EPOCHS)


def _print_table(checkpoints: str, name: str) -> None:
    """Markdown: one row per recipe, final figures as mean ± sd over the seeds that reached them."""
    names = [run["name"] for run in read_manifest(checkpoints, name)["runs"]]
    records = load_records(checkpoints, names)
    rows = group_by_recipe(run_figures(run, record) for run, record in records.items())
    print("| recipe | runs (seeds) | epochs | FID | IS | precision | recall | images/s |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        epochs = sorted({int(records[run]["epoch"]) for run in row.runs})
        figures = [format_mean_sd(row.mean[m], row.sd[m], digits) for m, digits in
                   (("fid", 1), ("inception_score", 2), ("precision", 3), ("recall", 3), ("images_per_sec", 0))]
        print(f"| {row.recipe} | {len(row.runs)} ({', '.join(map(str, row.seeds))}) | "
              f"{', '.join(map(str, epochs))} | " + " | ".join(figures) + " |")


def _print_progress(checkpoints: str, name: str) -> None:
    for row in progress(checkpoints, name):
        outcome = row["status"] or "-"
        error = f" ({row['error']})" if row["error"] else ""
        print(f"{row['name']}: {row['epochs_done']}/{row['epochs']} epochs; last attempt {outcome}{error}")
    sys.stdout.flush()

