"""The one training configuration: the seed tutorial's hyperparameters, validated.

The config is stored in every checkpoint as a plain dict and rebuilds the model on load,
so every field must be a plain str/int/float/bool.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

DATASETS = ("mnist", "fashion-mnist")
DEVICES = ("auto", "cpu", "cuda")
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ConfigError(ValueError):
    """A config field holds a value outside its allowed range; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class GANConfig:
    # --- data ---
    dataset: str = "mnist"  # "mnist" or "fashion-mnist" (28x28 grey images either way)
    # --- model (the seed's MLP) ---
    z_dim: int = 100  # latent size; z ~ Uniform[-1, 1]^z_dim as in the seed
    leaky_slope: float = 0.2  # LeakyReLU negative slope on every hidden layer
    dropout_keep: float = 0.5  # keep-probability of G's dropout before its output layer (training only)
    init_std: float = 0.02  # std of the truncated-normal init of weights and biases
    # --- optimisation ---
    batch_size: int = 100  # images per D step and fakes per G step
    lr_d: float = 2e-4  # Adam learning rate of the discriminator
    lr_g: float = 2e-4  # Adam learning rate of the generator
    beta1_d: float = 0.1  # the seed's unusual, low D momentum
    beta1_g: float = 0.5  # the DCGAN-style G momentum
    beta2: float = 0.999  # Adam second-moment decay for both nets
    d_steps: int = 1  # D updates (each on a fresh real batch) per G update
    pack: int = 1  # samples per D input (PacGAN: D judges `pack` images at once); 1 = the seed
    spectral_norm: bool = False  # spectral normalisation of D's weights; False = the seed
    epochs: int = 30  # passes over the training set
    seed: int = 0  # seeds torch, numpy and random: same seed, same run on CPU
    # --- execution ---
    device: str = "auto"  # "auto" = CUDA when available, else CPU
    bf16: bool = False  # bfloat16 autocast of the forward passes (CPU and CUDA); False = exact fp32
    # torch.compile the training passes; on CUDA with mode "reduce-overhead", which replays each pass
    # as a CUDA graph. Off by default: it costs a compile at start and was slower on a 2-core CPU.
    compile: bool = False
    log_every: int = 10  # steps between host reads of the losses (each read syncs a GPU)
    # --- quality metrics (judge network; they never change the training itself) ---
    eval_every: int = 1  # epochs between FID/IS/class-histogram evaluations; 0 = off
    eval_samples: int = 2000  # generated samples per evaluation, from one fixed noise set

    def __post_init__(self) -> None:
        validate(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "GANConfig":
        """Build from a stored or user-given mapping; unknown keys are an error, missing ones default."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(unknown[0], f"unknown config field (known: {', '.join(sorted(known))})")
        return cls(**dict(values))

    def replace(self, **changes: Any) -> "GANConfig":
        return dataclasses.replace(self, **changes)


def _check_type(name: str, value: Any, kind: type) -> None:
    # bool is a subclass of int; a True batch size is a bug, not a 1.
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ConfigError(name, f"must be {kind.__name__}, got {type(value).__name__} {value!r}")


def _check_range(name: str, value: float, low: float, high: float, *, low_open: bool = False,
                 high_open: bool = False) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(name, f"must be a finite number, got {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        raise ConfigError(name, f"must be in {left}{low:g}, {high:g}{right}, got {value!r}")


def validate(config: GANConfig) -> None:
    """Raise ConfigError naming the first bad field and its allowed range."""
    kinds = {f.name: f.type for f in dataclasses.fields(config)}
    for name, kind_name in kinds.items():
        _check_type(name, getattr(config, name), {"str": str, "int": int, "float": float, "bool": bool}[kind_name])
    c = config
    if c.dataset not in DATASETS:
        raise ConfigError("dataset", f"must be one of {', '.join(DATASETS)}, got {c.dataset!r}")
    if c.device not in DEVICES:
        raise ConfigError("device", f"must be one of {', '.join(DEVICES)}, got {c.device!r}")
    _check_range("z_dim", c.z_dim, 1, 4096)
    _check_range("leaky_slope", c.leaky_slope, 0.0, 1.0, high_open=True)
    _check_range("dropout_keep", c.dropout_keep, 0.0, 1.0, low_open=True)
    _check_range("init_std", c.init_std, 0.0, 1.0, low_open=True)
    _check_range("batch_size", c.batch_size, 2, 4096)  # BatchNorm needs two samples
    _check_range("lr_d", c.lr_d, 0.0, 1.0, low_open=True)
    _check_range("lr_g", c.lr_g, 0.0, 1.0, low_open=True)
    _check_range("beta1_d", c.beta1_d, 0.0, 1.0, high_open=True)
    _check_range("beta1_g", c.beta1_g, 0.0, 1.0, high_open=True)
    _check_range("beta2", c.beta2, 0.0, 1.0, high_open=True)
    _check_range("d_steps", c.d_steps, 1, 100)
    _check_range("pack", c.pack, 1, 16)
    if c.batch_size % c.pack:
        raise ConfigError("pack", f"must divide batch_size {c.batch_size}, got {c.pack}")
    _check_range("epochs", c.epochs, 1, 100_000)
    _check_range("seed", c.seed, 0, 2**63 - 1)
    _check_range("log_every", c.log_every, 1, 10_000)
    _check_range("eval_every", c.eval_every, 0, 100_000)
    _check_range("eval_samples", c.eval_samples, 2, 100_000)


def validate_run_name(name: str) -> str:
    """Run names become folder names: letters, digits, '_', '.', '-', no path tricks."""
    if not isinstance(name, str) or not RUN_NAME_PATTERN.match(name) or name in (".", ".."):
        raise ConfigError(
            "run", f"must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit, got {name!r}"
        )
    return name

