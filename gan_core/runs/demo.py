"""The demo run shipped in the repository: a trained run to explore before training one.

Two files in ``demo/``:

    demo.safetensors   the EMA generator and D, float16 (safetensors: tensors only, no code to run)
    demo.json          config, epoch, step, the command that trained it, its curves and metrics, and the
                       sha256 of demo.safetensors

It is a read-only run: there is no optimizer state, so it cannot be continued (``CONTINUE_REFUSED``).
``open_demo`` checks everything a checkpoint load checks, and more: the weights file's hash must be the
one in demo.json (a swapped or damaged file is refused), its header must name this format and the same
config, and every tensor must fit the config's networks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import atomic_write_bytes
from ..config import ConfigError, GANConfig
from ..gan.model import Discriminator, Generator
from ..gan.nets import make_discriminator, make_generator
from .checkpoint import CheckpointError, load_checkpoint, load_state
from .reader import SavedRun
from .snapshot import Status

DEMO_FORMAT = "gan_core.demo"
DEMO_VERSION = 1
WEIGHTS, MANIFEST = "demo.safetensors", "demo.json"
CONTINUE_REFUSED = ("the demo run is read-only: it ships without optimizer state, so it cannot be continued; "
                    "train a new run instead")


class DemoError(CheckpointError):
    """The demo files are missing, damaged, swapped or inconsistent; the message names the file."""


def is_demo(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds a demo run (which must never be trained on)."""
    return (Path(folder) / MANIFEST).is_file() or (Path(folder) / WEIGHTS).is_file()


