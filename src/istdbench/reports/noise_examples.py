"""Fig. 12(a) of the seed paper: one frame under each noise setting, the methods' detections and the ground truth.

The robustness tables say how much each noise costs; this figure shows what
the noise looks like and what the methods make of it. Columns are the noise
settings of the run (clean first), the first row the input frame with that
noise (regenerated exactly as the runner made it: `apply_noise` with the
job's seed), one row per method named in the run config (``[display]
highlight``, else every method with maps) with its map binarised by the run's
threshold rule, and a last column with the ground truth.

`noise_examples_figure` takes plain arrays and returns a `Figure`;
`noise_examples` finds those arrays in a run's job files; `plan_noise_examples`
hands them to the report's figure plan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from istdbench.core.display import Presentation
from istdbench.metrics.thresholds import parse_threshold

from . import style
from .jobfiles import load_job_maps, representative_jobs
from .results import noise_order
from .visual import load_job_sequence, pick_frame, target_label_frames

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)


@dataclass
class NoiseExamples:
    """What the figure shows: per noise label the input frame, per method label the binary maps."""

    frame_number: int
    inputs: list[tuple[str, np.ndarray]]
    truth: np.ndarray | None = None
    results: dict[str, list[np.ndarray | None]] = field(default_factory=dict)


def noise_examples_figure(examples: NoiseExamples, width: style.Width = "double") -> Figure:
    """The grid: a column per noise setting (+ ground truth), the input row, then one row per method."""
    rows = 1 + len(examples.results)
    cols = len(examples.inputs) + (examples.truth is not None)
    panel = (style.DOUBLE_IN if width == "double" else style.COLUMN_IN) / max(cols, 1)
    fig = style.figure(width, panel * rows + 0.15)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for c, (label, image) in enumerate(examples.inputs):
        axes[0, c].imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[0, c].set_title(label)
    axes[0, 0].set_ylabel("Input")
    for r, (method, maps) in enumerate(examples.results.items(), start=1):
        axes[r, 0].set_ylabel(method)
        for c, binary in enumerate(maps):
            if binary is None:
                axes[r, c].set_axis_off()
                continue
            axes[r, c].imshow(binary, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    if examples.truth is not None:
        c = cols - 1
        axes[0, c].imshow(examples.truth, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[0, c].set_title("Ground truth")
        for r in range(1, rows):
            axes[r, c].set_axis_off()
    return fig


def noise_examples(
    df: pd.DataFrame,
    out: Path,
    pres: Presentation,
    data_root: str | Path | None,
    threshold: str = "ratio:0.5",
) -> tuple[str, NoiseExamples] | None:
    """The examples of the first sequence run with added noise: (sequence, examples), or None."""
    from istdbench.datasets.noise import apply_noise

    noisy = df[(df["noise"] != "none") & (df["status"] == "ok")]
    if noisy.empty:
        return None
    sequence = sorted(set(noisy["sequence"]))[0]
    noises = noise_order(set(df.loc[df["sequence"] == sequence, "noise"]))
    part = df[df["sequence"] == sequence]
    jobs = {n: representative_jobs(part, out, None, noise=n) for n in noises}
    first = next((j[0] for j in jobs.values() if j), None)
    seq = load_job_sequence(first, data_root) if first is not None else None
    if seq is None:
        return None
    labels = target_label_frames(seq)
    t = pick_frame(labels)
    seed = int(part["seed"].min())
    rule = parse_threshold(threshold)
    shown = _methods(part, pres)
    inputs, results = [], {pres.variant(v, m): [] for v, m in shown}
    for n in noises:
        inputs.append((pres.noise(n), apply_noise(seq, n, seed).frames[t]))
        by_variant = {j.variant: j for j in jobs[n]}
        for v, m in shown:
            maps = load_job_maps(by_variant[v]) if v in by_variant else None
            ok = maps is not None and maps["target"].shape == seq.shape
            results[pres.variant(v, m)].append(rule.binarize(maps["target"])[t].astype(float) if ok else None)
    truth = (labels[t] > 0).astype(float)
    return sequence, NoiseExamples(int(seq.provenance.frame_numbers[t]), inputs, truth, results)


MAX_METHOD_ROWS = 4
"""Without a highlighted method, the last methods in paper order (the newest) fill at most this many rows."""


def _methods(df: pd.DataFrame, pres: Presentation) -> list[tuple[str, str]]:
    """(variant, method) rows to show: the highlighted method where set, else the last ones in paper order."""
    pairs = df[["variant", "method"]].drop_duplicates()
    rows = sorted(zip(pairs["variant"], pairs["method"], strict=True), key=lambda p: pres.variant_rank(*p))
    picked = [p for p in rows if p[1] == pres.highlight] if pres.highlight else []
    return picked or rows[-MAX_METHOD_ROWS:]


def caption(sequence: str, examples: NoiseExamples, pres: Presentation, threshold: str) -> str:
    """The figure's caption: the sequence and frame, the seed, the threshold rule."""
    methods = ", ".join(examples.results) or "no method"
    return (
        f"Noise examples on {pres.sequence(sequence)} ({sequence}), frame {examples.frame_number}: the input under "
        f"each noise setting, the detections of {methods} at threshold {threshold}, and the ground truth."
    )


def plan_noise_examples(
    df: pd.DataFrame, out: Path, pres: Presentation, data_root: str | Path | None, threshold: str
) -> list[tuple[str, str, dict]]:
    """(caption, file stem, drawing inputs) of Fig. 12(a), or nothing when the run added no noise."""
    found = noise_examples(df, out, pres, data_root, threshold)
    if found is None:
        return []
    sequence, examples = found
    return [(caption(sequence, examples, pres, threshold), "fig12a_noise_examples", {"examples": examples})]
