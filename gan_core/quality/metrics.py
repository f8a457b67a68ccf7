"""Generation-quality metrics computed from a judge classifier's outputs; numpy only, float64 throughout.

* FID: the Fréchet distance (``frechet.py``) of judge features against the held-out real ones
  (``real_side.RealSide``, which keeps everything computed from the real side alone).
* ``inception_score``: exp(E_x KL(p(y|x) || p(y))), between 1 and the number of classes.
* ``class_histogram`` & co: which classes the generated samples are judged to be, to see mode collapse.
* ``readability_row``: the share of samples that two independent classifiers (the judge and the referee)
  both read as the same digit with p >= 0.9, overall and per digit, beside the same share of held-out real
  digits. FID alone can call a sheet of half-scribbles "good"; two readers rarely agree on a scribble (dense
  uniform noise, which both read as an 8, is the known exception: tests/quality/test_judge_loader.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..data.common import DIGITS
from .manifold import manifold_row
from .real_side import RealSide

NUM_CLASSES = 10
READABLE_P = 0.9  # both classifiers must give the same class at least this probability
PRESENT_SHARE = 0.01  # a class counts as present when at least 1% of the samples are judged to be it
COLLAPSE_MAX_SHARE = 0.40  # warn when one class holds more than this share of the samples
COLLAPSE_MIN_CLASSES = 8  # warn when fewer classes than this are present
D_WINS_LOSS = 0.05  # warn when the epoch-mean D loss falls below this: D wins outright


def inception_score(probs: np.ndarray, eps: float = 1e-12) -> float:
    """exp(mean_x KL(p(y|x) || p(y))) over all rows (one split): 1 for identical predictions, at most the
    number of classes (reached by confident predictions spread evenly over every class)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or not len(p):
        raise ValueError(f"need (n >= 1, classes) probabilities, got shape {p.shape}")
    marginal = p.mean(axis=0)
    kl = np.sum(p * (np.log(p + eps) - np.log(marginal + eps)), axis=1)
    return float(min(math.exp(max(float(kl.mean()), 0.0)), p.shape[1]))


