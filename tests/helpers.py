"""Small builders shared by the core tests (kept out of conftest so imports stay explicit)."""

from __future__ import annotations

import atexit
import contextlib
import functools
import gzip
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_core.config import FieldSpec, GANConfig
from gan_core.data import TrainingData, idx_bytes

# Four steps per epoch at batch 20: fast, yet every code path (epochs, flushes, checkpoints) runs. Metrics off
# (a judge trained beside every tiny run would compete for the cores; the metrics tests turn them on). fp32
# whatever ``auto`` picks (exact resume is tested in fp32, bf16 where a test names it). A checkpoint every
# epoch, as the tests of writes and crashes expect (the autosave spacing has its own test).
TINY = dict(batch_size=20, epochs=2, log_every=2, device="cpu", eval_every=0, precision="fp32",
            checkpoint_seconds=0.0)


def tiny_config(**changes: object) -> GANConfig:
    return GANConfig(**{**TINY, **changes})


def outside(spec: FieldSpec) -> object:
    """A value just outside the field's range: below a closed low end, else at an open one (the CLI's and the
    sidebar's tests both check that it is refused)."""
    return spec.low if spec.low_open else spec.kind(spec.low - 1)


def inside(spec: FieldSpec) -> object:
    """An end of the range that belongs to it."""
    return spec.kind(spec.high if spec.low_open else spec.low)


def tiny_data(n: int = 80, seed: int = 0) -> TrainingData:
    rng = np.random.default_rng(seed)
    images = torch.from_numpy(rng.random((n, 784), dtype=np.float32))
    labels = torch.from_numpy(rng.integers(0, 10, n))
    return TrainingData(images, labels, "test", f"test: {n} random images")


def write_idx(path: Path, array: np.ndarray, *, gz: bool = False) -> Path:
    """Write an unsigned-byte IDX file as MNIST ships it."""
    payload = idx_bytes(array)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def write_mnist_idx(root: Path, n: int = 60, seed: int = 0, test_n: int = 20) -> Path:
    """A tiny torchvision-layout MNIST under ``root/MNIST/raw``: ``n`` training images and ``test_n`` test
    images (the held-out split; 0 = no test files); returns ``root``."""
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
    write_idx(raw / "train-labels-idx1-ubyte", rng.integers(0, 10, n))
    if test_n:
        write_idx(raw / "t10k-images-idx3-ubyte", rng.integers(0, 256, (test_n, 28, 28)))
        write_idx(raw / "t10k-labels-idx1-ubyte", rng.integers(0, 10, test_n))
    return root


# The one time limit of a wait in these tests: far beyond any run or condition here, so that only a hang (not
# a loaded 2-core machine) reaches it. A test never asserts that something happens within some seconds.
HANG_SECONDS = float(os.environ.get("GANLAB_TEST_HANG_SECONDS", 600))


