"""Command line: ``python -m gan_core train|sample|evaluate|export|sweep|invert``.

Errors a user can fix (bad config, missing or damaged run, no data) print one line and exit 2;
Ctrl-C checkpoints the run and exits 130.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import GROUPS, ConfigError, GANConfig, field_spec, fields, validate_run_name
from ..data import DataError, ask_for_download, load_training_data
from ..gan.losses import loss_view
from ..gan.model import Generator
from ..presets import DEFAULT_PRESET, PRESETS, preset_config, preset_of
from ..quality import referee
from ..quality.judge import JUDGE_DIR, eval_noise
from ..quality.loader import evaluate_generator, judge_for
from ..quality.metrics import class_shares, format_row, quality_warnings
from ..quality.unlabeled import NOT_AVAILABLE
from ..runs.checkpoint import CheckpointError, load_checkpoint, load_generator
from ..runs.demo import CONTINUE_REFUSED, is_demo
from ..runs.folder import RunError, RunPaths
from ..runs.snapshot import Status
from ..sweep.plan import SweepError
from ..threads import one_thread_here
from ..train.trainer import Trainer
from . import sweep as sweep_cli
from .export import ExportCLIError, add_export_command, run_export
from .latent import LatentCLIError, add_invert_command, add_sample_z_option, labelled, run_invert, run_sample_z
from .progress import progress_for
from .samples import PNG_MAX, SampleLimitError, write_samples

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
POLL_SECONDS = 0.2
# The fields a continued run may change (``GANState.from_record`` takes exactly these); the rest are stored.
CONTINUE_FIELDS = ("epochs", "device")
CONTINUE_FLAGS = tuple("--" + name.replace("_", "-") for name in CONTINUE_FIELDS)
EVAL_N = field_spec("eval_samples")  # evaluate --n: the range of the training-time evaluations' sample count


class CLIError(Exception):
    """A one-line message for the user; no traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_core", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a run (or continue it with --continue)")
    train.add_argument("--run", required=True, help="run name: folder under the checkpoints root")
    train.add_argument("--continue", "--resume", dest="continue_run", action="store_true",
                       help=f"continue the run from its checkpoint; only {', '.join(CONTINUE_FLAGS)} may change "
                            "(--resume: the same)")
    train.add_argument("--data-dir", default="data", help="where datasets are found or downloaded (default data/)")
    train.add_argument("--checkpoints", default="checkpoints", help="checkpoints root (default checkpoints/)")
    train.add_argument("--preset", choices=list(PRESETS),
                       help=f"training recipe (default {DEFAULT_PRESET}; 'seed' is the tutorial's exact recipe); "
                            "the flags below override it")
    train.add_argument("--download", action="store_true",
                       help="try the MNIST download again after an earlier start fell back to the bundled digits")
    train.add_argument("--quiet", action="store_true", help="no progress (else a bar on a terminal, and one "
                                                             "plain line per epoch in a log file or a pipe)")
    _add_config_flags(train)

    sample = commands.add_parser("sample", help="write generated digits of a run to a PNG grid or .npy")
    sample.add_argument("--run", required=True)
    sample.add_argument("--checkpoints", default="checkpoints")
    sample.add_argument("--n", type=int, default=100, help="how many images (default 100; a PNG grid holds at most "
                                                           f"{PNG_MAX:,}; an .npy is streamed to disk in chunks)")
    sample.add_argument("--out", required=True, help="FILE.png (a grid) or FILE.npy (float32 (N, 28, 28))")
    sample.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    add_sample_z_option(sample)
    sample.add_argument("--which", choices=["ema", "raw"], default="ema",
                        help="ema: the averaged generator people see (default); raw: the trained G")

    evaluate = commands.add_parser("evaluate", help="judge a run's samples: FID (with its real-vs-real floor), "
                                                    "IS, class histogram")
    evaluate.add_argument("--run", required=True)
    evaluate.add_argument("--checkpoints", default="checkpoints", help="checkpoints root; the judge is cached "
                                                                      "in its _judge/ folder")
    evaluate.add_argument("--n", type=int, default=10000,
                          help=f"generated samples (default 10000; {EVAL_N.range_text()}, as the {EVAL_N.label!r} "
                               "setting)")
    evaluate.add_argument("--data-dir", default="data", help="where the run's dataset is found (default data/)")
    evaluate.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    evaluate.add_argument("--download", action="store_true", help="try the MNIST download again (see train)")
    evaluate.add_argument("--which", choices=["ema", "raw"], default="ema",
                          help="ema: the averaged generator people see (default); raw: the trained G")
    add_export_command(commands)
    sweep_cli.add_parser(commands)
    add_invert_command(commands)
    return parser


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per GANConfig field, from its metadata; unset flags keep the preset's value."""
    defaults = preset_config(DEFAULT_PRESET)
    groups = {group: parser.add_argument_group(f"{group} settings") for group in GROUPS}
    for spec in fields():
        default = getattr(defaults, spec.name)
        if spec.kind is bool:
            default = "on" if default else "off"
        elif spec.kind is float:
            default = f"{default:g}"
        text = f"{spec.label}: {spec.help}; {spec.range_text()}; default {default}".replace("%", "%%")
        group = groups[spec.group]
        if spec.kind is bool:
            group.add_argument(spec.flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif spec.choices:  # an open field (folder:PATH) is checked by GANConfig, not by argparse
            group.add_argument(spec.flag, choices=None if spec.open_prefix else spec.choices, help=text)
        else:
            group.add_argument(spec.flag, type=spec.kind, metavar=spec.kind.__name__.upper(), help=text)


def config_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The config fields given on the command line of ``train``, by field name."""
    return {spec.name: getattr(args, spec.name) for spec in fields() if getattr(args, spec.name) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "sweep":
            return sweep_cli.main(args)
        if args.command == "invert":
            return run_invert(args)
        if args.command == "export":
            return run_export(args)
        return _sample(args)
    except (CLIError, LatentCLIError, ExportCLIError, SampleLimitError, ConfigError, CheckpointError, DataError,
            RunError, SweepError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _train(args: argparse.Namespace) -> int:
    paths = RunPaths.of(args.checkpoints, args.run)
    if args.download:
        ask_for_download(args.data_dir)
    given = config_flags(args)
    if args.continue_run:
        fixed = [field_spec(name).flag for name in given if name not in CONTINUE_FIELDS]
        if args.preset is not None:
            fixed.insert(0, "--preset")
        if fixed:
            raise CLIError(f"--continue continues the stored config; drop {', '.join(fixed)}")
        if is_demo(paths.folder):
            raise CLIError(CONTINUE_REFUSED)
        if not paths.checkpoint.is_file():
            raise CLIError(f"run '{args.run}' has no checkpoint at {paths.checkpoint}; train it without --continue")
        stored = load_checkpoint(paths.checkpoint)
        config, start_epoch = stored["config"].replace(**given), int(stored["epoch"])
    else:
        if paths.checkpoint.exists():
            raise CLIError(f"run '{args.run}' already exists at {paths.folder}; add --continue or pick another --run")
        config, start_epoch = preset_config(args.preset or DEFAULT_PRESET, **given), 0

    one_thread_here()  # the trainer's thread gets the cores: one OpenMP team per training process
    trainer = Trainer(config, args.run, checkpoints=args.checkpoints, data_dir=args.data_dir,
                      continue_run=args.continue_run)
    launched = time.monotonic() - _process_age()
    trainer.start()
    progress = progress_for(args.quiet, start_epoch)  # a bar on a terminal, plain lines in a log or pipe
    started, first_step, source_shown, first_shown = time.monotonic(), None, False, False
    try:
        while trainer.is_alive():
            trainer.join(POLL_SECONDS)
            snap = trainer.snapshot()
            if snap.data_source and not source_shown:
                print(f"data: {snap.data_source} | device: {snap.device}", file=sys.stderr)
                source_shown = True
            if snap.first_step_seconds is not None and not first_shown:
                since_launch = trainer.started_at + snap.first_step_seconds - launched
                print(f"first step {since_launch:.1f} s after launch", file=sys.stderr)
                first_shown = True
            if first_step is None and snap.steps_per_epoch:
                first_step, started = snap.step, time.monotonic()
            if progress is not None:
                progress.update(snap)
        if progress is not None:
            progress.update(trainer.snapshot())  # the last epoch, when it ended between two looks
    except KeyboardInterrupt:
        trainer.stop()
        print(f"\ninterrupted: checkpoint saved at step {trainer.snapshot().step}; "
              f"continue with --continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if progress is not None:
            progress.close()
    snap = trainer.snapshot()
    if snap.status == Status.ERROR:
        raise CLIError(snap.error or "training failed")
    elapsed = time.monotonic() - started
    steps = snap.step - (first_step or 0)
    rate = steps * config.batch_size / elapsed if elapsed > 0 else 0.0
    metrics = trainer.metrics()
    if metrics:
        print(f"quality at epoch {metrics[-1]['epoch']}: {format_row(metrics[-1])}")
    for warning in trainer.warnings():
        print(f"warning: {warning}")
    print(f"{snap.status}: run '{args.run}' at epoch {snap.epoch}/{snap.epochs_total}, step {snap.step}; "
          f"checkpoint {paths.checkpoint}")
    print(f"images/s: {rate:.1f}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    try:
        EVAL_N.check(args.n)
    except ConfigError:
        raise CLIError(f"--n must be in {EVAL_N.range_text()} (the range of the {EVAL_N.label!r} setting), "
                       f"got {args.n:,}") from None
    paths, generator, record = _open_run(args, min_n=2)
    config: GANConfig = record["config"]
    if args.download:
        ask_for_download(args.data_dir)
    data = load_training_data(config.dataset, args.data_dir)
    # referee.TRAIN_STEPS is read at call time, so a test can shorten the referee's training.
    judge = judge_for(data, paths.root / JUDGE_DIR, config.dataset, referee_steps=referee.TRAIN_STEPS)
    row = evaluate_generator(judge, generator, eval_noise(args.n, config.z_dim, seed=args.seed))
    unlabeled = bool(row.get("unlabeled"))  # a folder of pictures without classes: the label-free figures
    names = data.label_names  # a folder's sub-folders ("cat", "dog"), a torchvision set's own classes
    preset = preset_of(config) or "custom"
    print(f"run '{args.run}': epoch {record['epoch']}, step {record['step']}, preset {preset}, "
          f"{args.n:,} samples from the {_generator_name(args.which, record)}")
    print(f"data: {data.message}")
    print(judge.describe())
    fid = "-" if row["fid"] is None else f"{row['fid']:.3f}"
    floor = "-" if row["fid_floor"] is None else f"{row['fid_floor']:.3f}"
    print(f"FID            {fid}   (real-vs-real floor {floor}; both n={row['fid_n']:,} against "
          f"{row['fid_ref_n']:,} held-out real images)")
    if row.get("precision") is not None:
        print(f"precision      {row['precision']:.3f}   recall {row['recall']:.3f}   (k={row['pr_k']}, "
              f"n={row['pr_n']:,}; real-vs-real: precision {row['precision_real']:.3f}, "
              f"recall {row['recall_real']:.3f})")
    if unlabeled:
        print(f"not available  the {NOT_AVAILABLE}; this dataset has none")
        return 0
    if row.get("readable") is not None:
        ratio = "-" if row["readable_ratio"] is None else f"{row['readable_ratio']:.2f}"
        print(f"readable       {row['readable']:.1%}   (judge and referee read the same digit with p >= 0.9; "
              f"held-out real digits: {row['readable_real']:.1%}, ratio {ratio})")
        readable_by_class = class_shares(row["readable_histogram"], names)
        print("  per class    " + "  ".join(f"{name}:{share:.1%}" for name, share in readable_by_class))
    if row.get("asked") is not None:
        print(f"asked-for      {row['asked']:.1%}   (the judge reads the class each sample was drawn for)")
        per_class = ("-" if share is None else f"{share:.1%}" for share in row["asked_per_class"])
        print("  per class    " + "  ".join(f"{name}:{share}" for name, share in zip(names, per_class, strict=True)))
    print(f"IS             {row['inception_score']:.3f}   (1 = one class .. {len(names)} = all, confidently)")
    print(f"classes        {row['classes_present']}/{len(names)} present (>= 1% of samples); "
          f"max share {row['max_class_share']:.1%}, min share {row['min_class_share']:.1%}")
    print(f"KL to uniform  {row['kl_uniform']:.4f} nats")
    print(f"confidence     {row['confidence']:.3f}   (mean max-softmax)")
    shares = class_shares(row["histogram"], names)
    print("histogram      " + "  ".join(f"{name}:{share:.1%}" for name, share in shares))
    last = record["epoch_log"][-1] if record["epoch_log"] else None
    for warning in quality_warnings(row, None if last is None else last.get("d_loss"),
                                    loss_view(config.loss).d_wins_below):
        print(f"warning: {warning}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix not in (".png", ".npy"):
        raise CLIError(f"--out must end in .png or .npy, got {out.name!r}")
    if args.z:
        return run_sample_z(args)
    _, generator, record = _open_run(args, min_n=1)
    write_samples(labelled(generator, args.label, args.run), args.seed, args.n, out)
    print(f"wrote {args.n} samples of run '{args.run}' (epoch {record['epoch']}, "
          f"{_generator_name(args.which, record)}) to {out}")
    return 0


def _open_run(args: argparse.Namespace, min_n: int) -> tuple[RunPaths, Generator, dict]:
    """The run named by ``--run`` with its eval-mode generator; one-line errors for bad input."""
    paths = RunPaths.of(args.checkpoints, validate_run_name(args.run))
    if args.n < min_n:
        raise CLIError(f"--n must be at least {min_n}")
    if not paths.checkpoint.is_file():
        raise CLIError(f"run '{args.run}' has no checkpoint at {paths.checkpoint}")
    generator, record = load_generator(paths.checkpoint, which=args.which)
    return paths, generator, record


def _generator_name(which: str, record: dict) -> str:
    if which == "raw":
        return "trained G (raw)"
    return "EMA generator" if record.get("ema") is not None else "trained G (the run keeps no EMA)"


def _process_age() -> float:
    """Seconds since this process was created (imports included), from the OS's own record."""
    import psutil

    return max(time.time() - psutil.Process().create_time(), 0.0)
