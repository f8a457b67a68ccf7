"""Digit directions from the judge: "make it a 7" by projected gradient ascent, and linear class directions.

``toward_digit`` moves latents toward a class by a fixed number of normalised gradient steps on the
judge's log-probability of that class, each followed by a pull back toward the starting latent (so the
style is kept) and a projection onto the prior's box. The log-probability climbed is the mean over the
image and its eight one-pixel shifts: an edit must convince the judge wherever the digit sits within a
pixel, so it cannot rest on one pixel-exact pattern that only this judge reads as the digit. A step
that would change the image by more than ``MAX_PIXEL_CHANGE`` (mean absolute pixel difference from the
start) is not taken and ends that attempt: an edit cannot win by drifting into pixels the start never
had. An attempt also ends once the judge gives the class ``TARGET_P``. An edit that ends short of that
(stuck at a local maximum or at the cap) is tried again from ``RESTARTS`` jittered copies of its start,
under the same caps and measured from the same start, and the attempt the judge rates highest is kept.
The judge steers; ``referee.py`` holds the classifier that scores the results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..gan.model import sample_z
from ..gan.modes import evaluating
from .sampling import Z_HIGH, Z_LOW

# Fixed on purpose (docs/latent-lab.md measures them): the same edit for every digit and every latent.
STEPS = 100  # gradient steps at most
STEP_SIZE = 0.3  # z-distance (L2) of one step along the normalised gradient
PULL = 0.02  # share of the way back to the starting latent after each step
MAX_PIXEL_CHANGE = 0.20  # mean |image - start image| an edit may reach (pixels in [0, 1])
TARGET_P = 0.9999  # the judge's probability at which an edit stops (well past 0.9: the referee must agree)
SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1))  # (dx, dy) in pixels
RESTARTS = 2  # further attempts for an edit that did not reach TARGET_P
JITTER = 0.5  # each restart begins at the start latent plus uniform noise in [-JITTER, JITTER] per coordinate
JITTER_SEED = 13
CLASS_DIRECTION_SAMPLES = 20_000
CLASS_DIRECTION_SEED = 11

ShouldStop = Callable[[], bool]
Shifts = Sequence[tuple[int, int]]


@dataclass(frozen=True)
class EditPath:
    """The latents an edit went through: ``path[t]`` is (n, z_dim) after t steps (path[0] = start)."""

    path: np.ndarray  # float32 (steps + 1, n, z_dim); rows of finished edits repeat their last latent
    judge_p: np.ndarray  # float32 (steps + 1, n): the judge's probability of the asked class at each point
    steps_taken: np.ndarray  # int (n,)
    cancelled: bool

    @property
    def final(self) -> np.ndarray:
        return self.path[-1]


def _shifted(images: torch.Tensor, shifts: Shifts) -> torch.Tensor:
    """(n * len(shifts), 784): each image's views moved by (dx, dy) of at most one pixel (zeros moved in)."""
    padded = torch.nn.functional.pad(images.reshape(-1, 1, 28, 28), (1, 1, 1, 1))
    views = [padded[:, :, 1 + dy:29 + dy, 1 + dx:29 + dx] for dx, dy in shifts]
    return torch.stack(views, 1).reshape(-1, 28 * 28)


def _class_log_prob(generator: nn.Module, judge_net: nn.Module, z: torch.Tensor, digits: torch.Tensor,
                    shifts: Shifts = ((0, 0),)) -> tuple[torch.Tensor, torch.Tensor]:
    """The judge's log-probability of ``digits`` for G(z), as its mean over the shifted views; and G(z)."""
    images = generator(z)
    views = images if tuple(shifts) == ((0, 0),) else _shifted(images, shifts)
    log_p = torch.log_softmax(judge_net(views), dim=1).reshape(len(z), -1, 10).mean(1)
    return log_p.gather(1, digits[:, None]).squeeze(1), images


