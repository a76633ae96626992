"""SCRG / BSF / CG: the toolbox's numbers for STPA_FCTN, a by-hand case, and the annotation-shift quirk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from istdbench.metrics.contrast import contrast_gains


def _read_stack(folder: Path) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(Image.open(p), dtype=np.float64) for p in sorted(folder.glob("*.png"))]) / 255


def test_stpa_fctn_contrast_reproduced(data_root, reference_root):
    frames = _read_stack(data_root / "daub" / "sequence1")
    maps = _read_stack(reference_root / "roc" / "STPA_FCTN_sequence1")
    ann = np.loadtxt(data_root / "daub" / "anno" / "sequence1.txt", ndmin=2)
    centres = [np.array([[row - 1.0, col - 1.0]]) for col, row in ann]
    got = contrast_gains(frames, maps, centres, "tensoristd")
    np.testing.assert_allclose([got["SCRG"], got["BSF"], got["CG"]], [338.7673, 88.2134, 3.6925], atol=5e-5, rtol=0)


def _scene():
    """One 25x25 frame: columns alternating 0.2 / 0.4, target peak 1.0; the map keeps only the 0.2 columns."""
    frame = np.zeros((1, 25, 25))
    frame[0, :, ::2] = 0.2
    frame[0, :, 1::2] = 0.4
    frame[0, 12, 12] = 1.0
    out = np.zeros((1, 25, 25))
    out[0, :, ::2] = 0.2  # 51/255: unchanged by the 8-bit quantisation of tensoristd
    out[0, 12, 12] = 1.0
    return frame, out


def test_contrast_by_hand():
    frame, out = _scene()
    got = contrast_gains(frame, out, [np.array([[12.0, 12.0]])], "clean")
    ring = np.ones((21, 21), bool)
    ring[8:13, 8:13] = False
    win_in, win_out = frame[0, 2:23, 2:23][ring], out[0, 2:23, 2:23][ring]
    # columns 2..22: the window starts on an even column, so 11 columns of one value and 10 of the other
    s_in, c_in = abs(1.0 - win_in.mean()), win_in.std(ddof=1)
    s_out, c_out = abs(1.0 - win_out.mean()), win_out.std(ddof=1)
    np.testing.assert_allclose(win_in.mean(), (0.2 * 11 * 21 + 0.4 * 10 * 21 - 0.2 * 3 * 5 - 0.4 * 2 * 5) / 416)
    np.testing.assert_allclose(got["CG"], s_out / s_in, rtol=1e-12)
    np.testing.assert_allclose(got["BSF"], c_in / c_out, rtol=1e-12)
    np.testing.assert_allclose(got["SCRG"], (s_out / c_out) / (s_in / c_in), rtol=1e-12)


def test_border_target_uses_replicated_edges():
    frame, out = _scene()
    got = contrast_gains(frame, out, [np.array([[0.0, 0.0]])], "clean")
    padded_in = np.pad(frame[0], 10, mode="edge")[:21, :21]
    ring = np.ones((21, 21), bool)
    ring[8:13, 8:13] = False
    c_in = padded_in[ring].std(ddof=1)
    c_out = np.pad(out[0], 10, mode="edge")[:21, :21][ring].std(ddof=1)
    np.testing.assert_allclose(got["BSF"], c_in / c_out, rtol=1e-12)


def test_flat_output_gives_inf_under_tensoristd_nan_under_clean():
    frame, _ = _scene()
    flat = np.zeros((1, 25, 25))
    flat[0, 12, 12] = 1.0  # ring all zero: C_out = 0 -> SCRG and BSF infinite, dropped
    ti = contrast_gains(frame, flat, [np.array([[12.0, 12.0]])], "tensoristd")
    cl = contrast_gains(frame, flat, [np.array([[12.0, 12.0]])], "clean")
    assert np.isinf(ti["SCRG"]) and np.isinf(ti["BSF"]) and np.isfinite(ti["CG"])
    assert np.isnan(cl["SCRG"]) and np.isnan(cl["BSF"])
    np.testing.assert_allclose(ti["CG"], cl["CG"], rtol=1e-12)


def test_all_zero_map_shifts_annotations_only_under_tensoristd():
    frame, out = _scene()
    frames = np.repeat(frame, 3, axis=0)
    maps = np.repeat(out, 3, axis=0)
    maps[1] = 0.0  # frame 1: all-zero map, skipped
    good, off = np.array([[12.0, 12.0]]), np.array([[5.0, 5.0]])
    centres = [good, good, off]
    # the toolbox measures frame 2 at frame 1's annotation line (the good one)
    shifted = contrast_gains(frames, maps, centres, "tensoristd")
    expected = contrast_gains(frames[[0, 2]], maps[[0, 2]], [good, good], "clean")
    for key in ("SCRG", "BSF", "CG"):
        np.testing.assert_allclose(shifted[key], expected[key], rtol=1e-12)
    kept = contrast_gains(frames, maps, centres, "clean")
    assert not np.isclose(kept["CG"], expected["CG"])


@pytest.mark.parametrize("protocol", ["tensoristd", "clean"])
def test_no_target_at_all(protocol):
    frame, out = _scene()
    got = contrast_gains(frame, out, [np.zeros((0, 2))], protocol)
    assert all((np.isinf if protocol == "tensoristd" else np.isnan)(v) for v in got.values())