def class_histogram(probs: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Share of samples whose most likely class is each class, float64 (classes,), summing to 1."""
    predicted = np.asarray(probs).argmax(axis=1)
    counts = np.bincount(predicted, minlength=num_classes).astype(np.float64)
    return counts / max(len(predicted), 1)


def kl_to_uniform(histogram: np.ndarray) -> float:
    """KL(histogram || uniform) in nats: 0 when balanced, log(classes) when a single class."""
    h = np.asarray(histogram, dtype=np.float64)
    nonzero = h[h > 0]
    return float(np.sum(nonzero * np.log(nonzero * len(h))))


def classes_present(histogram: np.ndarray, min_share: float = PRESENT_SHARE) -> int:
    return int(np.sum(np.asarray(histogram) >= min_share))


def mean_confidence(probs: np.ndarray) -> float:
    """Mean max-softmax probability: how sure the judge is about the samples (blurry fakes score low)."""
    return float(np.asarray(probs, dtype=np.float64).max(axis=1).mean())


def readable(probs: np.ndarray, second: np.ndarray, p: float = READABLE_P) -> np.ndarray:
    """bool (n,): the two classifiers' probabilities (n, classes) name the same class, each with >= ``p``."""
    a, b = np.asarray(probs), np.asarray(second)
    return (a.argmax(1) == b.argmax(1)) & (a.max(1) >= p) & (b.max(1) >= p)


def readability_row(probs: np.ndarray, second: np.ndarray, real_share: float | None) -> dict[str, Any]:
    """The readability figures of a metrics row: ``readable`` (share of samples both classifiers read alike
    with p >= READABLE_P), ``readable_real`` (the same share on held-out real digits), ``readable_ratio``
    (their quotient) and ``readable_histogram`` (per class, the share of all samples readable as it)."""
    agreed = readable(probs, second)
    share = float(agreed.mean()) if len(agreed) else 0.0
    counts = np.bincount(np.asarray(probs).argmax(1)[agreed], minlength=np.asarray(probs).shape[1])
    return {"readable": share, "readable_real": real_share,
            "readable_ratio": share / real_share if real_share else None,
            "readable_histogram": [float(c) / max(len(agreed), 1) for c in counts]}


def asked_row(probs: np.ndarray, asked: np.ndarray, num_classes: int = NUM_CLASSES) -> dict[str, Any]:
    """A conditional run's figures: ``asked`` (the share of samples the judge reads as the class they were
    drawn for) and ``asked_per_class`` (that share among the samples drawn for each class; None for a
    class not asked for)."""
    asked = np.asarray(asked)
    hit = np.asarray(probs).argmax(1) == asked
    per_class = [float(hit[asked == c].mean()) if np.any(asked == c) else None for c in range(num_classes)]
    return {"asked": float(hit.mean()) if len(hit) else 0.0, "asked_per_class": per_class}


def quality_row(gen_features: np.ndarray, gen_probs: np.ndarray, real: RealSide) -> dict[str, Any]:
    """All metrics of one generated sample as plain Python data (checkpoint- and JSON-safe): FID, IS, the
    class histogram, and precision, recall and realism (``manifold.manifold_row``).

    ``real`` holds two disjoint sets of real features (every held-out digit, the reference; and the training
    digits) and what is computed from them alone; the generated FID and the real-vs-real floor both use
    ``n = min(len(gen), len(real.floor_real))`` samples against all of ``real.reference``, so they are
    comparable. Generated samples come in random order, so the
    first n are a fair subsample; the real ones are taken evenly spaced (``RealSide.spread``).
    """
    hist = class_histogram(gen_probs)
    n = min(len(gen_features), len(real.floor_real))
    fid = floor = None
    if n >= 2 and len(real.reference) >= 2:
        fid = real.fid(np.asarray(gen_features)[:n])
        floor = real.floor(n)
    row = {
        "fid": fid,
        "fid_floor": floor,
        "fid_n": int(n),
        "fid_ref_n": int(len(real.reference)),
        "inception_score": inception_score(gen_probs),
        "histogram": [float(v) for v in hist],
        "kl_uniform": kl_to_uniform(hist),
        "classes_present": classes_present(hist),
        "max_class_share": float(hist.max()),
        "min_class_share": float(hist.min()),
        "confidence": mean_confidence(gen_probs),
        "samples": int(len(gen_probs)),
    }
    # Precision/recall (and their real-vs-real reference) at the FID's sizes; realism of every sample.
    row.update(manifold_row(np.asarray(gen_features), real, n))
    return row


def quality_warnings(row: Mapping[str, Any] | None, d_loss: float | None = None,
                     d_wins_below: float = D_WINS_LOSS) -> list[str]:
    """Human-readable warnings for a metrics row and the epoch-mean D loss; empty when all is well.
    ``d_wins_below`` is the D-wins threshold of the run's loss (``losses.loss_view``)."""
    warnings = []
    if row:
        hist = row.get("histogram") or []
        # The data's classes: a folder of fewer than ten (its judge's other outputs name nothing) is judged
        # by the same rules scaled to them: a share over 4x the uniform one, fewer than 80% of them present.
        classes = int(row.get("classes") or len(hist) or NUM_CLASSES)
        max_share = min(1.0, COLLAPSE_MAX_SHARE * NUM_CLASSES / classes)
        min_classes = min(COLLAPSE_MIN_CLASSES, classes)
        if hist and max(hist) > max_share:
            top = int(np.argmax(hist))
            warnings.append(f"mode collapse: class {top} is {max(hist):.0%} of the samples "
                            f"(over {max_share:.0%})")
        present = row.get("classes_present")
        if present is not None and present < min_classes:
            warnings.append(f"mode collapse: only {present} of {classes} classes present "
                            f"(fewer than {min_classes})")
    if d_loss is not None and d_loss < d_wins_below:
        warnings.append(f"discriminator wins outright: epoch-mean D loss {d_loss:.3g} < {d_wins_below:g}")
    return warnings


def class_shares(shares: Sequence[float], names: Sequence[str]) -> list[tuple[str, float]]:
    """(name, share) of each of the data's classes: a per-class list of the judge's NUM_CLASSES outputs cut to
    the classes the data has (a folder of 2 sub-folders trains a judge whose other 8 outputs name nothing)."""
    return list(zip(names, shares, strict=False))


def format_row(row: Mapping[str, Any], names: Sequence[str] | None = None) -> str:
    """One line: FID (floor at n), IS, classes present, max share, confidence; for a row measured without
    labels (``quality.unlabeled``), FID, precision and recall."""
    fid = "-" if row.get("fid") is None else f"{row['fid']:.2f}"
    floor = "-" if row.get("fid_floor") is None else f"{row['fid_floor']:.2f}"
    if row.get("unlabeled"):
        pr = "" if row.get("precision") is None else \
            f" | precision {row['precision']:.2f} (real {row['precision_real']:.2f}) | recall {row['recall']:.2f} " \
            f"(real {row['recall_real']:.2f})"
        return f"FID {fid} (real-vs-real floor {floor} at n={row.get('fid_n')}){pr} | no labels: no IS or classes"
    hist = row.get("histogram") or []
    top, names = int(np.argmax(hist)) if hist else -1, tuple(names or DIGITS)
    label = names[top] if 0 <= top < len(names) else "-"
    return (f"FID {fid} (real-vs-real floor {floor} at n={row.get('fid_n')}) | IS {row['inception_score']:.2f} | "
            f"classes {row['classes_present']}/{len(hist)} | max share {row['max_class_share']:.1%} ({label}) | "
            f"KL-uniform {row['kl_uniform']:.3f} | confidence {row['confidence']:.3f}")


def last_fid(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The latest FID of a run's metrics rows (a row may have none: too few samples) as plain data: its
    value, floor, sample size and epoch; None when no row measured one. The one reading of "last FID"."""
    row = next((row for row in reversed(rows) if row.get("fid") is not None), None)
    if row is None:
        return None
    return {"value": row["fid"], "floor": row.get("fid_floor"), "n": row.get("fid_n"), "epoch": row.get("epoch")}


def run_warnings(metrics: Sequence[Mapping[str, Any]], epoch_log: Sequence[Mapping[str, float]],
                 d_wins_below: float = D_WINS_LOSS) -> list[str]:
    """Collapse / D-wins warnings of a run: its latest evaluation and latest epoch-mean D loss."""
    row = metrics[-1] if metrics else None
    last = epoch_log[-1] if epoch_log else None
    return quality_warnings(row, None if last is None else last.get("d_loss"), d_wins_below)
