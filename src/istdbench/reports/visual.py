"""Visual comparison grid (the seed paper's Figs. 6-8): one frame per sequence, one panel per method.

Each panel shows a method's target map (min-max normalised for display)
binarised by the run's threshold rule (`istdbench.metrics.thresholds`;
``ratio:0.5`` in the seed paper), with boxes for
correct detections (green), false alarms (red) and missed targets (yellow).
A detection is a connected component of the binary map; it is correct when it
touches a ground-truth target region (a mask component, or the 3x3 box around
an annotated point that the toolbox's hit rule uses).
"""

from __future__ import annotations

import logging
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from istdbench.core.errors import IstdbenchError
from istdbench.core.types import Sequence
from istdbench.metrics.groundtruth import target_regions
from istdbench.metrics.thresholds import parse_threshold

from .jobfiles import JobRef, load_job_maps, load_job_meta, sequence_request

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

COLORS = {"hit": "lime", "false_alarm": "red", "miss": "yellow"}
MAX_FALSE_ALARM_BOXES = 30
_EIGHT = np.ones((3, 3), dtype=bool)

Box = tuple[int, int, int, int]  # r0, r1, c0, c1 (half-open)


@dataclass(frozen=True)
class FrameOutcome:
    """Boxes of one frame: correct detections, false alarms (largest first) and missed targets."""

    hits: tuple[Box, ...]
    false_alarms: tuple[Box, ...]
    misses: tuple[Box, ...]


def _boxes(labels: np.ndarray, ids) -> list[Box]:
    slices = ndimage.find_objects(labels)
    return [(s[0].start, s[0].stop, s[1].start, s[1].stop) for i in ids if (s := slices[i - 1]) is not None]


def classify_frame(binary: np.ndarray, targets: np.ndarray) -> FrameOutcome:
    """Sort the components of ``binary`` into hits and false alarms, and find the missed targets.

    Parameters
    ----------
    binary : ndarray of shape (H, W), bool
        The thresholded map of one frame.
    targets : ndarray of shape (H, W), int
        Ground-truth target regions, one positive label each (0 = background).
    """
    det, n_det = ndimage.label(binary, structure=_EIGHT)
    gt_ids = [int(i) for i in np.unique(targets) if i > 0]
    both = (det > 0) & (targets > 0)
    hit_ids = set(np.unique(det[both]).tolist())
    found_ids = set(np.unique(targets[both]).tolist())
    false_ids = [i for i in range(1, n_det + 1) if i not in hit_ids]
    if false_ids:
        sizes = ndimage.sum_labels(np.ones_like(det), det, false_ids)
        false_ids = [false_ids[j] for j in np.argsort(-sizes, kind="stable")]
    return FrameOutcome(
        hits=tuple(_boxes(det, sorted(hit_ids))),
        false_alarms=tuple(_boxes(det, false_ids)),
        misses=tuple(_boxes(targets, [i for i in gt_ids if i not in found_ids])),
    )


def target_label_frames(seq: Sequence) -> np.ndarray:
    """Per frame, ground-truth target regions labelled ``1..k`` (T, H, W)."""
    regions = target_regions(seq, radius=1, drop_border=False)
    if regions.labels is not None:
        return regions.labels
    labels = np.zeros(seq.shape, dtype=np.int32)
    next_id = np.ones(len(seq), dtype=np.int32)
    for t, (r0, r1, c0, c1) in zip(regions.frame, regions.boxes, strict=True):
        labels[t, r0:r1, c0:c1] = next_id[t]
        next_id[t] += 1
    return labels


def pick_frame(labels: np.ndarray) -> int:
    """The first frame at or after the middle that holds a target (else the middle frame)."""
    mid = labels.shape[0] // 2
    has = np.flatnonzero(labels.reshape(labels.shape[0], -1).max(axis=1) > 0)
    later = has[has >= mid]
    return int(later[0]) if later.size else (int(has[-1]) if has.size else mid)


def _draw(ax, image: np.ndarray, outcome: FrameOutcome | None, title: str) -> None:
    from matplotlib.patches import Rectangle

    ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    if outcome is None:
        return
    groups = (
        ("hit", outcome.hits),
        ("false_alarm", outcome.false_alarms[:MAX_FALSE_ALARM_BOXES]),
        ("miss", outcome.misses),
    )
    for kind, boxes in groups:
        for r0, r1, c0, c1 in boxes:
            pad = 2
            rect = Rectangle((c0 - pad - 0.5, r0 - pad - 0.5), c1 - c0 + 2 * pad, r1 - r0 + 2 * pad)
            rect.set(fill=False, edgecolor=COLORS[kind], linewidth=1.0)
            ax.add_patch(rect)


