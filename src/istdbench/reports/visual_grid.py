"""The seed paper's Figs. 6-8 at page width: input, each method's map, ground truth; boxes and zoomed insets.

Rows are sequences (three per figure, as in the paper), columns the input
frame, every method's target map (min-max normalised) and the ground truth.
Detections come from the run's threshold rule and are sorted by
`visual.classify_frame`; the boxes are told apart by colour *and* line style
so they survive colour-vision deficiency and greyscale print: solid sky blue
for correct detections, dashed vermillion for false alarms (at most
`MAX_FALSE_ALARM_BOXES` per panel, the largest first), dotted yellow for
missed targets. Each panel has an inset, in the corner away from the target,
magnifying the window around the frame's first target. The caption (`caption`) says all of this, the frame
shown, and the cap. The frame is the config's ``[display] frame`` (1-based
within the clip) or the first frame with a target from the middle on.

`visual_grid_figure` takes plain arrays; `report_visual_grids` gathers them
from a run's job files.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from istdbench.core.display import Presentation
from istdbench.metrics.thresholds import parse_threshold

from . import style
from .jobfiles import load_job_maps, representative_jobs
from .visual import FrameOutcome, classify_frame, load_job_sequence, pick_frame, target_label_frames

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

MAX_FALSE_ALARM_BOXES = 10
INSET_HALF = 12
"""Half side (px) of the magnified window around the target."""
ROWS_PER_FIGURE = 3

BOXES = {
    "hit": (style.SKY_BLUE, "-"),
    "false_alarm": (style.VERMILLION, "--"),
    "miss": (style.YELLOW, ":"),
}
"""Box kind -> (colour, line style)."""


@dataclass(frozen=True)
class Panel:
    """One method's panel: the normalised map and its detections (None: no map)."""

    image: np.ndarray
    outcome: FrameOutcome


@dataclass(frozen=True)
class VisualRow:
    """One sequence: label, frame number, input frame, ground-truth regions and each method's panel."""

    label: str
    frame_number: int
    frame: np.ndarray
    truth: np.ndarray  # (H, W) int, 0 = background
    panels: dict[str, Panel]


def _boxes(ax, outcome: FrameOutcome, pad: int = 2) -> None:
    from matplotlib.patches import Rectangle

    kinds = (
        ("hit", outcome.hits),
        ("false_alarm", outcome.false_alarms[:MAX_FALSE_ALARM_BOXES]),
        ("miss", outcome.misses),
    )
    for kind, boxes in kinds:
        color, dash = BOXES[kind]
        for r0, r1, c0, c1 in boxes:
            rect = Rectangle((c0 - pad - 0.5, r0 - pad - 0.5), c1 - c0 + 2 * pad, r1 - r0 + 2 * pad)
            rect.set(fill=False, edgecolor=color, linestyle=dash, linewidth=0.9)
            ax.add_patch(rect)


def _window(truth: np.ndarray) -> tuple[int, int, int, int] | None:
    """The inset's window (r0, r1, c0, c1) around the first target region, kept inside the frame."""
    rows, cols = np.nonzero(truth == truth[truth > 0].min()) if (truth > 0).any() else ((), ())
    if len(rows) == 0:
        return None
    h, w = truth.shape
    rc, cc = int(np.mean(rows)), int(np.mean(cols))
    half = min(INSET_HALF, h // 4, w // 4)
    r0, c0 = min(max(rc - half, 0), max(h - 2 * half, 0)), min(max(cc - half, 0), max(w - 2 * half, 0))
    return r0, r0 + 2 * half, c0, c0 + 2 * half


def _show(ax, image: np.ndarray, window, outcome: FrameOutcome | None) -> None:
    from matplotlib.patches import Rectangle

    ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if outcome is not None:
        _boxes(ax, outcome)
    if window is None:
        return
    r0, r1, c0, c1 = window
    h, w = image.shape
    # the corner away from the target, so the inset hides neither it nor its box
    x = 0.0 if (c0 + c1) / 2 > w / 2 else 0.6
    y = 0.6 if (r0 + r1) / 2 > h / 2 else 0.0  # axes y runs upwards, image rows downwards
    inset = ax.inset_axes((x, y, 0.4, 0.4))
    inset.imshow(image[r0:r1, c0:c1], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    inset.set_xticks([])
    inset.set_yticks([])
    for spine in inset.spines.values():
        spine.set_edgecolor("white")
        spine.set_linewidth(0.6)
    ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False, edgecolor="white", linewidth=0.5))


