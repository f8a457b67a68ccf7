"""The network pair a config asks for (``config.architecture``: the seed's MLPs or the DCGAN pair), its
initialisation and its size."""

from __future__ import annotations

import torch
from torch import nn

from ..config import GANConfig
from .dcgan import ConvDiscriminator, ConvGenerator
from .model import Discriminator, Generator, MLPDiscriminator, MLPGenerator
from .spectral import SNLinear

_PAIRS: dict[str, tuple[type[Generator], type[Discriminator]]] = {
    "mlp": (MLPGenerator, MLPDiscriminator), "dcgan": (ConvGenerator, ConvDiscriminator)}


def make_generator(config: GANConfig) -> Generator:
    """An uninitialised G of ``config``'s architecture (to load weights into; ``build_models`` inits)."""
    return _PAIRS[config.architecture][0](config)


def make_discriminator(config: GANConfig) -> Discriminator:
    return _PAIRS[config.architecture][1](config)


def init_weights(module: nn.Module, std: float) -> None:
    """Seed init: weights and biases of every linear and convolution layer truncated-normal(std) cut at 2
    std; BatchNorm scale 1, offset 0; D's label projection truncated-normal(std) too, G's label embedding
    standard normal (on the scale of z, so the label is heard from the first step)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, SNLinear, nn.Conv2d, nn.ConvTranspose2d)):
            # A spectrally normalised weight is computed from the stored ``original``: initialise that.
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std)
            nn.init.trunc_normal_(m.bias, std=std, a=-2 * std, b=2 * std)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            if isinstance(module, Generator):
                nn.init.normal_(m.weight)
            else:
                nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)


def build_models(config: GANConfig, device: torch.device | str = "cpu") -> tuple[Generator, Discriminator]:
    """Freshly initialised (G, D) on ``device``; draws from the global torch RNG, so seed first."""
    generator, discriminator = make_generator(config), make_discriminator(config)
    init_weights(generator, config.init_std)
    init_weights(discriminator, config.init_std)
    return generator.to(device), discriminator.to(device)


def parameter_counts(config: GANConfig) -> dict[str, int]:
    """{"generator": n, "discriminator": n}: trained parameters of the pair ``config`` builds (buffers such
    as BatchNorm statistics and spectral norm's vectors not counted). Built on the CPU with the RNG state
    restored afterwards, so a form may call it on every change (~0.1 s; the meta device, which allocates
    nothing, paid ~2 s of imports on its first use)."""
    with torch.random.fork_rng(devices=[]):
        generator, discriminator = make_generator(config), make_discriminator(config)
    return {"generator": sum(p.numel() for p in generator.parameters()),
            "discriminator": sum(p.numel() for p in discriminator.parameters())}
