"""Publication figures: journal widths, TrueType fonts, distinct method styles, Fig. 12(a) and its page check."""

from __future__ import annotations

import re

import numpy as np
import pytest

from istdbench.reports import style
from istdbench.reports.figures import save_figure
from istdbench.reports.noise_examples import NoiseExamples, noise_examples_figure
from istdbench.reports.texcheck import compile_blocks, figure_block, pdflatex


def _examples(methods: int = 2) -> NoiseExamples:
    rng = np.random.default_rng(0)
    frame = rng.random((32, 32))
    inputs = [(label, np.clip(frame + 0.1 * i, 0, 1)) for i, label in enumerate(("Clean", "Gaussian 5 dB", "Cross"))]
    truth = np.zeros((32, 32))
    truth[10:13, 20:23] = 1
    results = {f"M{k}": [truth, None, truth] for k in range(methods)}
    return NoiseExamples(7, inputs, truth, results)


def test_method_styles_are_distinct_and_highlight_is_black():
    names = [f"m{i}" for i in range(40)] + ["NeurSTT (paper)"]
    styles = style.method_styles(names, highlight="NeurSTT")
    combos = {(s.color, s.linestyle, s.marker) for s in styles.values()}
    assert len(combos) == len(names)
    assert styles["NeurSTT (paper)"].color == "#000000" and styles["NeurSTT (paper)"].linewidth > 1.5
    assert all(s.color != "#000000" for n, s in styles.items() if n != "NeurSTT (paper)")


def test_figures_are_drawn_at_journal_width_with_truetype_fonts(tmp_path):
    with style.publication_style():
        fig = noise_examples_figure(_examples())
        (pdf,) = save_figure(fig, tmp_path, "fig12a", formats=("pdf",))
    assert fig.get_figwidth() == pytest.approx(style.DOUBLE_IN)
    data = pdf.read_bytes()
    assert b"/Type3" not in data and re.search(rb"/FontFile2", data)  # embedded TrueType
    texts = [t for ax in fig.axes for t in (ax.title, ax.yaxis.label) if t.get_text()]
    assert texts and all(t.get_fontsize() == style.FONT_PT for t in texts)


def test_noise_examples_grid_shape():
    fig = noise_examples_figure(_examples(methods=3))
    assert len(fig.axes) == (1 + 3) * (3 + 1)  # input + methods rows, noise + ground-truth columns
    titles = [ax.get_title() for ax in fig.axes[:4]]
    assert titles == ["Clean", "Gaussian 5 dB", "Cross", "Ground truth"]


@pytest.mark.skipif(pdflatex() is None, reason="pdflatex not installed (texlive-latex-base)")
def test_figure_page_compiles_without_overfull_boxes(tmp_path):
    with style.publication_style():
        (wide,) = save_figure(noise_examples_figure(_examples()), tmp_path, "wide", formats=("pdf",))
        (narrow,) = save_figure(noise_examples_figure(_examples(), width="column"), tmp_path, "narrow", ("pdf",))
    blocks = [figure_block(wide, True, "Double column."), figure_block(narrow, False, "Single column.")]
    result = compile_blocks(blocks, tmp_path / "tex")
    assert result.too_wide() == []
    # the check can fail: the old 11-inch figures run far past the text width
    with style.publication_style():
        fig = noise_examples_figure(_examples())
        fig.set_size_inches(11, 9)
        (big,) = save_figure(fig, tmp_path, "big", formats=("pdf",))
    assert compile_blocks([figure_block(big, True, "Too big.")], tmp_path / "tex2").too_wide()


def _curves(shift: float) -> dict[str, np.ndarray]:
    tau = np.arange(101) / 100
    return {"tau": tau, "tpr": np.clip(1.1 - tau - shift, 0, 1), "fpr": np.clip(0.1 - tau / 10 - shift / 100, 0, 1)}