def export_demo(checkpoint: str | os.PathLike[str], folder: str | os.PathLike[str], *, command: str,
                evaluation: dict[str, Any] | None = None, lab_seed: int = 0) -> Path:
    """Write the demo files of a run's checkpoint into ``folder``: its EMA generator (the trained G when it
    keeps none) and D in float16, and the manifest with ``command`` (how it was trained), ``evaluation``
    (e.g. the metrics of ``python -m gan_core evaluate``) and ``lab_seed``, the latent lab's first base
    seed (``latent.starts.readable_latents`` with the judge: a digit both classifiers read). Returns the
    weights file."""
    from safetensors.torch import save

    record = load_checkpoint(checkpoint)
    config: GANConfig = record["config"]
    averaged = record.get("ema")
    generator = averaged["generator"] if averaged is not None else record["generator"]
    tensors = {f"generator.{k}": v for k, v in generator.items()}
    tensors.update({f"discriminator.{k}": v for k, v in record["discriminator"].items()})
    # Half precision halves the file; integer buffers (BatchNorm's batch counter) keep their type.
    tensors = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in tensors.items()}
    config_json = json.dumps(config.to_dict(), sort_keys=True)
    blob = save(tensors, metadata={"format": DEMO_FORMAT, "version": str(DEMO_VERSION), "config": config_json})
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / WEIGHTS, blob)
    manifest = {
        "format": DEMO_FORMAT, "version": DEMO_VERSION, "sha256": hashlib.sha256(blob).hexdigest(),
        "config": config.to_dict(), "epoch": int(record["epoch"]), "step": int(record["step"]),
        "generator": "ema" if averaged is not None else "raw", "precision": "float16", "command": command,
        "evaluation": evaluation, "epoch_log": list(record["epoch_log"]), "metrics_log": list(record["metrics_log"]),
        "history": _json_rows(record["history"].float().numpy()),
        "preview_z": record["preview_z"].float().numpy().tolist(), "lab_seed": int(lab_seed),
    }
    atomic_write_bytes(folder / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    return folder / WEIGHTS


class DemoRun(SavedRun):
    """The demo as a read-only run: a ``SavedRun`` of the record its manifest holds, with no trained G
    (``sample(z, "raw")`` is None), plus the manifest, D and the latent lab's first seed."""

    read_only = True

    def __init__(self, name: str, manifest: dict[str, Any], generator: Generator,
                 discriminator: Discriminator) -> None:
        self.manifest = manifest
        self.discriminator = discriminator  # the generator: SavedRun's
        self.preview_z = torch.tensor(manifest["preview_z"], dtype=torch.float32)
        self.lab_seed = int(manifest.get("lab_seed", 0))  # the latent lab's first base seed (0 before it was kept)
        record = {"config": GANConfig.from_dict(manifest["config"]), "history": manifest["history"],
                  "epoch_log": manifest["epoch_log"], "metrics_log": manifest["metrics_log"],
                  "edits": manifest.get("edits", ()), "epoch": int(manifest["epoch"]), "step": int(manifest["step"]),
                  "discriminator": discriminator.state_dict(), "preview_z": self.preview_z}
        super().__init__(name, record, generator, raw=None)
        # Its epochs are all it will ever have: finished, whatever total its config once asked for.
        self._snapshot = dataclasses.replace(self._snapshot, status=Status.FINISHED, epochs_total=self._snapshot.epoch,
                                             data_source="demo run (read-only)")

    def last_fid(self) -> dict[str, Any] | None:
        """The final evaluation the demo ships with (``python -m gan_core evaluate`` at its export), else the
        last one measured while it trained."""
        evaluation = self.manifest.get("evaluation") or {}
        if evaluation.get("fid") is None:
            return super().last_fid()
        return {"value": evaluation["fid"], "floor": evaluation.get("fid_floor"), "n": evaluation.get("fid_n"),
                "epoch": self._snapshot.epoch, "when": "python -m gan_core evaluate"}


def _header_config(metadata: dict[str, str]) -> GANConfig | None:
    """The config the weights' header names, read as the manifest's is (fields added since the export take
    their defaults on both sides); None when it is missing or invalid."""
    try:
        return GANConfig.from_dict(json.loads(metadata.get("config", "")))
    except (ConfigError, TypeError, ValueError):
        return None


def open_demo(folder: str | os.PathLike[str], name: str = "demo") -> DemoRun:
    """The demo run in ``folder``; raises DemoError naming the file for anything missing, damaged or swapped."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    folder = Path(folder)
    manifest_path, weights_path = folder / MANIFEST, folder / WEIGHTS
    for path in (manifest_path, weights_path):
        if not path.is_file():
            raise DemoError(f"{path}: no demo file")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DemoError(f"{manifest_path}: damaged demo manifest ({type(exc).__name__})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != DEMO_FORMAT:
        raise DemoError(f"{manifest_path}: not a gan_core demo manifest")
    if manifest.get("version") != DEMO_VERSION:
        raise DemoError(f"{manifest_path}: demo version {manifest.get('version')!r}, expected {DEMO_VERSION}")
    blob = weights_path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != manifest.get("sha256"):
        raise DemoError(f"{weights_path}: its sha256 is not the one in {MANIFEST}: the file is damaged or "
                        f"was replaced")
    try:
        config = GANConfig.from_dict(manifest["config"])
    except (ConfigError, TypeError, KeyError) as exc:
        raise DemoError(f"{manifest_path}: invalid config in the demo manifest ({exc})") from exc
    try:
        metadata = _metadata(blob)
        tensors = load(blob)
    except (SafetensorError, ValueError, RuntimeError, UnicodeDecodeError) as exc:
        raise DemoError(f"{weights_path}: damaged demo weights ({type(exc).__name__})") from exc
    if metadata.get("format") != DEMO_FORMAT or _header_config(metadata) != config:
        raise DemoError(f"{weights_path}: its header does not describe the run in {MANIFEST}")
    generator, discriminator = make_generator(config), make_discriminator(config)
    for prefix, module in (("generator.", generator), ("discriminator.", discriminator)):
        state = {k[len(prefix):]: v.float() if v.is_floating_point() else v
                 for k, v in tensors.items() if k.startswith(prefix)}
        try:
            load_state(module, state, weights_path, prefix.rstrip("."))
        except CheckpointError as exc:
            raise DemoError(str(exc)) from exc
    generator.eval().requires_grad_(False)
    discriminator.eval().requires_grad_(False)
    try:
        return DemoRun(name, manifest, generator, discriminator)
    except (KeyError, TypeError, ValueError) as exc:
        raise DemoError(f"{manifest_path}: incomplete demo manifest ({type(exc).__name__}: {exc})") from exc


def _metadata(blob: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file's header (8-byte little-endian length, then JSON)."""
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + size])
    return header.get("__metadata__") or {} if isinstance(header, dict) else {}


def _json_rows(history: np.ndarray, decimals: int = 5) -> list[list[float | None]]:
    """History rows as JSON lists of numbers rounded to ``decimals`` places, with null for a NaN (a gradient
    norm that was not recorded). Rounded here, after the float32 -> float64 step: a float32 0.19359 is the
    float64 0.19359000027179718, which JSON would spell out in full (400 epochs: 1.9 MB instead of 0.8)."""
    return [[None if np.isnan(value) else round(float(value), decimals) for value in row] for row in history]
