"""MPCM: against a direct per-pixel implementation of the definition, planted targets, edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from istdbench.core.errors import InvalidParameterError
from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.methods.mpcm import MPCM, MPCMConfig, mpcm


def _brute_mpcm(img: np.ndarray, radii: tuple[int, ...]) -> np.ndarray:
    """Per-pixel definition with MATLAB 'replicate' borders (indices clamped into the frame)."""
    h, w = img.shape

    def at(x: np.ndarray, i: int, j: int) -> float:
        return x[min(max(i, 0), h - 1), min(max(j, 0), w - 1)]

    scales = []
    for r in radii:
        d = 2 * r + 1
        mean = np.array(
            [
                [np.mean([at(img, i + a, j + b) for a in range(-r, r + 1) for b in range(-r, r + 1)]) for j in range(w)]
                for i in range(h)
            ]
        )
        out = np.empty((h, w))
        for i in range(h):
            for j in range(w):
                diffs = {
                    (a, b): mean[i, j] - at(mean, i + a * d, j + b * d)
                    for a in (-1, 0, 1)
                    for b in (-1, 0, 1)
                    if (a, b) != (0, 0)
                }
                pairs = [((-1, -1), (1, 1)), ((-1, 0), (1, 0)), ((-1, 1), (1, -1)), ((0, 1), (0, -1))]
                out[i, j] = min(diffs[p] * diffs[q] for p, q in pairs)
        scales.append(out)
    return np.maximum(np.max(scales, axis=0), 0.0)


def test_matches_definition(rng: np.random.Generator) -> None:
    img = rng.random((13, 16))
    np.testing.assert_allclose(mpcm(img, (1, 2)), _brute_mpcm(img, (1, 2)), rtol=1e-12, atol=1e-15)


def test_planted_targets_bright_and_dark(rng: np.random.Generator) -> None:
    frame = 0.5 + 0.02 * rng.standard_normal((48, 48))
    frame[10:13, 10:13] += 0.3  # bright
    frame[34:37, 30:33] -= 0.3  # dark: also positive in every direction
    out = mpcm(frame, (1, 2, 3, 4))
    assert (out >= 0).all()
    top2 = np.argsort(out.ravel())[::-1]
    peaks = {tuple(np.unravel_index(k, out.shape)) for k in top2[:50]}
    assert any(10 <= r <= 12 and 10 <= c <= 12 for r, c in peaks)
    assert any(34 <= r <= 36 and 30 <= c <= 32 for r, c in peaks)
    assert out[11, 11] > 10 * np.median(out)


def test_edge_is_suppressed() -> None:
    # a straight step edge: the difference towards one side is ~0, so the product is not positive
    frame = np.zeros((30, 30))
    frame[:, 15:] = 1.0
    assert mpcm(frame, (1, 2)).max() == 0.0


@pytest.mark.parametrize("shape", [(2, 5, 4), (1, 31, 47), (1, 512, 640)])
def test_shapes_and_constant_frames(shape: tuple[int, int, int]) -> None:
    seq = Sequence(frames=np.full(shape, 0.25, dtype=np.float32))
    out = create_method("mpcm", "tensoristd").detect(seq).target
    assert out.shape == shape
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, 0.0)


def test_presets() -> None:
    assert MPCM.presets["paper"].radii == (1, 2, 3, 4)
    assert MPCM.presets["tensoristd"].radii == tuple(range(1, 10))
    assert create_method("mpcm", overrides={"radii": "1,3"}).config.radii == (1, 3)


@pytest.mark.parametrize("radii", [(), (0, 1), (1.5,)])
def test_invalid_radii(radii: tuple) -> None:
    with pytest.raises(InvalidParameterError, match="'radii' parameter of MPCMConfig must be a non-empty tuple"):
        MPCMConfig(radii=radii)
