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

from istdbench.core.display import Presentation
from istdbench.core.runfolder import JOB_CURVES, JOB_MAPS, JOB_META

from .drawing import FigureTask
from .figcache import FigureCache, figure_key, source_stamp
from .figures import FORMATS, slug
from .jobfiles import JobRef, load_curves, representative_jobs
from .noise_examples import plan_noise_examples
from .noisebars import plan_noise_bars
from .rocgrid import plan_roc_grids
from .selection import FigureChoice, group_of
from .summary import CurveSummary
from .tables import IMAGESET_PROTOCOL, PRIMARY_THRESHOLD, Setting, Table, evaluation_settings
from .visual import grid_rows
from .visual_grid import plan_visual_grids

ROC_SECTION = "3-D ROC curves"
SUMMARY_SECTION = "3-D ROC summaries"
VISUAL_SECTION = "Visual comparison"
NOISE_SECTION = "Noise robustness"
PAPER_SECTION = "Figures for a paper"


@dataclass(eq=False)
class PlannedFigure:
    """A figure of the report: where the index lists it, its caption, file stem and cache key."""

    section: str
    caption: str
    stem: str
    key: str = ""  # set once the figure is found in the cache or its inputs are read
    fingerprint: str = ""  # of its source files, where it is read from job files


@dataclass
class FigurePlan:
    """The figures of a report (in index order), the distinct tasks that draw them, what was skipped."""

    cache: FigureCache
    root: Path
    figures: list[PlannedFigure] = field(default_factory=list)
    tasks: dict[str, FigureTask] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def place(self, section: str, caption: str, stem: str, kind: str, params, files: list[Path]) -> PlannedFigure:
        """List a figure; its key is filled from the cache when its source files are unchanged."""
        fig = PlannedFigure(section, caption, stem)
        self.figures.append(fig)
        fig.fingerprint = figure_key(f"{kind}:sources", (params, source_stamp(files, self.root)), FORMATS)
        fig.key = self.cache.by_sources(fig.fingerprint, FORMATS) or ""
        return fig

    def fill(self, fig: PlannedFigure, kind: str, inputs: dict, cost: float = 1.0) -> None:
        """Give a figure its content key from the inputs read, and a task to draw it."""
        fig.key = figure_key(kind, inputs, FORMATS)
        self.tasks.setdefault(fig.key, FigureTask(kind, inputs, fig.key, cost))
        if fig.fingerprint:
            self.cache.sources[fig.fingerprint] = fig.key

    def drop(self, fig: PlannedFigure) -> None:
        """Take back a listed figure that turned out to have nothing to show."""
        self.figures = [f for f in self.figures if f is not fig]

    def add(self, section: str, caption: str, stem: str, kind: str, inputs: dict, cost: float = 1.0) -> None:
        """List a figure whose inputs are at hand."""
        fig = PlannedFigure(section, caption, stem)
        self.figures.append(fig)
        self.fill(fig, kind, inputs, cost)


def report_sequences(df: pd.DataFrame, out: Path) -> list[str]:
    """The sequences figures can show (those with a successful clean job), in report order."""
    return list(dict.fromkeys(j.sequence for j in representative_jobs(df, out, None)))


def _by_sequence(jobs: list[JobRef]) -> dict[str, list[JobRef]]:
    grouped: dict[str, list[JobRef]] = {}
    for job in jobs:
        grouped.setdefault(job.sequence, []).append(job)
    return grouped


def _curve_files(jobs: list[JobRef]) -> list[Path]:
    return [j.folder / JOB_CURVES for j in jobs]


