"""Threshold rules and pixel-level IoU / F1 / nIoU: hand-computed cases and the pyirstdmetrics oracle."""

from __future__ import annotations

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError, UnknownNameError
from istdbench.metrics.pixel import f1, iou, niou, pixel_metrics
from istdbench.metrics.thresholds import binarize, parse_threshold

# --- threshold rules ------------------------------------------------------------------------------------------


def test_ratio_is_strict_and_per_frame():
    maps = np.array([[[1.0, 0.5, 0.6]], [[4.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(binarize(maps, "ratio:0.5"), [[[True, False, True]], [[True, False, True]]])


def test_ratio_on_non_positive_frame_detects_nothing():
    maps = np.array([[[0.0, 0.0]], [[-1.0, -2.0]]])
    assert not binarize(maps, "ratio:0.5").any()
    assert not binarize(maps, "ratio:0").any()


def test_chunk_max_uses_each_chunk_max():
    maps = np.array([[[1.0]], [[0.3]], [[0.1]], [[0.05]], [[0.2]]])
    # chunks of 2 frames: [1, 0.3] -> cut 0.4; [0.1, 0.05] -> 0.04; [0.2] -> 0.08
    np.testing.assert_array_equal(binarize(maps, "chunk-max:0.4,2").ravel(), [True, False, True, True, True])
    # default chunk of 80 frames: one chunk, cut 0.4
    np.testing.assert_array_equal(binarize(maps, "chunk-max:0.4").ravel(), [True, False, False, False, False])


def test_fixed_and_adaptive():
    maps = np.array([[[0.0, 0.0, 0.0, 4.0]]])  # mean 1, population std sqrt(3)
    np.testing.assert_array_equal(binarize(maps, "fixed:0").ravel(), [False, False, False, True])
    np.testing.assert_array_equal(binarize(maps, "adaptive:1.7").ravel(), [False, False, False, True])  # cut 3.94
    assert not binarize(maps, "adaptive:1.8").any()  # cut 4.12


def test_threshold_spec_canonical():
    assert parse_threshold("ratio:0.50").spec == "ratio:0.5"
    assert parse_threshold("chunk-max:0.4,80").spec == "chunk-max:0.4"
    assert parse_threshold("chunk-max:0.4,40").spec == "chunk-max:0.4,40"
    assert parse_threshold("adaptive:-1").value == -1.0


@pytest.mark.parametrize(
    ("spec", "err", "match"),
    [
        ("ratio", InvalidParameterError, "KIND:VALUE"),
        ("ration:0.5", UnknownNameError, "Did you mean 'ratio'"),
        ("ratio:abc", InvalidParameterError, "needs a number"),
        ("ratio:1.5", InvalidParameterError, r"range \[0, 1\]. Got 1.5"),
        ("fixed:nan", InvalidParameterError, "finite"),
        ("fixed:1,2", InvalidParameterError, "too many values"),
        ("chunk-max:0.4,0", InvalidParameterError, "positive integer"),
        (0.5, InvalidParameterError, "KIND:VALUE"),
    ],
)
def test_bad_threshold_specs(spec, err, match):
    with pytest.raises(err, match=match):
        parse_threshold(spec)


def test_binarize_needs_a_stack():
    with pytest.raises(InvalidParameterError, match=r"shape \(T, H, W\)"):
        parse_threshold("fixed:0").binarize(np.zeros((3, 3)))


# --- IoU / F1 / nIoU ------------------------------------------------------------------------------------------


def test_pixel_metrics_by_hand():
    gt = np.zeros((2, 3, 3), bool)
    pred = np.zeros((2, 3, 3), bool)
    gt[0, 0, :2] = True  # frame 0: tp 1, fn 1, fp 1 -> IoU 1/3
    pred[0, 0, 1:] = True
    gt[1, 2, 2] = pred[1, 2, 2] = True  # frame 1: perfect -> IoU 1
    # pooled: tp 2, fp 1, fn 1
    np.testing.assert_allclose(iou(pred, gt), 2 / 4, rtol=1e-15)
    np.testing.assert_allclose(f1(pred, gt), 4 / 6, rtol=1e-15)
    np.testing.assert_allclose(niou(pred, gt), (1 / 3 + 1) / 2, rtol=1e-15)


def test_empty_frames_score_zero_in_niou_and_empty_sequence_is_nan():
    gt = np.zeros((2, 2, 2), bool)
    pred = np.zeros((2, 2, 2), bool)
    gt[0, 0, 0] = pred[0, 0, 0] = True  # frame 1 is empty in both
    m = pixel_metrics(pred, gt)
    assert m["IoU"] == 1.0 and m["F1"] == 1.0 and m["nIoU"] == 0.5
    empty = pixel_metrics(np.zeros((1, 2, 2), bool), np.zeros((1, 2, 2), bool))
    assert np.isnan(empty["IoU"]) and np.isnan(empty["F1"]) and empty["nIoU"] == 0.0


def test_pixel_shape_mismatch():
    with pytest.raises(DataError, match="same shape"):
        pixel_metrics(np.zeros((1, 2, 2), bool), np.zeros((1, 2, 3), bool))


def test_iou_and_niou_match_pyirstdmetrics(rng):
    pym = pytest.importorskip("py_irstd_metrics")
    maps = rng.random((6, 24, 20))
    masks = np.zeros(maps.shape, bool)
    for t in range(6):
        r, c = rng.integers(2, 18, size=2)
        masks[t, r : r + 3, c : c + 2] = True
        maps[t][masks[t]] += rng.random() * 1.5
    pred = binarize(maps, "ratio:0.5")
    ours = pixel_metrics(pred, masks)

    pooled = pym.CMMetrics(metric_handlers={"iou": pym.IoUHandler(with_binary=True, sample_based=False)})
    sample = pym.CMMetrics(metric_handlers={"iou": pym.IoUHandler(with_binary=True, sample_based=True)})
    for t in range(6):
        prob = maps[t] / maps[t].max()  # ratio:0.5 is prob > 0.5 of the max-normalised map
        pooled.update(prob, masks[t])
        sample.update(prob, masks[t])
    np.testing.assert_allclose(ours["IoU"], pooled.get()["iou"]["binary"], rtol=1e-12)
    np.testing.assert_allclose(ours["nIoU"], sample.get()["iou"]["binary"], rtol=1e-12)
