"""The interactive GAN lab: ``streamlit run app.py``.

Train the seed tutorial's MLP GAN on MNIST, watch it learn, then explore its latent space. Training runs
in a child process (``gan_core.process.TrainerProcess``: page refreshes then never hold up training)
and never touches Streamlit: this page polls ``snapshot()``, ``history()`` and ``sample(z)`` from
fragments, and only while training is there a timed refresh.

Environment: ``GANLAB_CHECKPOINTS`` (default ``checkpoints``) and ``GANLAB_DATA_DIR`` (default ``data``).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import io
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import streamlit as st
import torch
from PIL import Image

from gan_core import CheckpointError, ConfigError, GANConfig, list_runs, load_generator
from gan_core.charts import (LOSS_SERIES, PROB_SERIES, curve_spec, curve_table, fid_spec, fid_table,
                             histogram_spec, histogram_table)
from gan_core.config import DATASETS, DEVICES, validate_run_name
from gan_core.control import (AnyTrainer, ButtonStates, TrainerBusy, TrainerHolder, Watchers, button_states,
                              next_free_name)
from gan_core.data import DataError
from gan_core.engine import preview_noise
from gan_core.images import make_grid, png_bytes, upscale
from gan_core.latent import lab_batch, with_values
from gan_core.metrics import CLASS_NAMES, COLLAPSE_MAX_SHARE, quality_warnings
from gan_core.model import Generator, seeded_z
from gan_core.process import TrainerProcess
from gan_core.presets import DEFAULT_PRESET, PRESETS, RUN_FIELDS, preset_config, preset_of
from gan_core.runs import RunError, RunInfo, RunPaths
from gan_core.timeline import frame_paths, timeline_gif
from gan_core.trainer import ERROR, FINISHED, RUNNING, physical_cores

LIVE_REFRESH_SECONDS = 2.0  # progress period while training (a rerun costs the browser 0.1-0.25 s of work)
CURVES_EVERY = 2  # curves, grid and quality refresh every 2nd tick: they move slowly and cost the browser most
LAB_FOLLOW_SECONDS = 5.0  # latent-lab images period while they follow the training weights
TIMELINE_REFRESH_SECONDS = 10.0  # new epoch grids appear this often while training
SWEEP_STEPS = 9  # columns of the sweep grid: -1 ... 1
STRIP_STEPS = 10  # images in the interpolation strip
MAX_SLIDERS = 16
DIGIT_SCALE = 10  # 28 px -> 280 px, nearest neighbour

# Sidebar hyperparameters: (field, label, number format or None for int, step, help).
HYPERPARAMETERS: list[tuple[str, str, str | None, float, str]] = [
    ("lr_d", "D learning rate", "%.5f", 1e-5, "Adam step size of the discriminator"),
    ("lr_g", "G learning rate", "%.5f", 1e-5, "Adam step size of the generator"),
    ("beta1_d", "D Adam β1", "%.2f", 0.05, "the seed's unusually low D momentum is 0.1"),
    ("beta1_g", "G Adam β1", "%.2f", 0.05, "DCGAN-style 0.5"),
    ("beta2", "Adam β2 (both)", "%.4f", 1e-3, "second-moment decay of both optimizers"),
    ("dropout_keep", "G dropout keep", "%.2f", 0.05, "keep-probability of G's dropout while training"),
    ("batch_size", "Batch size", None, 10, "real images per D step, fakes per G step"),
    ("epochs", "Epochs", None, 1, "total passes over the data (on resume: the new total)"),
    ("d_steps", "D steps per G step", None, 1, "discriminator updates per generator update"),
    ("seed", "Seed", None, 1, "same seed, same run (on CPU)"),
]
ADVANCED: list[tuple[str, str, str | None, float, str]] = [
    ("z_dim", "Latent size z_dim", None, 1, "length of the noise vector z"),
    ("leaky_slope", "LeakyReLU slope", "%.2f", 0.05, "negative slope of every hidden activation"),
    ("init_std", "Init std", "%.3f", 0.005, "std of the truncated-normal weight init"),
    ("log_every", "Log every (steps)", None, 1, "steps between loss read-backs"),
    ("pack", "PacGAN pack", None, 1, "images D judges at once; 1 = the seed; must divide the batch size"),
    ("eval_every", "Evaluate every (epochs)", None, 1, "quality metrics by the judge network; 0 = off"),
    ("eval_samples", "Eval samples", None, 100, "generated images per evaluation"),
]
# Sidebar on/off fields, shown as checkboxes in "Model and logging": (field, label, help).
SWITCHES: list[tuple[str, str, str]] = [
    ("spectral_norm", "Spectral normalisation of D", "normalise D's weights by their largest singular value; "
                                                     "off = the seed"),
    ("bf16", "bfloat16 autocast", "matmuls in bfloat16 (faster on GPUs and CPUs with bf16 units); off = exact fp32"),
    ("compile", "torch.compile (CUDA graphs on a GPU)", "compile the training passes; pays off on a GPU, "
                                                        "where each pass replays as one CUDA graph; off = eager"),
]
CONFIG_FIELDS = ([spec[0] for spec in HYPERPARAMETERS + ADVANCED] + [spec[0] for spec in SWITCHES]
                 + ["dataset", "device"])


# --- process-wide resources -------------------------------------------------------------------------

def checkpoints_root() -> Path:
    return Path(os.environ.get("GANLAB_CHECKPOINTS", "checkpoints"))


def data_dir() -> Path:
    return Path(os.environ.get("GANLAB_DATA_DIR", "data"))


@st.cache_resource
def holder() -> TrainerHolder:
    """One trainer per server process, shared by every tab and session."""
    box = TrainerHolder()
    # Ctrl-C / SIGTERM of the server: checkpoint at the next batch instead of losing the epoch so far.
    atexit.register(box.shutdown, 10.0)
    return box


@st.cache_resource
def watchers() -> Watchers:
    """The sessions watching live training share one refresh budget (see ``Watchers``)."""
    return Watchers(LIVE_REFRESH_SECONDS)


def watch() -> float:
    """Count this session as a watcher; its live panel's refresh period now."""
    now = time.monotonic()
    watchers().seen(st.session_state.setdefault("_watcher_id", secrets.token_hex(8)), now)
    return watchers().period(now)


