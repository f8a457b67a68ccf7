"""Process-wide resources of the server (one trainer, the refresh budget, folders) and small render helpers.

Everything cached with ``st.cache_resource`` here is shared by every tab and session of one server.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from gan_core.images import png_bytes
from gan_core.threads import training_threads
from gan_core.train.process import prestart
from ganlab.state import keys
from ganlab.state.holder import TrainerHolder, Watchers

LIVE_REFRESH_SECONDS = 2.0  # progress period while training (a rerun costs the browser 0.1-0.25 s of work)
POLL_SECONDS = 2.0  # how often one idle page looks at the server's trainer (a look draws nothing)


def checkpoints_root() -> Path:
    return Path(os.environ.get("GANLAB_CHECKPOINTS", "checkpoints"))


def data_dir() -> Path:
    return Path(os.environ.get("GANLAB_DATA_DIR", "data"))


def demo_dir() -> Path:
    """The shipped demo run (``demo/`` beside app.py); ``GANLAB_DEMO_DIR`` points elsewhere (tests)."""
    return Path(os.environ.get("GANLAB_DEMO_DIR", Path(__file__).resolve().parents[2] / "demo"))


@st.cache_resource
def holder() -> TrainerHolder:
    """One trainer per server process, shared by every tab and session."""
    box = TrainerHolder()
    # Ctrl-C / SIGTERM of the server: checkpoint at the next batch instead of losing the epoch so far.
    atexit.register(box.shutdown, 10.0)
    return box


def warm_trainer() -> None:
    """While nothing trains here, keep a training process started and waiting for the next Train or
    Continue (``gan_core.process.prestart``): a click then starts the run in about a second instead of
    paying for an interpreter and torch's imports. ``GANLAB_WARM_TRAINER=0`` turns it off."""
    if os.environ.get("GANLAB_WARM_TRAINER", "1") != "0" and holder().alive() is None:
        prestart()


@st.cache_resource
def watchers() -> Watchers:
    """The sessions watching live training share one refresh budget (see ``Watchers``)."""
    return Watchers(LIVE_REFRESH_SECONDS)


@st.cache_resource
def pollers() -> Watchers:
    """The sessions looking at the server's trainer share a budget too: each of n pages looks every
    ``POLL_SECONDS * sqrt(n)`` s (two pages every 2.8 s, ten every 6.3 s), so a Train anywhere shows on
    every page within a few seconds while the looks' total rate grows only as sqrt(n). A look that finds
    nothing new draws nothing; measured in Chromium on the Runs page (2 cores, loaded), 30 s of idle pages
    cost 0.5 CPU-s more than without looks for one page and 4 CPU-s more for ten (0.5 of it the server's)."""
    return Watchers(POLL_SECONDS, exponent=0.5)


def _count_in(budget: Watchers) -> float:
    """Count this session in ``budget``; its period there now."""
    now = time.monotonic()
    budget.seen(st.session_state.setdefault(keys.WATCHER_ID, secrets.token_hex(8)), now)
    return budget.period(now)


def watch() -> float:
    """Count this session as a watcher; its live refresh period now."""
    return _count_in(watchers())


def poll() -> float:
    """Count this session as a page following the trainer; how often it looks now."""
    return _count_in(pollers())


def device_in_use(device: str) -> str:
    if device in ("auto", "cuda") and torch.cuda.is_available():
        return f"CUDA · {torch.cuda.get_device_name(0)}"
    if device == "cuda":
        return "CUDA requested, but no CUDA device is available"
    threads = training_threads()
    return f"CPU · trains on {threads} thread{'s' if threads > 1 else ''}"


def timed(fn: Callable[..., None]) -> Callable[..., None]:
    """With GANLAB_TIMING_FILE set, append "<name> <seconds>" per call: bench/app_latency.py reads it."""
    path = os.environ.get("GANLAB_TIMING_FILE")
    if not path:
        return fn

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            fn(*args, **kwargs)
        finally:
            with open(path, "a", encoding="utf-8") as out:
                out.write(f"{fn.__name__} {time.perf_counter() - started:.6f}\n")

    return wrapper


def fast_png(picture: np.ndarray) -> bytes:
    """PNG at zlib level 1: lossless like st.image's own PNG, ~4x faster to encode (it runs per slider move)."""
    return png_bytes(picture, compress_level=1)


@st.cache_resource
def _threads_lock() -> threading.Lock:
    return threading.Lock()


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run a small generator batch on one intra-op thread, then restore the previous count.

    On a 2-core machine that the training process keeps busy, a small batch ran many times faster on
    one thread than on two. torch's thread count is process-wide, so the lock keeps sessions from
    interleaving their save/restore.
    """
    with _threads_lock():
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


def fmt_number(value: float | None, spec: str = ".2f") -> str:
    return "–" if value is None else format(value, spec)
