"""Report tables inside hand-written Markdown pages, regenerated from committed runs.

A page marks where a table of a run goes::

    <!-- istdbench-table runs/study-neurstt-daub table8_auc3d -->
    ...generated, do not edit...
    <!-- /istdbench-table -->

The run folder (relative to the page) holds the run's ``results.csv``; the
block's body is the Markdown file ``tables/<key>.md`` that ``istdbench report
RUN`` writes, byte for byte, so the numbers a page shows are the report's and
no test has to parse prose. A headline table may join runs, each limited to
some methods: ``runs/a+runs/b:neurstt,ctstc[original]`` is every row of
``runs/a``, and the NeurSTT rows and CTSTC's ``original`` preset rows of
``runs/b`` (a job stored in both runs counts once).
Rewrite the blocks of pages, or check that they are current (exit 1 naming the
stale blocks; 2 for a block whose run or table does not exist)::

    python -m istdbench.reports.docblocks docs/results.md docs/methods/stpm3d.md
    python -m istdbench.reports.docblocks --check docs/*.md docs/methods/*.md
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

import click
import pandas as pd

from istdbench.core.errors import DataError
from istdbench.core.runfolder import RESULTS

from .build import report_tables
from .render_markdown import render_markdown
from .results import load_results, variant_labels
from .tables import Table

BLOCK = re.compile(
    r"^(?P<open><!-- istdbench-table (?P<run>\S+) (?P<key>\S+) -->\n)(?P<body>.*?)"
    r"^(?P<close><!-- /istdbench-table -->)",
    re.DOTALL | re.MULTILINE,
)
"""A block: both markers start a line (a marker quoted inside a line or a code comment is no block)."""


RunPart = tuple[Path, tuple[str, ...]]
"""A run folder and the methods taken from it, ``name`` or ``name[preset]`` (empty: all)."""


def parse_runs(base: Path, spec: str) -> list[RunPart]:
    """The parts of a block's run spec ``RUN[:METHOD,...][+RUN[:METHOD,...]]``, folders relative to ``base``."""
    parts = []
    for item in spec.split("+"):
        folder, _, methods = item.partition(":")
        parts.append(((base / folder).resolve(), tuple(m for m in methods.split(",") if m)))
    return parts


def _stamp(run: Path) -> tuple[int, int]:
    try:
        info = (run / RESULTS).stat()
    except OSError:
        raise DataError(f"No results table at {run / RESULTS}: is {run} a committed run?") from None
    return info.st_mtime_ns, info.st_size


def _chosen(df: pd.DataFrame, methods: tuple[str, ...]) -> pd.Series:
    """Rows of the methods named ``name`` (every preset) or ``name[preset]``."""
    keep = pd.Series(False, index=df.index)
    for item in methods:
        name, _, preset = item.removesuffix("]").partition("[")
        keep |= (df["method"] == name) & ((df["preset"] == preset) if preset else True)
    return keep


def joined_results(parts: list[RunPart]) -> pd.DataFrame:
    """The rows of the parts' runs, each job's rows once; one variant and sequence from two runs is an error."""
    frames = []
    for i, (run, methods) in enumerate(parts):
        df = load_results(run)
        frames.append((df[_chosen(df, methods)] if methods else df).assign(_part=i))
    df = pd.concat(frames, ignore_index=True).drop_duplicates(["job_key", "metric", "checkpoint"])
    df = df.assign(variant=variant_labels(df))
    where = ["variant", "sequence", "noise", "seed", "protocol"]
    spread = df.groupby(where, dropna=False)["_part"].nunique()
    if (spread > 1).any():
        variant, sequence, *_ = spread[spread > 1].index[0]
        raise DataError(
            f"runs {' + '.join(str(r) for r, _ in parts)} hold two jobs of {variant} on {sequence}; "
            "take that method from one run only (RUN:METHOD,...)."
        )
    return df.drop(columns="_part")


@cache
def _run_tables(parts: tuple[RunPart, ...], stamps: tuple[tuple[int, int], ...]) -> dict[str, Table]:
    """The report tables of the joined runs; ``stamps`` (mtime, size of each results table) keep the cache current."""
    return {t.key: t for t in report_tables(joined_results(list(parts)))}


def render_table(base: Path, spec: str, key: str) -> str:
    """The Markdown of table ``key`` of the runs ``spec`` names (relative to ``base``), as the report writes it."""
    parts = tuple(parse_runs(base, spec))
    tables = _run_tables(parts, tuple(_stamp(run) for run, _ in parts))
    if key not in tables:
        raise DataError(f"runs {spec} have no table {key!r}; their tables: {', '.join(tables)}.")
    return render_markdown(tables[key])


def regenerate(page: Path) -> tuple[str, list[str]]:
    """The page's text with every block regenerated, and the blocks (``run key``) whose text changed."""
    text = page.read_text(encoding="utf-8")
    stale: list[str] = []

    def fill(match: re.Match) -> str:
        body = render_table(page.parent, match["run"], match["key"])
        if body != match["body"]:
            stale.append(f"{match['run']} {match['key']}")
        return match["open"] + body + match["close"]

    return BLOCK.sub(fill, text), stale


@click.command()
@click.option("--check", is_flag=True, help="Only report stale blocks (exit 1 if any); write nothing.")
@click.argument("pages", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def main(check: bool, pages: tuple[Path, ...]) -> None:
    """Regenerate the report-table blocks of Markdown PAGES from their committed runs."""
    stale_pages = []
    for page in pages:
        try:
            text, stale = regenerate(page)
        except DataError as exc:
            click.echo(f"error: {page}: {exc}", err=True)
            sys.exit(2)
        if stale and not check:
            page.write_text(text, encoding="utf-8")
        if stale:
            stale_pages.append(page)
            click.echo(f"{page}: {'stale' if check else 'rewrote'} {', '.join(stale)}")
    if check and stale_pages:
        sys.exit(1)


if __name__ == "__main__":
    main()
