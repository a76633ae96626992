"""CTSTC: the filter, k-means semantics, the window schedule, the pipeline, presets and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.methods.ctstc import (
    CTSTC,
    CTSTCConfig,
    cluster_means,
    ctstc,
    estimate_k,
    highpass,
    nearest_centre,
    weighted_kmeans,
    window_list,
)

# a narrower spectral notch suits 32x32 frames (the original's sigma 40 is for 256x256), and a
# lower lambda_L lets a 0.4 target through its threshold on 32x32 frames
SMALL = CTSTCConfig(filter_sigma=5.0, lambda_l=10.0)


def _video(rng: np.random.Generator, n: int = 8, shape: tuple[int, int] = (32, 32)) -> np.ndarray:
    """A smooth background with mild noise and one bright pixel moving one row per frame."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    frames = 0.3 + 0.2 * np.sin(xx / 6.0 + yy / 9.0) + 0.01 * rng.standard_normal((n, h, w))
    for t in range(n):
        frames[t, 8 + t, 15] += 0.4
    return np.clip(frames, 0, 1)


def test_highpass_removes_the_mean_and_keeps_a_point() -> None:
    img = np.full((16, 20), 7.0)
    np.testing.assert_allclose(highpass(img, 3.0), 0, atol=1e-12)
    img[5, 9] += 10.0
    out = highpass(img, 3.0)
    assert np.unravel_index(np.argmax(out), out.shape) == (5, 9)


def test_highpass_grid_is_the_originals_on_256() -> None:
    rng = np.random.default_rng(1)
    img = rng.random((256, 256)) * 255
    yy, xx = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128), indexing="ij")
    filt = 1 - np.exp(-(xx**2 + yy**2) / (2 * 40.0**2))
    expect = np.real(np.fft.ifft2(np.fft.ifftshift(np.fft.fftshift(np.fft.fft2(img)) * filt)))
    np.testing.assert_allclose(highpass(img, 40.0), expect, atol=1e-10)


def test_cluster_means_follow_matlab_mean() -> None:
    features = np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0], [10.0, 20.0, 60.0]])
    means = cluster_means(features, np.array([0, 0, 1]), 3)
    np.testing.assert_array_equal(means[0], [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(means[1], [30.0, 30.0, 30.0])  # one row: MATLAB's mean of a row vector
    assert np.isnan(means[2]).all()  # empty cluster


def test_nearest_centre_ties_go_low_and_nan_centres_lose() -> None:
    features = np.array([[0.0, 0.0], [1.0, 1.0]])
    centres = np.array([[np.nan, np.nan], [0.5, 0.5], [0.5, 0.5], [1.0, 1.0]])
    np.testing.assert_array_equal(nearest_centre(features, centres), [1, 3])
    np.testing.assert_array_equal(nearest_centre(features, np.full((2, 2), np.nan)), [0, 0])


def test_weighted_kmeans_on_constant_data_puts_everything_in_the_first_cluster() -> None:
    features = np.full((50, 7), 0.5)  # what every window's first call sees
    idx = weighted_kmeans(features, np.arange(7), CTSTCConfig())
    assert (idx == 0).all()


def test_window_list_is_the_originals_t_list() -> None:
    assert window_list(20, 3) == [4, 7, 10, 13, 16, 17, 20]
    assert window_list(19, 3) == [4, 7, 10, 13, 16, 16, 19]  # the original repeats a window here
    assert window_list(7, 3) == [4, 4, 7]


def test_estimate_k_is_the_slice_count_with_per_1(rng: np.random.Generator) -> None:
    d = rng.random((10, 10, 7))
    assert estimate_k(d, 1.0) == 7
    assert estimate_k(d, 0.05) == 1  # the second singular value exceeds 5% of the first


def test_pipeline_is_deterministic_and_finds_the_target(rng: np.random.Generator) -> None:
    frames = _video(rng)
    res = ctstc(frames, SMALL)
    assert res.ks == [7, 7, 7] and len(res.iterations) == 3
    assert np.isfinite(res.target).all()
    np.testing.assert_array_equal(ctstc(frames, SMALL).target, res.target)
    assert not res.target[0].any()  # the all-zero prior is frame 1's map
    peaks = [int(np.argmax(res.target[t])) for t in range(1, 8)]
    # windows start at frames 4, 5, 8: the window at 5 writes frames 2-4 from the slots of frames 4-6
    # (the original's bookkeeping assumes a step of 3); frames 5-8 are aligned
    assert peaks == [np.ravel_multi_index((8 + t + (2 if t < 4 else 0), 15), (32, 32)) for t in range(1, 8)]


def test_prior_maps_are_used_for_the_first_frames(rng: np.random.Generator) -> None:
    frames = _video(rng, n=10)  # windows 4, 7, 7, 10: frames 1-3 keep the priors (n = 8 would overwrite 2-3)
    prior = np.zeros((3, 32, 32))
    prior[:, 8, 15] = 255.0
    res = ctstc(frames, SMALL, prior=prior)
    np.testing.assert_array_equal(res.target[:3], prior)
    with pytest.raises(DataError, match="prior"):
        ctstc(frames, SMALL, prior=np.zeros((2, 32, 32)))


def test_non_square_frames(rng: np.random.Generator) -> None:
    frames = _video(rng, shape=(24, 32))
    res = ctstc(frames, SMALL)  # transition 'auto': element-wise on non-square frames
    assert res.target.shape == frames.shape and np.isfinite(res.target).all()
    with pytest.raises(DataError, match="square"):
        ctstc(frames, CTSTCConfig(filter_sigma=5.0, transition="matrix"))


def test_constant_frames_give_finite_maps() -> None:
    res = ctstc(np.full((7, 16, 16), 0.4), SMALL)
    assert np.isfinite(res.target).all()
    assert np.abs(res.target).max() < 1e-6  # the filter leaves nothing of a constant frame


def test_presets_and_lambda() -> None:
    original, paper = CTSTC.presets["original"], CTSTC.presets["paper"]
    assert isinstance(original, CTSTCConfig) and isinstance(paper, CTSTCConfig)
    assert original.lambda1((256, 256)) == pytest.approx(30 / (16 * 7))
    assert paper.lambda1((256, 256)) == pytest.approx(30 / np.sqrt(256 * 7))
    with pytest.raises(InvalidParameterError):
        CTSTCConfig(kmeans_local=0.5, kmeans_global=0.6)
    with pytest.raises(InvalidParameterError):
        CTSTCConfig(frame_step=0)


def test_bad_input() -> None:
    with pytest.raises(DataError, match="at least 7 frames"):
        ctstc(np.zeros((6, 16, 16)), SMALL)
    with pytest.raises(DataError, match="at least 3 pixels"):
        ctstc(np.zeros((7, 2, 16)), SMALL)
    with pytest.raises(InvalidParameterError, match="at least 7 frames"):
        create_method("ctstc", "paper").detect(Sequence(np.zeros((5, 16, 16), dtype=np.float32), name="short"))
