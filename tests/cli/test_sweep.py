"""Sweeps on Ray: the grid, the manifest, runs in worker processes, and continuation after a killed driver
or a killed worker. Ray runs locally (2 CPUs, no dashboard); each Ray start costs seconds, so the tests
share one local cluster and keep runs tiny (3 steps per epoch)."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

from gan_core.runs.checkpoint import load_checkpoint
from gan_core.runs.folder import RunPaths
from gan_core.sweep.plan import (
    COMPLETE,
    FAILED,
    SweepError,
    epochs_done,
    expand_grid,
    new_manifest,
    parse_set,
    progress,
    read_manifest,
    sweep_of,
    write_manifest,
)

from helpers import HANG_SECONDS, wait_until, write_mnist_idx

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 12
# A sweep's --set values (one list per field) for tiny runs: 60 images, 3 steps/epoch
TINY_SETS = {"batch_size": [20], "eval_every": [0], "log_every": [3], "checkpoint_seconds": [0.0]}


def test_grid_expands_presets_values_and_seeds_with_typed_values():
    field, values = parse_set("lr_g=0.001,0.0002")
    assert field == "lr_g" and values == [0.001, 0.0002]
    assert parse_set("spectral_norm=true,0")[1] == [True, False]
    runs = expand_grid("g", ["seed", "stable"], [0, 1], {"lr_g": values}, epochs=5)
    assert len(runs) == 8 and len({r.name for r in runs}) == 8
    assert runs[0].name == "g-seed-lr_g0.001-s0"
    config = runs[-1].config(5)
    assert (config.spectral_norm, config.lr_g, config.seed, config.epochs) == (True, 0.0002, 1, 5)
    for bad in ("nope=1", "lr_g", "batch_size=ten", "seed=1,2"):
        with pytest.raises(SweepError):
            parse_set(bad)
    with pytest.raises(SweepError, match="lr_g"):  # validated like any config
        expand_grid("g", ["seed"], [0], {"lr_g": [5.0]})
    with pytest.raises(SweepError, match="twice"):
        expand_grid("g", ["seed"], [0, 0])


@pytest.fixture(scope="module")
def ray_local():
    import ray

    os.environ["PYTHONPATH"] = str(ROOT)  # the workers the local raylet starts import gan_core from here
    context = ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield context.address_info["address"]  # a driver process joins it with --address
    ray.shutdown()


@pytest.fixture()
def dirs(tmp_path):
    return {"data": write_mnist_idx(tmp_path / "data", n=60), "ckpt": tmp_path / "ckpt"}


def _new_sweep(dirs, name: str, seeds=(0,)) -> list[str]:
    runs = expand_grid(name, ["seed", "stable"], list(seeds), TINY_SETS, epochs=EPOCHS)
    write_manifest(dirs["ckpt"], new_manifest(name, runs, EPOCHS))
    return [run.name for run in runs]


def _assert_complete_once(ckpt: Path, names: list[str]) -> None:
    """Every run at its last epoch, each epoch in the CSV, the log and the grids exactly once, and one
    history row per step of those epochs: nothing lost, nothing trained twice."""
    for name in names:
        paths = RunPaths.of(ckpt, name)
        record = load_checkpoint(paths.checkpoint)
        assert record["epoch"] == EPOCHS, name
        assert [row["epoch"] for row in record["epoch_log"]] == list(range(1, EPOCHS + 1)), name
        csv_epochs = [int(line.split(",")[0]) for line in paths.losses_csv.read_text().splitlines()[1:]]
        assert csv_epochs == list(range(1, EPOCHS + 1)), name
        assert paths.sample_epochs() == list(range(1, EPOCHS + 1)), name
        assert record["step"] == len(record["history"]) == 3 * EPOCHS, name


def test_a_sweep_whose_driver_is_killed_continues_every_run_once(dirs, ray_local):
    from gan_core.sweep.driver import run_sweep

    names = _new_sweep(dirs, "drv")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = dirs["ckpt"].parent / "driver.log"
    with open(log, "wb") as out:
        # The driver joins the tests' cluster (a second local cluster beside it took minutes to start on a
        # loaded 2-core machine); killing it ends its Ray job, and with it the tasks training its runs.
        driver = subprocess.Popen([sys.executable, "-m", "gan_core", "sweep", "--name", "drv", "--checkpoints",
                                   str(dirs["ckpt"]), "--data-dir", str(dirs["data"]), "--address", ray_local],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        # Kill it once a run is under way and none is finished: runs must be mid-epoch-sequence. (Starting
        # Ray takes seconds on an idle machine, minutes on a saturated one.)
        def under_way_or_ended() -> bool:
            return max(epochs_done(dirs["ckpt"], n) for n in names) >= 2 or driver.poll() is not None

        under_way = wait_until(under_way_or_ended)
        assert under_way and driver.poll() is None, log.read_text()[-2000:]
        started_by_driver = psutil.Process(driver.pid).children(recursive=True)
        driver.send_signal(signal.SIGKILL)
        driver.wait(10)
        assert any(0 < epochs_done(dirs["ckpt"], n) < EPOCHS for n in names)

        outcomes = run_sweep(dirs["ckpt"], "drv", dirs["data"])  # on this process's local Ray
        assert {n: o["status"] for n, o in outcomes.items()} == dict.fromkeys(names, COMPLETE)
        assert any(o.get("resumed") for o in outcomes.values())  # an interrupted run continued
        _assert_complete_once(dirs["ckpt"], names)
    finally:
        _end(driver, locals().get("started_by_driver", []))


def test_runs_execute_in_workers_and_a_killed_worker_is_reported_then_continued(dirs, ray_local):
    from gan_core.sweep.driver import run_sweep

    names = _new_sweep(dirs, "wrk")
    first: dict = {}
    driver = threading.Thread(target=lambda: first.update(run_sweep(dirs["ckpt"], "wrk", dirs["data"])))
    driver.start()
    victim = {}

    def a_run_under_way() -> bool:
        for name in names:
            lock = RunPaths.of(dirs["ckpt"], name).lock
            if 2 <= epochs_done(dirs["ckpt"], name) < EPOCHS - 3 and lock.is_file() and lock.read_text():
                victim.update(name=name, pid=int(lock.read_text()))
                return True
        return False

    assert wait_until(a_run_under_way)
    assert victim["pid"] != os.getpid()
    os.kill(victim["pid"], signal.SIGKILL)  # the worker process training that run
    driver.join(HANG_SECONDS)
    assert not driver.is_alive()
    assert first[victim["name"]]["status"] == FAILED and first[victim["name"]]["error"]
    done_before = {n: RunPaths.of(dirs["ckpt"], n).checkpoint.stat().st_mtime_ns
                   for n, o in first.items() if o["status"] == COMPLETE}
    assert len(done_before) == len(names) - 1
    pids = {o["pid"] for o in first.values() if "pid" in o}
    assert pids and os.getpid() not in pids  # every run trained in a worker process, not in the driver
    failed_row = next(r for r in progress(dirs["ckpt"], "wrk") if r["name"] == victim["name"])
    assert failed_row["status"] == FAILED and failed_row["error"]  # the manifest reports it with its error

    second = run_sweep(dirs["ckpt"], "wrk", dirs["data"])
    assert second[victim["name"]]["status"] == COMPLETE and second[victim["name"]]["resumed"]
    for name, mtime in done_before.items():  # complete runs were skipped, not trained again
        assert second[name].get("skipped") and RunPaths.of(dirs["ckpt"], name).checkpoint.stat().st_mtime_ns == mtime
    _assert_complete_once(dirs["ckpt"], names)
    assert read_manifest(dirs["ckpt"], "wrk")["attempts"][victim["name"]]["status"] == COMPLETE
    assert sweep_of(dirs["ckpt"], victim["name"]) == "wrk"


def _end(process: subprocess.Popen, started: list[psutil.Process]) -> None:
    """Stop the driver and what it started (Ray's agents outlive a SIGKILLed driver by a minute or so)."""
    if process.poll() is None:
        process.kill()
        process.wait(10)
    for child in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
