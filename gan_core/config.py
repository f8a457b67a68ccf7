"""The one training configuration: the seed tutorial's hyperparameters, validated.

Every field carries its own metadata (type, allowed range or choices, label, help, group, whether it is a
run field). ``validate``, the CLI flags of ``train``, ``presets.RUN_FIELDS`` and the app's sidebar are all
generated from it, so adding a hyperparameter is one ``_field(...)`` line here (how a form draws it, its
increment, format and folding, is the UI's: ``ganlab.widgets.sidebar.HINTS``).

The config is stored in every checkpoint as a plain dict and rebuilds the model on load,
so every field must be a plain str/int/float/bool.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DATASETS = ("mnist", "fashion-mnist", "kmnist", "emnist-letters")  # torchvision's MNIST-shaped sets (gan_core.data)
# Or a folder (or .zip) of picture files of the user's own: ``folder:PATH`` (gan_core.data.folder).
FOLDER_PREFIX = "folder:"
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16")  # auto: see gan_core.precision.resolve_precision
# The loss menu (gan_core.losses): the tutorial's non-saturating loss, the original minimax game, least squares
# (LSGAN) and hinge.
LOSSES = ("non-saturating", "minimax", "lsgan", "hinge")
# What D sees (gan_core.augment): DiffAugment's translation and cutout, alone or together.
AUGMENTS = ("off", "translation", "cutout", "translation-cutout")
# The network pair (gan_core.gan.nets): the seed tutorial's MLPs, or a small DCGAN (strided convolutions).
ARCHITECTURES = ("mlp", "dcgan")
GROUPS = ("data", "model", "optimisation", "execution", "metrics")
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_KINDS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


class ConfigError(ValueError):
    """A config field holds a value outside its allowed range; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class FieldSpec:
    """What forms, flags and validation need to know about one config field."""

    name: str
    kind: type  # int, float, str or bool
    default: Any
    label: str  # short human name, e.g. for a form control
    help: str  # one line: what it does and what the seed uses
    group: str  # one of GROUPS
    low: float | None = None  # the range of an int or float field (both ends required); None otherwise
    high: float | None = None
    low_open: bool = False  # True: ``low`` itself is not allowed
    high_open: bool = False
    choices: tuple[str, ...] = ()  # allowed values of a str field
    open_prefix: str = ""  # a str field also allows this prefix followed by any text (``folder:PATH``)
    run_field: bool = False  # how or how long a run executes, not the recipe (presets ignore it)

    @property
    def flag(self) -> str:
        """The CLI option: ``batch_size`` -> ``--batch-size``."""
        return "--" + self.name.replace("_", "-")

    def range_text(self) -> str:
        """``[2, 4096]``, ``(0, 1]``, ``one of mnist, fashion-mnist``, ``... or folder:PATH`` or ``on/off``."""
        if self.choices:
            return f"one of {', '.join(self.choices)}" + (f" or {self.open_prefix}PATH" if self.open_prefix else "")
        if self.kind is bool:
            return "on/off"
        left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
        return f"{left}{self.low:g}, {self.high:g}{right}"

    def opens(self, value: Any) -> bool:
        """True when ``value`` is the open prefix followed by some text (``folder:digits``)."""
        return bool(self.open_prefix) and isinstance(value, str) and value.startswith(self.open_prefix) \
            and bool(value.removeprefix(self.open_prefix).strip())

    def check(self, value: Any) -> None:
        """Raise ConfigError naming this field when ``value`` has the wrong type or lies outside the range."""
        _check_type(self.name, value, self.kind)
        if self.choices and self.open_prefix and value.startswith(self.open_prefix) \
                and not value.removeprefix(self.open_prefix).strip():  # the prefix alone: a path still to come
            raise ConfigError(self.name, f"give a path after {self.open_prefix!r} (a folder or a .zip of pictures)")
        if self.choices and value not in self.choices and not self.opens(value):
            raise ConfigError(self.name, f"must be {self.range_text()}, got {value!r}")
        if self.kind in (int, float):
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(self.name, f"must be a finite number, got {value!r}")
            too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
            too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
            if too_low or too_high:
                raise ConfigError(self.name, f"must be in {self.range_text()}, got {value!r}")


def _field(default: Any, label: str, help: str, group: str, **spec: Any) -> Any:
    """A dataclass field whose metadata is the rest of its FieldSpec (name, kind and default come from it)."""
    return dataclasses.field(default=default, metadata={"label": label, "help": help, "group": group, **spec})


_UNIT = {"low": 0.0, "high": 1.0}  # most rates and probabilities live in [0, 1] with one end open


