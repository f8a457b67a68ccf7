"""Gradient norms of a net: the total of every step (recorded in the history) and per layer (step-by-step mode)."""

from __future__ import annotations

import torch

from .spectral import SNLinear


def grad_norm(module: torch.nn.Module) -> torch.Tensor:
    """The L2 norm of all of ``module``'s gradients together, as a device tensor: a few fused kernels
    (``torch._foreach_norm`` underneath) and no read back to the host, so every step can afford it."""
    grads = [param.grad for param in module.parameters() if param.grad is not None]
    return torch.nn.utils.get_total_norm(grads).float()


def layer_grad_norms(module: torch.nn.Module) -> dict[str, float]:
    """The L2 norm of each layer's gradient (weight and bias together), keyed ``net.0 Linear 784→1024``."""
    modules = dict(module.named_modules())
    squares: dict[str, float] = {}
    for name, param in module.named_parameters():
        if param.grad is None:
            continue
        # spectral norm hides the weight deeper: net.0.parametrizations.weight.original belongs to net.0
        path = name.split(".parametrizations.")[0] if ".parametrizations." in name else name.rsplit(".", 1)[0]
        squares[path] = squares.get(path, 0.0) + float(param.grad.detach().float().pow(2).sum())
    return {f"{path} {_describe(modules[path])}": total ** 0.5 for path, total in squares.items()}


def _describe(layer: torch.nn.Module) -> str:
    if isinstance(layer, (torch.nn.Linear, SNLinear)):
        return f"Linear {layer.in_features}→{layer.out_features}"
    if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
        return f"BatchNorm {layer.num_features}"
    if isinstance(layer, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
        return f"{type(layer).__name__} {layer.in_channels}→{layer.out_channels}"
    if isinstance(layer, torch.nn.Embedding):
        return f"label embedding {layer.num_embeddings}×{layer.embedding_dim}"
    return type(layer).__name__
