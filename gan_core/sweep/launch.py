"""A sweep's driver started as a child process (``python -m gan_core sweep``), for a front end that must
stay responsive while the sweep runs: the command, the launch, the wait for its manifest and its log.

The driver writes its output to ``_sweeps/<name>.log`` beside the manifest; the caller keeps the returned
process (to poll it, and to reap it when it ends).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from .plan import manifest_path


def sweep_command(checkpoints: str | os.PathLike[str], data_dir: str | os.PathLike[str], name: str,
                  presets: Sequence[str], seeds: str, epochs: int, sets: Sequence[str] = ()) -> list[str]:
    """The CLI line of a sweep: ``seeds`` as typed ("0,1"), ``sets`` one ``field=v1,v2`` each."""
    command = [sys.executable, "-m", "gan_core", "sweep", "--name", name, "--presets", ",".join(presets),
               "--seeds", seeds, "--epochs", str(epochs), "--checkpoints", str(checkpoints),
               "--data-dir", str(data_dir)]
    for item in sets:
        command += ["--set", item]
    return command


def log_path(checkpoints: str | os.PathLike[str], name: str) -> Path:
    return manifest_path(checkpoints, name).with_suffix(".log")


def launch_sweep(command: Sequence[str], checkpoints: str | os.PathLike[str], name: str) -> subprocess.Popen:
    """Start the driver with its output in the sweep's log; a daemon thread reaps it when it ends."""
    log = log_path(checkpoints, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        process = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT)
    threading.Thread(target=process.wait, daemon=True).start()
    return process


def wait_for_start(process: subprocess.Popen, checkpoints: str | os.PathLike[str], name: str,
                   timeout: float = 30.0) -> bool:
    """True once the driver wrote its manifest (the grid was valid), False when it exited first."""
    path = manifest_path(checkpoints, name)
    for _ in range(int(timeout / 0.1)):
        if path.is_file():
            return True
        if process.poll() is not None:
            return path.is_file()
        time.sleep(0.1)
    return path.is_file()


def log_tail(checkpoints: str | os.PathLike[str], name: str, lines: int = 3) -> str:
    """The last ``lines`` of the sweep's log on one line (why a launch failed)."""
    try:
        return " ".join(log_path(checkpoints, name).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "no log"
