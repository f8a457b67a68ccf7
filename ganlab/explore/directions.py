"""What the lab's sliders move along: principal directions of G (GANSpace, the default), raw coordinates
z[i], or the class directions (the mean z the judge reads as a digit minus the mean of all). One
``SliderDirections`` per view: the vectors, how far a slider goes, and its labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gan_core.latent.directions import SIGMA_RANGE, raw_directions
from gan_core.runs.reader import RunReader
from ganlab.state.labels import lab_label
from ganlab.state.models import class_rows, direction_cache, private_generator, weights_version
from ganlab.state.resources import one_thread

PRINCIPAL, RAW, CLASS = "Principal directions", "Raw z[i]", "Class directions"
MODES = (PRINCIPAL, RAW, CLASS)
LABEL_FREE_MODES = (PRINCIPAL, RAW)  # class directions need the judge, which needs labels
RAW_SPAN = 1.0  # a raw slider adds -1 ... 1 to its coordinate (clipped to the prior's box)
CLASS_SPAN = 2.0  # a class slider adds -2 ... 2 times its class direction


@dataclass(frozen=True)
class SliderDirections:
    vectors: np.ndarray  # (k, z_dim): slider i adds value_i * vectors[i]
    span: float  # each slider runs from -span to span
    labels: tuple[str, ...]
    unit: str  # "σ" for principal directions
    explained: np.ndarray | None = None  # principal directions: each one's share of the layer's variance

    def describe(self) -> str:
        """The sweep grid's caption: what its rows are."""
        what = {"σ": "principal direction i", "": "the slider's direction"}[self.unit]
        shares = "" if self.explained is None else \
            " (variance shares " + ", ".join(f"{e:.1%}" for e in self.explained[:4]) + " …)"
        return f"row i: {what} from -{self.span:g} to +{self.span:g}{' σ' if self.unit else ''}{shares}"


def modes(labelled: bool) -> tuple[str, ...]:
    """What the sliders may move along: class directions only on data with labels."""
    return MODES if labelled else LABEL_FREE_MODES


def slider_directions(name: str, reader: RunReader, mode: str, layer: str, k: int, dims: list[int],
                      names: tuple[str, ...]) -> SliderDirections:
    """The directions of the lab's sliders for run ``name`` now (principal ones follow the weights);
    ``names``: the data's classes, one class direction each (() without labels: no class directions)."""
    if mode == RAW:
        return SliderDirections(raw_directions(reader.config.z_dim, dims), RAW_SPAN, tuple(f"z[{d}]" for d in dims), "")
    if mode == CLASS and names:
        return SliderDirections(class_rows(name, reader)[:len(names)], CLASS_SPAN,
                                tuple(f"toward {n}" for n in names), "")
    with one_thread():  # private_generator takes no lock; nothing in here may (the lock is not reentrant)
        # A conditional run's directions are those of the lab's class (private_generator fixes it).
        basis = direction_cache().get((name, lab_label(reader.config)), weights_version(reader),
                                      lambda: private_generator(reader), layer)
    return SliderDirections(basis.vectors[:k], SIGMA_RANGE, tuple(f"PC {i + 1}" for i in range(min(k, len(basis)))),
                            "σ", basis.explained[:k])