@dataclass(frozen=True)
class RunView:
    """What the page needs from a checkpoint: config, progress, curves and an eval-mode generator."""

    config: GANConfig
    epoch: int
    step: int
    history: np.ndarray
    epoch_log: tuple[dict[str, float], ...]
    generator: Generator
    metrics_log: tuple[dict[str, Any], ...] = ()  # judge metrics per evaluated epoch


@st.cache_resource(max_entries=6, show_spinner=False)
def load_run_view(path: str, mtime_ns: int) -> RunView:
    """A checkpoint read once per (path, mtime): checkpoints are ~35 MB. Raises CheckpointError."""
    del mtime_ns  # part of the cache key only: a newer checkpoint is a new entry
    generator, record = load_generator(path)
    return RunView(record["config"], int(record["epoch"]), int(record["step"]),
                   record["history"].numpy().astype(np.float32), tuple(record["epoch_log"]), generator,
                   tuple(record.get("metrics_log", ())))  # checkpoints older than the judge have none


def run_view(paths: RunPaths) -> RunView | None:
    """The checkpoint of ``paths`` (None when it has none); raises CheckpointError when damaged."""
    try:
        stat = paths.checkpoint.stat()
    except FileNotFoundError:
        return None
    return load_run_view(str(paths.checkpoint), stat.st_mtime_ns)


def run_view_safe(name: str) -> RunView | None:
    """The run's checkpoint view, or None when it has none or it is damaged."""
    try:
        return run_view(RunPaths.of(checkpoints_root(), name))
    except (CheckpointError, ConfigError):
        return None


@st.cache_data(max_entries=4, show_spinner=False)
def cached_runs(root: str, fingerprint: tuple[tuple[str, int], ...]) -> list[RunInfo]:
    del fingerprint  # cache key: the list is reloaded only when some checkpoint changed
    return list_runs(root)


def all_runs() -> list[RunInfo]:
    root = checkpoints_root()
    if not root.is_dir():
        return []
    prints = []
    for folder in sorted(root.iterdir()):
        try:
            prints.append((folder.name, (folder / "checkpoint.pt").stat().st_mtime_ns))
        except OSError:
            continue
    return cached_runs(str(root), tuple(prints))


@st.cache_data(max_entries=4, show_spinner=False)
def cached_gif(folder: str, fingerprint: tuple[tuple[int, int], ...]) -> bytes:
    del fingerprint
    paths = RunPaths(Path(folder).parent, Path(folder).name)
    return timeline_gif(frame_paths(paths), scale=2)


def device_in_use(device: str) -> str:
    if device in ("auto", "cuda") and torch.cuda.is_available():
        return f"CUDA · {torch.cuda.get_device_name(0)}"
    if device == "cuda":
        return "CUDA requested, but no CUDA device is available"
    return f"CPU · trains on {physical_cores()} threads"


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

    On a 2-core machine that other work (here: the training process) keeps busy, an 83-image batch took
    100 ms with two threads and 3 ms with one. torch's thread count is (in effect) process-wide, so the
    lock keeps sessions from interleaving their save/restore.
    """
    with _threads_lock():
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


# --- config from the sidebar ------------------------------------------------------------------------

def key(field: str) -> str:
    return f"cfg_{field}"


def init_session() -> None:
    """Fill the widget state once per session: the running run, else the newest run, else defaults."""
    if st.session_state.get("_initialised"):
        return
    st.session_state["_initialised"] = True
    defaults = preset_config(DEFAULT_PRESET)
    for field in CONFIG_FIELDS:
        st.session_state.setdefault(key(field), getattr(defaults, field))
    trainer = holder().trainer
    runs = [info for info in all_runs() if info.error is None]
    if trainer is not None:
        open_run(trainer.paths.name, trainer.config)
    elif runs:
        open_run(runs[0].name)
    else:
        st.session_state[key("run")] = "mnist-1"


def open_run(name: str, config: GANConfig | None = None) -> None:
    """Select a run and copy its stored hyperparameters into the sidebar (only from callbacks/init)."""
    st.session_state[key("run")] = name
    st.session_state.pop("ask_existing", None)
    if config is None:
        view = run_view_safe(name)
        if view is None:
            return  # no checkpoint, or a damaged one (the page shows why): the sidebar keeps its values
        config = view.config
    for field in CONFIG_FIELDS:
        st.session_state[key(field)] = getattr(config, field)
    forget_lab_sliders()


def read_config(state: Any) -> tuple[str | None, GANConfig | None, ConfigError | None]:
    """(run name, config, first error) from the widget values; the error's ``field`` names the control."""
    try:
        name = validate_run_name(str(state[key("run")]).strip())
        config = GANConfig(**{field: state[key(field)] for field in CONFIG_FIELDS})
        if config.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device", "CUDA is not available on this machine; choose auto or cpu")
        return name, config, None
    except ConfigError as exc:
        return None, None, exc
    except (TypeError, ValueError) as exc:  # e.g. a cleared number box
        return None, None, ConfigError("run", str(exc))


