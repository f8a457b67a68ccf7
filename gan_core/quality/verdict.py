"""D's verdict: what the discriminator thinks of each image, and of a real batch against a fake one.

D is asked in eval mode and without gradients. For a spectrally normalised D that matters: in training
mode every forward pass advances the power iteration that estimates each weight's largest singular value
(torch's ``parametrizations.spectral_norm`` updates its ``u``/``v`` buffers in place), so merely looking
would change the run and break its bit-exact resume. In eval mode the stored vectors are used as they are.

D's output is a probability that an image is real only when D judges one image at a time and is trained
with a loss whose output is a log-odds (the tutorial's non-saturating loss, or the original minimax). With
packed inputs (PacGAN, ``pack`` > 1) D judges ``pack`` images at once, and least-squares or hinge losses
train a score, not a probability: then the raw score is returned, and the verdict says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ..config import GANConfig
from ..gan.losses import loss_view, output_is_probability
from ..gan.model import IMAGE_PIXELS, balanced_labels, generate, grid_labels, seeded_z
from ..gan.modes import evaluating

if TYPE_CHECKING:
    from ..gan.state import GANState

HISTOGRAM_BINS = 20


@dataclass(frozen=True)
class Verdict:
    """One value per image: D's probability "real" (``probability``) or its raw score."""

    values: np.ndarray  # float64 (n,)
    probability: bool  # True: in [0, 1], the probability that the image is real; False: D's raw score
    pack: int  # images D judged together; above 1 each image carries its pack's value
    reference: float  # where "undecided" lies: 0.5 for a probability, the loss's midpoint for a raw score
    note: str  # what the numbers are, in plain words, for the page

    def as_dict(self) -> dict[str, Any]:
        """Plain data (lists and floats), e.g. to send to another process."""
        return {"values": [float(v) for v in self.values], "probability": self.probability, "pack": self.pack,
                "reference": self.reference, "note": self.note}


def has_probability(config: GANConfig) -> bool:
    """Whether D's output, put through a sigmoid, is a per-image probability that the image is real."""
    return config.pack == 1 and output_is_probability(config.loss)


def _reference(config: GANConfig, probability: bool) -> float:
    if probability:
        return 0.5
    # A logit's "undecided" is 0 (cross-entropy losses with packed inputs); else the loss's own rule.
    return 0.0 if output_is_probability(config.loss) else loss_view(config.loss).reference


