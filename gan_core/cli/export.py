"""``python -m gan_core export``: a run's EMA generator as ONNX or safetensors, with its model card beside it.

The work is ``runs.export``'s (the Runs page offers the same files); this module is the command's flags and
its one-line errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..runs.api import open_run
from ..runs.export import FORMATS, write_export
from ..runs.folder import RunPaths


class ExportCLIError(Exception):
    """A one-line message for the user (the CLI prints it and exits 2)."""


def add_export_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("export", help="write a run's EMA generator (eval mode, dynamic batch) as ONNX "
                                                "or safetensors, with a model card FILE.json beside it")
    parser.add_argument("--run", required=True, help="run name under --checkpoints (the shipped demo: "
                                                     "--checkpoints . --run demo)")
    parser.add_argument("--checkpoints", default="checkpoints")
    parser.add_argument("--format", required=True, choices=FORMATS, dest="file_format")
    parser.add_argument("--out", required=True, help="FILE.onnx or FILE.safetensors; the model card is written to "
                                                     "FILE.onnx.json or FILE.safetensors.json")


def run_export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix != f".{args.file_format}":
        raise ExportCLIError(f"--out must end in .{args.file_format} for --format {args.file_format}, "
                             f"got {out.name!r}")
    run = open_run(RunPaths.of(args.checkpoints, args.run).folder)
    written, card = write_export(run, args.file_format, out)
    print(f"wrote the {'EMA generator' if run.config.ema_decay > 0 else 'generator'} of run '{run.name}' "
          f"(epoch {run.epoch}) to {written} ({written.stat().st_size / 2**20:.1f} MiB); model card {card}")
    return 0
