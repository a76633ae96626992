"""Named binarisation rules: how a raw target map becomes detections for IoU, F1, Pd and Fa.

Each rule is a spec string recorded with the result, so a number always says
how its map was cut:

``ratio:R``
    Per frame, ``map > R * max(frame)``: ``R`` of the max-normalised map (the
    seed paper's rule for the traditional methods, R = 0.5).
``chunk-max:R`` or ``chunk-max:R,L``
    ``map > R * max`` over each chunk of ``L`` frames: the NeurSTT authors'
    rule (R = 0.4; the 3-D CNN code of 3DSTPM's first author uses R = 0.5).
    Chunks are frames ``[0, L), [L, 2L), ...`` of the maps given, and the
    remainder: the frames each model of `istdbench.methods._chunks` writes.
    Without ``L`` the caller's default applies: the ``chunk_length`` of the
    method that made the maps where that is known (run configs, maps files
    written by ``istdbench detect``), else 80, both papers' chunk length.
``minmax:R``
    Per frame, ``(map - min) / (max - min) > R``: the map min-max normalised
    to [0, 1] (MATLAB ``mat2gray``, pyirstdmetrics' ``prepare_data``), the rule
    of protocol ``basicirstd`` (R = 0.5). A constant frame detects nothing.
``fixed:X``
    ``map > X`` on the raw map.
``adaptive:K``
    Per frame, ``map > mean + K * std`` (population std).

The comparison is strict (``>``), as in BasicIRSTD and pyirstdmetrics (``pred
> 0.5``), so a map with no positive value never detects anything under the
ratio rules. On an image set every rule but ``chunk-max`` applies per image
(an image is a frame); ``chunk-max`` needs the frames of a sequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from istdbench.core.errors import InvalidParameterError, unknown_name

from ._checks import is_image_list

KINDS = ("ratio", "chunk-max", "minmax", "fixed", "adaptive")
DEFAULT_CHUNK = 80


@dataclass(frozen=True)
class ThresholdRule:
    """A parsed binarisation rule; `spec` is its canonical string."""

    kind: str
    value: float
    chunk: int = DEFAULT_CHUNK

    @property
    def spec(self) -> str:
        v = f"{self.value:g}"
        if self.kind == "chunk-max" and self.chunk != DEFAULT_CHUNK:
            return f"{self.kind}:{v},{self.chunk}"
        return f"{self.kind}:{v}"

    def cutoffs(self, maps: np.ndarray) -> np.ndarray:
        """The per-frame cut-off, shape (T, 1, 1): a pixel is a detection iff ``map > cutoff``."""
        maps = np.asarray(maps, dtype=np.float64)
        t = maps.shape[0]
        flat = maps.reshape(t, -1)
        if self.kind == "minmax":
            raise InvalidParameterError("threshold 'minmax' compares the normalised map with R; use binarize().")
        if self.kind == "fixed":
            cut = np.full(t, self.value)
        elif self.kind == "adaptive":
            cut = flat.mean(axis=1) + self.value * flat.std(axis=1)
        else:
            peak = flat.max(axis=1)
            if self.kind == "chunk-max":
                starts = np.arange(0, t, self.chunk)
                peak = np.repeat(np.maximum.reduceat(peak, starts), np.diff(np.append(starts, t)))
            # no positive value: nothing is a detection (cut-off +inf rather than R * a negative max)
            cut = np.where(peak > 0, self.value * peak, np.inf)
        return cut[:, None, None]

    def binarize(self, maps: Any) -> Any:
        """Boolean detections of raw maps: (T, H, W) for a (T, H, W) stack, a list of (H, W) for a list of images."""
        if not is_image_list(maps):
            maps = np.asarray(maps, dtype=np.float64)
            if maps.ndim != 3:
                raise InvalidParameterError(f"maps must have shape (T, H, W); got {maps.shape}.")
            return self._binarize_stack(maps)
        if self.kind == "chunk-max":
            raise InvalidParameterError(
                f"threshold {self.spec!r} cuts chunks of a sequence's frames; an image set has none "
                "(use ratio:R or minmax:R, which apply per image)."
            )
        return [self._binarize_stack(np.asarray(m, dtype=np.float64)[None])[0] for m in maps]

    def _binarize_stack(self, maps: np.ndarray) -> np.ndarray:
        if self.kind != "minmax":
            return maps > self.cutoffs(maps)
        flat = maps.reshape(maps.shape[0], -1)
        lo = flat.min(axis=1)[:, None, None]
        span = flat.max(axis=1)[:, None, None] - lo
        unit = maps - lo  # the normalised map itself, so ties compare as in pyirstdmetrics
        with np.errstate(divide="ignore", invalid="ignore"):
            unit /= span
        out = unit > self.value
        out &= span > 0  # a constant frame detects nothing
        return out


def parse_threshold(spec: str | ThresholdRule, default_chunk: int = DEFAULT_CHUNK) -> ThresholdRule:
    """Parse a threshold spec: ``ratio:0.5``, ``chunk-max:0.4``, ``minmax:0.5``, ``fixed:0.2``, ``adaptive:3``.

    ``default_chunk``: the chunk length of ``chunk-max:R`` given without one.
    """
    if isinstance(spec, ThresholdRule):
        return spec
    if not isinstance(spec, str) or ":" not in spec:
        raise InvalidParameterError(
            f"threshold must be 'KIND:VALUE' with KIND one of {', '.join(KINDS)} (e.g. 'ratio:0.5'); got {spec!r}."
        )
    kind, _, rest = spec.strip().partition(":")
    if kind not in KINDS:
        raise unknown_name("threshold rule", kind, KINDS)
    parts = [p.strip() for p in rest.split(",")]
    if len(parts) > (2 if kind == "chunk-max" else 1):
        raise InvalidParameterError(f"threshold {spec!r} has too many values; see the allowed forms in the docs.")
    value = _number(spec, parts[0])
    chunk = default_chunk
    if len(parts) == 2:
        if not parts[1].isdigit() or int(parts[1]) < 1:
            raise InvalidParameterError(
                f"The chunk length of threshold {spec!r} must be a positive integer. Got {parts[1]!r} instead."
            )
        chunk = int(parts[1])
    if kind in ("ratio", "chunk-max", "minmax") and not 0 <= value <= 1:
        raise InvalidParameterError(
            f"The ratio of threshold {spec!r} must be a float in the range [0, 1]. Got {value:g} instead."
        )
    return ThresholdRule(kind=kind, value=value, chunk=chunk)


def _number(spec: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidParameterError(f"threshold {spec!r} needs a number after ':'; got {text!r}.") from None
    if not math.isfinite(value):
        raise InvalidParameterError(f"threshold {spec!r} must be a finite number; got {text!r}.")
    return value


def binarize(maps: Any, spec: str | ThresholdRule) -> Any:
    """Detections of ``maps`` (T, H, W), or of a list of (H, W) images, under the threshold rule ``spec``."""
    return parse_threshold(spec).binarize(maps)
