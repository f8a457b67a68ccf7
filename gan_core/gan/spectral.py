"""Spectral normalisation of a linear layer without materialising the normalised weight.

torch's ``parametrizations.spectral_norm`` computes W / sigma (a weight-sized tensor) at every forward,
and its backward runs weight-sized elementwise passes through that division: on D's 1.5 M weights,
twice per step (the D pass and the G pass), that was most of the ``stable`` preset's extra cost over
the seed recipe (docs/performance.md). ``SNLinear`` computes the same function as
(x W^T) / sigma + b: the division happens on the (batch, out) output instead of the (out, in) weight,
and sigma still carries its gradient to W. The power iteration's W v rides in the layer's own matmul
and the rank-one part of sigma's gradient rides in the weight-gradient matmul (``_SNLinearFunction``):
no weight-sized pass is left besides one matrix-vector product.

Same maths as torch's: one power iteration per training forward, the same u and v buffers under the
same state-dict keys (``parametrizations.weight.original``, ``parametrizations.weight.0._u`` / ``_v``),
built from torch's own parametrization so the initial u and v are the same draws. Checkpoints of
either kind load into the other. The result differs from torch's only in floating-point rounding
(the division after the matmul; sigma as |W^T u|, which equals torch's u^T W v after the iteration).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations


class _PowerIteration(nn.Module):
    """Holds the singular-vector estimates u (out) and v (in), as torch's ``_SpectralNorm`` does."""

    def __init__(self, u: torch.Tensor, v: torch.Tensor, eps: float) -> None:
        super().__init__()
        self.register_buffer("_u", u)
        self.register_buffer("_v", v)
        self.eps = eps


class _WeightSlot(nn.ModuleList):
    """``parametrizations.weight``: the raw weight as ``original`` and the power iteration as item 0."""

    def __init__(self, original: nn.Parameter, power: _PowerIteration) -> None:
        super().__init__([power])
        self.original = original


class _SNLinearFunction(torch.autograd.Function):
    """y = (x W^T) / sigma + b with one power iteration, forward and backward written out.

    Forward: [x; v] W^T in one matmul gives x W^T and W v (the iteration's first half: u = W v / |W v|);
    t = W^T u gives v = t / |t| and sigma = u^T W v = |t|. Backward: with g' = dL/dy / sigma and
    c = dL/dsigma = -sum(g' * x W^T) / sigma, dL/dW = g'^T x + c u v^T = [g'; c u]^T [x; v], one matmul
    again, so the rank-one term of sigma's gradient costs no weight-sized pass. u and v are updated in
    place, as torch's power iteration does. Under autocast the matmuls run in its dtype, as F.linear's.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, u, v, eps):
        dtype = torch.get_autocast_dtype(x.device.type) if torch.is_autocast_enabled(x.device.type) else x.dtype
        w = weight.to(dtype)
        xv = torch.cat((x.to(dtype), v.unsqueeze(0).to(dtype)))
        out = xv @ w.t()
        F.normalize(out[-1].to(u.dtype), dim=0, eps=eps, out=u)
        t = torch.mv(weight.t(), u)
        sigma = torch.linalg.vector_norm(t)
        F.normalize(t, dim=0, eps=eps, out=v)
        raw = out[:-1]
        xv[-1] = v  # [x; v_new]: the backward's right operand, so it needs no second concatenation
        ctx.save_for_backward(xv, w, raw, u.clone(), sigma)
        ctx.dtypes = (x.dtype, weight.dtype)
        return torch.addcdiv(bias, raw, sigma)  # bias + raw / sigma in one pass

    @staticmethod
    def backward(ctx, grad):
        xv, w, raw, u, sigma = ctx.saved_tensors
        g = (grad / sigma).to(w.dtype)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = (g @ w).to(ctx.dtypes[0])
        if ctx.needs_input_grad[1]:
            c = -torch.dot(g.reshape(-1).float(), raw.reshape(-1).float()) / sigma
            rows = torch.cat((g, (c * u).unsqueeze(0).to(w.dtype)))
            grad_w = (rows.t() @ xv).to(ctx.dtypes[1])
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum(0)
        return grad_x, grad_w, grad_b, None, None, None


class SNLinear(nn.Module):
    """A spectrally normalised ``nn.Linear``: y = x (W / sigma(W))^T + b, computed as (x W^T) / sigma + b."""

    def __init__(self, linear: nn.Linear) -> None:
        """Spectrally normalise ``linear`` (its weight and bias are taken over, not copied). torch's own
        parametrization is built first: it draws u and v from the global RNG and runs 15 power
        iterations, so a seeded D starts exactly as it did with torch's spectral norm."""
        super().__init__()
        reference = parametrizations.spectral_norm(linear)
        slot = reference.parametrizations.weight
        power = slot[0]
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.parametrizations = nn.ModuleDict(
            {"weight": _WeightSlot(slot.original, _PowerIteration(power._u, power._v, power.eps))})
        self.bias = reference.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.parametrizations.weight.original
        power = self.parametrizations.weight[0]
        if not self.training:  # no power iteration: sigma from the stored u and v, as torch
            return F.linear(x, weight) / torch.vdot(power._u, torch.mv(weight, power._v)) + self.bias
        return _SNLinearFunction.apply(x, weight, self.bias, power._u, power._v, power.eps)

    @property
    def weight(self) -> torch.Tensor:
        """W / sigma with the current u and v (no power iteration): the weight the layer applies."""
        weight = self.parametrizations.weight.original
        power = self.parametrizations.weight[0]
        return weight / torch.vdot(power._u, torch.mv(weight, power._v))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, spectral_norm=True"
