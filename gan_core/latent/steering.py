"""Digit directions from the judge: "make it a 7" by projected gradient ascent, and linear class directions.

The judge steers; the referee (``quality/referee.py``, another architecture, another seed) decides. ``toward_digit``
moves latents toward a class by normalised gradient steps on the judge's log-probability of that class, each
followed by a pull back toward the starting latent (so the style is kept) and a projection onto the prior's box.
The log-probability climbed is the mean over the image and its eight one-pixel shifts: an edit must convince
the judge wherever the digit sits within a pixel, so it cannot rest on one pixel-exact pattern that only this
judge reads as the digit. A step that would change the image by more than ``MAX_PIXEL_CHANGE`` (mean absolute
pixel difference from the start) is not taken and halves that attempt's step; below ``SMALLEST_STEP`` the
attempt ends: an edit cannot win by drifting into pixels the start never had. An attempt also ends once the
judge gives the class ``TARGET_P`` and the referee reads it with ``REACHED_P``. An edit whose attempt the
referee does not read as the digit (p >= ``REACHED_P`` on the final image) is tried again from ``RESTARTS``
jittered copies of its start, all in one batch, under the same caps and measured from the same start; the
attempt kept is the one the referee reads as the digit with the smallest pixel change, else the one it rates
highest. The result carries the verdict (``EditPath.reached``, the referee's reading): a failed edit says so
and still offers its best attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..gan.model import sample_z
from ..gan.modes import evaluating
from ..quality.metrics import READABLE_P
from .sampling import Z_HIGH, Z_LOW
from .starts import Reader

# Fixed on purpose (docs/latent-lab.md measures them): the same edit for every digit and every latent.
STEPS = 100  # gradient steps at most
STEP_SIZE = 0.3  # z-distance (L2) of one step along the normalised gradient
SMALLEST_STEP = 1 / 16  # share of STEP_SIZE: an attempt whose step is halved below it ends
PULL = 0.02  # share of the way back to the starting latent after each step
MAX_PIXEL_CHANGE = 0.20  # mean |image - start image| an edit may reach (pixels in [0, 1])
TARGET_P = 0.9999  # the judge's probability at which an edit stops (well past 0.9: the referee must agree)
SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1))  # (dx, dy) in pixels
RESTARTS = 7  # further attempts, in one batch, for an edit the referee does not read as the digit
JITTER = 1.0  # each restart begins at the start latent plus uniform noise in [-JITTER, JITTER] per coordinate
JITTER_SEED = 13
REACHED_P = READABLE_P  # the referee's probability of the digit on the final image that makes an edit a success
CLASS_DIRECTION_SAMPLES = 20_000
CLASS_DIRECTION_SEED = 11

ShouldStop = Callable[[], bool]
Shifts = Sequence[tuple[int, int]]


@dataclass(frozen=True)
class EditPath:
    """The latents an edit went through: ``path[t]`` is (n, z_dim) after t steps (path[0] = start), and the
    referee's verdict on the final image. ``final`` is the best attempt whether or not it ``reached`` the
    digit: a caller adopts it on success and offers it by hand otherwise."""

    path: np.ndarray  # float32 (steps + 1, n, z_dim); rows of finished edits repeat their last latent
    judge_p: np.ndarray  # float32 (steps + 1, n): the judge's probability of the asked class at each point
    steps_taken: np.ndarray  # int (n,)
    cancelled: bool
    reached: np.ndarray  # bool (n,): the referee reads the asked digit with p >= REACHED_P on the final image
    referee_p: np.ndarray  # float (n,): the referee's probability of the asked digit on the final image
    read_digit: np.ndarray  # int (n,): the digit the referee reads on the final image (its most likely class)
    read_p: np.ndarray  # float (n,): the referee's probability of ``read_digit``
    pixel_change: np.ndarray  # float (n,): mean |final image - start image|
    attempts: np.ndarray  # int (n,): attempts made (1 + the restarts an edit needed)

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


class _JudgeAsReader:
    """The judge's own softmax, for a caller that gives no referee (its verdict then proves less)."""

    def __init__(self, judge_net: nn.Module) -> None:
        self.judge_net = judge_net

    @torch.no_grad()
    def probabilities(self, images: torch.Tensor) -> np.ndarray:
        return torch.softmax(self.judge_net(images.reshape(len(images), -1)), 1).double().numpy()


