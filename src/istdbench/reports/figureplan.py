"""Planning a report's figures: what each one shows, read from the job files once, and its cache key.

The plan turns the results table, the per-job files and the figure selection
(`istdbench.reports.selection`) into `FigureTask` objects whose inputs are all
a figure is drawn from. Curves are read one sequence at a time: a sequence
with a per-sequence figure keeps its curves until drawn, the others only feed
the running per-group summaries, so memory stays bounded however many
sequences a run has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .drawing import FigureTask
from .figcache import figure_key
from .figures import FORMATS, slug
from .jobfiles import JobRef, load_curves, representative_jobs
from .selection import FigureChoice, group_of
from .summary import CurveSummary
from .tables import PRIMARY_THRESHOLD, Setting, Table, evaluation_settings
from .visual import grid_rows

ROC_SECTION = "3-D ROC curves"
SUMMARY_SECTION = "3-D ROC summaries"
VISUAL_SECTION = "Visual comparison"
NOISE_SECTION = "Noise robustness"


@dataclass(frozen=True)
class PlannedFigure:
    """A figure of the report: where the index lists it, its caption, file stem and cache key."""

    section: str
    caption: str
    stem: str
    key: str


@dataclass
class FigurePlan:
    """The figures of a report (in index order), the distinct tasks that draw them, what was skipped."""

    figures: list[PlannedFigure] = field(default_factory=list)
    tasks: dict[str, FigureTask] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def add(self, section: str, caption: str, stem: str, kind: str, inputs: dict, cost: float = 1.0) -> None:
        key = figure_key(kind, inputs, FORMATS)
        self.tasks.setdefault(key, FigureTask(kind, inputs, key, cost))
        self.figures.append(PlannedFigure(section, caption, stem, key))


def report_sequences(df: pd.DataFrame, out: Path) -> list[str]:
    """The sequences figures can show (those with a successful clean job), in report order."""
    return list(dict.fromkeys(j.sequence for j in representative_jobs(df, out, None)))


def _by_sequence(jobs: list[JobRef]) -> dict[str, list[JobRef]]:
    grouped: dict[str, list[JobRef]] = {}
    for job in jobs:
        grouped.setdefault(job.sequence, []).append(job)
    return grouped


def _plan_roc(plan: FigurePlan, df: pd.DataFrame, out: Path, setting: Setting, choice: FigureChoice) -> None:
    drawn, summarised = set(choice.roc), set(choice.summary)
    summaries: dict[str, CurveSummary] = {}
    for sequence, jobs in _by_sequence(representative_jobs(df, out, setting)).items():
        group = group_of(sequence)
        if sequence not in drawn and group not in summarised:
            continue
        curves = {}
        for job in jobs:
            loaded = load_curves(job)
            if loaded is not None:
                curves[job.variant] = {k: np.asarray(loaded[k], dtype=float) for k in ("tau", "tpr", "fpr")}
        if group in summarised:
            for variant, c in curves.items():
                summaries.setdefault(group, CurveSummary()).add(variant, c)
        if sequence in drawn and curves:
            caption = f"3-D ROC, {sequence} ({setting.protocol})"
            stem = f"fig_roc3d_{slug(sequence)}{setting.suffix}"
            plan.add(ROC_SECTION, caption, stem, "roc3d", {"curves": curves, "title": sequence})
    for group in choice.summary:
        summary = summaries.get(group)
        if summary is None or not len(summary):
            continue
        title = f"{group}: mean over its sequences ({setting.protocol}); n = sequences per method"
        caption = f"ROC summary, {group} ({setting.protocol})"
        stem = f"fig_roc_summary_{slug(group)}{setting.suffix}"
        plan.add(SUMMARY_SECTION, caption, stem, "roc_summary", {"curves": summary.curves(), "title": title})


def _plan_visual(
    plan: FigurePlan, df: pd.DataFrame, out: Path, threshold: str, choice: FigureChoice, data_root
) -> None:
    shown = set(choice.visual)
    by_dataset: dict[str, list[JobRef]] = {}
    for job in representative_jobs(df, out, None):
        if job.sequence in shown:
            by_dataset.setdefault(group_of(job.sequence), []).append(job)
    for dataset, jobs in sorted(by_dataset.items()):
        rows = grid_rows(jobs, data_root, threshold)
        if not rows:
            plan.skipped.append(f"Visual comparison of {dataset}: no sequence or map could be loaded.")
            continue
        variants = sorted({j.variant for j in jobs})
        caption = f"Visual comparison, {dataset} (threshold {threshold})"
        inputs = {"rows": rows, "variants": variants}
        plan.add(VISUAL_SECTION, caption, f"fig_visual_{slug(dataset)}", "visual", inputs, cost=len(rows) / 2)


def plan_figures(df: pd.DataFrame, tables: list[Table], out: Path, choice: FigureChoice, data_root=None) -> FigurePlan:
    """Every figure of the report under ``choice``; ``df`` carries the ``variant`` column."""
    plan = FigurePlan()
    settings = evaluation_settings(df)
    for setting in settings:
        _plan_roc(plan, df, out, setting, choice)
    threshold = settings[0].threshold if settings else PRIMARY_THRESHOLD
    _plan_visual(plan, df, out, threshold, choice, data_root)
    for table in tables:
        if table.key.startswith("table12_"):
            stem = "fig12_" + table.key.removeprefix("table12_")
            plan.add(NOISE_SECTION, f"Noise robustness ({table.key})", stem, "noise", {"table": table})
    return plan
