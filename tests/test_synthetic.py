"""Synthetic sequences: determinism, exact ground truth, the SCR the spec asks for, and spec parsing."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import ndimage

from istdbench.core.errors import InvalidParameterError
from istdbench.datasets.clutter import SCENES, fractal_texture, gaussian_spot
from istdbench.datasets.scr import measure_scr
from istdbench.datasets.synthetic import SyntheticSpec, make_sequence, parse_spec

SMALL = SyntheticSpec(h=64, w=64, t=20, seed=0)


@pytest.fixture(scope="module")
def small():
    return make_sequence(SMALL)


def test_same_spec_gives_identical_arrays(small) -> None:
    again = make_sequence(SyntheticSpec(h=64, w=64, t=20, seed=0))
    np.testing.assert_array_equal(small.frames, again.frames)
    np.testing.assert_array_equal(small.masks, again.masks)
    for a, b in zip(small.points, again.points, strict=True):
        np.testing.assert_array_equal(a, b)
    assert small.provenance.data_hash == again.provenance.data_hash


def test_other_seed_differs(small) -> None:
    other = make_sequence(SyntheticSpec(h=64, w=64, t=20, seed=1))
    assert not np.array_equal(small.frames, other.frames)
    assert other.provenance.data_hash != small.provenance.data_hash


def test_shape_range_and_names(small) -> None:
    assert small.shape == (20, 64, 64) and small.frames.dtype == np.float32
    assert 0.0 <= small.frames.min() and small.frames.max() <= 1.0
    assert small.name == "synthetic/h=64,w=64,t=20,seed=0"
    assert small.name.split("/")[0] == "synthetic"
    assert small.provenance.source == "synthetic:h=64,w=64,t=20,seed=0"
    assert small.provenance.frame_numbers == tuple(range(1, 21))


@pytest.mark.parametrize("clutter", sorted(SCENES))
def test_masks_and_points_agree(clutter: str) -> None:
    seq = make_sequence(SyntheticSpec(h=64, w=80, t=8, seed=3, targets=3, clutter=clutter))
    for mask, pts in zip(seq.masks, seq.points, strict=True):
        assert pts.shape == (3, 2)
        for r, c in pts:  # every centre lies in the mask, on the pixel that contains it
            assert mask[round(r), round(c)]
        assert ndimage.label(mask, structure=np.ones((3, 3)))[1] <= 3


def test_target_sizes_set_mask_area() -> None:
    one = make_sequence(SyntheticSpec(t=5, targets=1, size_min=1, size_max=1, distractors=0))
    five = make_sequence(SyntheticSpec(t=5, targets=1, size_min=5, size_max=5, distractors=0))
    assert one.masks.sum(axis=(1, 2)).max() <= 4  # 1 px, at most split over 4 pixels
    areas = five.masks.sum(axis=(1, 2))
    assert 13 <= areas.min() and areas.max() <= 30  # a disc of diameter ~5


@pytest.mark.parametrize(("clutter", "scr"), [("cloud", 2.0), ("ground", 4.0), ("mixed", 1.5)])
def test_median_scr_matches_spec(clutter: str, scr: float) -> None:
    spec = SyntheticSpec(h=96, w=96, t=15, seed=2, targets=2, scr=scr, clutter=clutter)
    seq = make_sequence(spec)
    per_target = measure_scr(seq.frames, seq.points, exclude=spec.size_max + 3.0).reshape(spec.t, spec.targets)
    np.testing.assert_allclose(np.median(per_target, axis=0), scr, rtol=0.03)


def test_targets_move_and_camera_drifts() -> None:
    seq = make_sequence(SyntheticSpec(t=20, targets=1, speed=1.0, drift=0.5, sensor=0.0, distractors=0))
    path = np.array([p[0] for p in seq.points])
    steps = np.hypot(*np.diff(path, axis=0).T)
    assert 0.4 < steps.mean() < 1.6
    # frame 10 is frame 0 moved by about 10 x 0.5 px: find the integer shift that matches best
    clutter = make_sequence(SyntheticSpec(t=11, targets=0, drift=0.5, sensor=0.0, distractors=0, clutter="ground"))
    a, b = clutter.frames[0].astype(float), clutter.frames[10].astype(float)
    m = 8
    err = {
        (dy, dx): np.abs(a[m + dy : 64 - m + dy, m + dx : 64 - m + dx] - b[m:-m, m:-m]).mean()
        for dy in range(-m, m + 1)
        for dx in range(-m, m + 1)
    }
    dy, dx = min(err, key=err.get)
    assert 4.0 <= np.hypot(dy, dx) <= 6.0
    assert err[(dy, dx)] < 0.2 * err[(0, 0)]


def test_zero_targets_and_no_noise() -> None:
    seq = make_sequence(SyntheticSpec(t=3, targets=0, sensor=0.0))
    assert not seq.masks.any() and all(len(p) == 0 for p in seq.points)


def test_target_count_does_not_change_the_clutter() -> None:
    one = make_sequence(SyntheticSpec(t=4, targets=1, size_max=3))
    three = make_sequence(SyntheticSpec(t=4, targets=3, size_max=3))
    np.testing.assert_allclose(one.points[0], three.points[0][:1], rtol=0, atol=1e-12)  # same first target
    # away from every target the frames differ only by the final affine intensity scaling
    near = ndimage.binary_dilation(one.masks | three.masks, iterations=9)  # PSF tails included
    x, y = one.frames[~near].astype(float), three.frames[~near].astype(float)
    slope, offset = np.polyfit(x, y, 1)
    np.testing.assert_allclose(slope * x + offset, y, rtol=0, atol=1e-5)
    assert fractal_texture(np.random.default_rng(0), (32, 32), 3.0).std() == pytest.approx(1.0, abs=1e-12)


def test_gaussian_spot_peak_and_energy() -> None:
    (sr, sc), spot = gaussian_spot(10.5, 10.5, 0.42, (32, 32))
    assert spot.max() == pytest.approx(1.0)
    assert np.count_nonzero(spot > 0.99) == 4  # centred on a pixel corner: four equal pixels
    (sr, sc), spot = gaussian_spot(0.2, 31.0, 1.0, (32, 32))  # clipped at the border
    assert spot.shape[0] == sr.stop - sr.start and spot.shape[1] == sc.stop - sc.start


def test_spec_string_round_trip() -> None:
    spec = parse_spec("synthetic:h=48,w=40,t=5,seed=7,targets=3,scr=2.5,clutter=ground")
    assert spec == SyntheticSpec(h=48, w=40, t=5, seed=7, targets=3, scr=2.5, clutter="ground")
    assert spec.canonical() == "h=48,w=40,t=5,seed=7,targets=3,scr=2.5,clutter=ground"
    assert parse_spec("synthetic:" + spec.canonical()) == spec
    assert parse_spec("synthetic") == SyntheticSpec()
    assert parse_spec("synthetic:targets=2,h=64") == SyntheticSpec()  # defaults are not spelled out


def test_unknown_key_suggests_closest() -> None:
    with pytest.raises(InvalidParameterError, match=r"Unknown synthetic spec key 'target'\. Did you mean 'targets'"):
        parse_spec("synthetic:target=2")


def test_bad_spec_items() -> None:
    with pytest.raises(InvalidParameterError, match="items must be key=value"):
        parse_spec("synthetic:h64")
    with pytest.raises(InvalidParameterError, match="given twice"):
        parse_spec("synthetic:h=64,h=32")
    with pytest.raises(InvalidParameterError, match="expects a value of type int"):
        parse_spec("synthetic:h=big")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"h": 8}, "'h' parameter of SyntheticSpec must be an int >= 16"),
        ({"t": 0}, "'t' parameter .* an int >= 1"),
        ({"scr": 0.0}, "'scr' parameter .* a finite float > 0"),
        ({"clutter": "sea"}, "'clutter' parameter .* one of \\['cloud', 'ground', 'mixed'\\]"),
        ({"size_min": 4, "size_max": 2}, "'size_max' parameter .* \\[size_min, 15\\]"),
        ({"size_min": 0}, "'size_min' parameter .* an int in \\[1, 15\\]"),
        ({"seed": -1}, "'seed' parameter .* an int >= 0"),
        ({"targets": -1}, "'targets' parameter"),
        ({"speed": -1.0}, "'speed' parameter"),
        ({"drift": 9.0}, "'drift' parameter"),
        ({"sensor": -0.1}, "'sensor' parameter"),
        ({"distractors": -2}, "'distractors' parameter"),
        ({"w": 20, "size_max": 9}, "too small for targets up to size_max=9"),
    ],
)
def test_spec_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        SyntheticSpec(**kwargs)


@pytest.mark.slow
def test_generation_speed_and_large_size() -> None:
    t0 = time.perf_counter()
    make_sequence(SyntheticSpec(h=256, w=256, t=80, clutter="ground"))
    assert time.perf_counter() - t0 < 2.0
    big = make_sequence(SyntheticSpec(h=480, w=720, t=80, clutter="mixed", targets=4))
    assert big.shape == (80, 480, 720)
