"""The runner, store and reports on image sets: a split in a sequences block, basicirstd rows, derived gt."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from imageset_fixtures import make_sirst_v1

from istdbench.cli import main
from istdbench.core.errors import InvalidParameterError, UnknownNameError
from istdbench.core.io import load_image_set_maps
from istdbench.runners.config import load_config, parse_config
from istdbench.runners.jobs import plan_jobs
from istdbench.runners.runner import run

BLOCK = {"refs": ["sirst"], "split": "test_NUAA-SIRST"}
GT = "derived:peak-fraction=0.5,radius=3"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("data")
    make_sirst_v1(tmp / "sirst")
    return tmp


def _config(**extra):
    return parse_config(
        {"methods": ["tophat"], "protocols": ["basicirstd", "tensoristd"], "threads": 1, **extra}
        | ({"sequences": [BLOCK]} if "sequences" not in extra else {})
    )


def test_image_set_jobs_store_rows_maps_and_are_reused(root, tmp_path):
    cfg = _config(sequences=[BLOCK, {**BLOCK, "gt": GT}])
    out = tmp_path / "out"
    summary = run(cfg, out, data_root=root)
    assert (summary.total, summary.ran, summary.failed) == (4, 4, 0)
    table = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert set(table["sequence"]) == {"sirst/test_NUAA-SIRST"} and set(table["dataset"]) == {"sirst"}
    thresholds = dict(zip(table["protocol"], table["threshold"], strict=False))
    assert thresholds == {"basicirstd@1": "minmax:0.5", "tensoristd@1": "ratio:0.5"}  # each protocol's own rule
    assert set(table["gt"]) == {"", "derived:peak-fraction=0.5,radius=3,ring=1,peak-radius=1,smooth=0,background=70"}
    assert (table["n_frames"] == 2).all() and (table["height"] == "").all()
    basic = table[(table["protocol"] == "basicirstd@1") & (table["gt"] == "")]
    assert list(basic["metric"]) == ["IoU", "nIoU", "F1", "Pd", "Fa"]
    assert {"AUC_FPR_TPR", "IoU"} <= set(table.loc[table["protocol"] == "tensoristd@1", "metric"])
    for key in table["job_key"].unique():  # the detect -o format: one map per image, keyed by name
        maps, meta = load_image_set_maps(out / "jobs" / key / "maps.npz")
        assert list(maps) == ["Misc_2", "Misc_1"] and meta["split"] == "test_NUAA-SIRST"
        assert [m.shape for m in maps.values()] == [(24, 18), (20, 30)]
    curves = {key: (out / "jobs" / key / "curves.npz").is_file() for key in table["job_key"].unique()}
    assert sum(curves.values()) == 2  # the ROC protocol's jobs only
    assert run(cfg, out, data_root=root).reused == 4
    report = CliRunner().invoke(main, ["report", str(out)])
    assert report.exit_code == 0, report.output
    tables = out / "report" / "tables"
    real = (tables / "table_imagesets__basicirstd_1_minmax_0_5.md").read_text()
    assert "Fa (1e-6)" in real and "tophat" in real and "derived" not in real
    derived = next(tables.glob("table_imagesets__basicirstd_1_minmax_0_5_derived*.md")).read_text()
    assert "Ground truth: masks derived from the annotated points, derived:peak-fraction=0.5" in derived


def test_derived_gt_shares_the_detection_not_the_job(root):
    jobs = plan_jobs(_config(sequences=[BLOCK, {**BLOCK, "gt": GT}]), data_root=root)
    assert len(jobs) == 4 and len({j.detection_key for j in jobs}) == 1 and len({j.key for j in jobs}) == 4


def test_multi_frame_method_on_an_image_set_is_a_config_error(root):
    cfg = parse_config({"methods": ["tophat", "stt"], "sequences": [BLOCK]})
    with pytest.raises(InvalidParameterError, match=r"stt is a multi-frame method; run image sets with single-frame"):
        plan_jobs(cfg, data_root=root)


def test_image_set_blocks_take_no_noise_or_frames_and_gt_is_checked(root):
    with pytest.raises(InvalidParameterError, match="added noise applies to sequences only"):
        plan_jobs(_config(sequences=[{**BLOCK, "noise": ["none", "cross"]}]), data_root=root)
    with pytest.raises(InvalidParameterError, match="is an image set: it has no frame range"):
        plan_jobs(_config(sequences=[{**BLOCK, "frames": [1, 2]}]), data_root=root)
    with pytest.raises(InvalidParameterError, match="ground truth 'masks' is unknown"):
        plan_jobs(_config(sequences=[{**BLOCK, "gt": "masks"}]), data_root=root)
    with pytest.raises(UnknownNameError, match=r"(?i)unknown split"):
        plan_jobs(_config(sequences=[{**BLOCK, "split": "nope"}]), data_root=root)


def test_shipped_sirst_config_names_the_single_frame_methods():
    cfg = load_config("sirst")
    assert {m.name for m in cfg.methods} == {"tophat", "mpcm", "ipi", "pstnn", "rpcanet", "rdian"}
    assert cfg.sequences[0].split == "test_NUAA-SIRST" and cfg.protocols == ("basicirstd", "tensoristd")


def test_methods_all_leaves_multi_frame_methods_out_of_image_sets(root, caplog):
    from istdbench.runners.jobs import _check_image_set_block, _resolve_methods, sequence_info

    named = parse_config({"methods": ["tophat", "stt"], "sequences": [BLOCK]})
    variants = _resolve_methods(named, "cpu")
    info = sequence_info("sirst", None, root, "test_NUAA-SIRST")
    everything = parse_config({"methods": "all", "sequences": [BLOCK]})
    with caplog.at_level("INFO", logger="istdbench.runners.jobs"):
        kept = _check_image_set_block(everything, everything.sequences[0], 1, info, variants)
    assert [v.spec.name for v in kept] == ["tophat"]
    assert "multi-frame method(s) stt left out" in caplog.text
