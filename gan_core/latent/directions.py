"""Principal directions of a generator's latent space, the GANSpace way (Härkönen et al. 2020), own code.

Sample latents from the prior, take the activations of one layer of G, run PCA on them, and map each
principal component back to a direction in z by least squares (regress z on the PCA coordinates). A
slider then moves z along ``vectors[k]``, the z-displacement of one standard deviation of component k,
and the result is clipped to the prior's box.

While a run trains the directions drift; ``DirectionCache`` recomputes them per weights version (at most
every few seconds) and ``align`` reorders and re-signs a new basis to match the previous one, so a slider
keeps its meaning from one recomputation to the next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from ..gan.model import MLPGenerator, sample_z
from ..gan.modes import evaluating
from .sampling import Z_HIGH, Z_LOW

# The MLP generator's layers (``MLPGenerator.LAYERS``: after each hidden block, and the image); a generator
# names its own in its ``LAYERS`` (the DCGAN's: h1, the 7x7 map after its first block, h2 and image), and
# ``layers`` lists them. A conditional G is moved with its label fixed (``gan.model.with_label``).
LAYERS = MLPGenerator.LAYERS
# The cheapest layer to recompute while a run trains; on the 100-epoch `stable` runs no layer's slider
# effect or distinctness stood out beyond the noise of those measures (docs/latent-lab.md).
DEFAULT_LAYER = "h1"
DEFAULT_SAMPLES = 20_000
DEFAULT_COMPONENTS = 16
DIRECTION_SEED = 7  # latents for the PCA come from their own generator: the global RNG is never touched
EXACT_WIDTH = 1024  # layers up to this wide (every MLP layer) get the covariance's exact eigenvectors
SIGMA_RANGE = 3.0  # sliders move each component from -3 to +3 standard deviations


@dataclass(frozen=True)
class Directions:
    """A basis of latent directions: ``vectors[k]`` is the z-step of one standard deviation of component k."""

    vectors: np.ndarray  # float32 (k, z_dim)
    explained: np.ndarray  # float64 (k,): share of the layer's variance each component explains
    layer: str
    version: Hashable = None  # the weights version they were computed from

    def __len__(self) -> int:
        return len(self.vectors)


@torch.no_grad()
def activations(generator: nn.Module, z: torch.Tensor, layer: str, chunk: int = 5000) -> torch.Tensor:
    """(n, width) activations of ``layer`` (a key of LAYERS) for latents z, G in eval mode, flattened."""
    if layer not in layers(generator):
        raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(layers(generator))}")
    device = next(generator.parameters()).device
    with evaluating(generator):
        return torch.cat([generator.activation(z[s:s + chunk].to(device), layer).float().cpu()
                          for s in range(0, len(z), chunk)])


def layers(generator: nn.Module) -> tuple[str, ...]:
    """The layers whose activations ``principal_directions`` can read in ``generator``, input side first."""
    return tuple(getattr(generator, "LAYERS", LAYERS))


def principal_directions(generator: nn.Module, layer: str = DEFAULT_LAYER, *, n: int = DEFAULT_SAMPLES,
                         k: int = DEFAULT_COMPONENTS, seed: int = DIRECTION_SEED,
                         version: Hashable = None) -> Directions:
    """The top ``k`` principal directions of ``layer`` mapped back to z (see the module docstring)."""
    z = sample_z(n, generator.z_dim, generator=torch.Generator().manual_seed(seed)).double()
    y = activations(generator, z.float(), layer).double()
    y = y - y.mean(0)
    k = min(k, y.shape[1], n - 1)
    if y.shape[1] <= EXACT_WIDTH:
        # Top-k eigenvectors of the covariance: cheaper than an SVD of the (n, width) matrix.
        eigvals, eigvecs = torch.linalg.eigh(y.T @ y / (n - 1))
        order = torch.argsort(eigvals, descending=True)[:k]
        components, variances = eigvecs[:, order], eigvals[order].clamp_min(0)
        total = eigvals.clamp_min(0).sum()
    else:
        # A wide layer (the DCGAN's 7x7x64 h1: the covariance's eigh took 16 s on one thread, its 14x14x32 h2
        # 90 s): the top k by a randomised SVD (Halko et al. 2011), seeded so the directions repeat, under
        # fork_rng so the global RNG is untouched; about a second.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            _, singular, v = torch.svd_lowrank(y.float(), q=min(k + 10, *y.shape), niter=4)  # fp32: half the time
        components, variances = v[:, :k].double(), singular[:k].double() ** 2 / (n - 1)
        total = (y * y).sum() / (n - 1)
    coords = y @ components / variances.sqrt().clamp_min(1e-12)  # (n, k), unit variance each
    # Least squares z ~ coords @ V: row k of V is how z moves per standard deviation of component k.
    vectors = torch.linalg.lstsq(coords, z - z.mean(0)).solution
    explained = (variances / total).numpy()
    return Directions(vectors.float().numpy(), explained, layer, version)


def raw_directions(z_dim: int, dims: Sequence[int]) -> np.ndarray:
    """Unit vectors along the raw coordinates ``dims``: the sliders of z[i], as (len(dims), z_dim)."""
    return np.eye(z_dim, dtype=np.float32)[list(dims)]


def move(z: torch.Tensor | np.ndarray, vectors: np.ndarray, sigmas: Sequence[float]) -> torch.Tensor:
    """z + sum_k sigmas[k] * vectors[k], clipped to the prior's box; z is (z_dim,) or (1, z_dim)."""
    z = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1)
    if len(sigmas) > len(vectors):
        raise ValueError(f"{len(sigmas)} slider values for {len(vectors)} directions")
    step = np.asarray(sigmas, dtype=np.float32) @ vectors[:len(sigmas)] if len(sigmas) else 0.0
    return (z + torch.as_tensor(step)).clamp(Z_LOW, Z_HIGH)


