"""Named training recipes: GANConfig field overrides.

``GANConfig()`` itself keeps the seed tutorial's values, so ``seed`` overrides nothing; ``clean`` is the
app's and the CLI's default (docs/quality.md has the recipe search behind it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .config import ConfigError, GANConfig, fields

PRESETS: dict[str, dict[str, Any]] = {
    # The seed tutorial's recipe, exactly. Collapses towards a few digits on the 5,000 offline digits.
    "seed": {},
    # The seed plus spectral normalisation of D's weights; every other setting is the seed's. Measured on
    # the 5,000 offline digits at 5,000 steps over 3 seeds: FID 45 vs 161 (seed) and 95 (PacGAN, pack 2).
    "stable": {"spectral_norm": True},
    # stable plus least squares, Adam at 8x the seed's step size with a shorter second-moment memory: the
    # seed's networks, optimisers and batch, trained to readable digits in a quarter of the epochs. Measured
    # (docs/quality.md, 3 seeds, 100 epochs on the 4,000 offline digits): see the table there.
    "clean": {"spectral_norm": True, "loss": "lsgan", "lr_d": 1.6e-3, "lr_g": 1.6e-3, "beta2": 0.99},
}
DEFAULT_PRESET = "clean"
# Fields that describe how a run is executed or how long, not the recipe: ignored by ``preset_of`` and
# kept when the app's preset box applies a recipe. Each field's metadata says whether it is one.
RUN_FIELDS = tuple(spec.name for spec in fields() if spec.run_field)


def preset_config(name: str = DEFAULT_PRESET, **changes: Any) -> GANConfig:
    """``GANConfig`` with the preset's overrides, then ``changes`` on top (epochs, seed, ...)."""
    if name not in PRESETS:
        raise ConfigError("preset", f"must be one of {', '.join(PRESETS)}, got {name!r}")
    return GANConfig(**{**PRESETS[name], **changes})


def preset_of(config: GANConfig | Mapping[str, Any]) -> str | None:
    """The preset whose recipe ``config`` follows (run fields such as epochs or seed aside), else None."""
    values = config.to_dict() if isinstance(config, GANConfig) else dict(config)
    for name in PRESETS:
        reference = preset_config(name).to_dict()
        if all(values.get(k, v) == v for k, v in reference.items() if k not in RUN_FIELDS):
            return name
    return None
