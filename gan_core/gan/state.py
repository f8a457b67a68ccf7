"""The GAN's training state and its one training step, free of threads, files and UI.

A ``GANState`` holds everything a run needs to continue exactly where it stopped; ``runs.record`` turns
it into the checkpoint record and back.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..config import ConfigError, GANConfig
from . import ema as ema_
from . import losses
from .augment import augment
from .grad_norms import grad_norm, layer_grad_norms
from .history import StepHistory
from .model import Discriminator, Generator, check_labels, grid_labels, sample_z, seeded_z
from .modes import evaluating
from .nets import build_models
from .precision import resolve_precision

PREVIEW_SAMPLES = 100  # the fixed-noise 10x10 grid saved every epoch
# R1 is lazy, as in StyleGAN2: its penalty (a second backward through D) is added every R1_EVERY-th D step,
# scaled by R1_EVERY, so it costs a quarter as much for about the same effect.
R1_EVERY = 4
# Hyperparameters that may change while a run trains (``GANState.apply_edit``), taking effect at the next step.
EDITABLE = ("lr_d", "lr_g", "beta1_d", "beta1_g", "d_steps")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but torch.cuda.is_available() is False")
    return torch.device(name)


def adam(params: Any, lr: float, beta1: float, beta2: float) -> torch.optim.Adam:
    # The fused kernel (CPU and CUDA) is the same Adam in one pass over each tensor: measured 5-10%
    # more images/s than the foreach path on the 2-core CPU (bench/throughput.py).
    return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), fused=True)


def compiled(module: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """``module`` under torch.compile, sharing its weights; the module itself stays eager, so sampling,
    copies and checkpoints never see the compiled form. "reduce-overhead" captures each pass in a CUDA
    graph on a GPU (one launch instead of dozens) and is plain inductor code on a CPU. Shapes are static:
    the trainer only feeds full batches."""
    return torch.compile(module, mode="reduce-overhead", dynamic=False)


def preview_noise(seed: int, z_dim: int) -> torch.Tensor:
    """A run's fixed preview noise (100 vectors): a private generator, so the global RNG is untouched."""
    return seeded_z(seed + 1, z_dim, PREVIEW_SAMPLES)


