"""Writing a whole report folder from a run's output folder: tables, figures, index.

The report is built in a staging folder beside ``OUT/report`` and swapped into
place at the end, so an interrupted or failed build leaves the previous
report (or none), never a mixture of old and new files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from istdbench.core.display import Presentation, presentation_from_config
from istdbench.core.errors import InvalidParameterError, IstdbenchError
from istdbench.core.io import atomic_write_bytes

from .figures import noise_figures, roc3d_figures
from .index import IndexInputs, render_index
from .jobfiles import representative_jobs, variant_configs
from .noise_examples import noise_example_figures
from .noisebars import report_noise_bars
from .render_csv import render_csv
from .render_latex import render_latex
from .render_markdown import render_markdown
from .results import load_results, variant_labels
from .rocgrid import report_roc_grids
from .tables import PRIMARY_THRESHOLD, Table, build_tables, evaluation_settings
from .visual import visual_grids
from .visual_grid import report_visual_grids

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


def _read_run_info(out: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return info if isinstance(info, dict) else None


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
    df, tables, out: Path, folder: Path, data_root, report: Report, pres: Presentation
) -> dict[str, list[tuple[str, list[str]]]]:
    """Draw every figure; returns index sections heading -> [(caption, relative paths)]."""
    fig_dir = folder / "figures"
    sections: dict[str, list[tuple[str, list[str]]]] = {}

    def rel(paths: list[Path]) -> list[str]:
        return [p.relative_to(folder).as_posix() for p in paths]

    settings = evaluation_settings(df)
    for setting in settings:
        for caption, paths in report_roc_grids(df, out, fig_dir, pres, setting).items():
            sections.setdefault("3-D ROC curves (paper layout)", []).append((caption, rel(paths)))
            report.figures[caption] = rel(paths)
        jobs = representative_jobs(df, out, setting)
        for sequence, paths in roc3d_figures(jobs, fig_dir, setting.suffix).items():
            caption = f"3-D ROC, {sequence} ({setting.protocol})"
            sections.setdefault("3-D ROC curves", []).append((caption, rel(paths)))
            report.figures[caption] = rel(paths)
    map_jobs = representative_jobs(df, out, None)
    threshold = settings[0].threshold if settings else PRIMARY_THRESHOLD
    for caption, paths in report_visual_grids(df, out, fig_dir, pres, data_root, threshold).items():
        sections.setdefault("Visual comparison (paper layout)", []).append((caption, rel(paths)))
        report.figures[caption] = rel(paths)
    drawn = visual_grids(map_jobs, fig_dir, data_root, threshold)
    for dataset, paths in drawn.items():
        caption = f"Visual comparison, {dataset} (threshold {threshold})"
        sections.setdefault("Visual comparison", []).append((caption, rel(paths)))
        report.figures[caption] = rel(paths)
    shown = set(drawn)
    for dataset in sorted({j.sequence.split("/", 1)[0] for j in map_jobs} - shown):
        report.skipped.append(f"Visual comparison of {dataset}: no sequence or map could be loaded.")
    for key, paths in noise_figures(tables, fig_dir).items():
        caption = f"Noise robustness ({key})"
        sections.setdefault("Noise robustness", []).append((caption, rel(paths)))
        report.figures[caption] = rel(paths)
    for caption, paths in report_noise_bars(tables, fig_dir, pres).items():
        sections.setdefault("Noise robustness", []).append((caption, rel(paths)))
        report.figures[caption] = rel(paths)
    for caption, paths in noise_example_figures(df, out, fig_dir, pres, data_root, threshold).items():
        sections.setdefault("Noise robustness", []).append((caption, rel(paths)))
        report.figures[caption] = rel(paths)
    return sections


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


def write_report(
    out: str | Path,
    formats: str | Iterable[str] = ("md", "tex", "csv"),
    figures: bool = True,
    data_root: str | Path | None = None,
) -> Report:
    """Build ``OUT/report`` from ``OUT/results.csv`` (and, for figures, the per-job files).

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

    Raises
    ------
    DataError
        If the results table is missing or malformed.
    ReportError
        If the report folder cannot be written (the previous report is kept).
    """
    out = Path(out)
    formats = parse_formats(formats)
    df = load_results(out)
    df = df.assign(variant=variant_labels(df))
    run_info = _read_run_info(out)
    pres = presentation_from_config((run_info or {}).get("config")).with_sequences(df["sequence"])
    tables = build_tables(df, pres)
    final = out / REPORT_DIR
    staging = out / f".{REPORT_DIR}.staging-{os.getpid()}"
    report = Report(folder=final)
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        _write_tables(tables, staging, formats, report)
        sections = _figures(df, tables, out, staging, data_root, report, pres) if figures else {}
        index = IndexInputs(df, tables, report.tables, sections, run_info, report.skipped, variant_configs(df, out))
        _write_text(staging / "index.md", render_index(index))
        _swap_in(staging, final)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ReportError(f"Cannot write the report into {final}: {reason}. The previous report is kept.") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("report with %d table(s) and %d figure(s) written to %s", len(tables), len(report.figures), final)
    return report