CUSTOM = "custom"


def on_preset() -> None:
    """Copy a named recipe into the hyperparameter boxes; run fields (name, epochs, seed...) stay."""
    name = st.session_state["cfg_preset"]
    if name not in PRESETS:
        return
    recipe = preset_config(name)
    for field in CONFIG_FIELDS:
        if field not in RUN_FIELDS:
            st.session_state[key(field)] = getattr(recipe, field)


def current_preset() -> str:
    try:
        values = {field: st.session_state[key(field)] for field in CONFIG_FIELDS}
        return preset_of(values) or CUSTOM
    except (ConfigError, TypeError, ValueError):
        return CUSTOM


def number_box(field: str, label: str, fmt: str | None, step: float, help_text: str,
               slots: dict[str, Any]) -> None:
    # No min/max on purpose: out-of-range values reach GANConfig, whose message is shown right here.
    if fmt is None:
        st.number_input(label, step=int(step), key=key(field), help=help_text)
    else:
        st.number_input(label, step=float(step), format=fmt, key=key(field), help=help_text)
    slots[field] = st.empty()


def switch_box(field: str, label: str, help_text: str, slots: dict[str, Any]) -> None:
    st.checkbox(label, key=key(field), help=help_text)
    slots[field] = st.empty()


def sidebar() -> tuple[str | None, GANConfig | None]:
    slots: dict[str, Any] = {}
    with st.sidebar:
        st.header("Run")
        st.text_input("Run name", key=key("run"), help="folder under the checkpoints root")
        slots["run"] = st.empty()
        st.selectbox("Dataset", DATASETS, key=key("dataset"))
        slots["dataset"] = st.empty()
        st.header("Hyperparameters")
        st.session_state["cfg_preset"] = current_preset()  # follows the boxes: edits make it "custom"
        st.selectbox("Preset", [*PRESETS, CUSTOM], key="cfg_preset", on_change=on_preset,
                     help="stable: the seed plus spectral normalisation of D (the default); "
                          "seed: the tutorial's exact recipe")
        pairs = [HYPERPARAMETERS[i:i + 2] for i in range(0, len(HYPERPARAMETERS), 2)]
        for pair in pairs:
            for column, spec in zip(st.columns(2), pair):
                with column:
                    number_box(*spec, slots=slots)
        # Widget values are in session state before the widgets render, so the check can run first
        # and open the expander when the bad value hides inside it.
        _, _, early = read_config(st.session_state)
        advanced = {spec[0] for spec in ADVANCED} | {spec[0] for spec in SWITCHES}
        with st.expander("Model and logging", expanded=early is not None and early.field in advanced):
            for spec in ADVANCED:
                number_box(*spec, slots=slots)
            for spec in SWITCHES:
                switch_box(*spec, slots=slots)
        st.selectbox("Device", DEVICES, key=key("device"), help="auto = CUDA when available, else CPU")
        slots["device"] = st.empty()
        st.caption(f"Device in use: **{device_in_use(st.session_state[key('device')])}**")
    name, config, error = read_config(st.session_state)
    if error is not None:
        message = str(error).removeprefix(f"{error.field}: ")
        slot = slots.get(error.field, slots["run"])
        slot.error(message, icon="⚠️")
    return name, config


# --- actions (button callbacks: they run before the page, so it shows their effect at once) ---------

def flash(kind: str, text: str) -> None:
    st.session_state["flash"] = (kind, text)


def act(fn: Callable[[], None]) -> None:
    """Run an action; problems a user can fix become a message instead of a traceback."""
    try:
        fn()
    except (TrainerBusy, RunError, CheckpointError, ConfigError, DataError) as exc:
        flash("error", str(exc))


def on_train() -> None:
    name, config, error = read_config(st.session_state)
    if error is not None or name is None or config is None:
        flash("error", f"Nothing started: {error}")
        return
    paths = RunPaths.of(checkpoints_root(), name)
    if paths.checkpoint.exists():
        st.session_state["ask_existing"] = name  # never overwrite: ask to resume or rename
        return
    box = holder()

    def make() -> TrainerProcess:
        return TrainerProcess(config, name, checkpoints=checkpoints_root(), data_dir=data_dir())

    act(lambda: box.start(make))


