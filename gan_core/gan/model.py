"""What every generator and discriminator shares (labels in, flat images out, one logit per image), and
the seed tutorial's MLP pair; the DCGAN pair is ``dcgan``, and ``nets`` builds either from a config.

Differences from the seed, on purpose: D returns logits (the seed applied a sigmoid and then a
with-logits loss, a double sigmoid that caps the losses) and BatchNorm keeps running statistics
so that G in eval mode draws deterministic, batch-independent samples.

A conditional pair (``config.conditional``) knows ``CLASSES`` labels. G joins an embedding of the label
to z (Mirza & Osindero 2014); D adds to its logit the inner product of an embedding of the label with its
last features, the projection discriminator (Miyato & Koyama 2018). Giving labels to an unconditional
net, or none to a conditional one, is a ``LabelError``: a silent default label would hide the mistake.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GANConfig
from ..images import IMAGE_PIXELS, IMAGE_SIDE  # noqa: F401  (IMAGE_SIDE: re-exported for the networks' users)
from .modes import evaluating
from .spectral import SNLinear

G_HIDDEN = (256, 512, 1024)
D_HIDDEN = (1024, 512, 256)


class Dropout(nn.Module):
    """Inverted dropout, as ``nn.Dropout(1 - keep)``: in training each unit is kept with probability ``keep``
    and scaled by 1 / keep; in eval mode the identity. The mask is one uniform draw per unit compared with
    ``keep``: torch's CPU dropout draws it through ``bernoulli_``, which took about 2.5x as long forward and
    backward at G's shape (bench/profile_step.py, docs/performance.md)."""

    def __init__(self, keep: float) -> None:
        super().__init__()
        self.keep = keep

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.keep >= 1.0:
            return x
        kept = torch.rand(x.shape, device=x.device) < self.keep  # fp32 draws whatever x's dtype (bf16 rounds)
        return x * (kept * (1.0 / self.keep)).to(x.dtype)

    def extra_repr(self) -> str:
        return f"keep={self.keep}"


CLASSES = 10  # labels a conditional net knows: MNIST's digits, Fashion-MNIST's garments, KMNIST's characters
LABEL_EMBED = 10  # width of G's label embedding, joined to z


class LabelError(ValueError):
    """Labels given to an unconditional net, none to a conditional one, or a label outside 0..CLASSES-1."""


def check_labels(classes: int, labels: torch.Tensor | None, n: int, who: str = "generator") -> None:
    """Raise LabelError unless ``labels`` fit a net with ``classes`` labels (0: unconditional) and ``n``
    inputs. The range is the caller's (``generate`` checks it; the training step trusts its data)."""
    if classes and labels is None:
        raise LabelError(f"this {who} is conditional: give one label (0 to {classes - 1}) per image")
    if not classes and labels is not None:
        raise LabelError(f"this {who} is unconditional: it takes no labels")
    if labels is not None and not torch.jit.is_tracing() and tuple(labels.shape) != (n,):
        raise LabelError(f"need one label per image: {n} images, labels of shape {tuple(labels.shape)}")


