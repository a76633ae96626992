"""Writing a whole report folder from a run's output folder: tables, figures, index.

The report is built in a staging folder beside ``OUT/report`` and swapped into
place at the end, so an interrupted or failed build leaves the previous
report (or none), never a mixture of old and new files.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from istdbench.core.display import Presentation, presentation_from_config
from istdbench.core.errors import InvalidParameterError, IstdbenchError
from istdbench.core.io import atomic_write_bytes
from istdbench.core.runfolder import RESULTS

from .drawing import draw_all
from .figcache import CACHE_DIR, FigureCache, link_or_copy
from .figureplan import plan_figures, report_sequences
from .figures import FORMATS
from .index import IndexInputs, render_index
from .jobfiles import variant_configs
from .render_csv import render_csv
from .render_latex import render_latex
from .render_markdown import render_markdown
from .replication import replication_tables
from .results import variant_labels
from .runstate import RunState, load_run_results, read_run_info
from .selection import FigureChoice, choose_figures, resolve_spec
from .sensitivity import sensitivity_tables
from .tables import Table, build_tables, final_results

log = logging.getLogger(__name__)

REPORT_DIR = "report"
RENDERERS = {"md": render_markdown, "tex": render_latex, "csv": render_csv}


class ReportError(IstdbenchError):
    """The report folder cannot be written; the previous report is left as it was."""


@dataclass
class Report:
    """What `write_report` wrote, relative to the report folder."""

    folder: Path
    tables: dict[str, list[str]] = field(default_factory=dict)
    figures: dict[str, list[str]] = field(default_factory=dict)
    deterministic: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    draw_cpu_s: dict[int, float] = field(default_factory=dict)  # CPU seconds of drawing, per process id
    state: RunState | None = None  # how complete the run is (None: a folder without a job list)


def parse_formats(text: str | Iterable[str]) -> tuple[str, ...]:
    """``"md,tex"`` -> ``("md", "tex")``, checked against the known table formats."""
    items = [f.strip().lower() for f in (text.split(",") if isinstance(text, str) else text) if f.strip()]
    bad = [f for f in items if f not in RENDERERS]
    if bad or not items:
        got = f"unknown format(s) {', '.join(bad)}" if bad else "no format"
        raise InvalidParameterError(f"--formats must be a comma-separated list of {', '.join(RENDERERS)}; got {got}.")
    return tuple(dict.fromkeys(items))


def _write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, lambda fh: fh.write(text.encode("utf-8")))


def _write_tables(tables: list[Table], folder: Path, formats: tuple[str, ...], report: Report) -> None:
    for table in tables:
        paths = []
        for fmt in formats:
            rel = f"tables/{table.key}.{fmt}"
            _write_text(folder / rel, RENDERERS[fmt](table))
            paths.append(rel)
            if table.deterministic:
                report.deterministic.append(rel)
        report.tables[table.key] = paths


def _figures(
    df,
    tables,
    out: Path,
    folder: Path,
    data_root,
    report: Report,
    choice: FigureChoice,
    jobs: int | None,
    pres: Presentation,
) -> dict[str, list[tuple[str, list[str]]]]:
    """Plan, draw (what the cache lacks) and place every figure; returns index sections heading -> items.

    ``folder`` is the staging folder beside the report folder it replaces, whose cache is reused.
    """
    previous = folder.parent / report.folder.name / CACHE_DIR
    cache = FigureCache(previous, folder / CACHE_DIR)
    plan = plan_figures(df, tables, out, choice, cache, data_root, pres)
    missing = [task for key, task in plan.tasks.items() if not cache.reuse(key, FORMATS)]
    log.info("%d figure(s), %d to draw", len(plan.figures), len(missing))
    report.draw_cpu_s = draw_all(missing, cache.current, jobs)
    cache.save_sources()
    sections: dict[str, list[tuple[str, list[str]]]] = {}
    for fig in plan.figures:
        paths = []
        for fmt in FORMATS:
            rel = f"figures/{fig.stem}.{fmt}"
            link_or_copy(cache.path(fig.key, fmt), folder / rel)
            paths.append(rel)
        sections.setdefault(fig.section, []).append((fig.caption, paths))
        report.figures[fig.caption] = paths
    report.skipped += [*plan.skipped, *choice.left_out]
    return sections


def _keep_cache(previous: Path, current: Path) -> None:
    if previous.is_dir():
        for path in previous.iterdir():
            if path.is_file():
                link_or_copy(path, current / path.name)


def _swap_in(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging``; on failure the old ``final`` is put back."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    moved = final.exists()
    if moved:
        os.rename(final, old)
    try:
        os.rename(staging, final)
    except OSError:
        if moved:
            os.rename(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def report_tables(df: pd.DataFrame, pres: Presentation | None = None) -> list[Table]:
    """Every table of a report on ``df`` (with its ``variant`` column): metrics, protocol sensitivity, replication."""
    final_rows = final_results(df)  # checkpoint rows appear in build_tables' checkpoint table only
    return build_tables(df, pres) + sensitivity_tables(final_rows, pres) + replication_tables(final_rows)


def write_report(
    out: str | Path,
    formats: str | Iterable[str] = ("md", "tex", "csv"),
    figures: bool = True,
    data_root: str | Path | None = None,
    jobs: int | None = None,
    roc: str | tuple[str, ...] | None = None,
    visual: str | tuple[str, ...] | None = None,
    max_figures: int | None = None,
    summary: bool | None = None,
    threads: int | None = None,
    report_dir: str | Path | None = None,
) -> Report:
    """Build ``OUT/report`` from the stored jobs of the folder's last run (and, for figures, their files).

    The table holds exactly the jobs of ``OUT/run.json``'s config that are stored
    (`istdbench.reports.runstate`); the index says how many are missing or
    failed and marks a run that did not finish.

    Figures whose inputs are unchanged since the previous report are reused
    from its cache (``OUT/report/.figure-cache``); the others are drawn over
    ``jobs`` processes. Which figures are drawn is the run config's
    ``[report]`` section (recorded in ``run.json``) with ``roc``, ``visual``,
    ``max_figures`` and ``summary`` put over it (`istdbench.reports.selection`).

    Parameters
    ----------
    out : str or Path
        The run's output folder.
    formats : str or iterable of str
        Table formats among ``md``, ``tex``, ``csv``.
    figures : bool
        Draw the figures (the tables alone need only the results table).
    data_root : str or Path, optional
        Root of the named datasets, to reload sequences for the visual grid.
    jobs : int, optional
        Processes drawing figures (default: the cores available).
    roc, visual : "all", "none" or tuple of str, optional
        Sequences or groups with per-sequence 3-D ROC figures / rows in the visual grids.
    max_figures : int, optional
        Per group, how many sequences the default selection draws (default 8).
    summary : bool, optional
        Draw the mean-ROC figure of each group (default: where sequences are left out).
    threads : int, optional
        The thread limit the report was built under, recorded in the index.
    report_dir : str or Path, optional
        Where to write the report instead of ``OUT/report`` (e.g. to report a
        committed run, ``docs/runs/NAME``, without writing into it).

    Raises
    ------
    DataError
        If the results table is missing or malformed.
    InvalidParameterError
        If the figure selection names no sequence of the run.
    ReportError
        If the report folder cannot be written (the previous report is kept).
    """
    out = Path(out)
    formats = parse_formats(formats)
    df, state = load_run_results(out)
    df = df.assign(variant=variant_labels(df))
    run_info = read_run_info(out)
    pres = presentation_from_config((run_info or {}).get("config")).with_sequences(df["sequence"])
    tables = report_tables(df, pres)
    choice = None
    if figures:
        spec = resolve_spec(run_info, roc=roc, visual=visual, max_figures=max_figures, summary=summary)
        choice = choose_figures(spec, report_sequences(df, out))
    final = out / REPORT_DIR if report_dir is None else Path(report_dir)
    staging = final.parent / f".{final.name}.staging-{os.getpid()}"
    report = Report(folder=final, state=state)
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        _write_tables(tables, staging, formats, report)
        if choice is not None:
            sections = _figures(df, tables, out, staging, data_root, report, choice, jobs, pres)
        else:  # a tables-only report keeps the cached figures for the next full one
            sections = {}
            _keep_cache(final / CACHE_DIR, staging / CACHE_DIR)
        index = IndexInputs(df, tables, report.tables, sections, run_info, report.skipped, variant_configs(df, out))
        index.state, index.threads = state, threads
        index.results_link = Path(os.path.relpath(out / RESULTS, final)).as_posix()
        _write_text(staging / "index.md", render_index(index))
        _swap_in(staging, final)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ReportError(f"Cannot write the report into {final}: {reason}. The previous report is kept.") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("report with %d table(s) and %d figure(s) written to %s", len(tables), len(report.figures), final)
    return report