def resume_config(name: str) -> GANConfig:
    """The run's stored config with the sidebar's epochs and device: nothing else may change."""
    view = run_view(RunPaths.of(checkpoints_root(), name))
    if view is None:
        raise RunError(f"run '{name}' has no checkpoint to resume")
    changes = {"epochs": st.session_state[key("epochs")], "device": st.session_state[key("device")]}
    return view.config.replace(**changes)


def on_resume(name: str | None = None) -> None:
    st.session_state.pop("ask_existing", None)
    box = holder()
    alive = box.alive()
    if alive is not None:
        alive.resume()
        return
    name = name or str(st.session_state[key("run")]).strip()

    def make() -> TrainerProcess:
        return TrainerProcess(resume_config(name), name, checkpoints=checkpoints_root(), data_dir=data_dir(),
                              resume=True)

    act(lambda: box.start(make))


def on_pause() -> None:
    trainer = holder().alive()
    if trainer is not None:
        trainer.pause()


def on_stop() -> None:
    trainer = holder().alive()
    if trainer is not None:
        trainer.stop()  # checkpoints, then the training process ends; Resume continues from here


def on_rename_and_train(new_name: str) -> None:
    st.session_state[key("run")] = new_name
    st.session_state.pop("ask_existing", None)
    on_train()


def on_open(name: str, resume: bool = False) -> None:
    open_run(name)
    if resume:
        on_resume(name)


# --- the page -------------------------------------------------------------------------------------

def selected_trainer(name: str | None) -> AnyTrainer | None:
    """The process's trainer when it trains (or trained) the selected run in this checkpoints root."""
    trainer = holder().trainer
    if trainer is None or name is None or trainer.paths.name != name:
        return None
    if trainer.paths.root.resolve() != checkpoints_root().resolve():
        return None
    return trainer


def can_resume(name: str | None) -> bool:
    if name is None:
        return False
    view = run_view_safe(name)
    epochs = st.session_state[key("epochs")]
    return view is not None and isinstance(epochs, int) and epochs > view.epoch


def controls(name: str | None, config: GANConfig | None) -> str | None:
    """The four buttons and messages; returns the status of the process's trainer (None if none)."""
    box = holder()
    trainer = box.trainer
    alive = box.alive() is not None
    status = trainer.snapshot().status if trainer is not None else None
    states: ButtonStates = button_states(status, alive, config_ok=config is not None,
                                         can_resume_run=can_resume(name))
    cols = st.columns([1, 1, 1, 1, 3])
    cols[0].button("Train", key="btn_train", type="primary", on_click=on_train, disabled=not states.train,
                   icon=":material/play_arrow:", width="stretch", help="start a new run with the sidebar settings")
    cols[1].button("Pause", key="btn_pause", on_click=on_pause, disabled=not states.pause,
                   icon=":material/pause:", width="stretch")
    cols[2].button("Resume", key="btn_resume", on_click=on_resume, disabled=not states.resume,
                   icon=":material/resume:", width="stretch",
                   help="continue the paused trainer, or the selected run from its latest checkpoint")
    cols[3].button("Stop", key="btn_stop", on_click=on_stop, disabled=not states.stop,
                   icon=":material/stop:", width="stretch", help="checkpoint and end the trainer")
    if trainer is not None and alive and name != trainer.paths.name:
        cols[4].info(f"Training run **{trainer.paths.name}** in the background "
                     f"({trainer.snapshot().status}).")
        cols[4].button(f"Show '{trainer.paths.name}'", key="btn_show_trainer", on_click=on_open,
                       args=(trainer.paths.name,))
    elif name is not None and not alive and not states.resume and run_view_safe(name) is not None:
        cols[4].caption("Raise **Epochs** in the sidebar to train this run further.")

    if "flash" in st.session_state:
        kind, text = st.session_state.pop("flash")
        getattr(st, kind)(text)
    asked = st.session_state.get("ask_existing")
    if asked is not None and asked == name:
        other = next_free_name(checkpoints_root(), asked)
        st.warning(f"A run named **{asked}** already exists; nothing was started or overwritten. "
                   f"Resume it from its checkpoint, or train under another name.")
        a, b, c = st.columns([1, 1, 1])
        a.button(f"Resume '{asked}'", key="btn_ask_resume", on_click=on_resume, args=(asked,))
        b.button(f"Train as '{other}'", key="btn_ask_rename", on_click=on_rename_and_train, args=(other,))
        c.button("Cancel", key="btn_ask_cancel", on_click=lambda: st.session_state.pop("ask_existing", None))
    return status if alive else None


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return str(dt.timedelta(seconds=int(round(seconds))))


