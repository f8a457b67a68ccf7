"""A conditional run's labels on the app's side: which class each view asks its G for. An unconditional run
gets None everywhere, so its views draw exactly as before; a conditional one asks, in the fixed grid, for
class r in row r (``gan.model.grid_labels``, as the trainer's epoch grids) and, in the latent lab, for the
class of the lab's digit control (``keys.LAB_LABEL``, class 0 until it is moved)."""

from __future__ import annotations

import streamlit as st
import torch

from gan_core import GANConfig
from gan_core.gan.model import CLASSES, classes_in_turn, rows_of_classes
from gan_core.gan.state import PREVIEW_SAMPLES
from ganlab.state import keys


def label_count(config: GANConfig) -> int:
    """How many labels the run's G takes, from its config alone (the views ask before, or without, copying the
    weights): 0 for an unconditional run."""
    return CLASSES if config.conditional else 0


def preview_labels(config: GANConfig, n: int = PREVIEW_SAMPLES) -> torch.Tensor | None:
    """The labels of the run's fixed-noise grid (row r: class r, as ``gan.model.grid_labels``); None for an
    unconditional run."""
    return rows_of_classes(label_count(config), n)


def eval_labels(config: GANConfig, n: int) -> torch.Tensor | None:
    """The labels an evaluation of ``n`` samples asked for (0, 1, ..., 9, 0, ..., as ``gan.model.balanced_labels``);
    None when unconditional."""
    return classes_in_turn(label_count(config), n)


def lab_label(config: GANConfig) -> int | None:
    """The class the lab's digit control asks for (None for an unconditional run)."""
    if not config.conditional:
        return None
    label = st.session_state.get(keys.LAB_LABEL, 0)
    return int(label) if 0 <= int(label) < CLASSES else 0


def labels_of(label: int | None, n: int) -> torch.Tensor | None:
    """``n`` copies of ``label`` (one per latent of a batch); None for None (an unconditional run)."""
    return None if label is None else torch.full((n,), int(label), dtype=torch.long)


def grid_rows_caption(config: GANConfig, names: tuple[str, ...]) -> str:
    """What the fixed grid's rows ask for, top to bottom, by the data's class names ("rows ask for, top to
    bottom: 0 · 1 · ... · 9"); "" for an unconditional run."""
    if not config.conditional:
        return ""
    rows = " · ".join(names[r] if r < len(names) else str(r) for r in range(CLASSES))
    return f"rows ask for, top to bottom: {rows}"


def a_class(name: object) -> str:
    """A class as a sentence says it: "a 7", "an 8", "an 18", "a Coat", "an Ankle boot", "an f" (a letter is
    said by its name)."""
    text = str(name)
    if len(text) == 1 and text.isascii() and text.isalpha():
        vowel_sound = text.lower() in "aefhilmnorsx"
    else:
        vowel_sound = text[:1].lower() in "aeio8" or text in ("11", "18")
    return f"{'an' if vowel_sound else 'a'} {text}"