class Generator(nn.Module):
    """What every generator does: z (n, z_dim) and, when conditional, labels (n,) -> flat images (n, 784)
    in [0, 1]. A subclass builds ``net`` (its input: z joined to the label embedding) and names in
    ``LAYERS`` where in ``net`` the latent tools read each layer's activations."""

    LAYERS: dict[str, int] = {}
    net: nn.Sequential

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        self.z_dim = config.z_dim
        self.classes = CLASSES if config.conditional else 0
        self.label_embed = nn.Embedding(CLASSES, LABEL_EMBED) if config.conditional else None
        self.in_features = config.z_dim + (LABEL_EMBED if config.conditional else 0)

    def inputs(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """What ``net`` reads: z, joined by the label's embedding for a conditional G."""
        check_labels(self.classes, labels, z.shape[0])
        if labels is None or self.label_embed is None:
            return z
        return torch.cat((z, self.label_embed(labels).to(z.dtype)), 1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Flat images in [0, 1], shape (batch, 784)."""
        return self.net(self.inputs(z, labels))

    def activation(self, z: torch.Tensor, layer: str, labels: torch.Tensor | None = None) -> torch.Tensor:
        """(n, width) activations of ``layer`` (a key of LAYERS), flattened."""
        return self.net[:self.LAYERS[layer] + 1](self.inputs(z, labels)).flatten(1)


class Discriminator(nn.Module):
    """What every discriminator does: images (n, 784) and, when conditional, labels (n,) -> logits
    (n // pack,). A subclass builds ``net``, whose last module is the head (features -> one logit), and
    ``shaped``, the view of a batch its first layer reads. A conditional D adds <embed(y), features>."""

    net: nn.Sequential

    def __init__(self, config: GANConfig, features: int) -> None:
        super().__init__()
        self.pack = config.pack
        self.classes = CLASSES if config.conditional else 0
        self.projection = nn.Embedding(CLASSES, features) if config.conditional else None

    def shaped(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Logits, shape (batch // pack,); sigmoid(logit) is the probability that an image (pack) is real.
        The batch must be a multiple of ``pack``; pack i holds images i*pack .. i*pack + pack - 1."""
        check_labels(self.classes, labels, images.shape[0] // self.pack, "discriminator")
        features = self.net[:-1](self.shaped(images))
        logits = self.net[-1](features).squeeze(1)
        if labels is None or self.projection is None:
            return logits
        return logits + (self.projection(labels) * features).sum(1)


class MLPGenerator(Generator):
    """z (z_dim) -> 256 -> 512 -> 1024 -> 784, each hidden layer Linear, LeakyReLU, BatchNorm."""

    # After each block's BatchNorm (Linear, LeakyReLU, BatchNorm per hidden block; dropout, Linear, Sigmoid at
    # the end), and the image itself.
    LAYERS = {"h1": 2, "h2": 5, "h3": 8, "image": 11}

    def __init__(self, config: GANConfig) -> None:
        super().__init__(config)
        layers: list[nn.Module] = []
        width = self.in_features
        for hidden in G_HIDDEN:
            # The seed's order: activation first, then BatchNorm.
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(config.leaky_slope), nn.BatchNorm1d(hidden)]
            width = hidden
        layers += [Dropout(config.dropout_keep), nn.Linear(width, IMAGE_PIXELS), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)


class MLPDiscriminator(Discriminator):
    """784 -> 1024 -> 512 -> 256 -> 1, LeakyReLU, no BatchNorm; returns the logit of "real".

    With ``config.pack`` > 1 (PacGAN) D sees ``pack`` consecutive images concatenated into one input
    (784 * pack wide) and returns one logit per pack: a generator that repeats itself is easier to spot
    in a pack than in a single image. pack = 1 is the seed's D, weight for weight.
    """

    def __init__(self, config: GANConfig) -> None:
        super().__init__(config, D_HIDDEN[-1])
        layers: list[nn.Module] = []
        width = IMAGE_PIXELS * config.pack
        for hidden in D_HIDDEN:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(config.leaky_slope)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        if config.spectral_norm:
            # Each weight is divided by its largest singular value (one power iteration per training
            # forward), which bounds how sharply D can react and keeps it from overpowering G.
            layers = [SNLinear(m) if isinstance(m, nn.Linear) else m for m in layers]
        self.net = nn.Sequential(*layers)

    def shaped(self, images: torch.Tensor) -> torch.Tensor:
        return images.reshape(images.shape[0] // self.pack, IMAGE_PIXELS * self.pack)


GENERATE_CHUNK = 1000  # latents per forward pass: bounds memory for large batches


def generate(generator: nn.Module, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Images (n, 28, 28) in [0, 1], float32 on the CPU, from ``generator`` in eval mode (running BatchNorm
    statistics, no dropout: an image never depends on its batch-mates). The one way every view, metric
    and command turns latents (and, for a conditional G, one label each) into images; restores the
    generator's mode afterwards. Raises LabelError when the labels do not fit the generator."""
    classes = getattr(generator, "classes", 0)
    check_labels(classes, labels, len(z))
    if labels is not None and len(labels) and not (int(labels.min()) >= 0 and int(labels.max()) < classes):
        raise LabelError(f"labels must be 0 to {classes - 1}, got {int(labels.min())} to {int(labels.max())}")
    device = next(generator.parameters()).device
    with evaluating(generator), torch.no_grad():
        out = [generator(z[s:s + GENERATE_CHUNK].to(device, torch.float32),
                         *(() if labels is None else (labels[s:s + GENERATE_CHUNK].to(device),))).float().cpu()
               for s in range(0, len(z), GENERATE_CHUNK)]
    images = torch.cat(out) if out else torch.zeros(0, IMAGE_PIXELS)
    return images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def grid_labels(generator: nn.Module, n: int = 100, columns: int = 10) -> torch.Tensor | None:
    """The labels of an n-image grid of ``columns`` columns from a conditional G: row r asks for label
    r % CLASSES (a 10x10 grid shows one class per row); None for an unconditional G."""
    return rows_of_classes(getattr(generator, "classes", 0), n, columns)


def rows_of_classes(classes: int, n: int = 100, columns: int = 10) -> torch.Tensor | None:
    """``grid_labels`` for a G of ``classes`` labels (0: unconditional, None), known without the G itself."""
    if not classes:
        return None
    return (torch.arange(n) // columns) % classes


def balanced_labels(generator: nn.Module, n: int) -> torch.Tensor | None:
    """Labels 0, 1, ..., 9, 0, 1, ... (n of them) for a conditional G, so every class is asked for equally
    (evaluations, D's verdicts); None for an unconditional G."""
    return classes_in_turn(getattr(generator, "classes", 0), n)


def classes_in_turn(classes: int, n: int) -> torch.Tensor | None:
    """``balanced_labels`` for a G of ``classes`` labels (0: unconditional, None), known without the G itself."""
    if not classes:
        return None
    return torch.arange(n) % classes


class WithLabel(nn.Module):
    """A conditional G with its label fixed: to the latent tools (directions, steering, inversion, starts),
    which move z only, an unconditional generator of that one class. Shares the G's weights."""

    def __init__(self, generator: Generator, label: int) -> None:
        super().__init__()
        if not generator.classes:
            raise LabelError("this generator is unconditional: it takes no label")
        if not 0 <= int(label) < generator.classes:
            raise LabelError(f"label must be 0 to {generator.classes - 1}, got {label}")
        self.generator, self.label = generator, int(label)
        self.z_dim, self.classes, self.LAYERS = generator.z_dim, 0, generator.LAYERS

    def _labels(self, z: torch.Tensor) -> torch.Tensor:
        return torch.full((len(z),), self.label, dtype=torch.long, device=z.device)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(0, labels, len(z))
        return self.generator(z, self._labels(z))

    def activation(self, z: torch.Tensor, layer: str, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(0, labels, len(z))
        return self.generator.activation(z, layer, self._labels(z))


def with_label(generator: nn.Module, label: int | None) -> nn.Module:
    """What the latent tools should move: ``generator`` itself when unconditional (``label`` None), else
    ``WithLabel(generator, label)``; a label for an unconditional G, or none for a conditional one, is a
    LabelError."""
    if label is None:
        check_labels(getattr(generator, "classes", 0), None, 0)
        return generator
    return WithLabel(generator, label)


def seeded_z(seed: int, z_dim: int, n: int = 1) -> torch.Tensor:
    """``n`` latents drawn from the prior with a private generator seeded by ``seed``; shape (n, z_dim).
    The global RNG is untouched, so sampling never disturbs a run's bit-exact resume."""
    return sample_z(n, z_dim, generator=torch.Generator().manual_seed(int(seed)))


def sample_z(n: int, z_dim: int, *, device: torch.device | str = "cpu",
             generator: torch.Generator | None = None) -> torch.Tensor:
    """n latent vectors from the seed's prior, Uniform[-1, 1]^z_dim."""
    return torch.rand(n, z_dim, device=device, generator=generator) * 2.0 - 1.0
