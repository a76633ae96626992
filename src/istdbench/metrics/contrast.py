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

On an image set (lists of (H, W) images and maps) every image is a one-frame
sequence of its own, so no annotation ever moves to another image; the
per-target values of all images are averaged together.
"""

from __future__ import annotations

import numpy as np

from ._checks import Frames, frame_stacks, is_image_list
from .groundtruth import toolbox_pixel
from .protocols import RocProtocol, get_roc_protocol

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
    frames: Frames, maps: Frames, centres: list[np.ndarray], protocol: str | RocProtocol = "tensoristd"
) -> dict[str, float]:
    """SCRG, BSF and CG of target maps against their input frames.

    Parameters
    ----------
    frames : ndarray of shape (T, H, W), or a list of (H, W) images
        Input frames scaled to [0, 1] (MATLAB ``im2double``).
    maps : ndarray of shape (T, H, W), or a list of (H, W) maps
        Raw target maps; cut to 0/1 by a binarising protocol's rule, then
        normalised by the protocol's rule before measuring.
    centres : list of T arrays of shape (k, 2)
        Zero-based (row, col) target centres per frame; rounded as the toolbox
        rounds its 1-based annotations.
    protocol : str
        ``tensoristd`` or ``clean[...]``.

    Returns
    -------
    dict
        ``SCRG``, ``BSF``, ``CG``.
    """
    proto = get_roc_protocol(protocol)
    maps = proto.prepare(maps)
    if is_image_list(maps):
        peak = max(float(np.max(m)) for m in maps) if proto.norm == "sequence" else None
        parts = [
            _ratios(f, m, [c], proto, peak)
            for f, m, c in zip(frame_stacks(frames), frame_stacks(maps), centres, strict=True)
        ]
        scrg, bsf, cg = (np.concatenate([p[k] for p in parts]) for k in range(3))
    else:
        scrg, bsf, cg = _ratios(frames, maps, centres, proto)
    empty = float("inf") if proto.toolbox_contrast else float("nan")
    return {"SCRG": _mean_finite(scrg, empty), "BSF": _mean_finite(bsf, empty), "CG": _mean_finite(cg, empty)}


def _ratios(
    frames: np.ndarray, maps: np.ndarray, centres: list[np.ndarray], proto: RocProtocol, peak: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per measured target of one stack: SCRG, BSF and CG (inf and NaN kept)."""
    inp = np.asarray(frames, dtype=np.float64)
    out = proto.normalise(maps, peak)
    zero = out.reshape(len(out), -1).max(axis=1) <= 0
    t, rc = _assign(centres, zero, proto.toolbox_contrast)
    s_in, c_in = _signal_clutter(_patches(inp, t, rc))
    s_out, c_out = _signal_clutter(_patches(out, t, rc))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (s_out / c_out) / (s_in / c_in), c_in / c_out, s_out / s_in
