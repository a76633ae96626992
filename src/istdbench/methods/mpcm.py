"""MPCM: the multiscale patch-based contrast measure of Wei, You and Li (2016).

At each scale a d x d mean filter (d = 2r + 1) averages the frame; each pixel
is compared with the 8 neighbouring patch means at offset d (top-left, top,
top-right, right, bottom-right, bottom, bottom-left, left). A small target is
brighter (or darker) than its surroundings in every direction, so the product
of the differences towards two opposite neighbours is positive in all four
directions; the map is the minimum of the four products, the maximum over
scales, clamped at 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import ndimage

from istdbench.core.config import MethodConfig
from istdbench.core.method import SingleFrameMethod
from istdbench.core.registry import register

from ._numerics import snap_to_8bit

# Opposite pairs of neighbour offsets, in units of the patch size d (rows, cols).
_PAIRS = (((-1, -1), (1, 1)), ((-1, 0), (1, 0)), ((-1, 1), (1, -1)), ((0, 1), (0, -1)))


@dataclass(frozen=True)
class MPCMConfig(MethodConfig):
    """Scales of MPCM.

    Attributes
    ----------
    radii : tuple of int
        Patch radii r (patch side d = 2r + 1), each >= 1.
    """

    radii: tuple[int, ...] = (1, 2, 3, 4)

    def validate(self) -> None:
        ok = len(self.radii) > 0 and all(isinstance(r, int) and r >= 1 for r in self.radii)
        self._require("radii", ok, "a non-empty tuple of integers >= 1")


def mpcm_scale(frame: np.ndarray, radius: int) -> np.ndarray:
    """Patch contrast at one scale: min over directions of the opposite-pair products.

    Border rules follow MATLAB's ``imfilter(..., 'replicate')``: the mean
    filter replicates edge pixels, and a neighbour patch outside the frame
    takes the mean of the nearest patch inside it.
    """
    d = 2 * radius + 1
    h, w = frame.shape
    mean = ndimage.uniform_filter(frame, size=d, mode="nearest")
    padded = np.pad(mean, d, mode="edge")

    def diff(dr: int, dc: int) -> np.ndarray:
        r0, c0 = d + dr * d, d + dc * d
        return mean - padded[r0 : r0 + h, c0 : c0 + w]

    out = None
    for a, b in _PAIRS:
        prod = diff(*a) * diff(*b)
        out = prod if out is None else np.minimum(out, prod, out=out)
    return out


def mpcm(frame: np.ndarray, radii: tuple[int, ...]) -> np.ndarray:
    """MPCM map of one frame (float64, >= 0); see the module docstring."""
    frame = np.asarray(frame, dtype=np.float64)
    best = mpcm_scale(frame, radii[0])
    for r in radii[1:]:
        np.maximum(best, mpcm_scale(frame, r), out=best)
    return np.maximum(best, 0.0)


@register("mpcm")
class MPCM(SingleFrameMethod):
    """Multiscale patch-based contrast measure (single-frame, no learning).

    Presets: ``paper`` uses the seed paper's mean filters of sizes 3, 5, 7, 9
    (radii 1-4, also what the TensorISTD toolbox's stored results used);
    ``tensoristd`` the toolbox's current ``MPCM.m`` default, radii 1-9.
    Frames from an 8-bit source are snapped back to exact ``k/255``
    (`snap_to_8bit`): the directional differences cancel most of the
    intensity, so float32 input rounding alone shifts the map by ~1e-5
    relative; snapped, it equals MATLAB's to ~1e-15.

    References
    ----------
    Wei, Y., You, X., Li, H. "Multiscale patch-based contrast measure for
    small infrared target detection", Pattern Recognition 58, 216-226, 2016.
    """

    config_cls = MPCMConfig
    presets: ClassVar[dict[str, MethodConfig]] = {
        "paper": MPCMConfig(radii=(1, 2, 3, 4)),
        "tensoristd": MPCMConfig(radii=tuple(range(1, 10))),
    }
    default_preset = "paper"
    display_name = "MPCM"
    cite_key = "wei2016mpcm"
    paper_order = 10
    category = "HVS"
    citation = (
        "Y. Wei, X. You and H. Li, 'Multiscale patch-based contrast measure for small infrared target "
        "detection', Pattern Recognition, vol. 58, pp. 216-226, 2016."
    )

    def detect_frame(self, frame: np.ndarray) -> np.ndarray:
        return mpcm(snap_to_8bit(frame), self.config.radii)  # type: ignore[attr-defined]