def test_roc_grid_has_four_panels_per_sequence_and_one_legend(tmp_path):
    from istdbench.reports.rocgrid import RocRow, roc_grid_figure, save_roc_grids

    rows = [RocRow(f"Seq. {k}", {"A": _curves(0.0), "B": _curves(0.1)}) for k in (1, 2, 3)]
    fig = roc_grid_figure(rows, ["A", "B", "C"], highlight="B")
    assert len(fig.axes) == 12 and fig.get_figwidth() == pytest.approx(style.DOUBLE_IN)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["A", "B"]  # C has no curve: not in the legend
    assert fig.axes[1].get_xscale() == "log" and fig.axes[3].get_yscale() == "log"
    linear = roc_grid_figure(rows, ["A", "B"], fpr_scale="linear", fpr_zoom=1e-2)
    assert linear.axes[1].get_xscale() == "linear" and linear.axes[1].get_xlim() == pytest.approx((0, 1e-2))
    first = save_roc_grids([rows], ["A", "B"], tmp_path / "a", "grid", "tensoristd@1")
    second = save_roc_grids([rows], ["A", "B"], tmp_path / "b", "grid", "tensoristd@1")
    (caption,) = first
    assert "Seq. 1, Seq. 2, Seq. 3" in caption and "logarithmic" in caption
    for p, q in zip(first[caption], second[caption], strict=True):
        assert p.read_bytes() == q.read_bytes()  # deterministic files


def test_visual_grid_has_truth_column_insets_and_states_its_boxes():
    from istdbench.reports.visual import classify_frame
    from istdbench.reports.visual_grid import (
        BOXES,
        MAX_FALSE_ALARM_BOXES,
        Panel,
        VisualRow,
        caption,
        visual_grid_figure,
    )

    truth = np.zeros((40, 40), dtype=int)
    truth[30:33, 30:33] = 1
    binary = np.zeros((40, 40), dtype=bool)
    binary[31, 31] = binary[5, 5] = True  # one hit, one false alarm
    outcome = classify_frame(binary, truth)
    assert len(outcome.hits) == 1 and len(outcome.false_alarms) == 1
    row = VisualRow("Seq. 1", 12, np.zeros((40, 40)), truth, {"A": Panel(binary.astype(float), outcome)})
    fig = visual_grid_figure([row, row], ["A", "B"])
    panels = [ax for ax in fig.axes if ax.get_title() or ax.get_ylabel() or ax.get_images()]
    assert [ax.get_title() for ax in fig.axes[:4]] == ["Input", "A", "B", "Ground truth"]
    assert fig.get_figwidth() == pytest.approx(style.DOUBLE_IN) and panels
    assert len(fig.axes[1].child_axes) == 1  # the zoomed inset
    edge = {p.get_linestyle() for p in fig.axes[1].patches if p.get_edgecolor() != (1.0, 1.0, 1.0, 1.0)}
    assert edge == {"-", "--"}  # hit solid, false alarm dashed
    assert len({d for _, d in BOXES.values()}) == 3 and len({c for c, _ in BOXES.values()}) == 3
    text = caption(["Seq. 1"], "ratio:0.5", chosen=False)
    assert f"at most {MAX_FALSE_ALARM_BOXES} per panel" in text and "dashed vermillion" in text


def test_noise_bars_show_the_methods_the_config_names(tmp_path):
    from reports_fake import make_results

    from istdbench.core.display import parse_presentation
    from istdbench.reports.noisebars import noise_bars_figure, plan_noise_bars
    from istdbench.reports.results import normalize
    from istdbench.reports.tables import build_tables

    pres = parse_presentation({"compare": ["beta", "alpha"]})
    tables = build_tables(normalize(make_results()), pres)
    ((caption, stem, inputs),) = plan_noise_bars(tables, pres)
    assert caption.startswith("(b) F1 and (c) IoU (%) of alpha, beta under each noise setting.")
    assert stem == "fig12bc" and inputs["rows"] == ["alpha", "beta"]
    fig = noise_bars_figure(**inputs)
    assert [ax.get_title() for ax in fig.axes] == ["(b) F1", "(c) IoU"]
