"""Contrast gains of a detector: SCRG, BSF and CG around each annotated target.

Geometry of the TensorISTD toolbox (``measure_calculator.m``): around the
rounded target pixel, a 21x21 window (radius 10, image borders replicated)
minus the central 5x5 target square is the background ring. Per target, in
the input frame (``in``) and in the normalised output map (``out``):

* S = |max(target square) - mean(ring)|, the signal;
* C = std(ring) with N - 1 in the denominator, the clutter.

Then SCRG = (S_out / C_out) / (S_in / C_in), BSF = C_in / C_out and
CG = S_out / S_in, per target; +-inf values are dropped and the rest averaged
ignoring NaN. Frames whose map is all zero are skipped.

Under protocol ``tensoristd`` two toolbox habits are kept: a skipped all-zero
map does not consume its annotation line, so every later frame is measured at
the previous frame's annotation; and a mean over no value is reported as Inf.
Under ``clean`` annotations stay with their frames and such a mean is NaN.
"""

from __future__ import annotations

import numpy as np

from .groundtruth import toolbox_pixel
from .protocols import RocProtocol, get_protocol

RB = 10  # background window radius (21x21)
RT = 2  # target square radius (5x5)
_OFFSETS = np.arange(-RB, RB + 1)
_RING = np.ones((2 * RB + 1, 2 * RB + 1), dtype=bool)
_RING[RB - RT : RB + RT + 1, RB - RT : RB + RT + 1] = False


def _patches(stack: np.ndarray, t: np.ndarray, rc: np.ndarray) -> np.ndarray:
    """(n, 21, 21) windows of ``stack`` at frames ``t``, zero-based pixels ``rc``, borders replicated."""
    h, w = stack.shape[1:]
    rows = np.clip(rc[:, :1] + _OFFSETS, 0, h - 1)
    cols = np.clip(rc[:, 1:] + _OFFSETS, 0, w - 1)
    return stack[t[:, None, None], rows[:, :, None], cols[:, None, :]]


def _signal_clutter(patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ring = patches[:, _RING]
    peak = patches[:, ~_RING].max(axis=1)
    return np.abs(peak - ring.mean(axis=1)), ring.std(axis=1, ddof=1)


def _assign(centres: list[np.ndarray], zero: np.ndarray, shift: bool) -> tuple[np.ndarray, np.ndarray]:
    """Frame index and zero-based pixel of every measured target."""
    frames, pixels = [], []
    line = 0
    for t in range(len(zero)):
        if zero[t]:
            continue  # the toolbox skips the frame before reading its annotation line
        src = line if shift else t
        line += 1
        if src >= len(centres):
            continue
        for px in toolbox_pixel(np.asarray(centres[src]).reshape(-1, 2)) - 1:
            frames.append(t)
            pixels.append(px)
    return np.asarray(frames, dtype=np.intp), np.asarray(pixels, dtype=np.intp).reshape(-1, 2)


def _mean_finite(values: np.ndarray, empty: float) -> float:
    values = values[~np.isinf(values)]
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else empty


def contrast_gains(
    frames: np.ndarray, maps: np.ndarray, centres: list[np.ndarray], protocol: str | RocProtocol = "tensoristd"
) -> dict[str, float]:
    """SCRG, BSF and CG of target maps against their input frames.

    Parameters
    ----------
    frames : ndarray of shape (T, H, W)
        Input frames scaled to [0, 1] (MATLAB ``im2double``).
    maps : ndarray of shape (T, H, W)
        Raw target maps; cut to 0/1 by a binarising protocol's rule, then
        normalised by the protocol's rule before measuring.
    centres : list of T arrays of shape (k, 2)
        Zero-based (row, col) target centres per frame; rounded as the toolbox
        rounds its 1-based annotations.
    protocol : str
        ``tensoristd`` or ``clean[...]``, optionally ``+bin(RULE)``.

    Returns
    -------
    dict
        ``SCRG``, ``BSF``, ``CG``.
    """
    proto = get_protocol(protocol)
    inp = np.asarray(frames, dtype=np.float64)
    out = proto.normalise(proto.prepare(maps))
    zero = out.reshape(len(out), -1).max(axis=1) <= 0
    t, rc = _assign(centres, zero, proto.toolbox_contrast)
    s_in, c_in = _signal_clutter(_patches(inp, t, rc))
    s_out, c_out = _signal_clutter(_patches(out, t, rc))
    empty = float("inf") if proto.toolbox_contrast else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "SCRG": _mean_finite((s_out / c_out) / (s_in / c_in), empty),
            "BSF": _mean_finite(c_in / c_out, empty),
            "CG": _mean_finite(s_out / s_in, empty),
        }
