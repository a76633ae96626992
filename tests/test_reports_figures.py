"""Figures: detection boxes of the visual grid, 3-D ROC panels, noise bars, skipped files."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from matplotlib.patches import Rectangle
from reports_fake import make_results, write_run

from istdbench.core.types import Sequence
from istdbench.reports import write_report
from istdbench.reports.figures import noise_figure, roc3d_figure
from istdbench.reports.jobfiles import JobRef, representative_jobs, sequence_request
from istdbench.reports.results import normalize, variant_labels
from istdbench.reports.tables import build_tables
from istdbench.reports.visual import COLORS, classify_frame, pick_frame, target_label_frames, visual_grid


def test_classify_frame_hits_false_alarms_misses():
    targets = np.zeros((20, 20), dtype=np.int32)
    targets[2:5, 2:5] = 1  # found
    targets[10:13, 10:13] = 2  # missed
    binary = np.zeros((20, 20), dtype=bool)
    binary[3, 3:6] = True  # touches target 1
    binary[15:18, 1:3] = True  # big false alarm
    binary[0, 19] = True  # small false alarm
    out = classify_frame(binary, targets)
    assert out.hits == ((3, 4, 3, 6),)
    assert out.false_alarms == ((15, 18, 1, 3), (0, 1, 19, 20))  # largest first
    assert out.misses == ((10, 13, 10, 13),)


def test_target_labels_from_points_and_frame_choice():
    frames = np.zeros((4, 10, 10), dtype=np.float32)
    points = [np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 2)), np.array([[5.0, 6.0]])]
    labels = target_label_frames(Sequence(frames, points=points))
    assert labels[3].sum() == 9 and labels[3, 4:7, 5:8].all() and labels[:3].max() == 0
    assert pick_frame(labels) == 3
    assert pick_frame(np.zeros((5, 3, 3), dtype=np.int32)) == 2
    late_only = np.zeros((6, 3, 3), dtype=np.int32)
    late_only[1, 0, 0] = 1
    assert pick_frame(late_only) == 1


def test_sequence_request_reads_runner_fields():
    nested = {"job": {"ref": "daub/sequence1", "frames": [1, 80], "sequence": "daub/sequence1"}}
    assert sequence_request(nested) == ("daub/sequence1", (1, 80), None)
    assert sequence_request({**nested, "data_root": "/data"}) == ("daub/sequence1", (1, 80), "/data")
    assert sequence_request({"sequence": "synthetic:h=8", "frames": None, "data_root": "/d"}) == (
        "synthetic:h=8",
        None,
        "/d",
    )
    assert sequence_request({"frames": [1, 2]}) is None


def test_roc3d_figure_panels():
    tau = np.arange(101) / 100
    fpr = np.linspace(1, 0, 101)
    curves = {m: {"tau": tau, "tpr": np.clip(1 - tau + k, 0, 1), "fpr": fpr} for k, m in enumerate(["a", "b"])}
    fig = roc3d_figure(curves, "seq")
    assert len(fig.axes) == 4
    _, ax_fd, ax_td, ax_tf = fig.axes
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 2, 2, 2]
    assert len(ax_fd.get_lines()[0].get_xdata()) == 100  # the FPR = 0 point cannot sit on a log axis
    assert ax_fd.get_xscale() == "log" and ax_tf.get_yscale() == "log"
    np.testing.assert_allclose(ax_td.get_lines()[1].get_ydata(), np.clip(2 - tau, 0, 1), rtol=0, atol=0)


def test_noise_figure_bars_leave_gaps_for_failures():
    tables = {t.key: t for t in build_tables(normalize(make_results()))}
    fig = noise_figure(tables["table12_noise_pixel"])
    f1_axis = fig.axes[0]
    heights = [p.get_height() for p in f1_axis.patches]
    assert len(heights) == 4 * 3  # 4 variants x 3 noise settings
    assert sum(np.isnan(h) for h in heights) == 3  # gamma (slow) failed on the masked sequence
    np.testing.assert_allclose(max(h for h in heights if not np.isnan(h)), 84.5, atol=1e-9)  # percent, as the table


@pytest.fixture
def run(tmp_path):
    df = make_results(seeds=(0,))
    df = df[df["noise"] == "none"]
    return write_run(tmp_path / "out", df), normalize(df)


def _jobs(out, df, setting=None):
    return representative_jobs(df.assign(variant=variant_labels(df)), out, setting)


def test_roc3d_figures_skip_missing_curves(run, caplog):
    out, df = run
    jobs = _jobs(out, df)
    assert len(jobs) == 7 and {j.sequence for j in jobs} == {"synthetic/s0", "daub/sequence1"}
    alpha = next(j for j in jobs if j.variant == "alpha" and j.sequence == "synthetic/s0")
    (alpha.folder / "curves.npz").unlink()
    with caplog.at_level(logging.WARNING):
        report = write_report(out, formats="md", jobs=1, visual="none")
    assert f"missing {alpha.folder / 'curves.npz'}" in caplog.text
    assert report.figures["3-D ROC, synthetic/s0 (tensoristd@1)"] == [
        "figures/fig_roc3d_synthetic_s0.png",
        "figures/fig_roc3d_synthetic_s0.pdf",
    ]
    assert all((out / "report" / p).stat().st_size > 1000 for paths in report.figures.values() for p in paths)


def test_visual_grid_draws_coloured_boxes(run):
    out, df = run
    jobs = [j for j in _jobs(out, df) if j.sequence == "synthetic/s0"]
    alpha = next(j for j in jobs if j.variant == "alpha")
    from istdbench.reports.visual import load_job_sequence

    seq = load_job_sequence(alpha, None)
    target = seq.masks.astype(np.float32)
    target[:, 0:2, 0:2] = 1.0  # one false alarm per frame (the synthetic targets avoid the corner)
    np.savez(alpha.folder / "maps.npz", target=target)
    fig, shown = visual_grid(jobs, data_root=None)
    assert shown == ["synthetic/s0"]
    assert len(fig.axes) == 1 + 3  # the input frame plus alpha, beta, gamma (fast); gamma (slow) failed
    panel = next(ax for ax in fig.axes if ax.get_title() == "alpha")
    colours = [p.get_edgecolor() for p in panel.patches if isinstance(p, Rectangle)]
    import matplotlib.colors as mcolors

    counts = {k: sum(np.allclose(c, mcolors.to_rgba(v)) for c in colours) for k, v in COLORS.items()}
    labels = target_label_frames(seq)
    n_targets = len(np.unique(labels[pick_frame(labels)])) - 1
    assert counts == {"hit": n_targets, "false_alarm": 1, "miss": 0}
    beta = next(ax for ax in fig.axes if ax.get_title() == "beta")
    assert len(beta.patches) == n_targets  # an all-zero map misses every target


def test_visual_grid_without_loadable_sequence(run, caplog):
    out, df = run
    jobs = [j for j in _jobs(out, df) if j.sequence == "daub/sequence1"]
    for j in jobs:
        (j.folder / "job.json").write_text('{"frames": null}')
    with caplog.at_level(logging.WARNING):
        assert visual_grid(jobs, data_root=None) is None
    assert "records no sequence reference" in caplog.text


def test_representative_job_is_lowest_seed(tmp_path):
    df = normalize(make_results(seeds=(3, 1)))
    jobs = _jobs(tmp_path, df)
    keys = {(j.variant, j.sequence): j.job_key for j in jobs}
    assert keys["alpha", "synthetic/s0"].endswith("-none-1")
    assert isinstance(jobs[0], JobRef) and jobs[0].folder == tmp_path / "jobs" / jobs[0].job_key
    assert [j.sequence for j in jobs] == ["daub/sequence1"] * 4 + ["synthetic/s0"] * 3  # gamma (slow) failed there
