"""Binarised-input 3-D ROC: maps cut by a threshold rule are scored as the toolbox scores the PNGs it writes."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from istdbench.cli import main
from istdbench.core.errors import InvalidParameterError, UnknownNameError
from istdbench.core.types import Sequence
from istdbench.metrics.evaluate import evaluate_full
from istdbench.metrics.protocols import get_protocol, protocol_from_id, with_binarize
from istdbench.metrics.roc3d import roc3d
from istdbench.metrics.thresholds import parse_threshold


def _two_frames() -> tuple[Sequence, np.ndarray]:
    """Two 8x8 frames, one target each (point at (3, 3), then (4, 4)), and raw maps with one clutter pixel each."""
    frames = np.full((2, 8, 8), 0.2, np.float32)
    seq = Sequence(frames=frames, name="hand", points=[[(3, 3)], [(4, 4)]])
    maps = np.full((2, 8, 8), 0.1)
    maps[0, 3, 3], maps[0, 6, 0] = 1.0, 0.3  # frame 0: bright target, dim clutter
    maps[1, 4, 4], maps[1, 0, 6] = 0.2, 0.9  # frame 1: dim target, bright clutter
    return seq, maps


@pytest.mark.parametrize("rule", ["chunk-max:0.4", "ratio:0.5"])
def test_hand_computed_tensoristd_of_binarised_maps(rule):
    # Both rules keep the frame-0 target and the frame-1 clutter pixel: the 0/1 maps are
    # f0 = {(3, 3)}, f1 = {(0, 6)}. A 1 passes thresholds k/99 for k = 0..99, a 0 only k = 0.
    seq, maps = _two_frames()
    res = roc3d(maps, seq, f"tensoristd+bin({rule})")
    assert res.protocol == f"tensoristd@1+bin({rule})"
    np.testing.assert_array_equal(res.tpr, [1.0] + [0.5] * 99 + [0.0])  # target 2 only at k = 0
    fpr = 1 / (2 * (64 - 9))  # the one clutter pixel over frames x (H W - 9)
    np.testing.assert_array_equal(res.fpr, [1.0] + [fpr] * 99 + [0.0])
    a = res.aucs
    assert a["AUC_tau_TPR"] == pytest.approx(0.5, abs=1e-15)
    assert a["AUC_tau_FPR"] == pytest.approx(0.005 + 99 * fpr * 0.01, abs=1e-15)
    assert a["AUC_FPR_TPR"] == pytest.approx((1 - fpr) * 0.75 + fpr * 0.25, abs=1e-15)
    assert (res.n_frames_fpr, res.n_frames_empty) == (2, 0)


def test_a_binary_map_without_false_alarm_has_the_papers_auc_tau_fpr_of_0_005():
    """Table 8 of the seed paper gives NeurSTT and 3DSTPM exactly 0.0050: the value of any such binary map."""
    seq, maps = _two_frames()
    maps[0, 6, 0], maps[1, 0, 6] = 0.0, 0.0
    maps[1, 4, 4] = 0.8
    res = roc3d(maps, seq, "tensoristd+bin(chunk-max:0.4)")
    assert res.aucs["AUC_tau_FPR"] == pytest.approx(0.005, abs=1e-15)  # FPR 1 at k = 0 (every 0 passes), then 0
    assert res.aucs["AUC_tau_TPR"] == pytest.approx(0.995, abs=1e-15)
    assert roc3d(maps, seq, "tensoristd").aucs["AUC_tau_FPR"] > 0.005  # the raw maps' background of 0.1 passes


def test_chunk_max_cuts_per_chunk_and_takes_the_default_length():
    maps = np.zeros((5, 2, 2))
    maps[:, 0, 0] = [1.0, 0.3, 0.5, 0.2, 0.1]
    assert parse_threshold("chunk-max:0.4", default_chunk=2).binarize(maps)[:, 0, 0].tolist() == [
        *(True, False),  # chunk [0, 2): max 1.0, cut 0.4
        *(True, False),  # chunk [2, 4): max 0.5, cut 0.2 (strict)
        True,  # chunk [4, 5): max 0.1
    ]
    assert with_binarize("tensoristd", "chunk-max:0.4", default_chunk=10).id == "tensoristd@1+bin(chunk-max:0.4,10)"
    assert with_binarize("tensoristd", "chunk-max:0.4,20", default_chunk=10).id == "tensoristd@1+bin(chunk-max:0.4,20)"
    assert with_binarize("clean", "none").id == "clean@1"


def test_every_metric_scores_the_binary_maps():
    seq, maps = _two_frames()
    masks = np.zeros(seq.shape, bool)
    masks[0, 3, 3] = masks[1, 4, 4] = True
    seq = Sequence(frames=seq.frames, name="hand", masks=masks, points=seq.points)
    raw = evaluate_full(maps, seq, "tensoristd", "ratio:0.5").metrics
    binary = evaluate_full(maps, seq, "tensoristd+bin(chunk-max:0.4)", "ratio:0.5").metrics
    assert binary["empty_frames"] == 0.0 and "empty_frames" not in raw
    assert binary["IoU"] == pytest.approx(1 / 3)  # detections {f0 target, f1 clutter} against the two mask pixels
    assert raw["IoU"] == binary["IoU"]  # ratio:0.5 of the raw maps cuts the same pixels here
    zero_one = evaluate_full(maps > parse_threshold("chunk-max:0.4").cutoffs(maps), seq, "tensoristd").metrics
    assert {k: v for k, v in binary.items() if k != "empty_frames"} == zero_one  # contrast gains included


def test_a_recorded_protocol_reads_back():
    for spec in ("tensoristd", "clean:norm=sequence+bin(ratio:0.5)", "tensoristd+bin(chunk-max:0.4,10)"):
        proto = get_protocol(spec)
        assert protocol_from_id(proto.id) == proto
    with pytest.raises(InvalidParameterError, match="version 2; this suite has tensoristd@1"):
        protocol_from_id("tensoristd@2+bin(ratio:0.5)")
    with pytest.raises(InvalidParameterError, match="not a recorded protocol"):
        protocol_from_id("tensoristd")


def test_image_sets_are_binarised_per_image():
    from istdbench.core.types import ImageSet

    rng = np.random.default_rng(0)
    images = [rng.random((12, 10)).astype(np.float32) * 0.3, rng.random((9, 14)).astype(np.float32) * 0.3]
    masks = [np.zeros(im.shape, bool) for im in images]
    for im, m, (r, c) in zip(images, masks, [(5, 4), (4, 7)], strict=True):
        im[r, c], m[r, c] = 1.0, True
    data = ImageSet(images=images, names=("a", "b"), masks=masks, name="tiny")
    binary = [(im > 0.5 * im.max()).astype(np.float64) for im in images]
    got = evaluate_full(images, data, "tensoristd+bin(ratio:0.5)").metrics
    assert {k: v for k, v in got.items() if k != "empty_frames"} == evaluate_full(binary, data, "tensoristd").metrics
    with pytest.raises(InvalidParameterError, match="an image set has none"):
        evaluate_full(images, data, "tensoristd+bin(chunk-max:0.4)")


def test_bad_binarisation_rules():
    with pytest.raises(UnknownNameError, match="Did you mean 'chunk-max'"):
        get_protocol("tensoristd+bin(chunkmax:0.4)")
    with pytest.raises(InvalidParameterError, match=r"NAME\[:OPTIONS\]\[\+bin\(RULE\)\]"):
        get_protocol("tensoristd+bin(ratio:0.5")
    with pytest.raises(InvalidParameterError, match="already binarises"):
        with_binarize("tensoristd+bin(ratio:0.5)", "ratio:0.4")
    with pytest.raises(InvalidParameterError, match=r"range \[0, 1\]"):
        with_binarize("tensoristd", "chunk-max:4")
    with pytest.raises(InvalidParameterError, match="'basicirstd' scores binarised maps by its own threshold rule"):
        get_protocol("basicirstd+bin(ratio:0.5)")


def test_a_rule_that_leaves_every_map_empty_warns_and_reports(caplog):
    seq, maps = _two_frames()
    with caplog.at_level(logging.WARNING):
        res = evaluate_full(maps, seq, "tensoristd+bin(fixed:5)")
    assert "leaves every one of the 2 maps of sequence 'hand' empty" in caplog.text
    assert "drops every frame from FPR" in caplog.text
    assert res.metrics["empty_frames"] == 2.0 and res.roc.n_frames_fpr == 0
    assert res.metrics["AUC_tau_TPR"] == 0.0 and not res.roc.tpr.any()


# --- the command line, and the PNG route as the oracle ---------------------------------------------------------


def _write_pngs(folder, binary: np.ndarray, numbers) -> None:
    folder.mkdir()
    for n, frame in zip(numbers, binary, strict=True):
        Image.fromarray(frame.astype(np.uint8) * 255).save(folder / f"{int(n):04d}.png")


def _cli_json(args) -> dict:
    res = CliRunner().invoke(main, ["evaluate", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output[res.output.index("{") :])


def test_cli_binarize_and_its_bad_input(tmp_path, caplog):
    seq = "synthetic:h=32,w=32,t=6,seed=0"
    path = tmp_path / "maps.npz"
    res = CliRunner().invoke(main, ["detect", "tophat", seq, "-o", str(path)])
    assert res.exit_code == 0, res.output
    out = _cli_json([str(path), seq, "--protocol", "tensoristd", "--binarize", "chunk-max:0.4"])
    assert out["protocol"] == "tensoristd@1+bin(chunk-max:0.4)" and out["empty_frames"] == 0
    res = CliRunner().invoke(main, ["evaluate", str(path), seq, "--binarize", "chunkmax:0.4"])
    assert res.exit_code == 2 and "error: Unknown threshold rule 'chunkmax'. Did you mean 'chunk-max'?" in res.output
    with caplog.at_level(logging.WARNING):
        res = CliRunner().invoke(main, ["evaluate", str(path), seq, "--binarize", "fixed:2", "--json"])
    assert res.exit_code == 0 and "leaves every one of the 6 maps" in caplog.text
    out = json.loads(res.output[res.output.index("{") :])
    assert (out["empty_frames"], out["frames_scored_fpr"], out["AUC_tau_TPR"]) == (6, 0, 0.0)


@pytest.mark.parametrize("rule", ["chunk-max:0.4", "ratio:0.5"])
def test_binarize_equals_scoring_the_written_pngs_on_every_reference_map(rule, reference_root, data_root, tmp_path):
    files = sorted((reference_root / "maps").glob("*.npz"))
    assert len(files) >= 9
    for path in files:
        with np.load(path) as z:
            maps, numbers = z["target"], z["frames"]
        binary = parse_threshold(rule).binarize(maps)
        _write_pngs(tmp_path / path.stem, binary, numbers)
        common = ["daub/sequence1", "--data-root", str(data_root), "--protocol", "tensoristd"]
        via_pngs = _cli_json(["--maps-dir", str(tmp_path / path.stem), *common])
        via_rule = _cli_json([str(path), *common, "--binarize", rule])
        assert via_rule.pop("protocol") == f"tensoristd@1+bin({rule})" and via_pngs.pop("protocol") == "tensoristd@1"
        assert via_rule.pop("empty_frames") == int((~binary.any(axis=(1, 2))).sum())
        assert via_rule == via_pngs, path.name


# --- run configs -------------------------------------------------------------------------------------------------


def _config(methods: dict, **top) -> dict:
    return {"methods": methods, "sequences": [{"refs": ["synthetic:h=32,w=32,t=6,seed=0"]}], **top}


def test_run_config_binarize_per_method_and_default():
    from istdbench.runners.config import parse_config
    from istdbench.runners.jobs import plan_jobs

    cfg = parse_config(
        _config(
            {
                "tophat": {"binarize": ["none", "ratio:0.5"]},
                "neurstt": {"set": {"chunk_length": 10, "iterations": 2}, "binarize": "chunk-max:0.4", "label": "L10"},
                "mpcm": {},
            },
            binarize="chunk-max:0.5",
            protocols=["tensoristd", "clean"],
        )
    )
    jobs = plan_jobs(cfg)
    got = {(j.method, j.protocol_version) for j in jobs}
    assert got == {
        ("tophat", "tensoristd@1"),
        ("tophat", "clean@1"),
        ("tophat", "tensoristd@1+bin(ratio:0.5)"),
        ("tophat", "clean@1+bin(ratio:0.5)"),
        ("neurstt", "tensoristd@1+bin(chunk-max:0.4,10)"),  # chunk-max takes the method's chunk length
        ("neurstt", "clean@1+bin(chunk-max:0.4,10)"),
        ("mpcm", "tensoristd@1+bin(chunk-max:0.5)"),  # the config's default rule; no chunk length: 80
        ("mpcm", "clean@1+bin(chunk-max:0.5)"),
    }
    assert len({j.detection_key for j in jobs if j.method == "tophat"}) == 1  # raw and binarised: one detection
    assert {j.label for j in jobs} == {"", "L10"}


def test_run_rows_say_how_the_maps_were_scored(tmp_path):
    import pandas as pd

    from istdbench.runners.config import parse_config
    from istdbench.runners.runner import run

    cfg = parse_config(_config({"tophat": {"binarize": ["none", "chunk-max:0.4"], "label": "white top-hat"}}))
    df = pd.read_csv(run(cfg, tmp_path / "out", progress=False).results, keep_default_na=False)
    assert set(df["protocol"]) == {"tensoristd@1", "tensoristd@1+bin(chunk-max:0.4)"}
    assert set(df["label"]) == {"white top-hat"}
    assert set(df.loc[df["protocol"].str.contains("bin"), "metric"]) >= {"empty_frames", "AUC_tau_FPR"}


def test_run_config_bad_binarize():
    from istdbench.runners.config import parse_config
    from istdbench.runners.jobs import plan_jobs

    with pytest.raises(InvalidParameterError, match=r"binarize.*non-empty list of strings"):
        parse_config(_config({"tophat": {"binarize": 0.4}}))
    with pytest.raises(UnknownNameError, match="Unknown threshold rule 'max'"):
        plan_jobs(parse_config(_config({"tophat": {"binarize": "max:0.4"}})))
    with pytest.raises(InvalidParameterError, match="same method variant twice"):
        parse_config(_config({"tophat": [{"label": "a"}, {"label": "b", "binarize": "ratio:0.5"}]}))
    with pytest.raises(InvalidParameterError, match="same label"):
        parse_config(_config({"neurstt": [{"label": "a"}, {"label": "a", "preset": "authors"}]}))


def test_run_config_binarize_leaves_basicirstd_as_it_is():
    from istdbench.runners.config import parse_config
    from istdbench.runners.jobs import plan_jobs

    cfg = parse_config(_config({"tophat": {}}, binarize="ratio:0.5", protocols=["tensoristd", "basicirstd"]))
    assert {j.protocol_version for j in plan_jobs(cfg)} == {"tensoristd@1+bin(ratio:0.5)", "basicirstd@1"}