def r1_penalty(discriminator: Discriminator, real: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """E |grad_x D(x)|^2 over the real batch (Mescheder et al. 2018), differentiable in D's weights.

    D runs in eval mode for it: D has no dropout or BatchNorm, and a spectrally normalised layer then
    divides by sigma from its stored singular vectors with ordinary autograd ops, which a second backward
    can pass through (its training-mode kernel has a hand-written, once-differentiable backward)."""
    x = real.detach().float().requires_grad_(True)
    with evaluating(discriminator):
        scores = discriminator(x) if labels is None else discriminator(x, labels)
        (grad,) = torch.autograd.grad(scores.float().sum(), x, create_graph=True)
    return grad.pow(2).reshape(len(x), -1).sum(1).mean()


@dataclass
class GANState:
    config: GANConfig
    device: torch.device
    generator: Generator
    discriminator: Discriminator
    opt_g: torch.optim.Adam
    opt_d: torch.optim.Adam
    preview_z: torch.Tensor  # (100, z_dim) on device: the same noise every epoch, so grids compare
    # (100,) on device for a conditional run: row r of the 10x10 grid asks for label r; None otherwise.
    preview_labels: torch.Tensor | None = field(init=False, default=None)
    epoch: int = 0  # completed epochs
    # The counters. ``step`` counts D updates, each on the next real batch: the history holds one row per
    # step, an epoch is ``steps_per_epoch`` of them, and epoch means, resume and charts rely on that.
    # ``g_updates`` counts G updates; a G step taken alone (step-by-step mode) adds one here and to nothing
    # else: no batch is consumed and no history row is written, and the next row's g_loss shows its loss.
    step: int = 0
    g_updates: int = 0
    history: StepHistory = field(default_factory=StepHistory)  # HISTORY per step
    epoch_log: list[dict[str, float]] = field(default_factory=list)  # one row per finished epoch
    # One row per evaluated epoch: the judge's metrics (see gan_core.metrics.quality_row), plain data.
    metrics_log: list[dict[str, Any]] = field(default_factory=list)
    # Position inside an unfinished epoch, so a mid-epoch stop resumes the same batches.
    perm: torch.Tensor | None = None
    batch_in_epoch: int = 0
    epoch_seconds: float = 0.0
    last_g_loss: torch.Tensor | None = None
    # The gradient norms of the latest D and G updates (device scalars), for the history rows; G's is
    # checkpointed like last_g_loss, since a step without a G update repeats it.
    last_d_grad_norm: torch.Tensor | None = None
    last_g_grad_norm: torch.Tensor | None = None
    # What the run trains on (data.TrainingData.describe(): kind, split sizes, source line); plain data.
    data_source: dict[str, Any] = field(default_factory=dict)
    # Live hyperparameter edits, oldest first: {"step", "field", "old", "new"}; the config holds the values
    # in force now.
    edits: list[dict[str, Any]] = field(default_factory=list)
    # Per-layer gradient norms of the nets that moved in the last step, {"D"|"G": {layer: norm}}, filled
    # only while ``capture_grad_norms`` is set (step-by-step mode): each norm is a host read.
    capture_grad_norms: bool = False
    grad_norms: dict[str, dict[str, float]] = field(default_factory=dict)
    # The EMA generator (None when ``config.ema_decay`` is 0), its update count (for the warm-up), and
    # whether its BatchNorm statistics still await re-estimation for the latest averaged weights.
    ema: Generator | None = None
    ema_updates: int = 0
    ema_stale: bool = True
    # The passes the training step calls: the modules themselves, or their compiled forms (same weights).
    g_pass: Callable[[torch.Tensor], torch.Tensor] = field(init=False, repr=False)
    d_pass: Callable[[torch.Tensor], torch.Tensor] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.g_pass, self.d_pass = self.generator, self.discriminator
        labels = grid_labels(self.generator, len(self.preview_z))
        self.preview_labels = None if labels is None else labels.to(self.preview_z.device)
        if self.ema is None and self.config.ema_decay > 0:
            self.ema = ema_.averaged_copy(self.generator)
        if self.config.compile:
            self.g_pass, self.d_pass = compiled(self.generator), compiled(self.discriminator)

    @classmethod
    def fresh(cls, config: GANConfig) -> GANState:
        """Seed every RNG, then build models and optimizers: same seed, same run."""
        device = resolve_device(config.device)
        config = config.replace(precision=resolve_precision(config.precision, device)[0])  # stored, kept
        torch.manual_seed(config.seed)
        np.random.seed(config.seed % 2**32)
        random.seed(config.seed)
        generator, discriminator = build_models(config, device)
        preview = preview_noise(config.seed, config.z_dim).to(device)
        return cls(config, device, generator, discriminator,
                   adam(generator.parameters(), config.lr_g, config.beta1_g, config.beta2),
                   adam(discriminator.parameters(), config.lr_d, config.beta1_d, config.beta2),
                   preview)

    # --- the algorithm --------------------------------------------------------------------------

    def train_step(self, real: torch.Tensor, update_g: bool = True,
                   labels: torch.Tensor | None = None) -> torch.Tensor:
        """One GAN step on a real batch (with its ``labels`` for a conditional run, else None); returns its
        HISTORY row (d_loss, g_loss, d_real, d_fake, d_grad_norm, g_grad_norm) as a device tensor.

        (1) update D on real + detached fake, (2) update G (every ``d_steps``-th step) and fold it into
        the EMA generator. A conditional run asks G for uniformly random labels (``asked_labels``).
        Nothing here reads a value back to the host, so a GPU never waits on Python.
        """
        with self.autocast():
            d_loss, d_real, d_fake = self.d_step(real, labels)
            if update_g or self.last_g_loss is None:
                self.last_g_loss = self.g_step(real.shape[0])
        g_norm = self.last_g_grad_norm
        if g_norm is None:  # a run saved before norms were recorded, not yet through a G update
            g_norm = torch.full((), float("nan"), device=self.device)
        return torch.stack((d_loss, self.last_g_loss, d_real, d_fake, self.last_d_grad_norm, g_norm)).float()

    def g_only_step(self) -> torch.Tensor:
        """One G update on fresh noise and nothing else (step-by-step mode): no real batch, no history row."""
        with self.autocast():
            self.last_g_loss = self.g_step(self.config.batch_size)
        return self.last_g_loss

    def apply_edit(self, name: str, value: Any) -> dict[str, Any]:
        """Change one of EDITABLE from the next step on: the config (validated), and the optimizer it
        drives; returns the recorded edit. Raises ConfigError for a field or value that is not allowed."""
        if name not in EDITABLE:
            raise ConfigError(name, f"cannot change while training; editable: {', '.join(EDITABLE)}")
        old = getattr(self.config, name)
        self.config = self.config.replace(**{name: value})
        optimizer = self.opt_d if name.endswith("_d") else self.opt_g
        for group in optimizer.param_groups:
            if name.startswith("lr_"):
                group["lr"] = value
            elif name.startswith("beta1_"):
                group["betas"] = (value, group["betas"][1])
        edit = {"step": self.step, "field": name, "old": old, "new": value}
        self.edits.append(edit)
        return edit

    def autocast(self) -> torch.autocast:
        """bfloat16 autocast when ``config.precision`` is bf16: matmuls in bf16, losses and weights fp32."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.precision == "bf16")

    def asked_labels(self, n: int) -> torch.Tensor | None:
        """The labels a conditional run asks G for: uniform over the classes, drawn from the run's own RNG
        (checkpointed, so a resumed run draws the same); None, and no draw, for an unconditional run."""
        if not self.generator.classes:
            return None
        return torch.randint(self.generator.classes, (n,), device=self.device)

    def d_step(self, real: torch.Tensor, labels: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Minimise D's loss (for the default loss, -log D(x) - log(1 - D(G(z)))); returns (loss, mean D(x),
        mean D(G(z))), detached, D's outputs read as ``losses.d_output`` does for the run's loss."""
        G, D, n = self.g_pass, self.d_pass, real.shape[0]
        check_labels(self.generator.classes, labels, n, "run")  # a conditional run trains on labelled batches
        asked = self.asked_labels(n)
        with torch.no_grad():  # the fake is detached: this step trains D only
            fake = G(sample_z(n, self.config.z_dim, device=real.device), asked)
        # One pass over real and fake together: D has no BatchNorm, so this is the same maths as two
        # passes, with half the kernel launches. DiffAugment (when on) transforms both alike.
        both = None if asked is None else torch.cat((labels, asked))
        logits = D(augment(torch.cat((real, fake)), self.config.augment), both)
        half = logits.shape[0] // 2  # n, or n // pack packs when D packs samples (PacGAN)
        real_logits, fake_logits = logits[:half], logits[half:]
        loss = losses.discriminator_loss(self.config.loss, real_logits, fake_logits)
        total = loss  # what D minimises; the loss reported stays the game's, without the penalty
        if self.config.r1_gamma > 0 and self.step % R1_EVERY == 0:
            total = loss + self.config.r1_gamma / 2 * R1_EVERY * r1_penalty(self.discriminator, real, labels)
        self.opt_d.zero_grad(set_to_none=True)
        total.backward()
        self.last_d_grad_norm = grad_norm(self.discriminator)
        if self.capture_grad_norms:
            self.grad_norms["D"] = layer_grad_norms(self.discriminator)
        self.opt_d.step()
        with torch.no_grad():
            return (loss.detach().float(), losses.d_output(self.config.loss, real_logits),
                    losses.d_output(self.config.loss, fake_logits))

    def g_step(self, n: int) -> torch.Tensor:
        """Minimise G's loss (for the default loss, the non-saturating -log D(G(z))) on fresh noise, with D
        frozen, and fold the new G into the EMA generator; returns the loss."""
        G, D = self.g_pass, self.d_pass
        asked = self.asked_labels(n)
        self.discriminator.requires_grad_(False)  # no gradients for D's weights: only G's path is differentiated
        try:
            fake = G(sample_z(n, self.config.z_dim, device=self.device), asked)
            logits = D(augment(fake, self.config.augment), asked)
            loss = losses.generator_loss(self.config.loss, logits)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.last_g_grad_norm = grad_norm(self.generator)
            if self.capture_grad_norms:
                self.grad_norms["G"] = layer_grad_norms(self.generator)
            self.opt_g.step()
            self.g_updates += 1
            self.update_ema()
        finally:
            self.discriminator.requires_grad_(True)
        return loss.detach().float()

    def update_ema(self) -> None:
        """Fold G's new weights into the EMA generator (after each G update)."""
        if self.ema is not None:
            ema_.update(self.ema, self.generator, self.config.ema_decay, self.ema_updates)
            self.ema_updates += 1
            self.ema_stale = True

    def shown_generator(self) -> Generator:
        """The generator whose images a person sees: the EMA generator with BatchNorm statistics of its
        own (re-estimated here when its weights moved), or G itself when EMA is off. Eval mode."""
        if self.ema is None:
            return self.generator
        if self.ema_stale:
            ema_.recalibrate_batchnorm(self.ema)
            self.ema_stale = False
        return self.ema

    # --- history ----------------------------------------------------------------------------------

    def history_array(self) -> np.ndarray:
        """Per-step HISTORY as a read-only float32 (steps, 6) array."""
        return self.history.array()