@st.cache_resource(max_entries=4, show_spinner=False)
def live_grid(trainer_id: int, weights_version: int, seed: int, z_dim: int, _trainer: AnyTrainer) -> bytes | None:
    """The fixed-noise 10x10 grid of the published weights, recomputed only when they change."""
    with one_thread():
        images = _trainer.sample(preview_noise(seed, z_dim))
    return None if images is None else fast_png(make_grid(images, ncols=10, scale=2))


def follow_status(page_status: str | None, period: float | None) -> None:
    """Rerun the whole page when the trainer's status, or the sessions' shared refresh period, changed:
    the buttons and every fragment's period must follow."""
    trainer = holder().trainer
    if page_status is not None and (trainer is None or trainer.snapshot().status != page_status):
        st.rerun(scope="app")
    if period is not None and not 2 / 3 <= watch() / period <= 3 / 2:
        st.rerun(scope="app")  # sessions came or went


def live_panel(name: str | None, page_status: str | None, period: float | None) -> None:
    """Progress, curves, the preview grid and quality. While training this reruns every
    ``CURVES_EVERY * period`` s, and the progress inside it (a nested fragment) every ``period`` s."""
    follow_status(page_status, period)
    if name is None:
        st.info("Fix the highlighted setting in the sidebar.")
        return
    trainer = selected_trainer(name)
    view = None
    if trainer is None:  # a live trainer has everything: no checkpoint read on the refresh path
        try:
            view = run_view(RunPaths.of(checkpoints_root(), name))
        except CheckpointError as exc:
            st.error(f"Run **{name}** is damaged: {exc}")
            return
    if trainer is None and view is None:
        st.info(f"Run **{name}** has not been trained yet: press **Train** to start it.")
        return
    if trainer is not None and period is not None:
        st.fragment(live_progress, run_every=period)(name, page_status, period)
    else:
        progress_block(trainer, view)

    snap = trainer.snapshot() if trainer is not None else None
    history = trainer.history() if trainer is not None else view.history
    config = trainer.config if trainer is not None else view.config
    left, right = st.columns([3, 2])
    with left:
        if len(history):
            st.vega_lite_chart(curve_table(history, LOSS_SERIES), curve_spec(tuple(LOSS_SERIES.values()), "loss",
                               False), width="stretch")
            st.vega_lite_chart(curve_table(history, PROB_SERIES), curve_spec(tuple(PROB_SERIES.values()),
                               "mean D output", True), width="stretch")
        else:
            st.caption("The curves appear after the first logged steps.")
    with right:
        grid = None
        if trainer is not None:
            grid = live_grid(id(trainer), snap.weights_version if snap else 0, config.seed, config.z_dim, trainer)
        elif view is not None:
            with torch.no_grad(), one_thread():
                grid = png_bytes(make_grid(view.generator(preview_noise(config.seed, config.z_dim)).numpy(),
                                           ncols=10, scale=2))
        if grid is not None:
            st.image(grid, caption="fixed noise, latest weights", width="content", output_format="PNG")
    quality_block(trainer, view, config, snap.judge if snap is not None else "")


def live_progress(name: str, page_status: str | None, period: float) -> None:
    """The progress bar and figures of the live trainer: the part of the panel that changes every tick."""
    follow_status(page_status, period)
    trainer = selected_trainer(name)
    if trainer is not None:
        progress_block(trainer, None)


def progress_block(trainer: AnyTrainer | None, view: RunView | None) -> None:
    """Progress bar (epoch, step, batch), status, step, images/s, ETA, last D outputs, data source, error."""
    if trainer is not None:
        snap = trainer.snapshot()
        history = trainer.history()
        status, message = snap.status, snap.message
        epoch, epochs_total, step, spe = snap.epoch, snap.epochs_total, snap.step, snap.steps_per_epoch
    else:
        assert view is not None
        snap, history = None, view.history
        status, message = "saved", holder().data_message(view.config.dataset, data_dir()) or ""
        epoch, epochs_total, step = view.epoch, view.config.epochs, view.step
        spe = 0  # not stored in the checkpoint; the bar then counts whole epochs

    starting = snap is not None and status == RUNNING and spe == 0
    if spe and epochs_total:
        done = step / (epochs_total * spe)
    else:
        done = 1.0 if status == FINISHED else epoch / max(epochs_total, 1)
    in_epoch = f" · batch {step - epoch * spe} of {spe}" if spe and epoch < epochs_total else ""
    label = "starting: loading data and model…" if starting else \
        f"epoch {epoch} of {epochs_total} · step {step:,}{in_epoch}"
    st.progress(min(max(done, 0.0), 1.0), text=label)
    m = st.columns(5)
    m[0].metric("Status", status)
    m[1].metric("Step", f"{step:,}")
    m[2].metric("Images/s", f"{snap.images_per_sec:,.0f}" if snap and status == RUNNING else "–")
    m[3].metric("ETA", fmt_seconds(snap.eta_seconds) if snap and status == RUNNING else "–")
    last = history[-1] if len(history) else None
    m[4].metric("D(x) / D(G(z))", f"{last[2]:.2f} / {last[3]:.2f}" if last is not None else "–")
    if message:
        st.caption(f"Data: {message}")
    if snap is not None and snap.status == ERROR:
        st.error(f"Training stopped with an error: {snap.error}")


