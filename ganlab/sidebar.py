"""The sidebar: run name, dataset, preset and every hyperparameter, with each invalid value's message
shown under its own field. Also the session's first fill and "open a run" (copy its config in)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st
import torch

from gan_core import ConfigError, GANConfig
from gan_core.config import DATASETS, DEVICES, validate_run_name
from gan_core.presets import DEFAULT_PRESET, PRESETS, RUN_FIELDS, preset_config, preset_of
from ganlab import keys
from ganlab.resources import device_in_use, holder
from ganlab.runs_list import all_runs
from ganlab.source import saved_run_or_none

CUSTOM = "custom"  # the preset box's value when the boxes follow no named recipe

# Sidebar hyperparameters: (field, label, number format or None for int, step, help).
HYPERPARAMETERS: list[tuple[str, str, str | None, float, str]] = [
    ("lr_d", "D learning rate", "%.5f", 1e-5, "Adam step size of the discriminator"),
    ("lr_g", "G learning rate", "%.5f", 1e-5, "Adam step size of the generator"),
    ("beta1_d", "D Adam β1", "%.2f", 0.05, "the seed's unusually low D momentum is 0.1"),
    ("beta1_g", "G Adam β1", "%.2f", 0.05, "DCGAN-style 0.5"),
    ("beta2", "Adam β2 (both)", "%.4f", 1e-3, "second-moment decay of both optimizers"),
    ("dropout_keep", "G dropout keep", "%.2f", 0.05, "keep-probability of G's dropout while training"),
    ("batch_size", "Batch size", None, 10, "real images per D step, fakes per G step"),
    ("epochs", "Epochs", None, 1, "total passes over the data (on continuing: the new total)"),
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
SWITCHES: list[tuple[str, str, str]] = [
    ("spectral_norm", "Spectral normalisation of D", "normalise D's weights by their largest singular value; "
                                                     "off = the seed"),
    ("bf16", "bfloat16 autocast", "matmuls in bfloat16 (faster on GPUs and CPUs with bf16 units); off = exact fp32"),
    ("compile", "torch.compile (CUDA graphs on a GPU)", "compile the training passes; pays off on a GPU, "
                                                        "where each pass replays as one CUDA graph; off = eager"),
]
CONFIG_FIELDS = ([spec[0] for spec in HYPERPARAMETERS + ADVANCED] + [spec[0] for spec in SWITCHES]
                 + ["dataset", "device"])


def init_session() -> None:
    """Fill the widget state once per session: the training run, else the newest run, else defaults."""
    if st.session_state.get(keys.INITIALISED):
        return
    st.session_state[keys.INITIALISED] = True
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


def open_run(name: str, config: GANConfig | None = None) -> None:
    """Select a run and copy its stored hyperparameters into the sidebar (only from callbacks/init)."""
    st.session_state[keys.RUN] = name
    st.session_state.pop(keys.ASK_EXISTING, None)
    if config is None:
        saved = saved_run_or_none(name)
        if saved is None:
            return  # no checkpoint, or a damaged one (the page shows why): the sidebar keeps its values
        config = saved.config
    for field in CONFIG_FIELDS:
        st.session_state[keys.field(field)] = getattr(config, field)
    from ganlab.lab import forget_lab_sliders  # the lab's sliders start again from the new run's base

    forget_lab_sliders()


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


def _number_box(field: str, label: str, fmt: str | None, step: float, help_text: str, slots: dict[str, Any]) -> None:
    # No min/max on purpose: out-of-range values reach GANConfig, whose message is shown right here.
    if fmt is None:
        st.number_input(label, step=int(step), key=keys.field(field), help=help_text)
    else:
        st.number_input(label, step=float(step), format=fmt, key=keys.field(field), help=help_text)
    slots[field] = st.empty()


def _switch_box(field: str, label: str, help_text: str, slots: dict[str, Any]) -> None:
    st.checkbox(label, key=keys.field(field), help=help_text)
    slots[field] = st.empty()


def sidebar_ui() -> tuple[str | None, GANConfig | None]:
    """Draw the sidebar; returns (run name, config), both None while a value is invalid."""
    slots: dict[str, Any] = {}
    with st.sidebar:
        st.header("Run")
        st.text_input("Run name", key=keys.RUN, help="folder under the checkpoints root")
        slots["run"] = st.empty()
        st.selectbox("Dataset", DATASETS, key=keys.field("dataset"))
        slots["dataset"] = st.empty()
        st.header("Hyperparameters")
        st.session_state[keys.PRESET] = current_preset()  # follows the boxes: edits make it "custom"
        st.selectbox("Preset", [*PRESETS, CUSTOM], key=keys.PRESET, on_change=on_preset,
                     help="stable: the seed plus spectral normalisation of D (the default); "
                          "seed: the tutorial's exact recipe")
        for pair in (HYPERPARAMETERS[i:i + 2] for i in range(0, len(HYPERPARAMETERS), 2)):
            for column, spec in zip(st.columns(2), pair):
                with column:
                    _number_box(*spec, slots=slots)
        # Widget values are in session state before the widgets render, so the check can run first
        # and open the expander when the bad value hides inside it.
        _, _, early = read_config(st.session_state)
        advanced = {spec[0] for spec in ADVANCED} | {spec[0] for spec in SWITCHES}
        with st.expander("Model and logging", expanded=early is not None and early.field in advanced):
            for spec in ADVANCED:
                _number_box(*spec, slots=slots)
            for switch in SWITCHES:
                _switch_box(*switch, slots=slots)
        st.selectbox("Device", DEVICES, key=keys.field("device"), help="auto = CUDA when available, else CPU")
        slots["device"] = st.empty()
        st.caption(f"Device in use: **{device_in_use(st.session_state[keys.field('device')])}**")
    name, config, error = read_config(st.session_state)
    if error is not None:
        slots.get(error.field, slots["run"]).error(str(error).removeprefix(f"{error.field}: "), icon="⚠️")
    return name, config
