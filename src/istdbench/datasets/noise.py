"""Noise models of the robustness study, applicable to any sequence and seeded.

Specs are strings: ``none``, ``gaussian:snr=5``, ``cross`` or ``cross:n=20,amp=0.8``,
``vline`` or ``vline:n=5,fixed=true``. `parse_noise` validates them and
`NoiseSpec.canonical` writes the one spelling that result tables record (only
the parameters that differ from the defaults, so ``cross`` and ``cross:n=10``
are the same spec).

The seed paper's exact cross and line generators are not public, so
these are ours, stated here: ``cross`` adds ``amp`` to ``n`` "+" marks per
frame (arms of ``arm`` px, uniformly placed, fresh positions every frame);
``vline`` adds ``amp`` to ``n`` full-height columns ``width`` px wide, at fresh
random columns every frame or, with ``fixed=true``, at the same columns in all
frames (column fixed-pattern noise). Both clip to [0, 1] and may cover targets.

SNR convention (``gaussian``): ``SNR = 10 log10(P_signal / P_noise)`` with
``P_signal`` the mean of the clean frames squared and ``P_noise`` the mean
squared difference between the noisy and the clean frames, both over the whole
sequence. The noisy frames are clipped to [0, 1], which removes part of the
noise, so the noise std is solved numerically *after* clipping: the measured
SNR of the returned frames equals the request (to well under 0.01 dB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import optimize

from istdbench.core.errors import DataError, InvalidParameterError, unknown_name
from istdbench.core.specs import parse_items
from istdbench.core.types import Sequence

from .images import frames_hash

_REQUIRED = object()

KINDS: dict[str, dict[str, tuple[type, Any]]] = {
    "none": {},
    # white Gaussian noise at a given SNR in dB
    "gaussian": {"snr": (float, _REQUIRED)},
    # per frame, n "+"-shaped marks of arm length `arm` px (a (2 arm + 1)-px cross), intensity +amp
    "cross": {"n": (int, 10), "arm": (int, 2), "amp": (float, 0.5)},
    # per frame (or once, fixed=true), n full-height columns `width` px wide, intensity +amp
    "vline": {"n": (int, 3), "width": (int, 1), "amp": (float, 0.3), "fixed": (bool, False)},
}
"""Noise kinds with their parameters: name -> (type, default)."""


@dataclass(frozen=True)
class NoiseSpec:
    """A validated noise model: its kind and every parameter (defaults filled in)."""

    kind: str
    params: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidParameterError(str(unknown_name("noise kind", self.kind, KINDS)))
        got = dict(self.params)
        table = KINDS[self.kind]
        for key in got:
            if key not in table:
                raise InvalidParameterError(str(unknown_name(f"parameter of {self.kind!r} noise", key, table)))
        missing = [k for k, (_, d) in table.items() if d is _REQUIRED and k not in got]
        if missing:
            raise InvalidParameterError(
                f"{self.kind!r} noise needs {', '.join(missing)} (e.g. '{self.kind}:{missing[0]}=5')."
            )
        full = tuple((k, got.get(k, d)) for k, (_, d) in table.items())
        object.__setattr__(self, "params", full)
        self._check_ranges()

    def _check_ranges(self) -> None:
        p = dict(self.params)
        checks = {
            "snr": (lambda v: math.isfinite(v), "a finite number of dB"),
            "n": (lambda v: v >= 0, "an int >= 0"),
            "arm": (lambda v: v >= 1, "an int >= 1"),
            "width": (lambda v: v >= 1, "an int >= 1"),
            "amp": (lambda v: math.isfinite(v) and -1 <= v <= 1, "a float in [-1, 1]"),
        }
        for key, value in p.items():
            if key in checks and not checks[key][0](value):
                raise InvalidParameterError(
                    f"The {key!r} parameter of {self.kind!r} noise must be {checks[key][1]}. Got {value!r} instead."
                )

    def get(self, key: str) -> Any:
        """One parameter's value."""
        return dict(self.params)[key]

    def canonical(self) -> str:
        """The spelling result tables record: kind plus the parameters that differ from their defaults."""
        table = KINDS[self.kind]
        parts = [f"{k}={_fmt(v)}" for k, v in self.params if table[k][1] is _REQUIRED or v != table[k][1]]
        return self.kind + (":" + ",".join(parts) if parts else "")

    def __str__(self) -> str:
        return self.canonical()


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def parse_noise(spec: str | NoiseSpec) -> NoiseSpec:
    """Parse ``kind[:key=value,...]`` into a `NoiseSpec` (a `NoiseSpec` passes through)."""
    if isinstance(spec, NoiseSpec):
        return spec
    text = str(spec).strip()
    kind, _, body = text.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise InvalidParameterError(str(unknown_name("noise kind", kind, KINDS)))
    table = KINDS[kind]
    types = {key: tp for key, (tp, _) in table.items()}
    params = parse_items(body, types, f"parameter of {kind!r} noise", text, "noise")
    return NoiseSpec(kind, tuple(params.items()))