# --- generation quality (issue 4) ---------------------------------------------------------------------

def quality_source(trainer: AnyTrainer | None, view: RunView | None) -> tuple[tuple[dict[str, Any], ...], list[str]]:
    """(metrics rows, warnings): live from the trainer, else from the checkpoint's metrics log."""
    if trainer is not None:
        return trainer.metrics(), trainer.warnings()
    assert view is not None
    rows = view.metrics_log
    d_loss = view.epoch_log[-1].get("d_loss") if view.epoch_log else None
    return rows, quality_warnings(rows[-1] if rows else None, d_loss)


def fmt_number(value: float | None, spec: str = ".2f") -> str:
    return "–" if value is None else format(value, spec)


def quality_metrics(row: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """Latest FID (its floor in the label), IS and classes present; deltas against the previous evaluation."""
    fid, floor = row.get("fid"), row.get("fid_floor")
    fid_delta = None
    if previous is not None and fid is not None and previous.get("fid") is not None:
        fid_delta = f"{fid - previous['fid']:+.2f}"
    hist = row.get("histogram") or []
    m = st.columns(4)
    m[0].metric(f"FID (floor {fmt_number(floor)} at n={row.get('fid_n')})", fmt_number(fid), delta=fid_delta,
                delta_color="inverse",
                help="Fréchet distance of judge features, generated vs held-out real; the floor is the same "
                     "distance for real images at the same sample size: the best a generator can score")
    m[1].metric("Inception score", fmt_number(row.get("inception_score")),
                help=f"from 1 (all samples alike) to {len(hist) or 10} (confident and spread over every class)")
    m[2].metric("Classes present", f"{row.get('classes_present', '–')} / {len(hist) or '–'}",
                help="classes holding at least 1% of the samples")
    m[3].metric("Largest class", fmt_number(row.get("max_class_share"), ".0%"),
                help=f"collapse warning above {COLLAPSE_MAX_SHARE:.0%}")


def no_quality_note(config: GANConfig) -> str:
    if config.eval_every == 0:
        return "Quality metrics are off (eval_every = 0)."
    when = f"every {config.eval_every} epochs" if config.eval_every > 1 else "each epoch"
    return f"Quality metrics (FID, IS, class histogram) appear after {when}."


def quality_block(trainer: AnyTrainer | None, view: RunView | None, config: GANConfig, judge: str) -> None:
    """FID trend next to its floor, IS, the class histogram and collapse / D-wins warnings.

    ``judge`` is the live trainer's judge status line ("" for a stored run): loading, accuracy or failure.
    """
    rows, warnings = quality_source(trainer, view)
    st.markdown("**Quality**")
    for text in warnings:
        st.warning(text, icon="⚠️")
    if judge:
        st.caption(f"Quality judge: {judge}")
    if not rows:
        st.caption(no_quality_note(config))
        return
    row = rows[-1]
    quality_metrics(row, rows[-2] if len(rows) > 1 else None)
    left, right = st.columns([3, 2])
    left.vega_lite_chart(fid_table(rows), fid_spec(), width="stretch")
    names = CLASS_NAMES.get(config.dataset, CLASS_NAMES["mnist"])
    right.vega_lite_chart(histogram_table(row.get("histogram") or [], names), histogram_spec(COLLAPSE_MAX_SHARE),
                          width="stretch")


# --- latent lab ---------------------------------------------------------------------------------------

def slider_key(dim: int) -> str:
    return f"lab_z_{dim}"


def forget_lab_sliders() -> None:
    """Drop slider values so they start again from the base vector (used by Random/Zero/Re-seed)."""
    for name in [k for k in st.session_state if str(k).startswith("lab_z_")]:
        del st.session_state[name]


def on_lab_random() -> None:
    st.session_state["lab_seed"] = secrets.randbelow(1_000_000)  # not torch's global RNG: see latent.py
    st.session_state["lab_base"] = "seed"
    forget_lab_sliders()


def on_lab_zero() -> None:
    st.session_state["lab_base"] = "zero"
    forget_lab_sliders()


def on_lab_reseed() -> None:
    st.session_state["lab_base"] = "seed"
    forget_lab_sliders()


def on_lab_k() -> None:
    """K changed: keep the chosen dims, drop from the end or add the next unused ones."""
    k, dims = int(st.session_state["lab_k"]), list(st.session_state.get("lab_dims", []))
    z_dim = int(st.session_state.get("lab_z_dim", 100))
    extra = [d for d in range(z_dim) if d not in dims]
    st.session_state["lab_dims"] = (dims + extra)[:k] if k > len(dims) else dims[:k]


def on_lab_dims() -> None:
    st.session_state["lab_k"] = max(1, len(st.session_state["lab_dims"]))


def lab_sampler(name: str) -> tuple[Callable[[torch.Tensor], np.ndarray | None], GANConfig, str] | None:
    """How to sample the selected run: live published weights when it trains here, else its checkpoint."""
    trainer = selected_trainer(name)
    if trainer is not None and trainer.sample(torch.zeros(1, trainer.config.z_dim)) is not None:
        snap = trainer.snapshot()
        return trainer.sample, trainer.config, f"live weights, epoch {snap.epoch}, step {snap.step:,}"
    view = run_view(RunPaths.of(checkpoints_root(), name))
    if view is None:
        return None

    def sample(z: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return view.generator(z).reshape(-1, 28, 28).numpy()

    return sample, view.config, f"checkpoint, epoch {view.epoch}, step {view.step:,}"


def latent_lab(name: str | None, follow: float | None) -> None:
    """The lab's controls; a slider change reruns only this fragment (and the images inside it).

    ``follow``: training runs here and the user follows it, so the images (not these widgets) refresh
    on their own with the newest weights every ``follow`` seconds.
    """
    if name is None:
        return
    try:
        found = lab_sampler(name)
    except CheckpointError as exc:
        st.error(f"Run **{name}** is damaged, so its generator cannot be explored: {exc}")
        return
    if found is None:
        st.info("The latent lab opens once the run has weights: train it, or pick a saved run.")
        return
    z_dim = found[1].z_dim
    st.session_state["lab_z_dim"] = z_dim
    st.session_state.setdefault("lab_seed", 0)
    st.session_state.setdefault("lab_base", "seed")
    st.session_state.setdefault("lab_k", 8)
    dims = [d for d in st.session_state.get("lab_dims", list(range(8))) if d < z_dim] or list(range(min(8, z_dim)))
    st.session_state["lab_dims"] = dims
    st.session_state["lab_k"] = len(dims)

    controls_col, images_col = st.columns([2, 3])
    with controls_col:
        c = st.columns(2)
        c[0].number_input("Base seed", min_value=0, step=1, key="lab_seed", on_change=on_lab_reseed)
        c[1].number_input("Sliders K", min_value=1, max_value=min(MAX_SLIDERS, z_dim), step=1, key="lab_k",
                          on_change=on_lab_k)
        c = st.columns(3)
        c[0].button("Random", key="lab_random", on_click=on_lab_random, width="stretch", help="a new random base seed")
        c[1].button("Zero", key="lab_zero", on_click=on_lab_zero, width="stretch")
        c[2].button("Re-seed", key="lab_reseed", on_click=on_lab_reseed, width="stretch",
                    help="back to the vector drawn from the base seed")
        st.multiselect("Latent dimensions (one slider and one sweep row each)", list(range(z_dim)), key="lab_dims",
                       max_selections=MAX_SLIDERS, on_change=on_lab_dims, format_func=lambda d: f"z[{d}]")
        base = torch.zeros(z_dim) if st.session_state["lab_base"] == "zero" else \
            seeded_z(int(st.session_state["lab_seed"]), z_dim)[0]
        values = []
        slider_cols = st.columns(2)
        for i, dim in enumerate(dims):
            st.session_state.setdefault(slider_key(dim), round(float(base[dim]), 2))
            with slider_cols[i % 2]:
                values.append(st.slider(f"z[{dim}]", -1.0, 1.0, step=0.01, key=slider_key(dim), format="%.2f"))
        s = st.columns(2)
        seed_a = s[0].number_input("Strip from seed", min_value=0, step=1, value=1, key="lab_seed_a")
        seed_b = s[1].number_input("to seed", min_value=0, step=1, value=2, key="lab_seed_b")
    with images_col:
        st.fragment(lab_images, run_every=follow)(
            name, with_values(base, dims, values), tuple(dims), int(seed_a), int(seed_b))


def lab_images(name: str, z: torch.Tensor, dims: tuple[int, ...], seed_a: int, seed_b: int) -> None:
    """The big digit, the sweep grid and the interpolation strip for the current values: one generator
    batch. While following training this fragment reruns alone, so the widgets beside it stay put."""
    try:
        found = lab_sampler(name)
    except CheckpointError:
        return  # the lab's controls already said so
    if found is None:
        return
    sample, config, source = found
    batch, layout = lab_batch(z, list(dims), SWEEP_STEPS, seeded_z(seed_a, config.z_dim)[0],
                              seeded_z(seed_b, config.z_dim)[0], STRIP_STEPS)
    with one_thread():
        images = sample(batch)
    if images is None:
        st.info("Waiting for the first published weights…")
        return
    digit, sweep_images, strip = layout.split(images)
    digit_col, sweep_col = st.columns([1, 2])
    digit_col.image(fast_png(upscale(make_grid(digit[None], pad=0), DIGIT_SCALE)),
                    caption="G(z) for the current sliders", output_format="PNG")
    digit_col.caption(f"Generator of **{name}**: {source}.")
    if dims:
        rows = ", ".join(f"z[{d}]" for d in dims)
        sweep_col.image(fast_png(make_grid(sweep_images, ncols=SWEEP_STEPS, scale=2)),
                        caption=f"sweep: the rows move {rows} in turn from -1 (left) to 1 (right); "
                                "the other entries stay at the current values", output_format="PNG")
    st.image(fast_png(make_grid(strip, ncols=STRIP_STEPS, scale=2)),
             caption=f"interpolation: seed {seed_a} → seed {seed_b}", output_format="PNG")


# --- timeline and downloads ---------------------------------------------------------------------------

def timeline(name: str | None) -> None:
    if name is None:
        return
    paths = RunPaths.of(checkpoints_root(), name)
    frames = frame_paths(paths)
    if not frames:
        st.caption("Each finished epoch adds a grid of the fixed noise here.")
        return
    epochs = [epoch for epoch, _ in frames]
    if len(epochs) > 1:
        if st.session_state.get("tl_epoch") not in epochs:
            st.session_state["tl_epoch"] = epochs[-1]
        epoch = st.select_slider("Epoch", options=epochs, key="tl_epoch")
    else:
        epoch = epochs[0]
    picture = paths.sample(epoch).read_bytes()
    left, right = st.columns([2, 1])
    left.image(upscale(np.asarray(_png_to_array(picture)), 2), caption=f"{name}: epoch {epoch}", output_format="PNG")
    with right:
        prints = tuple((e, p.stat().st_mtime_ns) for e, p in frames)
        st.download_button("Timeline GIF", data=lambda: cached_gif(str(paths.folder), prints),
                           file_name=f"{name}_timeline.gif", mime="image/gif", icon=":material/animation:",
                           key="dl_gif", on_click="ignore", width="stretch")
        st.download_button("This grid (PNG)", data=picture, file_name=f"{name}_epoch_{epoch:04d}.png",
                           mime="image/png", key="dl_png", on_click="ignore", width="stretch")
        if paths.losses_csv.is_file():
            st.download_button("losses.csv", data=paths.losses_csv.read_bytes(), file_name=f"{name}_losses.csv",
                               mime="text/csv", key="dl_csv", on_click="ignore", width="stretch")
        if paths.checkpoint.is_file():
            st.download_button("Weights (checkpoint.pt)", data=lambda: paths.checkpoint.read_bytes(),
                               file_name=f"{name}_checkpoint.pt", mime="application/octet-stream",
                               key="dl_weights", on_click="ignore", width="stretch",
                               help="the whole resumable checkpoint; gan_core.load_generator reads it")


def _png_to_array(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


# --- run browser -----------------------------------------------------------------------------------

def run_browser(name: str | None) -> None:
    try:
        runs = all_runs()
    except Exception as exc:  # noqa: BLE001 - a broken folder must not take the page down
        st.error(f"Cannot list {checkpoints_root()}: {type(exc).__name__}: {exc}")
        return
    if not runs:
        st.caption(f"No runs under `{checkpoints_root()}` yet.")
        return
    rows = [{
        "run": info.name,
        "epochs": f"{info.epochs_done} / {info.epochs_total}" if info.error is None else "–",
        "D loss": info.d_loss, "G loss": info.g_loss,
        "dataset": info.dataset or "–",
        "saved": info.modified.strftime("%Y-%m-%d %H:%M") if info.modified else "–",
        "state": "ok" if info.error is None else "damaged",
    } for info in runs]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"D loss": st.column_config.NumberColumn(format="%.3f"),
                                "G loss": st.column_config.NumberColumn(format="%.3f")})
    for info in runs:
        if info.error is not None:
            st.warning(f"Run **{info.name}** is damaged and cannot be opened: {info.error}")
    names = [info.name for info in runs if info.error is None]
    if not names:
        return
    cols = st.columns([3, 1, 1])
    index = names.index(name) if name in names else 0
    picked = cols[0].selectbox("Pick a run", names, index=index, key="browser_pick")
    cols[1].button("Explore", key="btn_open", on_click=on_open, args=(picked,), width="stretch",
                   help="select it: charts, latent lab and timeline show this run; the sidebar shows its settings")
    cols[2].button("Resume it", key="btn_open_resume", on_click=on_open, args=(picked, True), width="stretch",
                   disabled=holder().alive() is not None)


def main() -> None:
    st.set_page_config(page_title="GAN lab · MNIST", page_icon="🧪", layout="wide")
    init_session()
    name, config = sidebar()
    st.title("GAN lab")
    st.caption("The seed tutorial's MLP GAN on MNIST: train it, watch D and G compete, explore the latent space.")
    status = controls(name, config)
    live = status == RUNNING and selected_trainer(name) is not None
    period = watch() if live else None
    slower = period / LIVE_REFRESH_SECONDS if period else 1.0  # > 1 when several sessions watch

    st.subheader("Training")
    st.fragment(timed(live_panel), run_every=period * CURVES_EVERY if period else None)(name, status, period)

    head, toggle = st.columns([4, 1])
    head.subheader("Latent lab")
    follow = toggle.toggle("Follow training", value=True, key="lab_follow",
                           help=f"while training, refresh with the newest weights every {LAB_FOLLOW_SECONDS:g} s "
                                "(slower while several sessions watch)")
    st.fragment(timed(latent_lab))(name, LAB_FOLLOW_SECONDS * slower if live and follow else None)

    st.subheader("Timeline")
    st.fragment(timed(timeline), run_every=TIMELINE_REFRESH_SECONDS * slower if live else None)(name)

    with st.expander("Runs", expanded=True):
        run_browser(name)


main()
