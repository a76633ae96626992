"""A report of a real (tiny) run: the runner's own files, not hand-made ones, feed every table and figure."""

from __future__ import annotations

import pytest
import torch

from istdbench.reports import load_results, write_report
from istdbench.runners.config import parse_config
from istdbench.runners.runner import run


@pytest.fixture(autouse=True)
def _few_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _config(refs: list[str], noise: list[str], frames: list[int] | None = None):
    block = {"refs": refs, "noise": noise, **({"frames": frames} if frames else {})}
    data = {
        "name": "tiny",
        "methods": {"tophat": {"preset": "tensoristd"}, "mpcm": {"preset": "paper"}},
        "sequences": [block],
    }
    return parse_config(data)


def test_report_of_a_synthetic_run(tmp_path):
    out = tmp_path / "out"
    cfg = _config(["synthetic:h=32,w=32,t=5,seed=0"], ["none", "gaussian:snr=5"])
    run(cfg, out, threads=1, progress=False)
    report = write_report(out)
    replication = {"replication_table8", "replication_table9", "replication_table10"}  # mpcm is in the paper
    ours = {"table8_auc3d", "table8_sequences_odp", "table8_sequences_snpr", "table9_pixel", "table10_runtime"}
    assert set(report.tables) == ours | {"table12_noise_pixel"} | replication
    df = load_results(out)
    assert set(df["method"]) == {"tophat", "mpcm"} and (df["status"] == "ok").all()
    md = (out / "report" / "tables" / "table8_auc3d.md").read_text()
    assert md.count("\n| MPCM |") == 1 and md.count("\n| Top-hat |") == 1
    assert md.index("\n| Top-hat |") < md.index("\n| MPCM |")  # the paper's order, not the alphabet
    assert {"Visual comparison, synthetic (threshold ratio:0.5)"} <= set(report.figures)
    assert any(k.startswith("3-D ROC, synthetic/") for k in report.figures)
    assert any(k.startswith("3-D ROC curves and the 2-D ROC") for k in report.figures)  # Figs. 9-11 layout
    assert any(k.startswith("Noise examples on Seq. 1") for k in report.figures)  # Fig. 12(a)
    assert (out / "report" / "figures" / "fig12a_noise_examples.pdf").is_file()
    index = (out / "report" / "index.md").read_text()
    assert "radius=" in index and "radii=" in index  # resolved parameters from the runner's job.json
    assert "of run config `tiny`" in index and "## Left out" not in index


def test_report_reloads_real_clip_for_the_visual_grid(tmp_path, data_root, monkeypatch):
    out = tmp_path / "out"
    run(_config(["daub/sequence1"], ["none"], frames=[1, 4]), out, threads=1, progress=False, data_root=data_root)
    report = write_report(out, formats="md", data_root=data_root)
    replication = {"replication_table8", "replication_table10"}  # no IoU/F1 on a point-annotated clip
    ours = {"table8_auc3d", "table8_sequences_odp", "table8_sequences_snpr", "table9_target", "table10_runtime"}
    assert set(report.tables) == ours | replication
    target = (out / "report" / "tables" / "table9_target.md").read_text()
    assert "| Method | Pd ↑ | Fa ↓ | AUC(τ,TPR) ↑ |" in target and "Seq. 1: daub/sequence1" in target
    assert "Visual comparison, daub (threshold ratio:0.5)" in report.figures
    monkeypatch.delenv("ISTDBENCH_DATA", raising=False)
    monkeypatch.chdir(tmp_path)  # so that "daub/sequence1" is not found as a relative folder either
    # the runner records the data root in each job.json, so the report finds the clip without being told
    blind = write_report(out, formats="md")
    assert "Visual comparison, daub (threshold ratio:0.5)" in blind.figures
    assert blind.skipped == []
