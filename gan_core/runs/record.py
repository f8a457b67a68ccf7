"""The checkpoint record of a training state, and the state rebuilt from one.

``to_record`` turns a ``gan.state.GANState`` into the plain, weights-only record that ``checkpoint``
saves (tensors, numbers, strings, lists and dicts: ``torch.load(weights_only=True)`` reads it without
running code); ``from_record`` rebuilds the state from a loaded, migrated record, so that the run
continues bit for bit. The layout is versioned by ``checkpoint.VERSION``; ``migrations`` brings older
records up to it.
"""

from __future__ import annotations

from typing import Any

import torch

from ..gan.history import HISTORY, StepHistory
from ..gan.nets import make_discriminator, make_generator
from ..gan.state import PREVIEW_SAMPLES, GANState, adam, resolve_device
from . import checkpoint as ckpt


def to_record(state: GANState) -> dict[str, Any]:
    """Everything ``state`` needs to continue exactly, as a checkpoint record of the current version."""
    return {
        "format": ckpt.FORMAT,
        "version": ckpt.VERSION,
        "config": state.config.to_dict(),
        "generator": state.generator.state_dict(),  # includes BatchNorm running statistics
        "discriminator": state.discriminator.state_dict(),
        "opt_g": state.opt_g.state_dict(),
        "opt_d": state.opt_d.state_dict(),
        "epoch": state.epoch,
        "step": state.step,
        "g_updates": state.g_updates,
        "edits": [dict(edit) for edit in state.edits],
        "rng": ckpt.capture_rng(),
        "history": torch.from_numpy(state.history_array().copy()),
        "epoch_log": [dict(row) for row in state.epoch_log],
        "metrics_log": [dict(row) for row in state.metrics_log],
        "data_source": dict(state.data_source),
        "preview_z": state.preview_z.cpu(),
        # The averaged weights with their re-estimated BatchNorm statistics; None when EMA is off.
        "ema": None if state.ema is None else {"generator": state.shown_generator().state_dict(),
                                               "updates": state.ema_updates},
        "progress": {
            "perm": None if state.perm is None else state.perm.cpu(),
            "batch_in_epoch": state.batch_in_epoch,
            "epoch_seconds": state.epoch_seconds,
            "last_g_loss": None if state.last_g_loss is None else state.last_g_loss.cpu(),
            "last_g_grad_norm": None if state.last_g_grad_norm is None else state.last_g_grad_norm.cpu(),
        },
    }


def from_record(record: dict[str, Any], path: str, *, epochs: int | None = None,
                device: str | None = None) -> GANState:
    """Rebuild a run from a loaded record; ``epochs``/``device`` may change, nothing else."""
    config = record["config"]
    changes = {k: v for k, v in (("epochs", epochs), ("device", device)) if v is not None}
    if changes:
        config = config.replace(**changes)
    dev = resolve_device(config.device)
    generator, discriminator = make_generator(config), make_discriminator(config)
    ckpt.load_state(generator, record["generator"], path, "generator")
    ckpt.load_state(discriminator, record["discriminator"], path, "discriminator")
    generator.to(dev)
    discriminator.to(dev)
    opt_g = adam(generator.parameters(), config.lr_g, config.beta1_g, config.beta2)
    opt_d = adam(discriminator.parameters(), config.lr_d, config.beta1_d, config.beta2)
    ckpt.load_state(opt_g, record["opt_g"], path, "generator optimizer")
    ckpt.load_state(opt_d, record["opt_d"], path, "discriminator optimizer")
    progress = record["progress"]
    history = record["history"]
    if not isinstance(history, torch.Tensor) or history.ndim != 2 or history.shape[1] != len(HISTORY):
        raise ckpt.CheckpointError(f"{path}: history is not a (steps, {len(HISTORY)}) tensor")
    preview = record["preview_z"]
    if not isinstance(preview, torch.Tensor) or tuple(preview.shape) != (PREVIEW_SAMPLES, config.z_dim):
        raise ckpt.CheckpointError(f"{path}: preview noise does not match z_dim {config.z_dim}")
    state = GANState(config, dev, generator, discriminator, opt_g, opt_d, preview.to(dev),
                     epoch=int(record["epoch"]), step=int(record["step"]),
                     history=StepHistory(history.float().numpy()),
                     epoch_log=list(record["epoch_log"]),
                     metrics_log=list(record["metrics_log"]),
                     data_source=dict(record["data_source"]),
                     g_updates=int(record["g_updates"]),
                     edits=[dict(edit) for edit in record["edits"]])
    ema_record = record["ema"]  # migrations: records from before the EMA start it from G
    if state.ema is not None and ema_record is not None:
        ckpt.load_state(state.ema, ema_record["generator"], path, "EMA generator")
        state.ema_updates, state.ema_stale = int(ema_record["updates"]), False
    state.perm = None if progress["perm"] is None else progress["perm"].to(dev)
    state.batch_in_epoch = int(progress["batch_in_epoch"])
    state.epoch_seconds = float(progress["epoch_seconds"])
    state.last_g_loss = None if progress["last_g_loss"] is None else progress["last_g_loss"].to(dev)
    g_norm = progress["last_g_grad_norm"]
    state.last_g_grad_norm = None if g_norm is None else g_norm.to(dev)
    # Last, so nothing above draws from the restored streams: the run continues bit for bit.
    ckpt.restore_rng(record["rng"])
    return state
