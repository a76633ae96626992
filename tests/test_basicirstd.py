"""Protocol basicirstd@1 and the metrics on image sets: hand-computed cases, the pyirstdmetrics oracle, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError, UnknownNameError
from istdbench.core.types import ImageSet, ImageSetDetection, Sequence
from istdbench.metrics.basicirstd import basicirstd
from istdbench.metrics.evaluate import evaluate_full
from istdbench.metrics.protocols import get_protocol, get_roc_protocol
from istdbench.metrics.roc3d import roc3d
from istdbench.metrics.thresholds import binarize

py_irstd_metrics = pytest.importorskip("py_irstd_metrics")


def _blob_set(rng: np.random.Generator, n: int, same_size: bool = False) -> tuple[ImageSet, list[np.ndarray]]:
    """Images with 0-3 square targets each and 8-bit maps that find some targets, miss others, add false alarms."""
    images, masks, maps = [], [], []
    for _ in range(n):
        h, w = (40, 48) if same_size else (int(rng.integers(24, 64)), int(rng.integers(24, 64)))
        mask = np.zeros((h, w), bool)
        pred = rng.integers(0, 90, size=(h, w)).astype(np.float64)
        for _ in range(int(rng.integers(0, 4))):
            r, c, s = int(rng.integers(2, h - 6)), int(rng.integers(2, w - 6)), int(rng.integers(1, 4))
            mask[r : r + s, c : c + s] = True
            if rng.random() < 0.7:  # a detection, sometimes shifted or grown
                dr, dc = rng.integers(-2, 3, size=2)
                pred[max(r + dr, 0) : r + dr + s + 1, max(c + dc, 0) : c + dc + s] = rng.integers(150, 256)
        for _ in range(int(rng.integers(0, 3))):  # false alarms
            r, c = int(rng.integers(0, h - 2)), int(rng.integers(0, w - 2))
            pred[r : r + 2, c : c + 2] = rng.integers(140, 256)
        pred[0, 0], pred[-1, -1] = 0, 255  # not constant: pyirstdmetrics leaves a constant map unnormalised
        images.append(rng.random((h, w)))
        masks.append(mask)
        maps.append(pred)
    names = [f"img_{i}" for i in range(n)]
    return ImageSet(images=images, names=names, masks=masks, name="blobs"), maps


def _pyirstd(maps_u8: list[np.ndarray], masks: list[np.ndarray]) -> dict[str, float]:
    from py_irstd_metrics import CMMetrics, FmeasureHandler, IoUHandler, ProbabilityDetectionAndFalseAlarmRate
    from py_irstd_metrics.utils import prepare_data

    cm = CMMetrics(
        num_bins=1,
        threshold=0.5,
        metric_handlers={
            "IoU": IoUHandler(with_dynamic=False, with_binary=True, sample_based=False),
            "nIoU": IoUHandler(with_dynamic=False, with_binary=True, sample_based=True),
            "F1": FmeasureHandler(with_dynamic=False, with_binary=True, sample_based=False, beta=1.0),
        },
    )
    pdfa = ProbabilityDetectionAndFalseAlarmRate(num_bins=1, distance_threshold=3)
    for pred, mask in zip(maps_u8, masks, strict=True):
        prob, gt = prepare_data(pred, mask.astype(np.uint8) * 255)
        cm.update(prob, gt)
        pdfa.update(prob, gt)
    out = {k: float(v["binary"]) for k, v in cm.get().items()}
    res = pdfa.get()
    out["Pd"], out["Fa"] = float(res["probability_detection"][0]), float(res["false_alarm"][0])
    return out


def test_basicirstd_matches_pyirstdmetrics(rng) -> None:
    data, maps = _blob_set(rng, 40)
    ours = basicirstd([m / 255.0 for m in maps], data)
    theirs = _pyirstd(maps, list(data.masks))
    assert ours.protocol == "basicirstd@1" and ours.threshold == "minmax:0.5"
    assert 0.1 < ours.metrics["IoU"] < 0.9 and 0.3 < ours.metrics["Pd"] < 1  # a case with hits, misses, false alarms
    for key in ("IoU", "nIoU", "F1", "Pd", "Fa"):
        assert ours.metrics[key] == pytest.approx(theirs[key], rel=1e-12, abs=1e-15), key


def test_basicirstd_by_hand() -> None:
    m1 = np.zeros((4, 5), bool)
    m1[1, 1:3] = True  # target A: 2 px, centroid (1, 1.5)
    m1[3, 4] = True  # target B: 1 px, missed
    m2 = np.zeros((2, 2), bool)  # a target-free image
    p1 = np.zeros((4, 5))
    p1[1, 1:4] = 9.0  # region over A: 3 px, centroid (1, 2): hit; 1 px false positive
    p1[3, 0] = 9.0  # a false alarm of 1 px
    p2 = np.array([[0.0, 1.0], [0.2, 0.4]])  # min-max normalised: one pixel > 0.5
    data = ImageSet(images=[np.zeros((4, 5)), np.zeros((2, 2))], names=["one", "two"], masks=[m1, m2])
    s = basicirstd({"two": p2, "one": p1}, data)  # a dict is matched by name
    # TP 2, FP 1 + 1 + 1 = 3, FN 1
    assert s.counts == {
        "n_images": 2, "tp": 2, "fp": 3, "fn": 1, "n_targets": 2, "hits": 1, "false_pixels": 2, "n_pixels": 24
    }  # fmt: skip
    assert s.metrics["IoU"] == pytest.approx(2 / 6)
    assert s.metrics["nIoU"] == pytest.approx((2 / 5 + 0.0) / 2)  # image two: IoU 0 (union 1, no TP)
    assert s.metrics["F1"] == pytest.approx(4 / (4 + 3 + 1))
    assert s.metrics["Pd"] == 0.5 and s.metrics["Fa"] == pytest.approx(2 / 24)


def test_minmax_threshold() -> None:
    maps = np.array([[[2.0, 4.0, 6.0]], [[-3.0, -1.0, -2.0]], [[5.0, 5.0, 5.0]]])
    # (x - min) / (max - min) > 0.5 per frame; a constant frame detects nothing
    np.testing.assert_array_equal(binarize(maps, "minmax:0.5")[:, 0], [[0, 0, 1], [0, 1, 0], [0, 0, 0]])
    out = binarize([np.array([[1.0, 3.0]]), np.array([[0.0], [10.0]])], "minmax:0.5")
    assert [o.tolist() for o in out] == [[[False, True]], [[False], [True]]]
    with pytest.raises(InvalidParameterError, match="range"):
        binarize(maps, "minmax:1.5")
    with pytest.raises(InvalidParameterError, match="an image set has none"):
        binarize([np.zeros((2, 2))], "chunk-max:0.4")


def test_an_image_set_scores_like_the_sequence_of_its_images(rng) -> None:
    data, maps = _blob_set(rng, 12, same_size=True)
    seq = Sequence(frames=np.stack(data.images), masks=np.stack(data.masks))
    maps = [m * rng.uniform(0.2, 3.0) for m in maps]  # scale differs image by image
    for protocol in ("tensoristd", "clean", "clean:norm=sequence", "basicirstd"):
        ours = evaluate_full(maps, data, protocol)
        ref = evaluate_full(np.stack(maps), seq, protocol)
        assert ours.metrics.keys() == ref.metrics.keys()
        for key, value in ref.metrics.items():
            assert ours.metrics[key] == pytest.approx(value, rel=1e-12, abs=1e-15, nan_ok=True), (protocol, key)


def test_images_of_different_sizes_pool_counts(rng) -> None:
    data, maps = _blob_set(rng, 10)
    roc = roc3d(maps, data, "clean")
    parts = [
        roc3d([m], ImageSet(images=[i], names=["x"], masks=[k]), "clean")
        for m, i, k in zip(maps, data.images, data.masks, strict=True)
        if k.any()
    ]
    detected = sum(p.tpr * p.n_targets for p in parts)
    np.testing.assert_allclose(roc.tpr, detected / roc.n_targets, rtol=1e-12, atol=0)
    assert roc.n_targets == sum(p.n_targets for p in parts)
    result = evaluate_full(maps, data, "tensoristd")
    assert {"AUC_ODP", "IoU", "nIoU", "F1", "Pd", "Fa", "SCRG"} <= set(result.metrics)
    det = ImageSetDetection(targets=maps, names=data.names)
    assert evaluate_full(det, data, "basicirstd").metrics == evaluate_full(maps, data, "basicirstd").metrics


def test_target_free_image_counts_only_false_alarms() -> None:
    m = np.zeros((6, 6), bool)
    m[2:4, 2:4] = True
    data = ImageSet(images=[np.zeros((6, 6)), np.zeros((5, 5))], names=["t", "bg"], masks=[m, np.zeros((5, 5))])
    bg_map = np.zeros((5, 5))
    bg_map[1:3, 1:3] = 1.0  # 4 false pixels on the background image
    s = basicirstd([m.astype(float), bg_map], data)
    assert s.metrics["Pd"] == 1.0 and s.counts["false_pixels"] == 4 and s.metrics["Fa"] == pytest.approx(4 / 61)
    assert s.metrics["nIoU"] == pytest.approx(0.5)  # the background image's IoU is 0


def test_contrast_on_an_image_set_never_shifts_annotations() -> None:
    frames = np.full((2, 40, 40), 0.2)
    masks = np.zeros((2, 40, 40), bool)
    masks[0, 8, 8] = masks[1, 30, 30] = True  # farther apart than the 21 x 21 window
    frames[masks] = 0.9
    maps = frames.copy()
    maps[0] = 0.0  # an all-zero map: the toolbox would measure image 2 at image 1's annotation
    data = ImageSet(images=list(frames), names=["a", "b"], masks=list(masks))
    seq = Sequence(frames=frames, masks=masks)
    images = evaluate_full(list(maps), data, "tensoristd").metrics
    only_b = evaluate_full([maps[1]], data.subset(["b"]), "tensoristd").metrics
    shifted = evaluate_full(maps, seq, "tensoristd").metrics
    assert images["CG"] == pytest.approx(only_b["CG"]) and np.isfinite(images["CG"])
    assert shifted["CG"] == np.inf  # the sequence measured frame 2 on flat background: nothing measurable


@pytest.mark.parametrize(
    ("maps", "match"),
    [
        (lambda d: list(d.images[:1]), r"1 maps for the 2 images of image set 'toy/all'"),
        (
            lambda d: [np.zeros((3, 3)), np.zeros((4, 5))],
            r"map of image 'a' has shape \(3, 3\) but the image has \(4, 4\)",
        ),
        (lambda d: {"a": np.zeros((4, 4))}, r"no map for 'b'"),
        (lambda d: {"a": np.zeros((4, 4)), "b": np.zeros((4, 5)), "z": np.zeros(1)}, r"does not hold: 'z'"),
        (lambda d: [np.zeros((4, 4)), np.full((4, 5), np.nan)], "map of image 'b' contains NaN"),
        (lambda d: np.zeros((2, 4, 4)), "one \\(H, W\\) map per image"),
    ],
)
def test_maps_that_do_not_match_the_set(maps, match) -> None:
    m = [np.eye(4, dtype=bool), np.eye(4, 5, dtype=bool)]
    data = ImageSet(images=[np.zeros((4, 4)), np.zeros((4, 5))], names=["a", "b"], masks=m, name="toy")
    for protocol in ("basicirstd", "tensoristd"):
        with pytest.raises(DataError, match=match.replace("has \\(4, 4\\)", "has shape \\(4, 4\\)")):
            evaluate_full(maps(data), data, protocol)


def test_protocol_and_data_errors() -> None:
    assert get_protocol("basicirstd").id == "basicirstd@1" and get_protocol("basicirstd").distance == 3.0
    with pytest.raises(InvalidParameterError, match="takes no options"):
        get_protocol("basicirstd:distance=10")
    with pytest.raises(InvalidParameterError, match="defines no 3-D ROC"):
        get_roc_protocol("basicirstd")
    with pytest.raises(UnknownNameError, match="Did you mean 'basicirstd'"):
        get_protocol("basicirst")
    points_only = Sequence(frames=np.zeros((1, 4, 4)), points=[[(1, 1)]], name="pts")
    with pytest.raises(DataError, match="scores pixel masks; sequence 'pts' has points only"):
        basicirstd(np.zeros((1, 4, 4)), points_only)
    no_masks = ImageSet(images=[np.zeros((2, 2))], names=["a"], name="bare")
    with pytest.raises(DataError, match="image set 'bare/all' has no masks"):
        basicirstd([np.zeros((2, 2))], no_masks)