@dataclass
class _Attempts:
    """The attempt kept per row so far, with the referee's verdict on its final image."""

    path: np.ndarray
    probs: np.ndarray
    taken: np.ndarray
    referee_p: np.ndarray  # (n,) of the asked digit
    change: np.ndarray  # (n,) mean |final image - start image|

    def better(self, rows: np.ndarray, referee_p: np.ndarray, change: np.ndarray) -> np.ndarray:
        """bool per entry of ``rows``: the new attempt beats the kept one: it reaches the digit where the kept
        one does not; both reach it and it changes the image less; neither does and the referee rates it higher."""
        new_ok, old_ok = referee_p >= REACHED_P, self.referee_p[rows] >= REACHED_P
        return ((new_ok & ~old_ok) | (new_ok & old_ok & (change < self.change[rows]))
                | (~new_ok & ~old_ok & (referee_p > self.referee_p[rows])))


def toward_digit(generator: nn.Module, judge_net: nn.Module, z: torch.Tensor | np.ndarray,
                 digits: int | np.ndarray | torch.Tensor, *, referee: Reader | None = None, steps: int = STEPS,
                 step_size: float = STEP_SIZE, pull: float = PULL, max_pixel_change: float = MAX_PIXEL_CHANGE,
                 target_p: float = TARGET_P, shifts: Shifts = SHIFTS, restarts: int = RESTARTS,
                 jitter: float = JITTER, should_stop: ShouldStop | None = None) -> EditPath:
    """Edit each row of z (n, z_dim) toward its digit (an int for all, or one per row); see the module.
    ``referee`` (``quality.referee.Referee``) gives the verdict; without one the judge's own softmax does.
    ``shifts`` are the (dx, dy) views whose mean log-probability is climbed. A restarted edit's path shows
    the start, then the steps of the attempt kept."""
    z0 = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1, generator.z_dim)
    n = len(z0)
    digits = torch.as_tensor(np.broadcast_to(np.asarray(digits, dtype=np.int64), (n,)).copy())
    reader = referee if referee is not None else _JudgeAsReader(judge_net)
    climb = _Climb(generator, judge_net, reader, steps, step_size, pull, max_pixel_change, target_p, shifts,
                   should_stop)
    attempts = np.ones(n, dtype=np.int64)
    with evaluating(generator, judge_net, frozen=True):  # gradients flow to the latents only
        with torch.no_grad():
            start_images = generator(z0)

        def verdict(path: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """(referee p of the asked digit, pixel change) of each path's final image."""
            with torch.no_grad():
                images = generator(torch.from_numpy(path[-1]))
            probs = reader.probabilities(images)
            change = (images - start_images[rows]).abs().mean(1).numpy()
            return probs[np.arange(len(rows)), digits[rows].numpy()], change

        everyone = np.arange(n)
        path, probs, taken = climb(z0, z0, digits)
        kept = _Attempts(path, probs, taken, *verdict(path, everyone))
        short = np.flatnonzero(kept.referee_p < REACHED_P)
        if restarts > 0 and len(short) and not climb.cancelled:
            rows = np.tile(short, restarts)  # every restart of every short edit in one batch
            noise = torch.rand(len(rows), z0.shape[1], generator=torch.Generator().manual_seed(JITTER_SEED))
            starts = (z0[rows] + (2 * noise - 1) * jitter).clamp(Z_LOW, Z_HIGH)
            r_path, r_probs, r_taken = climb(starts, z0[rows], digits[rows])
            if not climb.cancelled:
                r_referee_p, r_change = verdict(r_path, rows)
                length = max(len(kept.path), len(r_path))
                kept.path, kept.probs, r_path, r_probs = (_pad(a, length) for a in (kept.path, kept.probs, r_path,
                                                                                    r_probs))
                r_path[0], r_probs[0] = kept.path[0][rows], kept.probs[0][rows]  # every path shows the start
                attempts[short] += restarts
                for attempt in range(restarts):
                    block = np.arange(attempt * len(short), (attempt + 1) * len(short))
                    wins = kept.better(short, r_referee_p[block], r_change[block])
                    better, pick = short[wins], block[wins]
                    kept.path[:, better], kept.probs[:, better] = r_path[:, pick], r_probs[:, pick]
                    kept.taken[better], kept.referee_p[better], kept.change[better] = (
                        r_taken[pick], r_referee_p[pick], r_change[pick])
        with torch.no_grad():
            final_probs = reader.probabilities(generator(torch.from_numpy(kept.path[-1])))
    return EditPath(kept.path, kept.probs, kept.taken, climb.cancelled, reached=kept.referee_p >= REACHED_P,
                    referee_p=kept.referee_p, read_digit=final_probs.argmax(1), read_p=final_probs.max(1),
                    pixel_change=kept.change, attempts=attempts)


def _pad(a: np.ndarray, length: int) -> np.ndarray:
    """``a`` (t, ...) lengthened to ``length`` rows by repeating its last row (a finished edit stays put)."""
    return np.concatenate([a, np.repeat(a[-1:], length - len(a), axis=0)]) if len(a) < length else a.copy()


class _Climb:
    """One attempt per row: projected, capped gradient ascent from ``starts``, pulled toward and capped
    against ``anchors`` (the latents the edit was asked for), until both the judge and the referee read the
    digit. A step the pixel cap refuses halves that row's step size; below ``SMALLEST_STEP`` the attempt ends."""

    def __init__(self, generator: nn.Module, judge_net: nn.Module, reader: Reader, steps: int, step_size: float,
                 pull: float, max_pixel_change: float, target_p: float, shifts: Shifts,
                 should_stop: ShouldStop | None) -> None:
        self.generator, self.judge_net, self.reader, self.steps = generator, judge_net, reader, steps
        self.step_size, self.pull, self.max_pixel_change, self.target_p = step_size, pull, max_pixel_change, target_p
        self.shifts, self.should_stop = shifts, should_stop
        self.cancelled = False

    def _read(self, images: torch.Tensor, digits: torch.Tensor) -> torch.Tensor:
        """The referee's probability of each row's digit."""
        return torch.from_numpy(self.reader.probabilities(images)).gather(1, digits[:, None]).squeeze(1)

    def __call__(self, starts: torch.Tensor, anchors: torch.Tensor,
                 digits: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(path (t+1, n, z_dim), judge p (t+1, n), steps taken (n,))."""
        g, j = self.generator, self.judge_net
        with torch.no_grad():
            anchor_images = g(anchors)
            log_p, images = _class_log_prob(g, j, starts, digits)
        current = starts.clone()
        active = (log_p.exp() < self.target_p) | (self._read(images, digits) < REACHED_P)
        size = torch.full((len(starts), 1), self.step_size)
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
            proposal = current + size * direction
            proposal = (proposal - self.pull * (proposal - anchors)).clamp(Z_LOW, Z_HIGH)
            with torch.no_grad():
                new_log_p, images = _class_log_prob(g, j, proposal, digits)
            within_cap = (images - anchor_images).abs().mean(1) <= self.max_pixel_change
            accept = active & within_cap
            current = torch.where(accept[:, None], proposal, current)
            taken += accept.long()
            reached = accept & (new_log_p.exp() >= self.target_p) & (self._read(images, digits) >= REACHED_P)
            size = torch.where((active & ~within_cap)[:, None], size / 2, size)
            # an attempt stops once both read the digit, or once the cap has halved its step below the smallest
            active = active & ~reached & (size[:, 0] >= self.step_size * SMALLEST_STEP)
            probs.append(torch.where(accept, new_log_p.exp(), probs[-1]))
            path.append(current.clone())
        return torch.stack(path).numpy(), torch.stack(probs).float().numpy(), taken.numpy()


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