def sweep_directions(z: torch.Tensor, vectors: np.ndarray, steps: int = 9,
                     span: float = SIGMA_RANGE) -> torch.Tensor:
    """(len(vectors) * steps, z_dim): row r moves z along vectors[r] from -span to +span sigmas."""
    z = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(1, -1)
    t = torch.linspace(-span, span, steps).reshape(1, steps, 1)
    rows = z.reshape(1, 1, -1) + t * torch.as_tensor(vectors, dtype=torch.float32).reshape(len(vectors), 1, -1)
    return rows.reshape(-1, z.shape[1]).clamp(Z_LOW, Z_HIGH)


@torch.no_grad()
def full_drag(generator: nn.Module, z: torch.Tensor, vectors: np.ndarray, span: float) -> tuple[torch.Tensor,
                                                                                                 torch.Tensor]:
    """What a full drag of each slider does, per base latent z (n, z_dim) and direction: the mean absolute
    pixel difference between ``G(z + span v)`` and ``G(z - span v)`` (both ends clipped to the box), and the
    distance actually travelled in z; two (n, k) tensors."""
    v = torch.as_tensor(vectors, dtype=torch.float32)
    ends_plus = (z[:, None, :] + span * v[None]).clamp(Z_LOW, Z_HIGH)  # (n, k, z_dim)
    ends_minus = (z[:, None, :] - span * v[None]).clamp(Z_LOW, Z_HIGH)
    travel = (ends_plus - ends_minus).norm(dim=2)  # (n, k)
    flat = z.shape[1]
    with evaluating(generator):
        plus = generator(ends_plus.reshape(-1, flat)).reshape(len(z), len(v), -1)
        minus = generator(ends_minus.reshape(-1, flat)).reshape(len(z), len(v), -1)
    return (plus - minus).abs().mean(2), travel


def slider_effect(generator: nn.Module, z: torch.Tensor, vectors: np.ndarray, span: float) -> np.ndarray:
    """Mean absolute pixel change per unit of distance travelled in z, per direction (len(vectors),).

    From each base latent, move to both ends ``z ± span * v`` (clipped to the box) and divide the mean
    absolute pixel difference of the two images by the distance actually travelled, so a longer slider
    range earns nothing.
    """
    change, travel = full_drag(generator, z, vectors, span)
    per_unit = torch.where(travel > 1e-6, change / travel.clamp_min(1e-6), torch.zeros_like(change))
    return per_unit.mean(0).numpy()


