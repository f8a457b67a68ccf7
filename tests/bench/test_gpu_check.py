"""The GPU check (issue 14 item 6) has never met a GPU here: its smoke test runs every part of it but the CUDA
graphs on the CPU, so a GPU session's few minutes are not spent on a broken script."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_gpu_check_runs_end_to_end_on_the_cpu_and_a_stopped_run_continues_exactly():
    done = subprocess.run([sys.executable, "-m", "bench.gpu_check", "--device", "cpu", "--epoch-images", "2000",
                           "--steps", "20", "--no-compile"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"one 2,000-image epoch, default run \(metrics, checkpoint\): [0-9.]+ s", out), out
    assert re.search(r"bare step, eager: [0-9,]+ images/s", out), out
    stop = re.search(r"stopped and saved at step (\d+) of (\d+), continued == uninterrupted .*: (\w+)", out)
    assert stop, out
    stopped, total, same = int(stop[1]), int(stop[2]), stop[3]
    assert 0 < stopped < total == 40 and same == "True"  # really stopped midway, and continued bit for bit