def _scores(discriminator: nn.Module, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """D's logits of ``x``; a conditional D judges an image with a label: with ``labels`` None, each image
    gets the label D finds most real (every D here scores "more real" higher, whatever its loss)."""
    classes = getattr(discriminator, "classes", 0)
    if labels is not None:
        return discriminator(x, labels.to(x.device))
    if not classes:
        return discriminator(x)
    return torch.stack([discriminator(x, torch.full((len(x),), c, device=x.device)) for c in range(classes)]).amax(0)


@torch.no_grad()
def raw_scores(discriminator: nn.Module, images: torch.Tensor | np.ndarray, pack: int = 1,
               labels: torch.Tensor | None = None) -> np.ndarray:
    """D's raw output per image, float64 (n,): eval mode, no gradients, D's mode restored afterwards.
    With ``pack`` > 1 consecutive images form a pack (the last one filled up by repeating images from the
    start) and every image carries its pack's score. A conditional D reads ``labels`` (one per image), or
    without them each image's most real label."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32)) if not isinstance(images, torch.Tensor) \
        else images.detach().float()
    n = len(x)
    if n == 0:
        return np.zeros(0)
    x = x.reshape(n, IMAGE_PIXELS)
    short = (-n) % pack
    if short:
        x = torch.cat((x, x[torch.arange(short) % n]))
    device = next(discriminator.parameters()).device
    with evaluating(discriminator):
        scores = _scores(discriminator, x.to(device), labels).float().cpu().double()
    return scores.repeat_interleave(pack)[:n].numpy()


def verdict(discriminator: nn.Module, images: torch.Tensor | np.ndarray, config: GANConfig,
            labels: torch.Tensor | None = None) -> Verdict:
    """D's verdict on each of ``images`` ((n, 784) or (n, 28, 28) in [0, 1]), with their ``labels`` for a
    conditional D (see ``raw_scores``)."""
    scores = raw_scores(discriminator, images, config.pack, labels)
    probability = has_probability(config)
    if probability:
        probabilities = np.exp(-np.logaddexp(0.0, -scores))  # sigmoid, without overflow for confident logits
        return Verdict(probabilities, True, 1, 0.5, "D's probability that the image is real")
    if config.pack > 1:
        note = (f"D's raw score (logit): D judges packs of {config.pack} images, so there is no probability per "
                f"image; each image shows its pack's score")
    else:
        note = f"D's raw score: the {loss_view(config.loss).label} loss trains a score, not a probability"
    return Verdict(scores, False, config.pack, _reference(config, False), note)


def real_fake_histogram(discriminator: nn.Module, real: torch.Tensor | np.ndarray, fake: torch.Tensor | np.ndarray,
                        config: GANConfig, bins: int = HISTOGRAM_BINS,
                        fake_labels: torch.Tensor | None = None) -> dict[str, Any]:
    """D's verdicts on a real batch and a generated batch as two histograms over the same bins (the two
    distributions GAN training pushes together), as plain data: edges, real and fake counts, their means,
    whether the values are probabilities, the undecided reference and the note. A conditional D judges the
    fakes with the labels they were drawn for (``fake_labels``), the real images with their most real label."""
    on_real, on_fake = verdict(discriminator, real, config), verdict(discriminator, fake, config, fake_labels)
    if on_real.probability:
        edges = np.linspace(0.0, 1.0, bins + 1)
    else:
        both = np.concatenate((on_real.values, on_fake.values))
        low, high = (float(both.min()), float(both.max())) if len(both) else (-1.0, 1.0)
        if high - low < 1e-9:
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, bins + 1)
    return {
        "edges": [float(e) for e in edges],
        "real": [int(c) for c in np.histogram(on_real.values, edges)[0]],
        "fake": [int(c) for c in np.histogram(on_fake.values, edges)[0]],
        "real_mean": float(on_real.values.mean()) if len(on_real.values) else None,
        "fake_mean": float(on_fake.values.mean()) if len(on_fake.values) else None,
        "probability": on_real.probability,
        "reference": on_real.reference,
        "note": on_real.note,
    }


VERDICT_REAL = 128  # real and generated images behind the live histogram
VERDICT_NOISE_SEED = 4_242  # the live histogram's fixed noise: a private generator, the run's RNG untouched


@torch.no_grad()
def live_verdicts(state: GANState, real_images: torch.Tensor) -> dict[str, Any]:
    """What a trainer publishes about D: its verdict on each image of the fixed preview grid (drawn by the
    generator people see) and the real-vs-fake histogram of a fixed real sample against the trained G's
    samples (what D is trained on). Eval mode throughout; draws nothing from the global RNG."""
    config = state.config
    asked = grid_labels(state.generator, len(state.preview_z))
    grid = generate(state.shown_generator(), state.preview_z, asked)  # eval mode, even when that is G itself
    on_grid = verdict(state.discriminator, grid, config, asked).as_dict()
    # The raw G's grid too, for the view that shows the raw G instead of the average.
    on_raw = on_grid if state.ema is None else \
        verdict(state.discriminator, generate(state.generator, state.preview_z, asked), config, asked).as_dict()
    step = max(1, len(real_images) // VERDICT_REAL)
    real = real_images[::step][:VERDICT_REAL]
    fake_labels = balanced_labels(state.generator, len(real))
    fake = generate(state.generator, seeded_z(VERDICT_NOISE_SEED, config.z_dim, len(real)), fake_labels)
    return {"epoch": state.epoch, "step": state.step, "grid": on_grid, "grid_raw": on_raw,
            "histogram": real_fake_histogram(state.discriminator, real, fake, config, fake_labels=fake_labels),
            "histogram_fake": "raw"}
