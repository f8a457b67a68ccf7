"""A run's generator in files other runtimes read: ONNX and safetensors, each with its model card.

Only the EMA generator is exported (the one every view shows; the trained G when the run keeps none), in
eval mode: BatchNorm with its running statistics, no dropout, so an image never depends on its batch-mates.

    onnx          input "z" float32 (batch, z_dim), and for a conditional run "labels" int64 (batch,) in
                  0..9; output "images" float32 (batch, 28, 28) in [0, 1]; the batch is dynamic.
                  Exported by torch's TorchScript-based exporter (``dynamo=False``):
                  offline, no onnxscript, ~0.6 s for this MLP, where the dynamo exporter took ~3.4 s.
    safetensors   the generator's state_dict in float32 (tensors only, no code), loadable into
                  ``gan_core.make_generator(GANConfig.from_dict(card["config"]))`` bit for bit.

The model card (``model_card``) is JSON: the config, the dataset as the run recorded it, epochs and step, the
last FID measured, the z prior, the input and output, and the sha256 of the exported file. It travels
inside the file (ONNX ``metadata_props``, the safetensors header's ``__metadata__``, key ``model_card``) and,
from ``write_export``, beside it as ``FILE.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..atomic import atomic_write_bytes
from ..gan.model import CLASSES
from ..gan.modes import evaluating
from ..images import IMAGE_SIDE
from .api import Run

FORMATS = ("onnx", "safetensors")
CARD_FORMAT = "gan_core.model_card"
CARD_VERSION = 1
ONNX_OPSET = 17
CARD_KEY = "model_card"  # where the card sits inside each exported file


class _Images(nn.Module):
    """The generator with its flat output shaped as images: (batch, 784) -> (batch, 28, 28)."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(z, *(() if labels is None else (labels,))).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def model_card(run: Run, file_format: str) -> dict[str, Any]:
    """What a user of the exported generator needs to know, as plain JSON data (no sha256: see ``export``)."""
    config = run.config
    labels = {"labels": {"name": "labels", "dtype": "int64", "shape": ["batch"], "range": [0, CLASSES - 1],
                         "meaning": "the class each image is drawn as"}} if config.conditional else {}
    return {
        "format": CARD_FORMAT, "version": CARD_VERSION, "run": run.name, "file_format": file_format,
        "generator": "ema" if config.ema_decay > 0 else "trained G (the run keeps no EMA)",
        "config": config.to_dict(),
        # The name from the config, then whatever the run recorded of its data (kind, sizes, hash, ...).
        "dataset": {"name": config.dataset, **run.reader.data_source()},
        "epochs": run.epoch, "step": run.reader.snapshot().step, "fid": run.reader.last_fid(),
        "z_prior": {"distribution": "uniform", "low": -1.0, "high": 1.0, "dim": config.z_dim,
                    "python": f"torch.rand(n, {config.z_dim}) * 2 - 1"},
        "input": {"name": "z", "dtype": "float32", "shape": ["batch", config.z_dim]}, **labels,
        "output": {"name": "images", "dtype": "float32", "shape": ["batch", IMAGE_SIDE, IMAGE_SIDE],
                   "range": [0.0, 1.0], "meaning": "grey level, 0 = black background, 1 = white stroke"},
        "mode": "eval: BatchNorm uses its running statistics, no dropout",
        "torch": torch.__version__,
    }


def export(run: Run, file_format: str) -> tuple[bytes, dict[str, Any]]:
    """The exported file's bytes and its model card (with the file's sha256), built in memory."""
    if file_format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {file_format!r}")
    card = model_card(run, file_format)
    blob = _onnx(run, card) if file_format == "onnx" else _safetensors(run, card)
    return blob, {**card, "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob)}


def write_export(run: Run, file_format: str, out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write the exported file to ``out`` and its model card to ``out`` + ".json", both atomically; returns
    both paths."""
    out = Path(out)
    blob, card = export(run, file_format)
    out.parent.mkdir(parents=True, exist_ok=True)
    card_path = out.with_name(out.name + ".json")
    atomic_write_bytes(out, blob)
    atomic_write_bytes(card_path, (json.dumps(card, indent=1) + "\n").encode())
    return out, card_path


def _onnx(run: Run, card: dict[str, Any]) -> bytes:
    import onnx

    model = _Images(run.generator)
    conditional = run.config.conditional
    inputs = (torch.zeros(2, run.config.z_dim),) + ((torch.zeros(2, dtype=torch.long),) if conditional else ())
    names = ["z", "labels"] if conditional else ["z"]
    buffer = io.BytesIO()
    with evaluating(model), torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter announces its own deprecation; it is the offline, fast one (module doc).
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, inputs, buffer, dynamo=False,
                          training=torch.onnx.TrainingMode.EVAL, input_names=names, output_names=["images"],
                          opset_version=ONNX_OPSET,
                          dynamic_axes={**{name: {0: "batch"} for name in names}, "images": {0: "batch"}})
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.helper.set_model_props(proto, {CARD_KEY: json.dumps(card, sort_keys=True)})
    return proto.SerializeToString()


def _safetensors(run: Run, card: dict[str, Any]) -> bytes:
    from safetensors.torch import save

    tensors = {key: value.detach().contiguous() for key, value in run.generator.state_dict().items()}
    return save(tensors, metadata={CARD_KEY: json.dumps(card, sort_keys=True)})