@dataclass(frozen=True)
class GANConfig:
    # --- data ---
    dataset: str = _field("mnist", "Dataset", "28x28 grey images whichever: MNIST, Fashion-MNIST, Kuzushiji-MNIST, "
                          "or folder:PATH, a folder or .zip of PNG/JPEG/BMP/GIF files (labels from sub-folder "
                          "names, if any)", "data", choices=DATASETS, open_prefix=FOLDER_PREFIX, run_field=True)
    # --- model (the seed's MLP, or a small DCGAN) ---
    architecture: str = _field("mlp", "Architecture", "the network pair: mlp = the seed tutorial's fully connected "
                               "G and D; dcgan = transposed convolutions in G, strided convolutions in D "
                               "(Radford et al. 2016), sized for 28x28", "model", choices=ARCHITECTURES)
    conditional: bool = _field(False, "Conditional (ask for a class)", "G draws the class it is given (an "
                               "embedding of the label joined to z) and D judges an image with its label "
                               "(projection, Miyato & Koyama 2018); needs labelled data; off = the seed",
                               "model")
    z_dim: int = _field(100, "Latent size z_dim", "length of the noise vector z ~ Uniform[-1, 1]^z_dim",
                        "model", low=1, high=4096)
    leaky_slope: float = _field(0.2, "LeakyReLU slope", "negative slope of every hidden activation", "model",
                                **_UNIT, high_open=True)
    dropout_keep: float = _field(0.5, "G dropout keep", "keep-probability of G's dropout before its output "
                                 "layer, while training (mlp only: the dcgan G has none)", "model",
                                 **_UNIT, low_open=True)
    init_std: float = _field(0.02, "Init std", "std of the truncated-normal init of weights and biases", "model",
                             **_UNIT, low_open=True)
    pack: int = _field(1, "PacGAN pack", "images D judges at once (PacGAN); 1 = the seed; must divide the "
                       "batch size", "model", low=1, high=16)
    spectral_norm: bool = _field(False, "Spectral normalisation of D", "normalise D's weights by their largest "
                                 "singular value; off = the seed", "model")
    augment: str = _field("off", "DiffAugment of D's inputs", "augment every image D judges, real and fake, "
                          "with differentiable shifts (up to 3 px) and/or a 14x14 cutout (Zhao et al. 2020); "
                          "off = the seed", "model", choices=AUGMENTS)
    # --- optimisation ---
    batch_size: int = _field(100, "Batch size", "real images per D step, fakes per G step (BatchNorm needs 2)",
                             "optimisation", low=2, high=4096)
    lr_d: float = _field(2e-4, "D learning rate", "Adam step size of the discriminator", "optimisation",
                         **_UNIT, low_open=True)
    lr_g: float = _field(2e-4, "G learning rate", "Adam step size of the generator", "optimisation",
                         **_UNIT, low_open=True)
    beta1_d: float = _field(0.1, "D Adam β1", "the seed's unusually low D momentum is 0.1", "optimisation",
                            **_UNIT, high_open=True)
    beta1_g: float = _field(0.5, "G Adam β1", "DCGAN-style 0.5", "optimisation",
                            **_UNIT, high_open=True)
    beta2: float = _field(0.999, "Adam β2 (both)", "second-moment decay of both optimizers", "optimisation",
                          **_UNIT, high_open=True)
    d_steps: int = _field(1, "D steps per G step", "discriminator updates (each on a fresh real batch) per "
                          "generator update", "optimisation", low=1, high=100)
    r1_gamma: float = _field(0.0, "R1 penalty γ", "zero-centred gradient penalty on real digits, "
                             "γ/2 · E|∇x D(x)|² (Mescheder et al. 2018), applied every 4th D step and scaled by 4; "
                             "0 = off (the seed)", "optimisation", low=0.0, high=1000.0)
    loss: str = _field("non-saturating", "Loss", "what D and G minimise: non-saturating (the tutorial's), the "
                       "original minimax (G's gradient vanishes when D wins), least squares (LSGAN) or hinge",
                       "optimisation", choices=LOSSES)
    ema_decay: float = _field(0.999, "EMA decay", "decay of the moving average of G's weights that every shown "
                              "image comes from; 0 = off (images from G itself); it never changes the training",
                              "model", **_UNIT, high_open=True, run_field=True)
    epochs: int = _field(60, "Epochs", "total passes over the training set (on resume: the new total)",
                         "optimisation", low=1, high=100_000, run_field=True)
    seed: int = _field(0, "Seed", "seeds torch, numpy and random: same seed, same run (on CPU)", "optimisation",
                       low=0, high=2**63 - 1, run_field=True)
    # --- execution ---
    device: str = _field("auto", "Device", "auto = CUDA when available, else CPU", "execution",
                         choices=DEVICES, run_field=True)
    # A run stores the precision it chose (auto resolved at its start) and keeps it when continued.
    precision: str = _field("auto", "Precision", "fp32 = exact; bf16 = bfloat16 autocast of the matmuls (weights "
                            "stay fp32); auto = bf16 only where the hardware computes it natively and its "
                            "quality was checked there, else fp32 (docs/performance.md)", "execution",
                            choices=PRECISIONS, run_field=True)
    # Off by default: it costs a compile at start and was slower on a 2-core CPU.
    compile: bool = _field(False, "torch.compile (CUDA graphs on a GPU)", "compile the training passes; pays off "
                           "on a GPU, where each pass replays as one CUDA graph; off = eager", "execution",
                           run_field=True)
    # Autosave: a checkpoint serialises ~40 MB, which costs a short epoch (4,000 offline digits) a sixth of
    # its speed when written every epoch (docs/performance.md).
    checkpoint_seconds: float = _field(5.0, "Checkpoint at most every (s)", "an epoch's end writes the "
                                       "checkpoint once this many seconds passed since the last (a crash loses "
                                       "at most that much training); the first epoch, pause, stop and the last "
                                       "epoch always write one; 0 = every epoch", "execution", low=0.0,
                                       high=3600.0, run_field=True)
    log_every: int = _field(10, "Log every (steps)", "steps between host reads of the losses (each read syncs "
                            "a GPU)", "execution", low=1, high=10_000, run_field=True)
    # --- quality metrics (judge network; they never change the training itself) ---
    eval_every: int = _field(1, "Evaluate every (epochs)", "epochs between quality metrics by the judge network "
                             "(FID, IS, class histogram); 0 = off", "metrics", low=0, high=100_000,
                             run_field=True)
    eval_samples: int = _field(2000, "Eval samples", "generated images per evaluation, from one fixed noise set",
                               "metrics", low=2, high=100_000, run_field=True)

    def __post_init__(self) -> None:
        validate(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> GANConfig:
        """Build from a stored or user-given mapping; unknown keys are an error, missing ones default."""
        values = dict(values)
        if "bf16" in values and "precision" not in values:  # configs stored before the precision field
            values["precision"] = "bf16" if values.pop("bf16") else "fp32"
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(unknown[0], f"unknown config field (known: {', '.join(sorted(known))})")
        return cls(**dict(values))

    def replace(self, **changes: Any) -> GANConfig:
        return dataclasses.replace(self, **changes)


def fields() -> tuple[FieldSpec, ...]:
    """Every GANConfig field's spec, in declaration order: what forms and flags are built from."""
    return _SPECS


def field_spec(name: str) -> FieldSpec:
    return _BY_NAME[name]


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


def validate(config: GANConfig) -> None:
    """Raise ConfigError naming the first bad field and its allowed range."""
    for spec in _SPECS:
        spec.check(getattr(config, spec.name))
    # Rules that join two fields stay explicit.
    if config.batch_size % config.pack:
        raise ConfigError("pack", f"must divide batch_size {config.batch_size}, got {config.pack}")
    if config.conditional and config.pack > 1:
        raise ConfigError("pack", "must be 1 for a conditional run: D judges each image with its own label, "
                          f"not a pack of {config.pack}")


def validate_run_name(name: str) -> str:
    """Run names become folder names: letters, digits, '_', '.', '-', no path tricks."""
    if not isinstance(name, str) or not RUN_NAME_PATTERN.match(name) or name in (".", ".."):
        raise ConfigError(
            "run", f"must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit, got {name!r}"
        )
    return name


def _spec_of(field: dataclasses.Field) -> FieldSpec:
    spec = FieldSpec(name=field.name, kind=_KINDS[str(field.type)], default=field.default, **field.metadata)
    if spec.group not in GROUPS:
        raise TypeError(f"GANConfig.{spec.name}: group must be one of {GROUPS}, got {spec.group!r}")
    if spec.kind in (int, float) and (spec.low is None or spec.high is None):
        raise TypeError(f"GANConfig.{spec.name}: a number field needs low and high")
    if spec.kind is str and not spec.choices:
        raise TypeError(f"GANConfig.{spec.name}: a str field needs choices")
    spec.check(spec.default)
    return spec


_SPECS: tuple[FieldSpec, ...] = tuple(_spec_of(f) for f in dataclasses.fields(GANConfig))
_BY_NAME: dict[str, FieldSpec] = {spec.name: spec for spec in _SPECS}