def measure_snr(clean: np.ndarray, noisy: np.ndarray) -> float:
    """SNR in dB by this module's convention: mean(clean^2) / mean((noisy - clean)^2)."""
    clean = np.asarray(clean, dtype=np.float64)
    diff = np.asarray(noisy, dtype=np.float64) - clean
    p_noise = float(np.mean(diff * diff))
    return math.inf if p_noise == 0 else 10.0 * math.log10(float(np.mean(clean * clean)) / p_noise)


def gaussian_at_snr(frames: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Frames plus white Gaussian noise, clipped to [0, 1], at exactly ``snr_db`` after clipping."""
    x = np.asarray(frames, dtype=np.float32)
    p_signal = float(np.mean(np.square(x, dtype=np.float64)))
    if p_signal == 0:
        raise DataError("the frames are all zero: their signal power is 0, so an SNR cannot be set.")
    z = rng.standard_normal(x.shape, dtype=np.float32)
    target = p_signal / 10.0 ** (snr_db / 10.0)
    ceiling = float(np.mean(np.where(z > 0, (1 - x) ** 2, np.where(z < 0, x * x, 0.0)), dtype=np.float64))
    if target >= ceiling:
        lowest = 10 * math.log10(p_signal / ceiling)
        raise InvalidParameterError(
            f"SNR {snr_db:g} dB cannot be reached with frames clipped to [0, 1]; the lowest reachable is "
            f"{lowest:.2f} dB for this sequence."
        )
    buf = np.empty_like(x)

    def noisy(sigma: float) -> np.ndarray:
        np.multiply(z, np.float32(sigma), out=buf)
        np.add(buf, x, out=buf)
        return np.clip(buf, 0.0, 1.0, out=buf)

    def excess(sigma: float) -> float:
        d = noisy(sigma) - x
        return float(np.mean(np.square(d, out=d), dtype=np.float64)) - target

    lo = hi = math.sqrt(target)  # unclipped answer; clipping only removes noise, so excess(lo) <= 0
    while excess(hi) < 0:
        lo, hi = hi, hi * 2.0
    # a relative tolerance of 1e-7 on sigma is ~1e-6 dB, far inside the 0.1 dB promise
    sigma = optimize.brentq(excess, lo, hi, xtol=1e-9 * lo, rtol=1e-7) if excess(lo) < 0 else lo
    return noisy(sigma).copy()


def _crosses(shape: tuple[int, int, int], n: int, arm: int, rng: np.random.Generator) -> np.ndarray:
    t, h, w = shape
    out = np.zeros(shape, dtype=bool)
    centres = rng.integers(0, [h, w], size=(t, n, 2))
    offsets = np.arange(-arm, arm + 1)
    for i in range(t):
        for r, c in centres[i]:
            rows = np.clip(r + offsets, 0, h - 1)
            cols = np.clip(c + offsets, 0, w - 1)
            out[i, rows, c] = True
            out[i, r, cols] = True
    return out


def _vlines(shape: tuple[int, int, int], n: int, width: int, fixed: bool, rng: np.random.Generator) -> np.ndarray:
    t, _, w = shape
    cols = np.zeros((t, w), dtype=bool)
    n = min(n, w)
    draws = (
        [rng.choice(w, size=n, replace=False)] * t
        if fixed
        else [rng.choice(w, size=n, replace=False) for _ in range(t)]
    )
    for i, starts in enumerate(draws):
        for s in starts:
            cols[i, s : s + width] = True
    return np.broadcast_to(cols[:, None, :], shape)


def apply_noise(seq: Sequence, spec: str | NoiseSpec, seed: int) -> Sequence:
    """Return ``seq`` with noise added (same ground truth), seeded: same inputs give identical frames.

    ``provenance.noise`` becomes the canonical spec (``a+b`` when noise is added
    to an already noisy sequence) and ``provenance.data_hash`` the hash of the
    noisy frames (the data a method actually sees).
    """
    ns = parse_noise(spec)
    if ns.kind == "none":
        return seq
    rng = np.random.default_rng(seed)
    x = seq.frames.astype(np.float64)
    if ns.kind == "gaussian":
        noisy = gaussian_at_snr(x, ns.get("snr"), rng)
    elif ns.kind == "cross":
        noisy = np.clip(x + ns.get("amp") * _crosses(x.shape, ns.get("n"), ns.get("arm"), rng), 0.0, 1.0)
    else:
        marks = _vlines(x.shape, ns.get("n"), ns.get("width"), ns.get("fixed"), rng)
        noisy = np.clip(x + ns.get("amp") * marks, 0.0, 1.0)
    before = seq.provenance.noise
    label = ns.canonical() if before in ("", "none") else f"{before}+{ns.canonical()}"  # noise on noise
    out = seq.with_frames(noisy.astype(np.float32), label)
    return replace(out, provenance=replace(out.provenance, data_hash=frames_hash(out.frames)))
