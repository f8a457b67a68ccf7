"""Checkpoint records of older versions, brought up to the current one step by step on load.

A record read from disk is a plain dict (its ``config`` still a plain dict, not yet a ``GANConfig``).
``migrate`` applies ``STEPS[v - 1]`` to a version-``v`` record, then the next step, until the record
is at ``VERSION``; so a checkpoint written by any earlier release keeps loading and continuing.

Adding a field to the record or the config, or renaming one, is one step:

1. Write ``def _v2_to_v3(record: dict) -> dict`` that turns a version-2 record into a version-3 one:
   give a new key the value that reproduces how the older code behaved (e.g. ``ema: None``), and
   rename config keys inside ``record["config"]`` (``GANConfig.from_dict`` defaults missing config
   keys but refuses unknown ones, so a renamed key always needs a step; a merely added config field
   with a default that matches the old behaviour needs none, yet a step that says so does no harm).
2. Append it to ``STEPS``; ``VERSION`` follows by itself.
3. Write the new layout in ``engine.GANState.to_record`` and read it in ``from_record`` (which may now
   rely on the new key being present).
4. Leave ``tests/fixtures/`` alone: its frozen writers produce the old layouts, and the tests load and
   continue them through this chain.

A step must not touch the stored tensors' values (weights, optimizer moments, RNG states), or the
continued run is no longer the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

Record = dict[str, Any]


class RecordVersionError(ValueError):
    """The record's version is unknown: newer than this code, or not a version at all."""


def _v1_to_v2(record: Record) -> Record:
    # Version 1 grew keys without a version bump. Records from before the quality judge carry no metrics
    # log; from before the data splits no data source (kind, split sizes, source line: unknown, not
    # guessed); from before step-by-step mode no G-update count (then one G update per d_steps D
    # updates) and no live edits.
    record.setdefault("metrics_log", [])
    record.setdefault("data_source", {})
    d_steps = int(record.get("config", {}).get("d_steps", 1))
    record.setdefault("g_updates", int(record["step"]) // d_steps)
    record.setdefault("edits", [])
    return record


def _v2_to_v3(record: Record) -> Record:
    # Version 3 keeps the EMA generator. An older run starts its average from G as it stands (no updates
    # yet, so the warm-up begins at once); its config gets the EMA decay's default when it names none.
    if "ema" not in record:
        generator = record["generator"]
        record["ema"] = {"generator": {key: value.clone() for key, value in generator.items()}, "updates": 0}
    return record


def _v3_to_v4(record: Record) -> Record:
    # Version 4 records the total gradient norm of D and of G in every history row (two more columns)
    # and G's latest one in the progress. Older steps get NaN there: not recorded, not guessed.
    history = record["history"]
    missing = torch.full((history.shape[0], 2), float("nan"), dtype=history.dtype)
    record["history"] = torch.cat((history, missing), dim=1)
    record["progress"].setdefault("last_g_grad_norm", None)
    return record


def _v4_to_v5(record: Record) -> Record:
    # Version 5 adds two recipe fields to the config: DiffAugment of D's inputs and the R1 penalty. Older
    # runs trained without either, so they continue with both off.
    config = record["config"]
    if isinstance(config, dict):
        config.setdefault("augment", "off")
        config.setdefault("r1_gamma", 0.0)
    return record


def _v5_to_v6(record: Record) -> Record:
    # Version 6 adds the architecture (mlp or dcgan) and the conditional switch to the config. Every older
    # run trained the seed's MLP pair without labels, weight for weight the "mlp", unconditional pair.
    config = record["config"]
    if isinstance(config, dict):
        config.setdefault("architecture", "mlp")
        config.setdefault("conditional", False)
    return record


# STEPS[i] turns a version i + 1 record into a version i + 2 record.
STEPS: tuple[Callable[[Record], Record], ...] = (
    _v1_to_v2,
    _v2_to_v3,
    _v3_to_v4,
    _v4_to_v5,
    _v5_to_v6,
)
VERSION = len(STEPS) + 1  # the version every writer writes


def migrate(record: Record) -> Record:
    """``record`` at ``VERSION``, migrated one version at a time; raises RecordVersionError when its
    version is not one this code knows (a newer release wrote it, or it is not an int)."""
    version = record.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordVersionError(f"checkpoint version {version!r} is not a version (1 to {VERSION})")
    if version > VERSION:
        raise RecordVersionError(f"checkpoint version {version} was written by a newer gan_core; this one "
                                 f"reads versions 1 to {VERSION}: update gan_core to open it")
    while version < VERSION:
        record = STEPS[version - 1](record)
        version += 1
        record["version"] = version
    return record