@torch.no_grad()
def distinctness(generator: nn.Module, z: torch.Tensor, vectors: np.ndarray, eps: float = 0.25) -> float:
    """1 - mean |cosine| between the image changes of different directions (1 = all independent).

    Each direction's effect is the pixel difference G(z + eps v) - G(z - eps v) at the same base
    latents; two sliders that change the same pixels the same way are one slider twice.
    """
    v = torch.as_tensor(vectors, dtype=torch.float32)
    with evaluating(generator):
        plus = generator((z[:, None, :] + eps * v[None]).clamp(Z_LOW, Z_HIGH).reshape(-1, z.shape[1]))
        minus = generator((z[:, None, :] - eps * v[None]).clamp(Z_LOW, Z_HIGH).reshape(-1, z.shape[1]))
    effects = (plus - minus).reshape(len(z), len(v), -1)
    effects = effects / effects.norm(dim=2, keepdim=True).clamp_min(1e-12)
    cos = (effects @ effects.transpose(1, 2)).abs().mean(0)  # (k, k)
    k = len(v)
    off_diagonal = (cos.sum() - cos.diagonal().sum()) / max(k * (k - 1), 1)
    return float(1.0 - off_diagonal)


def align(new: Directions, previous: Directions | None) -> Directions:
    """``new`` reordered and re-signed so that each of its directions sits where its best match in
    ``previous`` sat (greedy matching on |cosine|, best pairs first) and points the same way. Keeps a
    slider's meaning while the weights change under it. Bases of different shapes are not aligned."""
    if previous is None or previous.vectors.shape != new.vectors.shape:
        return new
    a = new.vectors / np.linalg.norm(new.vectors, axis=1, keepdims=True).clip(1e-12)
    b = previous.vectors / np.linalg.norm(previous.vectors, axis=1, keepdims=True).clip(1e-12)
    cos = b @ a.T  # (k, k): previous x new
    slots: dict[int, int] = {}  # previous index -> new index
    for flat in np.argsort(-np.abs(cos), axis=None):
        i, j = divmod(int(flat), cos.shape[1])
        if i not in slots and j not in slots.values():
            slots[i] = j
    order = [slots[i] for i in range(len(cos))]
    signs = np.array([-1.0 if cos[i, j] < 0 else 1.0 for i, j in enumerate(order)], dtype=np.float32)
    return replace(new, vectors=new.vectors[order] * signs[:, None], explained=new.explained[order])


class DirectionCache:
    """Directions per (source, layer), recomputed when the weights version changes, but at most every
    ``min_interval`` seconds (a live run publishes new weights often), each new basis aligned to the
    one it replaces. Thread-safe: one computation at a time."""

    def __init__(self, min_interval: float = 5.0, samples: int = DEFAULT_SAMPLES,
                 components: int = DEFAULT_COMPONENTS) -> None:
        self.min_interval = min_interval
        self.samples = samples
        self.components = components
        self._lock = threading.Lock()
        self._entries: dict[tuple[Hashable, str], tuple[Directions, float]] = {}

    def get(self, source: Hashable, version: Hashable, generator: nn.Module | Callable[[], nn.Module],
            layer: str = DEFAULT_LAYER, *, now: float | None = None) -> Directions:
        """The directions of ``source`` (e.g. a run name) at weights ``version``. ``generator`` may be a
        callable that returns one, so a cached answer costs no copy of the weights."""
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._entries.get((source, layer))
            if entry is not None:
                directions, computed_at = entry
                if directions.version == version or now - computed_at < self.min_interval:
                    return directions
            model = generator if isinstance(generator, nn.Module) else generator()
            fresh = principal_directions(model, layer, n=self.samples, k=self.components, version=version)
            fresh = align(fresh, entry[0] if entry is not None else None)
            self._entries[(source, layer)] = (fresh, now)
            return fresh
