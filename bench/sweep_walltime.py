"""Wall time of a sweep of short runs on Ray vs the same runs one after another (docs/sweeps.md).

    python -m bench.sweep_walltime --epochs 2 --digits 1000 --seeds 0,1 --presets seed,stable

Both sides start from the command line, as a user would: the sequential side runs ``python -m gan_core
train`` once per run (each with torch's default threads, one per core); the sweep side runs ``python -m
gan_core sweep`` (each run declares --cpus-per-run CPUs, so runs share the machine side by side). Every
wall time includes its process start-up; the sweep's includes starting the local Ray cluster.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gan_core.data import write_bundled_mnist

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="seed,stable")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cpus-per-run", default="1")
    parser.add_argument("--digits", type=int, default=5000, help="training images (of the 5,000 bundled)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = write_bundled_mnist(Path(tmp) / "data", n=args.digits)
        common = ["--data-dir", str(data), "--epochs", str(args.epochs)]
        cells = [(p, s) for p in args.presets.split(",") for s in args.seeds.split(",")]
        sequential = sum(timed([sys.executable, "-m", "gan_core", "train", "--run", f"{p}-{s}", "--preset", p,
                                "--seed", s, "--eval-every", "0", "--quiet", "--checkpoints", f"{tmp}/seq", *common])
                         for p, s in cells)
        sweep = timed([sys.executable, "-m", "gan_core", "sweep", "--name", "bench", "--presets", args.presets,
                       "--seeds", args.seeds, "--set", "eval_every=0", "--cpus-per-run", args.cpus_per_run,
                       "--checkpoints", f"{tmp}/sweep", *common])
    print(f"{len(cells)} runs of {args.epochs} epochs on {args.digits} digits: one after another {sequential:.1f} s, "
          f"sweep on local Ray {sweep:.1f} s ({sweep / sequential:.2f} x)")


if __name__ == "__main__":
    main()