def visual_grid_figure(rows: Sequence[VisualRow], methods: Sequence[str]) -> Figure:
    """Page-wide grid: a row per sequence, columns input, methods (in the given order), ground truth."""
    cols = len(methods) + 2
    side = style.DOUBLE_IN / cols
    aspect = max(r.frame.shape[0] / r.frame.shape[1] for r in rows) if rows else 1.0
    fig = style.figure("double", side * aspect * len(rows) + 0.25)
    axes = fig.subplots(len(rows), cols, squeeze=False)
    for r, row in enumerate(rows):
        window = _window(row.truth)
        _show(axes[r, 0], row.frame, window, None)
        axes[r, 0].set_ylabel(f"{row.label}, #{row.frame_number}")
        for c, method in enumerate(methods, start=1):
            panel = row.panels.get(method)
            if panel is None:
                axes[r, c].set_axis_off()
                continue
            _show(axes[r, c], panel.image, window, panel.outcome)
        _show(axes[r, -1], (row.truth > 0).astype(float), window, None)
        if r == 0:
            for ax, title in zip(axes[0], ["Input", *methods, "Ground truth"], strict=True):
                ax.set_title(title)
    return fig


def caption(labels: Sequence[str], threshold: str, chosen: bool) -> str:
    """States the box scheme, the cap on false-alarm boxes, the insets and how the frame was chosen."""
    frame = "the frame given in the run config" if chosen else "the first frame with a target from the middle on"
    return (
        f"Visual comparison on {', '.join(labels)} ({frame}; # gives its number). Maps binarised at threshold "
        f"{threshold}: solid sky-blue boxes mark correct detections, dashed vermillion boxes false alarms (at most "
        f"{MAX_FALSE_ALARM_BOXES} per panel, the largest first), dotted yellow boxes missed targets. "
        f"Insets magnify the {2 * INSET_HALF}-pixel window around the first target (white frame)."
    )


def _row(jobs, pres: Presentation, method_of: dict[str, str], data_root, rule) -> VisualRow | None:
    seq = load_job_sequence(jobs[0], data_root)
    if seq is None:
        return None
    labels = target_label_frames(seq)
    numbers = list(seq.provenance.frame_numbers)
    t = numbers.index(pres.frame) if pres.frame and pres.frame in numbers else pick_frame(labels)
    panels = {}
    for job in jobs:
        maps = load_job_maps(job)
        if maps is None or maps["target"].shape != seq.shape:
            continue
        frame_map = maps["target"][t].astype(np.float64)
        outcome = classify_frame(rule.binarize(maps["target"])[t], labels[t])
        lo, hi = frame_map.min(), frame_map.max()
        image = (frame_map - lo) / (hi - lo) if hi > lo else np.zeros_like(frame_map)
        panels[pres.variant(job.variant, method_of[job.variant])] = Panel(image, outcome)
    return VisualRow(pres.sequence(jobs[0].sequence), int(numbers[t]), seq.frames[t], labels[t], panels)


def plan_visual_grids(
    df: pd.DataFrame, out: Path, pres: Presentation, data_root, threshold: str, sequences: Sequence[str]
) -> list[tuple[str, str, dict]]:
    """(caption, file stem, drawing inputs) of the grids of ``sequences``, `ROWS_PER_FIGURE` rows each."""
    wanted = set(sequences)
    jobs = [j for j in representative_jobs(df, out, None) if j.sequence in wanted]
    method_of = dict(zip(df["variant"], df["method"], strict=False))
    variants = sorted({j.variant for j in jobs}, key=lambda v: pres.variant_rank(v, method_of[v]))
    methods = [pres.variant(v, method_of[v]) for v in variants]
    by_sequence: dict[str, list] = {}
    for job in jobs:
        by_sequence.setdefault(job.sequence, []).append(job)
    rule = parse_threshold(threshold)
    ordered = [s for s in sequences if s in by_sequence]
    rows = [r for s in ordered if (r := _row(by_sequence[s], pres, method_of, data_root, rule)) is not None]
    planned = []
    for i in range(0, len(rows), ROWS_PER_FIGURE):
        part = rows[i : i + ROWS_PER_FIGURE]
        text = caption([r.label for r in part], threshold, bool(pres.frame))
        planned.append((text, f"fig6_visual_{i // ROWS_PER_FIGURE + 1}", {"rows": part, "methods": methods}))
    return planned
