"""White top-hat filtering: the image minus its morphological opening.

The opening (erosion, then dilation, with a flat structuring element) removes
bright structures smaller than the element; what it removes is the target map.
The TensorISTD toolbox calls MATLAB's ``imtophat(img, strel('disk', 3))``;
``strel('disk', 3)`` is decomposed into line elements whose union is a 5x5
square, which is what the toolbox's maps were computed with (preset
``tensoristd``). The exact Euclidean disk of radius 3 (29 pixels) is preset
``disk``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from scipy import ndimage

from istdbench.core.config import MethodConfig
from istdbench.core.method import SingleFrameMethod
from istdbench.core.registry import register

from ._numerics import snap_to_8bit


@dataclass(frozen=True)
class TophatConfig(MethodConfig):
    """Structuring element of the top-hat.

    Attributes
    ----------
    shape : {"square", "disk"}
        ``square``: a (2r+1) x (2r+1) square; ``disk``: pixels within
        Euclidean distance r of the centre.
    radius : int
        r, >= 1.
    """

    shape: Literal["square", "disk"] = "square"
    radius: int = 2

    def validate(self) -> None:
        self._require("radius", isinstance(self.radius, int) and self.radius >= 1, "an integer >= 1")


def structuring_element(shape: str, radius: int) -> np.ndarray:
    """Boolean footprint of side 2*radius+1."""
    if shape == "square":
        return np.ones((2 * radius + 1, 2 * radius + 1), dtype=bool)
    ax = np.arange(-radius, radius + 1)
    return ax[:, None] ** 2 + ax[None, :] ** 2 <= radius**2


def white_tophat(frame: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """``frame - opening(frame)`` with MATLAB's border rules.

    MATLAB's ``imerode`` pads with +inf and ``imdilate`` with -inf, so pixels
    outside the image never win the min or the max.

    Parameters
    ----------
    frame : ndarray of shape (H, W)
    footprint : ndarray of bool, odd sides

    Returns
    -------
    ndarray of shape (H, W)
        Non-negative target map (float64).
    """
    frame = np.asarray(frame, dtype=np.float64)
    eroded = ndimage.grey_erosion(frame, footprint=footprint, mode="constant", cval=np.inf)
    opened = ndimage.grey_dilation(eroded, footprint=footprint, mode="constant", cval=-np.inf)
    return frame - opened


@register("tophat")
class Tophat(SingleFrameMethod):
    """White top-hat baseline (single-frame, no learning).

    Input frames from an 8-bit source are snapped back to exact ``k/255``
    (`snap_to_8bit`) so that the map equals MATLAB's.

    References
    ----------
    Rivest, J.-F., Fortin, R. "Detection of dim targets in digital infrared
    imagery by morphological image processing", Optical Engineering 35(7),
    1886-1893, 1996.
    """

    config_cls = TophatConfig
    presets: ClassVar[dict[str, MethodConfig]] = {
        "tensoristd": TophatConfig(shape="square", radius=2),
        "disk": TophatConfig(shape="disk", radius=3),
    }
    default_preset = "tensoristd"
    display_name = "Top-hat"
    cite_key = "bai2010tophat"
    paper_order = 5
    category = "Filter"
    citation = (
        "J.-F. Rivest and R. Fortin, 'Detection of dim targets in digital infrared imagery by morphological "
        "image processing', Optical Engineering, vol. 35, no. 7, pp. 1886-1893, 1996."
    )

    def detect_frame(self, frame: np.ndarray) -> np.ndarray:
        cfg: TophatConfig = self.config  # type: ignore[assignment]
        return white_tophat(snap_to_8bit(frame), structuring_element(cfg.shape, cfg.radius))
