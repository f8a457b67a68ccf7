"""torch's CPU threads in a process that trains: one OpenMP team, on the training thread.

libgomp (torch's OpenMP on Linux) spins only briefly at its barriers once more threads belong to OpenMP
teams than there are cores, and every thread that has run a parallel torch op keeps a team of its own
until it ends. With a second team in the process (the main thread's, after it loaded or measured
something on all cores) the training thread's many small kernels wait on a futex instead of a spin: the
step took twice as long on 2 cores (docs/performance.md, "One OpenMP team"). So the training thread gets
``training_threads()`` (one per physical core unless OMP_NUM_THREADS says otherwise), and the other threads of
a training process that run torch use one.
"""

from __future__ import annotations

import os

import psutil
import torch


def physical_cores() -> int:
    return psutil.cpu_count(logical=False) or psutil.cpu_count() or 1


def training_threads() -> int:
    """The threads a training thread uses: ``OMP_NUM_THREADS`` when it is set (the usual way to give a process
    fewer cores, e.g. several processes sharing a machine), else one per physical core."""
    asked = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(asked) if asked.isdigit() and int(asked) > 0 else physical_cores()


def one_thread_here() -> None:
    """This thread runs torch ops on one thread from now on: it starts no OpenMP team of its own."""
    torch.set_num_threads(1)