def toward_digit(generator: nn.Module, judge_net: nn.Module, z: torch.Tensor | np.ndarray,
                 digits: int | np.ndarray | torch.Tensor, *, steps: int = STEPS, step_size: float = STEP_SIZE,
                 pull: float = PULL, max_pixel_change: float = MAX_PIXEL_CHANGE, target_p: float = TARGET_P,
                 shifts: Shifts = SHIFTS, restarts: int = RESTARTS, jitter: float = JITTER,
                 should_stop: ShouldStop | None = None) -> EditPath:
    """Edit each row of z (n, z_dim) toward its digit (an int for all, or one per row); see the module.
    ``shifts`` are the (dx, dy) views whose mean log-probability is climbed. A restarted edit's
    path shows the start, then the steps of the attempt kept."""
    z0 = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1, generator.z_dim)
    n = len(z0)
    digits = torch.as_tensor(np.broadcast_to(np.asarray(digits, dtype=np.int64), (n,)).copy())
    climb = _Climb(generator, judge_net, steps, step_size, pull, max_pixel_change, target_p, shifts, should_stop)
    with evaluating(generator, judge_net, frozen=True):  # gradients flow to the latents only
        path, probs, taken, score = climb(z0, z0, digits)
        short = np.flatnonzero(probs[-1] < target_p)
        if restarts > 0 and len(short) and not climb.cancelled:
            rows = torch.as_tensor(np.tile(short, restarts))
            noise = torch.rand(len(rows), z0.shape[1], generator=torch.Generator().manual_seed(JITTER_SEED))
            starts = (z0[rows] + (2 * noise - 1) * jitter).clamp(Z_LOW, Z_HIGH)
            r_path, r_probs, r_taken, r_score = climb(starts, z0[rows], digits[rows])
            if not climb.cancelled:
                length = max(len(path), len(r_path))
                path, probs, r_path, r_probs = (_pad(a, length) for a in (path, probs, r_path, r_probs))
                r_path[0], r_probs[0] = path[0][rows.numpy()], probs[0][rows.numpy()]  # every path shows the start
                for attempt in range(restarts):
                    block = slice(attempt * len(short), (attempt + 1) * len(short))
                    better = short[r_score[block] > score[short]]
                    pick = np.flatnonzero(r_score[block] > score[short]) + attempt * len(short)
                    path[:, better], probs[:, better] = r_path[:, pick], r_probs[:, pick]
                    taken[better], score[better] = r_taken[pick], r_score[pick]
    return EditPath(path, probs, taken, climb.cancelled)


def _pad(a: np.ndarray, length: int) -> np.ndarray:
    """``a`` (t, ...) lengthened to ``length`` rows by repeating its last row (a finished edit stays put)."""
    return np.concatenate([a, np.repeat(a[-1:], length - len(a), axis=0)]) if len(a) < length else a.copy()


class _Climb:
    """One attempt per row: projected, capped gradient ascent from ``starts``, pulled toward and capped
    against ``anchors`` (the latents the edit was asked for)."""

    def __init__(self, generator: nn.Module, judge_net: nn.Module, steps: int, step_size: float, pull: float,
                 max_pixel_change: float, target_p: float, shifts: Shifts, should_stop: ShouldStop | None) -> None:
        self.generator, self.judge_net, self.steps, self.step_size = generator, judge_net, steps, step_size
        self.pull, self.max_pixel_change, self.target_p = pull, max_pixel_change, target_p
        self.shifts, self.should_stop = shifts, should_stop
        self.cancelled = False

    def __call__(self, starts: torch.Tensor, anchors: torch.Tensor,
                 digits: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(path (t+1, n, z_dim), judge p (t+1, n), steps taken (n,), final shifted log-probability (n,))."""
        g, j = self.generator, self.judge_net
        with torch.no_grad():
            anchor_images = g(anchors)
            log_p, _ = _class_log_prob(g, j, starts, digits)
        current = starts.clone()
        active = log_p.exp() < self.target_p
        path, probs = [current.clone()], [log_p.exp()]
        taken = torch.zeros(len(starts), dtype=torch.int64)
        for _ in range(self.steps):
            if not bool(active.any()):
                break
            if self.should_stop is not None and self.should_stop():
                self.cancelled = True
                break
            with torch.enable_grad():
                x = current.clone().requires_grad_(True)
                log_p, _ = _class_log_prob(g, j, x, digits, self.shifts)
                (grad,) = torch.autograd.grad(log_p.sum(), x)
            direction = grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
            proposal = current + self.step_size * direction
            proposal = (proposal - self.pull * (proposal - anchors)).clamp(Z_LOW, Z_HIGH)
            with torch.no_grad():
                new_log_p, images = _class_log_prob(g, j, proposal, digits)
            within_cap = (images - anchor_images).abs().mean(1) <= self.max_pixel_change
            accept = active & within_cap
            current = torch.where(accept[:, None], proposal, current)
            taken += accept.long()
            reached = accept & (new_log_p.exp() >= self.target_p)
            active = accept & ~reached  # an attempt stops at the cap or once the judge is convinced
            probs.append(torch.where(accept, new_log_p.exp(), probs[-1]))
            path.append(current.clone())
        with torch.no_grad():
            score, _ = _class_log_prob(g, j, current, digits, self.shifts)
        return (torch.stack(path).numpy(), torch.stack(probs).float().numpy(), taken.numpy(),
                score.numpy())


@torch.no_grad()
def class_directions(generator: nn.Module, judge_net: nn.Module, *, n: int = CLASS_DIRECTION_SAMPLES,
                     seed: int = CLASS_DIRECTION_SEED, num_classes: int = 10) -> np.ndarray:
    """(num_classes, z_dim): the mean of the latents the judge assigns to class c minus the mean of all.

    A class nobody generates gets a zero row. Adding t * row c to a latent is the linear "class slider".
    """
    z = sample_z(n, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    with evaluating(generator, judge_net):
        labels = torch.cat([judge_net(generator(z[s:s + 5000])).argmax(1) for s in range(0, n, 5000)])
    overall = z.mean(0)
    rows = [z[labels == c].mean(0) - overall if bool((labels == c).any()) else torch.zeros_like(overall)
            for c in range(num_classes)]
    return torch.stack(rows).numpy()