def load_job_sequence(job: JobRef, data_root: str | Path | None) -> Sequence | None:
    """Reload a job's clean sequence from its ``job.json`` (None, with a warning, when impossible)."""
    from istdbench.datasets.catalog import load_sequence

    meta = load_job_meta(job)
    request = None if meta is None else sequence_request(meta)
    if request is None:
        log.warning(
            "job %s records no sequence reference; %s is left out of the visual grid", job.job_key, job.sequence
        )
        return None
    ref, frames, recorded_root = request
    job_fields = meta.get("job") if isinstance(meta.get("job"), dict) else {}
    crop = job_fields.get("crop")  # a cropped job's maps cover its window only
    try:
        seq = load_sequence(ref, data_root or recorded_root, frames)
        return seq if not crop else seq.crop((int(crop[0]), int(crop[1])), (int(crop[2]), int(crop[3])))
    except (IstdbenchError, OSError) as exc:
        log.warning("cannot reload %s for the visual grid (%s); it is left out", ref, exc)
        return None


@dataclass(frozen=True)
class GridRow:
    """What one row of the grid shows: the input frame and, per method, its normalised map and boxes."""

    sequence: str
    image: np.ndarray
    frame_number: int
    panels: dict[str, tuple[np.ndarray, FrameOutcome]]


def grid_rows(jobs: list[JobRef], data_root: str | Path | None, threshold: str = "ratio:0.5") -> list[GridRow]:
    """Load what the grid of ``jobs`` shows, one row per sequence whose clip can be reloaded."""
    rule = parse_threshold(threshold)
    by_sequence: dict[str, list[JobRef]] = {}
    for job in jobs:
        by_sequence.setdefault(job.sequence, []).append(job)
    rows = []
    for sequence, seq_jobs in by_sequence.items():
        seq = load_job_sequence(seq_jobs[0], data_root)
        if seq is None:
            continue
        labels = target_label_frames(seq)
        t = pick_frame(labels)
        panels = {}
        for job in seq_jobs:
            maps = load_job_maps(job)
            if maps is None or maps["target"].shape != seq.shape:
                continue
            frame_map = maps["target"][t].astype(np.float64)
            binary = rule.binarize(maps["target"])[t]
            outcome = classify_frame(binary, labels[t])
            lo, hi = frame_map.min(), frame_map.max()
            panels[job.variant] = ((frame_map - lo) / (hi - lo) if hi > lo else np.zeros_like(frame_map), outcome)
        rows.append(GridRow(sequence, np.array(seq.frames[t]), int(seq.provenance.frame_numbers[t]), panels))
    return rows


def draw_visual_grid(rows: list[GridRow], variants: list[str]) -> Figure:
    """The comparison grid: a row per `GridRow`, the input frame then one column per variant."""
    ncols = 1 + len(variants)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.9 * ncols, 2.0 * len(rows) + 0.4), layout="constrained")
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    for r, row in enumerate(rows):
        _draw(axes[r, 0], row.image, None, f"input, frame {row.frame_number}")
        axes[r, 0].set_ylabel("\n".join(textwrap.wrap(row.sequence.replace(",", ", "), 24)), fontsize=7)
        for c, variant in enumerate(variants, start=1):
            if variant in row.panels:
                image_map, outcome = row.panels[variant]
                _draw(axes[r, c], image_map, outcome, variant)
            else:
                axes[r, c].set_axis_off()
                axes[r, c].set_title(f"{variant}: no map", fontsize=8)
    fig.suptitle("Green: correct detection, red: false alarm, yellow: missed target", fontsize=9)
    return fig


def visual_grid(
    jobs: list[JobRef], data_root: str | Path | None, threshold: str = "ratio:0.5"
) -> tuple[Figure, list[str]] | None:
    """The comparison grid for ``jobs`` (one row per sequence); None when no row could be drawn.

    Returns the figure and the sequences it shows.
    """
    rows = grid_rows(jobs, data_root, threshold)
    if not rows:
        return None
    return draw_visual_grid(rows, sorted({j.variant for j in jobs})), [row.sequence for row in rows]
