"""Target-level Pd/Fa: hand-computed cases, point ground truth, and the pyirstdmetrics oracle."""

from __future__ import annotations

import numpy as np
import pytest

from istdbench.core.errors import DataError
from istdbench.core.types import Sequence
from istdbench.metrics.groundtruth import centres
from istdbench.metrics.target import pd_fa
from istdbench.metrics.thresholds import binarize


def test_pd_fa_by_hand():
    pred = np.zeros((1, 10, 10), bool)
    pred[0, 2, 2] = True  # matches the target at (2, 3): distance 1
    pred[0, 8, 8:10] = True  # a 2-pixel false alarm
    res = pd_fa(pred, [np.array([[2.0, 3.0]])])
    assert (res.pd, res.hits, res.n_targets, res.false_pixels) == (1.0, 1, 1, 2)
    np.testing.assert_allclose(res.fa, 2 / 100, rtol=1e-15)
    assert res.as_dict() == {"Pd": 1.0, "Fa": 0.02}


def test_distance_is_strict():
    pred = np.zeros((1, 8, 8), bool)
    pred[0, 0, 0] = True
    assert pd_fa(pred, [np.array([[0.0, 3.0]])]).hits == 0  # distance exactly 3
    assert pd_fa(pred, [np.array([[0.0, 2.999]])]).hits == 1


def test_region_centroid_not_any_pixel():
    pred = np.zeros((1, 12, 12), bool)
    pred[0, 0, 0:9] = True  # centroid (0, 4): 4 px from the target at (0, 0) although it covers it
    res = pd_fa(pred, [np.array([[0.0, 0.0]])])
    assert res.hits == 0 and res.false_pixels == 9


def test_greedy_matching_one_region_per_target():
    pred = np.zeros((1, 10, 10), bool)
    pred[0, 5, 5] = True  # one region close to both targets
    res = pd_fa(pred, [np.array([[5.0, 6.0], [5.0, 4.0]])])
    assert res.hits == 1 and res.pd == 0.5 and res.false_pixels == 0


def test_no_detection_and_no_target():
    pred = np.zeros((2, 4, 4), bool)
    res = pd_fa(pred, [np.array([[1.0, 1.0]]), np.zeros((0, 2))])
    assert res.pd == 0.0 and res.fa == 0.0
    assert np.isnan(pd_fa(pred, [np.zeros((0, 2)), np.zeros((0, 2))]).pd)


def test_point_ground_truth_from_sequence():
    seq = Sequence(frames=np.zeros((2, 9, 9), np.float32), points=[[(4.0, 4.0)], [(1.5, 7.0)]])
    pred = np.zeros((2, 9, 9), bool)
    pred[0, 3:6, 3:6] = True
    pred[1, 4, 7] = True  # 2.5 px from the point
    res = pd_fa(pred, centres(seq))
    assert res.pd == 1.0 and res.fa == 0.0


def test_bad_input():
    with pytest.raises(DataError, match=r"shape \(T, H, W\)"):
        pd_fa(np.zeros((4, 4), bool), [np.zeros((0, 2))])
    with pytest.raises(DataError, match="2 frames of ground-truth centres for 1 frames"):
        pd_fa(np.zeros((1, 4, 4), bool), [np.zeros((0, 2))] * 2)


def _blobs(rng, t=8, h=40, w=36):
    maps = rng.random((t, h, w)) * 0.45  # below every cut: only targets and clutter peaks are detected
    masks = np.zeros((t, h, w), bool)
    for k in range(t):
        for _ in range(3):
            r, c = rng.integers(1, h - 8), rng.integers(1, w - 8)
            box = np.s_[k, r : r + rng.integers(1, 8), c : c + rng.integers(1, 8)]
            masks[box] = True
            maps[box] += rng.uniform(0.2, 0.9) * rng.random(maps[box].shape)  # some faint, some split
        maps[k, rng.integers(0, h, 5), rng.integers(0, w, 5)] = 1.0  # clutter peaks
    return maps, masks


def test_matches_pyirstdmetrics(rng):
    pym = pytest.importorskip("py_irstd_metrics")
    maps, masks = _blobs(rng)
    seq = Sequence(frames=np.zeros(maps.shape, np.float32), masks=masks)
    ours = pd_fa(binarize(maps, "ratio:0.5"), centres(seq))
    oracle = pym.ProbabilityDetectionAndFalseAlarmRate(num_bins=1, distance_threshold=3)
    for k in range(len(maps)):
        oracle.update(maps[k] / maps[k].max(), masks[k])
    got = oracle.get()
    assert 0 < ours.hits < ours.n_targets and ours.false_pixels > 0  # the case exercises misses and false alarms
    assert ours.n_targets == int(oracle.tp_objs[0] + oracle.fn_objs[0])
    assert ours.hits == int(oracle.tp_objs[0])
    np.testing.assert_allclose(ours.pd, got["probability_detection"][0], rtol=1e-12)
    np.testing.assert_allclose(ours.fa, got["false_alarm"][0], rtol=1e-12)
