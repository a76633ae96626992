"""3-D ROC: toolbox reference reproduced exactly, hand-computed tiny cases, protocol rules, bad input."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from istdbench.core.errors import DataError, InvalidParameterError, UnknownNameError
from istdbench.core.types import Sequence
from istdbench.metrics import PROTOCOLS, RocProtocol, get_protocol, protocol_id
from istdbench.metrics.protocols import quantise_8bit
from istdbench.metrics.roc3d import AUC_KEYS, auc_family, roc3d

REF_KEYS = {  # expected.json of STPA_FCTN uses the toolbox's short names
    "AUC_FPR_TPR": "AUC_DF",
    "AUC_tau_TPR": "AUC_Dtau",
    "AUC_tau_FPR": "AUC_Ftau",
    "AUC_TD": "TD",
    "AUC_BS": "BS",
    "AUC_TDBS": "TDBS",
    "AUC_ODP": "ODP",
    "AUC_SNPR": "SNPR",
}


def _seq(points, shape=(1, 4, 4), masks=None) -> Sequence:
    return Sequence(frames=np.zeros(shape, np.float32), name="tiny", points=points, masks=masks)


def _daub1(data_root: Path) -> Sequence:
    """daub/sequence1 built straight from its files (col<TAB>row, 1-based), independent of the loaders."""
    from PIL import Image

    folder = data_root / "daub" / "sequence1"
    frames = np.stack([np.asarray(Image.open(p), dtype=np.float32) / 255 for p in sorted(folder.glob("*.png"))])
    ann = np.loadtxt(data_root / "daub" / "anno" / "sequence1.txt", ndmin=2)
    points = [np.array([[row - 1.0, col - 1.0]]) for col, row in ann]
    return Sequence(frames=frames, name="daub/sequence1", points=points)


def _png_stack(folder: Path) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(Image.open(p), dtype=np.float64) for p in sorted(folder.glob("*.png"))]) / 255


# --- reference reproduction -----------------------------------------------------------------------------------


def test_stpa_fctn_reference_reproduced_exactly(data_root, reference_root):
    folder = reference_root / "roc" / "STPA_FCTN_sequence1"
    expected = json.loads((folder / "expected.json").read_text())
    res = roc3d(_png_stack(folder), _daub1(data_root), "tensoristd")
    np.testing.assert_allclose(res.tpr, expected["TPR"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.fpr, expected["FPR"], rtol=0, atol=1e-12)
    for key, ref in REF_KEYS.items():
        np.testing.assert_allclose(res.aucs[key], expected[ref], rtol=1e-12, atol=1e-12, err_msg=key)
    assert res.protocol == "tensoristd@1"


@pytest.mark.parametrize(
    "name",
    ["ASTTV_NTLA", "IPI", "MPCM_r1-4", "MPCM", "NPSTT", "PSTNN", "STT", "Tophat_disk0", "Tophat"],
)
def test_method_reference_curves_reproduced(name, data_root, reference_root):
    z = np.load(reference_root / "maps" / f"{name}_sequence1.npz")
    expected = json.loads((reference_root / "roc" / f"{name}_sequence1.json").read_text())
    frames = z["frames"]
    seq = _daub1(data_root).select(int(frames[0]), int(frames[-1]))  # the maps' frames pick the annotation lines
    res = roc3d(z["target"], seq, "tensoristd")
    np.testing.assert_allclose(res.tpr, expected["TPR"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.fpr, expected["FPR"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.thresholds, expected.get("threshold_actual_k_over_99", res.thresholds), atol=0)
    for key in ("AUC_FPR_TPR", "AUC_tau_TPR", "AUC_tau_FPR"):
        np.testing.assert_allclose(res.aucs[key], expected[key], rtol=1e-12, atol=1e-12, err_msg=key)
    for key in ("TD", "BS", "TDBS", "ODP", "SNPR"):
        ref = expected.get(key, expected.get(f"AUC_{key}"))
        np.testing.assert_allclose(res.aucs[f"AUC_{key}"], ref, rtol=1e-12, atol=1e-12, err_msg=key)


# --- hand-computed tiny cases ---------------------------------------------------------------------------------


def _tiny_map() -> np.ndarray:
    m = np.zeros((1, 4, 4))
    m[0, 1, 1] = 2.0  # the target pixel: max of the frame
    m[0, 3, 3] = 1.0  # one background pixel at half the max
    return m


def test_clean_tiny_curve_by_hand():
    res = roc3d(_tiny_map(), _seq([[(1.0, 1.0)]]), "clean")
    tau = np.arange(101) / 100
    np.testing.assert_array_equal(res.thresholds, tau)
    np.testing.assert_array_equal(res.tpr, np.ones(101))  # the peak 1.0 passes every tau <= 1
    # 7 background pixels (16 minus the 3x3 box); the 0.5 pixel passes tau <= 0.5
    expected_fpr = np.where(tau == 0, 1.0, np.where(tau <= 0.5, 1 / 7, 0.0))
    np.testing.assert_allclose(res.fpr, expected_fpr, rtol=0, atol=1e-15)
    aft = 0.01 * (1 + 1 / 7) / 2 + 0.49 / 7 + 0.01 * (1 / 7) / 2
    np.testing.assert_allclose(res.aucs["AUC_tau_FPR"], aft, rtol=1e-12)
    np.testing.assert_allclose(res.aucs["AUC_tau_TPR"], 1.0, rtol=1e-12)
    np.testing.assert_allclose(res.aucs["AUC_FPR_TPR"], 1.0, rtol=1e-12)  # closed with (0, 0): full area
    np.testing.assert_allclose(res.aucs["AUC_SNPR"], 1.0 / aft, rtol=1e-12)
    np.testing.assert_allclose(res.aucs["AUC_ODP"], 2.0 - aft, rtol=1e-12)


def test_tensoristd_tiny_curve_by_hand():
    res = roc3d(_tiny_map(), _seq([[(1.0, 1.0)]]), "tensoristd")
    k = np.arange(101)
    # the half-max pixel is quantised to round(127.5) = 128 -> 128/255 = 0.50196 >= k/99 only for k <= 49
    np.testing.assert_allclose(res.fpr, np.where(k == 0, 1.0, np.where(k <= 49, 1 / 7, 0.0)), atol=1e-15)
    # the peak 255/255 = 1 fails the last threshold 100/99 > 1
    np.testing.assert_array_equal(res.tpr, np.where(k <= 99, 1.0, 0.0))
    np.testing.assert_allclose(res.aucs["AUC_tau_TPR"], 0.99 + 0.005, rtol=1e-12)  # the last trapezoid is halved


def test_auc_family_formulas():
    tau = np.array([0.0, 0.5, 1.0])
    tpr = np.array([1.0, 0.5, 0.0])
    fpr = np.array([1.0, 0.2, 0.0])
    a = auc_family(tau, tpr, fpr)
    df = 0.8 * 0.75 + 0.2 * 0.25
    dt, ft = 0.5, 0.35
    expected = {
        "AUC_FPR_TPR": df,
        "AUC_tau_TPR": dt,
        "AUC_tau_FPR": ft,
        "AUC_BS": df - ft,
        "AUC_TD": df + dt,
        "AUC_TDBS": dt - ft,
        "AUC_ODP": df + dt - ft,
        "AUC_SNPR": dt / ft,
    }
    assert tuple(a) == AUC_KEYS
    for key, value in expected.items():
        np.testing.assert_allclose(a[key], value, rtol=1e-12, err_msg=key)
    assert np.isinf(auc_family(tau, tpr, np.zeros(3))["AUC_SNPR"])


def test_one_pass_matches_threshold_loop(rng):
    maps = rng.random((3, 12, 10)) ** 3
    masks = np.zeros(maps.shape, bool)
    masks[0, 2:4, 2:4] = masks[1, 8, 7] = masks[2, 5:7, 1] = masks[2, 0, 9] = True
    seq = _seq(None, maps.shape, masks)
    res = roc3d(maps, seq, "clean")
    v = np.clip(maps / maps.max(axis=(1, 2), keepdims=True), 0, 1)
    comps = [(0, masks[0]), (1, masks[1]), (2, masks[2] & (np.arange(10) < 5)), (2, masks[2] & (np.arange(10) > 5))]
    for k, thr in enumerate(np.arange(101) / 100):
        passed = v >= thr
        hits = sum(bool(passed[t][m].any()) for t, m in comps)
        assert res.tpr[k] == hits / 4
        assert res.fpr[k] == (passed & ~masks).sum() / (~masks).sum()


# --- protocol rules ---------------------------------------------------------------------------------------------


def test_border_target_dropped_by_tensoristd_kept_by_clean():
    seq = _seq([[(3.0, 3.0), (0.0, 2.0)]], shape=(1, 7, 7))  # the second point is on the top row
    maps = np.zeros((1, 7, 7))
    maps[0, 0, 2] = 1.0
    assert roc3d(maps, seq, "tensoristd").n_targets == 1
    assert roc3d(maps, seq, "clean").n_targets == 2
    np.testing.assert_allclose(roc3d(maps, seq, "clean").tpr[50], 0.5)  # the border target is hit, the other not


def test_only_border_targets_is_an_error_under_tensoristd():
    seq = _seq([[(0.0, 0.0)]])
    with pytest.raises(DataError, match=r"no scorable target.*drops targets on the image border"):
        roc3d(np.ones((1, 4, 4)), seq, "tensoristd")


def test_all_zero_frame_and_targetless_frame_rules():
    maps = np.zeros((3, 4, 4))
    maps[0, 1, 1] = 1.0
    maps[2, 2, 2] = 1.0  # frame 2 has no target: a false alarm only the clean protocol sees
    seq = _seq([[(1.0, 1.0)], [(1.0, 1.0)], []], shape=(3, 4, 4))  # frame 1: all-zero map
    ti = roc3d(maps, seq, "tensoristd")
    assert ti.tpr[0] == 0.5  # the all-zero frame's target stays in the denominator, never detected
    assert ti.n_frames_fpr == 1
    np.testing.assert_array_equal(ti.fpr[1:], 0.0)
    cl = roc3d(maps, seq, "clean")
    assert cl.tpr[0] == 1.0 and cl.tpr[1] == 0.5
    assert cl.n_frames_fpr == 3
    np.testing.assert_allclose(cl.fpr[1], 1 / (7 + 7 + 16))


def test_all_zero_maps_give_zero_curves(caplog):
    with caplog.at_level(logging.WARNING):
        res = roc3d(np.zeros((2, 4, 4)), _seq([[(1.0, 1.0)], [(2.0, 2.0)]], shape=(2, 4, 4)), "tensoristd")
    assert "no frame" in caplog.text
    np.testing.assert_array_equal(res.tpr, 0.0)
    np.testing.assert_array_equal(res.fpr, 0.0)
    assert res.aucs["AUC_ODP"] == 0.0 and np.isnan(res.aucs["AUC_SNPR"])


def test_all_zero_maps_under_clean_pass_only_tau_zero():
    res = roc3d(np.zeros((2, 4, 4)), _seq([[(1.0, 1.0)], [(2.0, 2.0)]], shape=(2, 4, 4)), "clean")
    assert res.tpr[0] == 1.0 and res.fpr[0] == 1.0
    np.testing.assert_array_equal(res.tpr[1:], 0.0)
    np.testing.assert_array_equal(res.fpr[1:], 0.0)


def test_point_on_the_half_pixel_edge():
    seq = _seq([[(3.0, 3.0), (6.5, 6.5)]], shape=(1, 7, 7))  # 1-based 7.5 rounds to 8: outside the 7x7 image
    maps = np.zeros((1, 7, 7))
    maps[0, 6, 6] = 1.0
    clean = roc3d(maps, seq, "clean")
    assert clean.n_targets == 2 and clean.tpr[100] == 0.5  # clipped to the corner pixel, which is hit
    assert roc3d(maps, seq, "tensoristd").n_targets == 1
    with pytest.raises(DataError, match="lies outside the 7x7 image"):
        _seq([[(7.0, 3.0)]], shape=(1, 7, 7))


def test_mask_components_are_8_connected_and_hit_by_any_pixel():
    masks = np.zeros((1, 6, 6), bool)
    masks[0, 1, 1] = masks[0, 2, 2] = True  # diagonal neighbours: one target
    masks[0, 4, 4] = True
    maps = np.zeros((1, 6, 6))
    maps[0, 2, 2] = 1.0  # only one pixel of the first target is bright
    res = roc3d(maps, _seq(None, (1, 6, 6), masks), "clean")
    assert res.n_targets == 2
    np.testing.assert_allclose(res.tpr[1:], 0.5)
    np.testing.assert_allclose(res.fpr[1:], 0.0)


def test_sequence_normalisation_differs_from_frame():
    maps = np.zeros((2, 4, 4))
    maps[0, 1, 1], maps[1, 1, 1] = 1.0, 0.2
    seq = _seq([[(1.0, 1.0)], [(1.0, 1.0)]], shape=(2, 4, 4))
    per_frame = roc3d(maps, seq, "clean")
    per_seq = roc3d(maps, seq, "clean:norm=sequence")
    assert per_frame.tpr[50] == 1.0
    assert per_seq.tpr[50] == 0.5 and per_seq.tpr[20] == 1.0
    assert per_seq.protocol == "clean:norm=sequence@1"


def test_point_rounding_is_matlab_half_away():
    # zero-based 1.5 is 1-based 2.5, which MATLAB rounds to 3 (zero-based 2); numpy's round would give 2 (1).
    maps = np.zeros((1, 7, 7))
    maps[0, 3, 3] = 1.0
    seq = _seq([[(1.5, 1.5)]], shape=(1, 7, 7))
    assert roc3d(maps, seq, "tensoristd").tpr[50] == 1.0  # box rows/cols 1..3 holds (3, 3)


def test_quantise_8bit_rounds_halves_up():
    np.testing.assert_array_equal(quantise_8bit(np.array([0.5 / 255, 1.5 / 255, 127.5 / 255, 1.0])), [1, 2, 128, 255])


# --- bad input and names --------------------------------------------------------------------------------------


def test_nan_maps_rejected():
    maps = _tiny_map()
    maps[0, 0, 0] = np.nan
    with pytest.raises(DataError, match=r"NaN or inf in frame\(s\) 0"):
        roc3d(maps, _seq([[(1.0, 1.0)]]))


def test_shape_mismatches_rejected():
    seq = _seq([[(1.0, 1.0)]])
    with pytest.raises(DataError, match="maps have 2 frames but sequence 'tiny' has 1"):
        roc3d(np.zeros((2, 4, 4)), seq)
    with pytest.raises(DataError, match="frame size 5x4"):
        roc3d(np.zeros((1, 5, 4)), seq)
    with pytest.raises(DataError, match=r"shape \(T, H, W\)"):
        roc3d(np.zeros((4, 4)), seq)
    with pytest.raises(DataError, match="real numbers"):
        roc3d(np.zeros((1, 4, 4), complex), seq)


def test_sequence_without_ground_truth_rejected():
    with pytest.raises(DataError, match="no ground truth"):
        roc3d(np.zeros((1, 4, 4)), _seq(None))


def test_protocol_names():
    assert PROTOCOLS == {"tensoristd": "1", "clean": "1", "basicirstd": "1"}
    assert protocol_id("clean:norm=frame") == "clean@1"
    assert get_protocol("clean:norm=sequence").norm == "sequence"
    with pytest.raises(UnknownNameError, match="Did you mean 'tensoristd'"):
        get_protocol("tensorist")
    with pytest.raises(InvalidParameterError, match="takes no options"):
        get_protocol("tensoristd:norm=frame")
    with pytest.raises(InvalidParameterError, match=r"must be 'frame' or 'sequence'\. Got 'pixel'"):
        get_protocol("clean:norm=pixel")
    with pytest.raises(InvalidParameterError, match="only the option norm"):
        get_protocol("clean:quantise=yes")
    with pytest.raises(InvalidParameterError, match="must be a string"):
        get_protocol(3)
    with pytest.raises(InvalidParameterError, match="Got 'pixel' instead"):
        RocProtocol(name="clean", norm="pixel")
    with pytest.raises(UnknownNameError, match="Unknown ROC protocol 'basic'"):
        RocProtocol(name="basic")
