"""Run-config options of the quality studies: crop windows and fit checkpoints."""

from __future__ import annotations

import pandas as pd
import pytest

from istdbench import create_method
from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.datasets.catalog import load_sequence
from istdbench.metrics.roc3d import roc3d
from istdbench.reports.tables import build_tables
from istdbench.runners.config import parse_config
from istdbench.runners.jobs import plan_jobs
from istdbench.runners.runner import run

REF = "synthetic:h=32,w=32,t=8,seed=0"
CROP = [4, 28, 2, 30]
FIT = {"chunk_length": 8, "iterations": 6}


def _odp(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["metric"] == "AUC_ODP"]


def test_crop_is_applied_after_loading_named_and_part_of_the_job(tmp_path):
    cropped = parse_config({"methods": ["tophat"], "sequences": [{"refs": [REF], "crop": CROP}], "threads": 1})
    whole = parse_config({"methods": ["tophat"], "sequences": [{"refs": [REF]}]})
    assert {j.key for j in plan_jobs(cropped)}.isdisjoint(j.key for j in plan_jobs(whole))
    run(cropped, tmp_path / "out", progress=False)
    rows = _odp(pd.read_csv(tmp_path / "out" / "results.csv"))
    assert rows["sequence"].tolist() == ["synthetic/h=32,w=32,t=8,seed=0[4:28,2:30]"]
    assert (rows["height"].tolist(), rows["width"].tolist()) == ([24], [28])
    window = load_sequence(REF).crop((4, 28), (2, 30))
    expected = roc3d(create_method("tophat").detect(window).target, window, "tensoristd").aucs["AUC_ODP"]
    assert rows["value"].iloc[0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("block", "match"),
    [({"crop": [4, 2, 0, 8]}, "row0 < row1"), ({"crop": [0, 8]}, r"\[row0, row1, col0, col1\]")],
)
def test_malformed_crop(block, match):
    with pytest.raises(InvalidParameterError, match=match):
        parse_config({"methods": ["tophat"], "sequences": [{"refs": [REF], **block}]})


def test_crop_outside_the_frames_is_a_data_error():
    cfg = parse_config({"methods": ["tophat"], "sequences": [{"refs": [REF], "crop": [0, 40, 0, 8]}]})
    with pytest.raises(DataError, match="not a non-empty region of the 32x32 frames"):
        plan_jobs(cfg)


def test_checkpoint_rows_equal_shorter_fits_and_stay_out_of_final_tables(tmp_path):
    """The maps after 3 of 6 steps score as a 3-step fit does (bit for bit on a CPU)."""
    seqs = [{"refs": [REF]}]
    study = {"3dstpm": {"preset": "paper", "checkpoints": [3], "set": FIT}}
    run(parse_config({"methods": study, "sequences": seqs, "threads": 1}), tmp_path / "a", progress=False)
    short = {"3dstpm": {"preset": "paper", "set": {**FIT, "iterations": 3}}}
    run(parse_config({"methods": short, "sequences": seqs, "threads": 1}), tmp_path / "b", progress=False)
    rows = pd.read_csv(tmp_path / "a" / "results.csv")
    reference = pd.read_csv(tmp_path / "b" / "results.csv")
    at3 = rows[rows["checkpoint"] == 3].set_index("metric")["value"]
    assert at3.to_dict() == reference.set_index("metric")["value"].to_dict()
    final = rows[rows["checkpoint"].isna()].set_index("metric")["value"]
    assert len(final) == len(at3) and not final.equals(at3)

    from istdbench.reports.results import load_results, variant_labels

    df = load_results(tmp_path / "a")
    tables = {t.key: t for t in build_tables(df.assign(variant=variant_labels(df)))}
    mean = tables["table8_auc3d"].values
    assert mean.loc["3DSTPM", ("", "AUC_ODP")] == pytest.approx(final["AUC_ODP"])
    marks = tables["checkpoints_odp"].values
    assert list(marks.columns.get_level_values(0)) == ["3", "final"]
    row = marks.loc[f"3dstpm on {rows['sequence'].iloc[0]}"]
    assert (row[("3", "AUC_ODP")], row[("final", "AUC_ODP")]) == pytest.approx((at3["AUC_ODP"], final["AUC_ODP"]))


@pytest.mark.parametrize(
    ("methods", "match"),
    [
        ({"tophat": {"checkpoints": [2]}}, "not an iterative fit"),
        ({"3dstpm": {"checkpoints": [9], "set": FIT}}, r"checkpoints \[9\] exceed the fit's 6 steps"),
        ({"3dstpm": {"checkpoints": [0]}}, "list of positive integers"),
    ],
)
def test_bad_checkpoints_are_refused_before_anything_runs(methods, match):
    with pytest.raises(InvalidParameterError, match=match):
        plan_jobs(parse_config({"methods": methods, "sequences": [{"refs": [REF]}]}))


def test_study_configs_plan_on_the_real_data(data_root):
    """The window study: three rates x (final + 3 checkpoints) = 12 jobs, one fit per rate, on the cropped clip."""
    from istdbench.runners.config import load_config

    jobs = plan_jobs(load_config("study-stpm3d-lr"), data_root=data_root)
    assert len(jobs) == 12 and len({j.detection_key for j in jobs}) == 3
    assert {j.sequence for j in jobs} == {"daub/sequence2[32:160,36:164]"}
    assert {j.shape for j in jobs} == {(80, 128, 128)}
    assert sorted({j.checkpoint or 3000 for j in jobs}) == [500, 1000, 2000, 3000]
    assert {j.label for j in jobs} == {"lr=1e-4", "lr=1e-3", "lr=1e-2"}
