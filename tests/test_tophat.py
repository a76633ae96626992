"""Top-hat: structuring elements, MATLAB border rules against a brute-force opening, planted targets."""

from __future__ import annotations

import numpy as np
import pytest

from istdbench.core.errors import InvalidParameterError
from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.methods.tophat import Tophat, TophatConfig, structuring_element, white_tophat


def _brute_opening(img: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Erosion then dilation over in-image pixels only (= +inf / -inf padding)."""
    h, w = img.shape
    r = fp.shape[0] // 2
    offsets = [(dr - r, dc - r) for dr, dc in zip(*np.nonzero(fp), strict=True)]

    def morph(x: np.ndarray, op) -> np.ndarray:
        out = np.empty_like(x)
        for i in range(h):
            for j in range(w):
                vals = [x[i + a, j + b] for a, b in offsets if 0 <= i + a < h and 0 <= j + b < w]
                out[i, j] = op(vals)
        return out

    return morph(morph(img, min), max)


def test_structuring_elements() -> None:
    assert structuring_element("square", 2).shape == (5, 5)
    assert structuring_element("square", 2).all()
    disk = structuring_element("disk", 3)
    assert disk.shape == (7, 7)
    assert disk.sum() == 29
    np.testing.assert_array_equal(disk, disk.T)


@pytest.mark.parametrize(("shape", "radius"), [("square", 2), ("disk", 3), ("disk", 1)])
def test_matches_brute_force_opening_with_borders(rng: np.random.Generator, shape: str, radius: int) -> None:
    img = rng.random((11, 14))
    fp = structuring_element(shape, radius)
    np.testing.assert_allclose(white_tophat(img, fp), img - _brute_opening(img, fp), rtol=0, atol=1e-15)


def test_planted_target_is_the_peak(rng: np.random.Generator) -> None:
    cols = np.mgrid[0:40, 0:50][1]
    frame = 0.3 + 0.2 * cols / 50 + 0.01 * rng.random((40, 50))
    frame[20:22, 30:32] += 0.4
    seq = Sequence(frames=frame[None], name="planted")
    out = create_method("tophat").detect(seq).target[0]
    assert (out >= 0).all()
    peak = np.unravel_index(np.argmax(out), out.shape)
    assert 20 <= peak[0] <= 21 and 30 <= peak[1] <= 31
    assert out[20:22, 30:32].min() > 0.35


@pytest.mark.parametrize("shape", [(3, 3, 3), (2, 17, 9), (1, 512, 640)])
def test_shapes_and_constant_frames(shape: tuple[int, int, int]) -> None:
    seq = Sequence(frames=np.full(shape, 0.5, dtype=np.float32))
    for preset in Tophat.presets:
        out = create_method("tophat", preset).detect(seq).target
        assert out.shape == shape
        np.testing.assert_array_equal(out, 0.0)


def test_presets_and_overrides() -> None:
    assert Tophat.presets["tensoristd"] == TophatConfig(shape="square", radius=2)
    assert Tophat.default_preset == "tensoristd"
    m = create_method("tophat", overrides={"shape": "disk", "radius": "3"})
    assert m.config == Tophat.presets["disk"]


def test_invalid_config() -> None:
    with pytest.raises(InvalidParameterError, match="'radius' parameter of TophatConfig must be an integer >= 1"):
        TophatConfig(radius=0)
    with pytest.raises(InvalidParameterError, match="'shape' parameter of TophatConfig must be one of"):
        TophatConfig(shape="circle")  # type: ignore[arg-type]