def wait_until(predicate: Callable[[], object], timeout: float = HANG_SECONDS, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` seconds pass (False). The one "wait for a
    condition" of the core tests; the browser tests' ``browser.wait_on_page`` raises instead, with a
    screenshot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def state_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def finish(trainer: object, *statuses: str) -> object:
    """Wait for ``trainer`` (a started Trainer or TrainerProcess) to end and check it ended with one of
    ``statuses`` (default: finished); returns it."""
    trainer.join(HANG_SECONDS)
    snap = trainer.snapshot()
    assert not trainer.is_alive(), f"the trainer still runs after {HANG_SECONDS} s: {snap}"
    assert snap.status in (statuses or ("finished",)), snap.error or snap
    return trainer


def assert_stays_paused(trainer: object, paused_at: int) -> None:
    """``trainer`` (a Trainer or TrainerProcess, reported paused at step ``paused_at``) is halted, not only
    reported paused: asked for one hand-made D step, it takes exactly that step and is paused again at it. An
    event, where "sleep, then the step has not moved" passes whenever a loaded machine did not run the
    training thread during the sleep."""
    from gan_core.runs.snapshot import Status

    previous = trainer.step_report()
    assert trainer.step_once("D")  # accepted only while a pause is asked for
    assert wait_until(lambda: trainer.step_report() is not previous)
    assert (trainer.step_report().kind, trainer.step_report().step) == ("D", paused_at + 1)
    assert wait_until(lambda: trainer.snapshot().status == Status.PAUSED and trainer.snapshot().step == paused_at + 1)


def train(root: Path, run: str, epochs: int, *, continue_run: bool = False, stop_at_step: int | None = None,
          **config: object) -> object:
    """Train run ``run`` of ``tiny_config(epochs=epochs, **config)`` on ``tiny_data()`` under ``root`` to its
    end, or, with ``stop_at_step``, stop it right after that step and check that it did stop there (a
    "stop and resume" test must compare an interrupted run, not two whole ones); returns the trainer."""
    from gan_core.runs.snapshot import Status
    from gan_core.train.trainer import Trainer

    trainer = Trainer(tiny_config(epochs=epochs, **config), run, checkpoints=root, data=tiny_data(),
                      continue_run=continue_run)
    if stop_at_step is not None:
        trainer.add_callback(lambda event, snap: trainer.stop() if snap.step >= stop_at_step else None)
    trainer.start()
    trainer.join(HANG_SECONDS)
    snap = trainer.snapshot()
    assert snap.error is None, snap.error
    if stop_at_step is not None:
        assert (snap.status, snap.step) == (Status.IDLE, stop_at_step), f"not stopped at {stop_at_step}: {snap}"
    return trainer


def assert_same_state(a: dict, b: dict) -> None:
    """Two checkpoint records hold the same training state, bit for bit (weights, optimisers, history, RNG,
    counters, the epoch log without its timings)."""
    for part in ("generator", "discriminator"):
        assert a[part].keys() == b[part].keys()
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key}"
    for part in ("opt_g", "opt_d"):
        for index, slot in a[part]["state"].items():
            for name, value in slot.items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(b[part]["state"][index][name]))
    assert torch.equal(a["history"], b["history"])
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])
    assert (a["epoch"], a["step"]) == (b["epoch"], b["step"])
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in a["epoch_log"]]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in b["epoch_log"]]


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread for the module that imports this (an autouse fixture): many small steps on two
    threads of a busy 2-core machine spend most of their time waiting for each other (20 times slower at
    load average 9)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class PickleAttack:
    """A hostile pickle: unpickling it calls os.system, which would create the file ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def tiny_demo(folder: Path, **changes: object) -> Path:
    """A demo run as ``tools/export_demo`` ships one, from a tiny run (random images, 2 epochs, no judge):
    ``folder/demo.safetensors`` and ``folder/demo.json``; returns ``folder``."""
    from gan_core.runs.demo import export_demo
    from gan_core.runs.folder import RunPaths
    from gan_core.train.trainer import Trainer

    trainer = Trainer(tiny_config(**changes), "demo-source", checkpoints=folder / "_source", data=tiny_data())
    trainer.start()
    finish(trainer)
    export_demo(RunPaths.of(folder / "_source", "demo-source").checkpoint, folder,
                command="python -m gan_core train --run demo-source --epochs 2 (tiny test run)")
    return folder


# --- the app's pages in-process (Streamlit's AppTest) ------------------------------------------------------

APP = Path(__file__).resolve().parents[1] / "app.py"
# Widget values for a run of a few seconds on the AppTests' 400 digits: batch 50, 3 epochs, no judge.
TINY_WIDGETS = {"cfg_batch_size": 50, "cfg_epochs": 3, "cfg_log_every": 1, "cfg_eval_every": 0}


_CLASSIFIERS: list[Path] = []


def shared_classifiers() -> Path:
    """One folder per test process for the judge's and the referee's cached weights: the AppTests' data is
    the same 400 digits in every module, and a cache entry is valid for exactly the data and recipe its key
    names, so a test reuses what an earlier one trained instead of training both classifiers again (about
    2 s each time)."""
    if not _CLASSIFIERS:
        folder = Path(tempfile.mkdtemp(prefix="ganlab-classifiers-"))
        atexit.register(shutil.rmtree, folder, True)
        _CLASSIFIERS.append(folder)
    return _CLASSIFIERS[0]


@contextlib.contextmanager
def app_server(monkeypatch: pytest.MonkeyPatch, checkpoints: Path, data: Path, demo: Path) -> Iterator[Path]:
    """The app as a fresh server process would start: its checkpoints root (made here; its classifiers' cache is
    the process's shared one), data and demo folders, a judge of 40 steps (the lab's nearest digits need one);
    Streamlit's caches cleared before and after (a new TrainerHolder), and a trainer still alive at the end
    stopped. Yields ``checkpoints``."""
    import streamlit as st

    from gan_core.quality.judge import JUDGE_DIR

    checkpoints.mkdir()
    (checkpoints / JUDGE_DIR).symlink_to(shared_classifiers(), target_is_directory=True)
    monkeypatch.setenv("GANLAB_CHECKPOINTS", str(checkpoints))
    monkeypatch.setenv("GANLAB_DATA_DIR", str(data))
    monkeypatch.setenv("GANLAB_DEMO_DIR", str(demo))
    monkeypatch.setenv("GANLAB_JUDGE_STEPS", "40")
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        yield checkpoints
    finally:
        from ganlab.state.resources import holder

        trainer = holder().alive()
        if trainer is not None:
            trainer.stop()
        st.cache_resource.clear()
        st.cache_data.clear()


def new_app() -> object:
    """A new session (a new tab) of the whole app, run once; an AppTest. Each new AppTest scans every installed
    package's metadata for Streamlit components (0.45 CPU-s, a quarter of the AppTests' time; a server scans
    once): the packages do not change while the tests run, so this process keeps the first scan's answer."""
    from streamlit.components.v2 import manifest_scanner as scanner
    from streamlit.testing.v1 import AppTest

    if not hasattr(scanner.scan_component_manifests, "cache_info"):
        scanner.scan_component_manifests = functools.cache(scanner.scan_component_manifests)
    return AppTest.from_file(str(APP), default_timeout=60).run()


def show(at: object, page: str) -> object:
    """Open one of the app's pages: train, explore or runs."""
    return at.switch_page(f"ganlab/pages/{page}.py").run()


def assert_no_exception(at: object) -> None:
    assert not at.exception, [e.value for e in at.exception]


def lab_sliders(at: object) -> list:
    """The latent lab's direction sliders (not its truncation slider, nor any other page's)."""
    return [s for s in at.slider if str(s.key).startswith("lab_dir_")]


def image_url(at: object, caption: str) -> str:
    """The media URL of the first image whose caption contains ``caption`` (a content hash: it changes
    with the picture)."""
    found = [img.value[0] for img in at.image if any(caption in c for c in img.captions)]
    assert found, [img.captions for img in at.image]
    return found[0]


def chart_specs(at: object) -> list[str]:
    """The Vega-Lite specs (JSON text) of the page's altair charts."""
    return [chart.proto.spec for chart in at.get("vega_lite_chart")]


def set_values(at: object, values: dict[str, object]) -> object:
    for key, value in values.items():
        at.number_input(key=key).set_value(value)
    return at.run()


def buttons(at: object) -> dict[str, bool]:
    """Enabled state of the four trainer buttons."""
    return {name: not at.button(key=f"btn_{name}").disabled for name in ("train", "pause", "resume", "stop")}


def status(at: object) -> str:
    return at.metric[0].value


def step(at: object) -> int:
    return int(at.metric[1].value.replace(",", ""))


def wait_for(at: object, predicate: Callable[[object], object], timeout: float = HANG_SECONDS) -> object:
    """Rerun the session ``at`` until ``predicate(at)`` holds (fragments with ``run_every`` are not
    auto-run by AppTest: each rerun is a poll); returns ``at``."""
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        if predicate(at):
            return at
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; metrics {[m.value for m in at.metric]}")
        time.sleep(0.3)


def stop_if_running(at: object) -> None:
    if not at.button(key="btn_stop").disabled:
        at.button(key="btn_stop").click().run()


def saved_run(root: Path, data_dir: Path, name: str = "saved", epochs: int = 2) -> Path:
    """A finished run ``root/name`` of batch 50 on the MNIST files under ``data_dir`` (seed 3, no judge)."""
    from gan_core.train.trainer import Trainer

    config = GANConfig(batch_size=50, epochs=epochs, log_every=1, seed=3, eval_every=0)
    trainer = Trainer(config, name, checkpoints=root, data_dir=data_dir, threads=0)
    trainer.start()
    finish(trainer)
    assert trainer.snapshot().status == "finished", trainer.snapshot()
    return root / name


def metrics_row(epoch: int, fid: float, histogram: list[float]) -> dict[str, object]:
    """A stored metrics row as the trainer writes it (see gan_core.metrics.quality_row)."""
    return {"epoch": epoch, "step": epoch * 8, "fid": fid, "fid_floor": 2.5, "fid_n": 400, "fid_ref_n": 400,
            "inception_score": 3.25, "histogram": histogram, "kl_uniform": 0.9,
            "classes_present": sum(share >= 0.01 for share in histogram), "max_class_share": max(histogram),
            "min_class_share": min(histogram), "confidence": 0.8, "samples": 400, "d_loss": 0.6, "g_loss": 1.2}


def with_metrics(folder: Path, rows: list[dict[str, object]]) -> None:
    """Write judge rows into a saved run's checkpoint: the judge itself is too slow to train per test."""
    import torch

    from gan_core.runs.checkpoint import save_checkpoint

    record = torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=True)
    record["metrics_log"] = rows
    save_checkpoint(record, folder / "checkpoint.pt")