def _plan_roc(plan: FigurePlan, df: pd.DataFrame, out: Path, setting: Setting, choice: FigureChoice) -> None:
    by_sequence = _by_sequence(representative_jobs(df, out, setting))
    pending: dict[str, PlannedFigure] = {}
    for sequence in choice.roc:
        jobs = by_sequence.get(sequence)
        if jobs:
            caption = f"3-D ROC, {sequence} ({setting.protocol})"
            params = (sequence, [j.variant for j in jobs])
            stem = f"fig_roc3d_{slug(sequence)}{setting.suffix}"
            fig = plan.place(ROC_SECTION, caption, stem, "roc3d", params, _curve_files(jobs))
            if not fig.key:
                pending[sequence] = fig
    summaries: dict[str, tuple[PlannedFigure, CurveSummary]] = {}
    for group in choice.summary:
        jobs = [j for s, js in by_sequence.items() if group_of(s) == group for j in js]
        if not jobs:
            continue
        caption = f"ROC summary, {group} ({setting.protocol})"
        stem = f"fig_roc_summary_{slug(group)}{setting.suffix}"
        params = (group, setting.protocol, [(j.sequence, j.variant) for j in jobs])
        fig = plan.place(SUMMARY_SECTION, caption, stem, "roc_summary", params, _curve_files(jobs))
        if not fig.key:
            summaries[group] = (fig, CurveSummary())
    for sequence, jobs in by_sequence.items():  # each curves file read once, and only where a figure needs it
        group = group_of(sequence)
        if sequence not in pending and group not in summaries:
            continue
        curves = {}
        for job in jobs:
            loaded = load_curves(job)
            if loaded is not None:
                curves[job.variant] = {k: np.asarray(loaded[k], dtype=float) for k in ("tau", "tpr", "fpr")}
        if group in summaries:
            for variant, c in curves.items():
                summaries[group][1].add(variant, c)
        if sequence in pending:
            if curves:
                plan.fill(pending[sequence], "roc3d", {"curves": curves, "title": sequence})
            else:
                plan.drop(pending[sequence])
    for group, (fig, summary) in summaries.items():
        if not len(summary):
            plan.drop(fig)
            continue
        title = f"{group}: mean over its sequences ({setting.protocol}); n = sequences per method"
        plan.fill(fig, "roc_summary", {"curves": summary.curves(), "title": title})


def _plan_visual(
    plan: FigurePlan, df: pd.DataFrame, out: Path, threshold: str, choice: FigureChoice, data_root
) -> None:
    shown = set(choice.visual)
    by_dataset: dict[str, list[JobRef]] = {}
    for job in representative_jobs(df, out, None):
        if job.sequence in shown:
            by_dataset.setdefault(group_of(job.sequence), []).append(job)
    for dataset, jobs in sorted(by_dataset.items()):
        caption = f"Visual comparison, {dataset} (threshold {threshold})"
        params = (threshold, str(data_root), [(j.sequence, j.variant) for j in jobs])
        files = [f for j in jobs for f in (j.folder / JOB_META, j.folder / JOB_MAPS)]
        fig = plan.place(VISUAL_SECTION, caption, f"fig_visual_{slug(dataset)}", "visual", params, files)
        if fig.key:
            continue
        rows = grid_rows(jobs, data_root, threshold)
        if not rows:
            plan.drop(fig)
            plan.skipped.append(f"Visual comparison of {dataset}: no sequence or map could be loaded.")
            continue
        variants = sorted({j.variant for j in jobs})
        plan.fill(fig, "visual", {"rows": rows, "variants": variants}, cost=len(rows) / 2)


def _plan_paper(
    plan: FigurePlan, df, out: Path, tables, choice: FigureChoice, data_root, pres: Presentation, settings, threshold
) -> None:
    """The paper-layout figures (docs/paper-output.md) of the sequences the selection draws."""
    planned = []
    for setting in settings:
        planned += [(*p, "roc_grid") for p in plan_roc_grids(df, out, pres, setting, choice.roc)]
    planned += [(*p, "visual_paper") for p in plan_visual_grids(df, out, pres, data_root, threshold, choice.visual)]
    planned += [(*p, "noise_examples") for p in plan_noise_examples(df, out, pres, data_root, threshold)]
    planned += [(*p, "noise_bars") for p in plan_noise_bars(tables, pres)]
    for caption, stem, inputs, kind in planned:
        plan.add(PAPER_SECTION, caption, stem, kind, inputs, cost=float(len(inputs.get("rows", ())) or 1))


def plan_figures(
    df: pd.DataFrame,
    tables: list[Table],
    out: Path,
    choice: FigureChoice,
    cache: FigureCache,
    data_root=None,
    pres: Presentation | None = None,
) -> FigurePlan:
    """Every figure of the report under ``choice``; ``df`` carries the ``variant`` column.

    Figures found in ``cache`` by their source fingerprint are not read; the
    others get a task, which the caller draws unless the cache holds its key.
    """
    plan = FigurePlan(cache, out)
    settings = evaluation_settings(df)
    for setting in settings:
        if setting.protocol.split("@", 1)[0] != IMAGESET_PROTOCOL:  # no ROC curves under basicirstd
            _plan_roc(plan, df, out, setting, choice)
    threshold = settings[0].threshold if settings else PRIMARY_THRESHOLD
    _plan_visual(plan, df, out, threshold, choice, data_root)
    for table in tables:
        if table.key.startswith("table12_"):
            stem = "fig12_" + table.key.removeprefix("table12_")
            plan.add(NOISE_SECTION, f"Noise robustness ({table.key})", stem, "noise", {"table": table})
    pres = (pres or Presentation()).with_sequences(df["sequence"])
    _plan_paper(plan, df, out, tables, choice, data_root, pres, settings, threshold)
    return plan
