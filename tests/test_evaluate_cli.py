"""``evaluate()`` for the runner and the ``istdbench evaluate`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import istdbench.datasets.catalog as catalog
from istdbench.cli import main
from istdbench.cli.evaluate import read_png_maps, select_frames
from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.types import Provenance, Sequence
from istdbench.metrics.evaluate import evaluate, evaluate_full
from istdbench.metrics.roc3d import AUC_KEYS

CONTRAST = {"SCRG", "BSF", "CG"}


def _masked_seq(t: int = 3, numbers: tuple[int, ...] = ()) -> Sequence:
    rng = np.random.default_rng(1)
    frames = (rng.random((t, 32, 32)) * 0.3).astype(np.float32)
    masks = np.zeros(frames.shape, bool)
    points = []
    for k in range(t):
        r, c = 8 + 3 * k, 10 + 2 * k
        masks[k, r : r + 2, c : c + 2] = True
        frames[k, r : r + 2, c : c + 2] = 0.9
        points.append([(r + 0.5, c + 0.5)])
    return Sequence(
        frames=frames, name="synthetic/test", masks=masks, points=points, provenance=Provenance(frame_numbers=numbers)
    )


def test_evaluate_keys_and_perfect_map():
    seq = _masked_seq()
    m = evaluate(seq.masks.astype(np.float64), seq)
    assert set(m) == set(AUC_KEYS) | {"IoU", "F1", "nIoU", "Pd", "Fa"} | CONTRAST
    assert m["IoU"] == 1.0 and m["F1"] == 1.0 and m["nIoU"] == 1.0
    assert m["Pd"] == 1.0 and m["Fa"] == 0.0
    np.testing.assert_allclose(m["AUC_tau_TPR"], 0.995, rtol=1e-12)  # tensoristd: the last threshold 100/99 misses


def test_evaluate_points_only_has_no_pixel_metrics():
    seq = _masked_seq()
    pts = Sequence(frames=seq.frames, name="pts", points=seq.points)
    m = evaluate(seq.frames, pts, protocol="clean", threshold="fixed:0.5")
    assert set(m) == set(AUC_KEYS) | {"Pd", "Fa"} | CONTRAST
    assert m["Pd"] == 1.0  # the bright 2x2 squares sit on the points


def test_evaluate_full_returns_curves_and_names():
    seq = _masked_seq()
    full = evaluate_full(seq.frames, seq, protocol="clean:norm=sequence", threshold="chunk-max:0.4")
    assert full.protocol == "clean:norm=sequence@1" and full.threshold == "chunk-max:0.4"
    assert set(full.roc.curves()) == {"thresholds", "tau", "tpr", "fpr"}
    assert full.metrics["AUC_ODP"] == full.roc.aucs["AUC_ODP"]


def test_evaluate_bad_input():
    seq = _masked_seq()
    with pytest.raises(InvalidParameterError, match="KIND:VALUE"):
        evaluate(seq.frames, seq, threshold="half")
    with pytest.raises(DataError, match="no ground truth"):
        evaluate(seq.frames, Sequence(frames=seq.frames, name="bare"))
    with pytest.raises(DataError, match="maps have 2 frames"):
        evaluate(seq.frames[:2], seq)


# --- CLI -------------------------------------------------------------------------------------------------------


@pytest.fixture
def fake_catalog(monkeypatch):
    """``load_sequence`` replaced by one that serves frames 1..5 of a known sequence and records its calls."""
    calls = []
    full = _masked_seq(5)

    def load(ref, data_root=None, frames=None):
        calls.append((ref, data_root, frames))
        a, b = frames or (1, 5)
        return full.select(a, b)

    monkeypatch.setattr(catalog, "load_sequence", load)
    return full, calls


def test_cli_json_selects_the_maps_frames(tmp_path, fake_catalog):
    full, calls = fake_catalog
    np.savez(tmp_path / "m.npz", target=full.frames[[1, 3]], frames=np.array([2, 4]))
    res = CliRunner().invoke(main, ["evaluate", str(tmp_path / "m.npz"), "any/seq", "--json", "--data-root", "/d"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert calls == [("any/seq", "/d", (2, 4))]
    assert out["n_frames"] == 2 and out["protocol"] == "tensoristd@1" and out["threshold"] == "ratio:0.5"
    expected = evaluate(full.frames[[1, 3]], _subset(full, [1, 3]))  # frame 3 is not scored: not in the maps
    for key, value in expected.items():
        if np.isfinite(value):
            np.testing.assert_allclose(out[key], value, rtol=1e-12, err_msg=key)
        else:
            assert out[key] is None


def _subset(seq: Sequence, idx: list[int]) -> Sequence:
    return Sequence(
        frames=seq.frames[idx], name=seq.name, masks=seq.masks[idx], points=tuple(seq.points[i] for i in idx)
    )


def test_cli_text_output(tmp_path, fake_catalog):
    full, _ = fake_catalog
    np.savez(tmp_path / "m.npz", target=full.frames)
    res = CliRunner().invoke(main, ["evaluate", str(tmp_path / "m.npz"), "x/y", "--protocol", "clean"])
    assert res.exit_code == 0, res.output
    assert "protocol clean@1, threshold ratio:0.5" in res.output
    assert "AUC_ODP" in res.output and "nIoU" in res.output


def test_cli_maps_dir(tmp_path, fake_catalog):
    full, calls = fake_catalog
    for k in (3, 4, 5):
        Image.fromarray((full.masks[k - 1] * 255).astype(np.uint8)).save(tmp_path / f"{k:04d}.png")
    res = CliRunner().invoke(main, ["evaluate", "--maps-dir", str(tmp_path), "x/y", "--json"])
    assert res.exit_code == 0, res.output
    assert calls[-1][2] == (3, 5)
    assert json.loads(res.output)["IoU"] == 1.0


def test_png_names_without_numbers_are_taken_in_order(tmp_path):
    for name in ("b", "a"):
        Image.fromarray(np.full((2, 3), 51, np.uint8)).save(tmp_path / f"{name}.png")
    maps, numbers = read_png_maps(tmp_path)
    np.testing.assert_array_equal(numbers, [1, 2])
    np.testing.assert_array_equal(maps, 0.2)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["only-one"], "expects MAPS.npz SEQ; got 1 argument"),
        (["a.npz", "b", "c"], "expects MAPS.npz SEQ; got 3"),
        (["missing.npz", "x/y"], "maps file not found"),
    ],
)
def test_cli_usage_errors(args, match, fake_catalog):
    res = CliRunner().invoke(main, ["evaluate", *args])
    assert res.exit_code == 2 and match in res.output


def test_cli_maps_dir_errors(tmp_path, fake_catalog):
    res = CliRunner().invoke(main, ["evaluate", "--maps-dir", str(tmp_path), "x/y"])
    assert res.exit_code == 2 and "holds no .png files" in res.output
    res = CliRunner().invoke(main, ["evaluate", "--maps-dir", str(tmp_path), "m.npz", "x/y"])
    assert res.exit_code == 2 and "expects SEQ (with --maps-dir)" in res.output


def test_select_frames():
    seq = _masked_seq(3, numbers=(4, 5, 6))
    sub = select_frames(seq, np.array([6, 4]))
    assert sub.provenance.frame_numbers == (6, 4)
    np.testing.assert_array_equal(sub.masks, seq.masks[[2, 0]])
    assert select_frames(seq, np.array([4, 5, 6])) is seq
    with pytest.raises(DataError, match=r"frame\(s\) \[7\] that sequence 'synthetic/test' does not have"):
        select_frames(seq, np.array([4, 7]))


def test_cli_frames_key_length_mismatch(tmp_path, fake_catalog):
    full, _ = fake_catalog
    np.savez(tmp_path / "m.npz", target=full.frames[:2], frames=np.array([1, 2, 3]))
    res = CliRunner().invoke(main, ["evaluate", str(tmp_path / "m.npz"), "x/y"])
    assert res.exit_code == 2 and "'frames' lists 3 numbers for 2 maps" in res.output


def test_cli_reproduces_the_toolbox_on_real_data(data_root, reference_root):
    folder = reference_root / "roc" / "STPA_FCTN_sequence1"
    expected = json.loads((folder / "expected.json").read_text())
    res = CliRunner().invoke(
        main, ["evaluate", "--maps-dir", str(folder), "daub/sequence1", "--data-root", str(data_root), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    np.testing.assert_allclose(out["AUC_ODP"], expected["ODP"], rtol=1e-12)
    np.testing.assert_allclose(out["AUC_SNPR"], expected["SNPR"], rtol=1e-12)
    np.testing.assert_allclose([out["SCRG"], out["BSF"], out["CG"]], expected["SCRG_BSF_CG"], atol=5e-5)


def test_cli_frames_key_picks_annotation_lines(data_root, reference_root):
    expected = json.loads((reference_root / "roc" / "NPSTT_sequence1.json").read_text())  # maps of frames 4-17
    maps = str(reference_root / "maps" / "NPSTT_sequence1.npz")
    res = CliRunner().invoke(main, ["evaluate", maps, "daub/sequence1", "--data-root", str(data_root), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["n_frames"] == 14
    np.testing.assert_allclose(out["AUC_ODP"], expected["ODP"], rtol=1e-12)
