"""A conditional run's latent tools: the label is a control of its own beside z.

z carries the style (slant, width, stroke) and the label the class, so for such a run "toward digit d"
needs no climb through z (``steering``): the same z with label d is the answer (``toward_label``), and one
z across every label shows a style kept while the class changes (``across_labels``).

Every other latent tool (principal directions, steering, inversion, readable starts) moves z only: give it
``with_label(generator, label)``, a G of that one class, and it works as on an unconditional run.
"""

from __future__ import annotations

import torch
from torch import nn

from ..gan.model import LabelError, generate, with_label

__all__ = ["across", "across_labels", "toward_label", "with_label"]


def toward_label(generator: nn.Module, z: torch.Tensor, label: int) -> torch.Tensor:
    """Images (n, 28, 28) of the latents ``z`` (n, z_dim) drawn as class ``label`` by a conditional G: the
    same style, the asked-for class. LabelError for an unconditional G (climb with ``steering`` there)."""
    classes = getattr(generator, "classes", 0)
    if not classes:
        raise LabelError("this generator is unconditional: 'toward a digit' climbs through z (latent.steering)")
    z = z.reshape(-1, z.shape[-1])
    return generate(generator, z, torch.full((len(z),), int(label), dtype=torch.long))


def across(z: torch.Tensor, classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The latents and labels that draw the one latent ``z`` as every one of ``classes``, label 0 first: (classes,
    z_dim) copies of z and (classes,) labels, for a caller that draws them in a batch of its own (the lab)."""
    return z.reshape(1, -1).repeat(classes, 1), torch.arange(classes)


def across_labels(generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """Images (classes, 28, 28): the one latent ``z`` drawn as every class of a conditional G, label 0 first."""
    classes = getattr(generator, "classes", 0)
    if not classes:
        raise LabelError("this generator is unconditional: it has no labels to go across")
    return generate(generator, *across(z, classes))
