"""The driver of a sweep: starts or joins Ray, submits one task per unfinished run, records outcomes.

Locally, Ray runs on this machine only: its node address is 127.0.0.1 (nothing is advertised to other
machines), no dashboard, usage statistics off, and Ray's token authentication (on by default
since Ray 2.5x for a local cluster). With ``address`` the driver joins
an existing cluster instead, whose nodes must see the same checkpoints folder and data folder at the
same paths (see docs/sweeps.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..data import load_training_data
from ..quality import referee
from ..quality.judge import JUDGE_DIR, load_or_train_judge
from ..quality.shared import needs_label_free
from ..runs.folder import FileLock
from .plan import (
    COMPLETE,
    FAILED,
    SweepError,
    manifest_path,
    read_manifest,
    run_state,
    sweep_runs,
    train_one,
    write_manifest,
)

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding gan_core, for local workers
LOCAL_START_ATTEMPTS = 3
OBJECT_STORE_BYTES = 100 * 2**20  # tasks exchange a few small dicts; Ray's default takes 30% of RAM


def start_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Join the cluster at ``address``, or start a local one confined to this machine."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address:
        ray.init(address=address, log_to_driver=False)
        return
    # Workers are started by the local raylet with its environment: let them import this package.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH"))))
    for attempt in range(1, LOCAL_START_ATTEMPTS + 1):
        try:
            ray.init(num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
                     object_store_memory=OBJECT_STORE_BYTES, log_to_driver=False)
            return
        except Exception:  # Ray gives its raylet 30 s to register, too little on a saturated machine
            ray.shutdown()
            if attempt == LOCAL_START_ATTEMPTS:
                raise


def sweep_lock(checkpoints: str | os.PathLike[str], sweep: str) -> FileLock:
    """``_sweeps/<name>.lock``, held by the sweep's driver: one driver per sweep, and a way for the app to
    see that a sweep runs here. The kernel drops it when the driver dies."""
    return FileLock(manifest_path(checkpoints, sweep).with_suffix(".lock"),
                    lambda holder: SweepError(f"sweep '{sweep}' is already running"))


def sweep_running(checkpoints: str | os.PathLike[str], sweep: str) -> bool:
    return sweep_lock(checkpoints, sweep).held_elsewhere()


def run_sweep(checkpoints: str | os.PathLike[str], sweep: str, data_dir: str | os.PathLike[str] = "data", *,
              on_event: Callable[[str, dict[str, Any]], None] | None = None) -> dict[str, dict[str, Any]]:
    """Train every run of the sweep that is not complete, one Ray task each; returns each run's outcome
    (``status`` COMPLETE or FAILED, ``error``, ``pid``, ``host``, ``seconds``; ``skipped`` for runs that
    were complete before). Starts a local Ray unless one is initialised already."""
    import ray

    checkpoints, data_dir = Path(checkpoints).resolve(), Path(data_dir).resolve()
    lock = sweep_lock(checkpoints, sweep)
    lock.acquire()
    try:
        manifest = read_manifest(checkpoints, sweep)
        epochs, cpus, gpus = manifest["epochs"], manifest["cpus_per_run"], manifest["gpus_per_run"]
        outcomes: dict[str, dict[str, Any]] = {}
        todo = []
        for run in sweep_runs(manifest):
            if run_state(checkpoints, run.name, epochs) == COMPLETE:
                outcomes[run.name] = {**manifest["attempts"].get(run.name, {}), "status": COMPLETE, "skipped": True}
                _emit(on_event, run.name, outcomes[run.name])
            else:
                todo.append(run)
        if not todo:
            return outcomes
        device = "cuda" if gpus else "cpu"  # a CPU task must not take a GPU it did not declare
        configs = {run.name: run.config(epochs, device) for run in todo}
        _prepare_judges(configs.values(), checkpoints, data_dir)
        if not ray.is_initialized():
            start_ray()
        task = ray.remote(train_one).options(num_cpus=cpus, num_gpus=gpus, max_retries=0)
        threads = max(1, int(cpus))
        pending = {task.remote(configs[run.name].to_dict(), run.name, str(checkpoints), str(data_dir), threads):
                   run.name for run in todo}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            name = pending.pop(done[0])
            try:
                outcome = ray.get(done[0])
            except ray.exceptions.RayError as exc:  # the worker died (killed, out of memory, node lost)
                outcome = {"status": FAILED, "error": _first_line(exc)}
            outcomes[name] = outcome
            manifest["attempts"][name] = outcome
            write_manifest(checkpoints, manifest)
            _emit(on_event, name, outcome)
        return outcomes
    finally:
        lock.release()


def _prepare_judges(configs: Any, checkpoints: Path, data_dir: Path) -> None:
    """Train the quality judge once per dataset before the tasks start, so they do not all train it. Data
    without labels has no judge to train (each run fits its label-free judge in a second)."""
    for dataset in sorted({c.dataset for c in configs if c.eval_every > 0}):
        data = load_training_data(dataset, data_dir)
        if not needs_label_free(data):
            load_or_train_judge(data, checkpoints / JUDGE_DIR, dataset,
                                referee_steps=referee.TRAIN_STEPS)  # read at call time


def _emit(on_event: Callable[[str, dict[str, Any]], None] | None, name: str, outcome: dict[str, Any]) -> None:
    if on_event is not None:
        on_event(name, outcome)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]
