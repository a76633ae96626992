"""Report tables inside hand-written Markdown pages, regenerated from committed runs.

A page marks where a table of a run goes::

    <!-- istdbench-table runs/study-neurstt-daub table8_auc3d -->
    ...generated, do not edit...
    <!-- /istdbench-table -->

The run folder (relative to the page) holds the run's ``results.csv``; the
block's body is the Markdown file ``tables/<key>.md`` that ``istdbench report
RUN`` writes, byte for byte, so the numbers a page shows are the report's and
no test has to parse prose. Rewrite the blocks of pages, or check that they are
current (exit 1 naming the stale blocks; 2 for a block whose run or table does not exist)::

    python -m istdbench.reports.docblocks docs/results.md docs/methods/stpm3d.md
    python -m istdbench.reports.docblocks --check docs/*.md docs/methods/*.md
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

import click

from istdbench.core.errors import DataError
from istdbench.core.runfolder import RESULTS

from .render_markdown import render_markdown
from .results import load_results, variant_labels
from .tables import Table, build_tables

BLOCK = re.compile(
    r"^(?P<open><!-- istdbench-table (?P<run>\S+) (?P<key>\S+) -->\n)(?P<body>.*?)"
    r"^(?P<close><!-- /istdbench-table -->)",
    re.DOTALL | re.MULTILINE,
)
"""A block: both markers start a line (a marker quoted inside a line or a code comment is no block)."""


@cache
def _run_tables(run: Path, stamp: tuple[int, int]) -> dict[str, Table]:
    """The run's report tables; ``stamp`` (mtime, size of its results table) keeps the cache current."""
    df = load_results(run)
    return {t.key: t for t in build_tables(df.assign(variant=variant_labels(df)))}


def render_table(run: Path, key: str) -> str:
    """The Markdown of table ``key`` of the run in folder ``run``, as ``istdbench report`` writes it."""
    run = run.resolve()
    try:
        info = (run / RESULTS).stat()
    except OSError:
        raise DataError(f"No results table at {run / 'results.csv'}: is {run} a committed run?") from None
    tables = _run_tables(run, (info.st_mtime_ns, info.st_size))
    if key not in tables:
        raise DataError(f"run {run} has no table {key!r}; its tables: {', '.join(tables)}.")
    return render_markdown(tables[key])


def regenerate(page: Path) -> tuple[str, list[str]]:
    """The page's text with every block regenerated, and the blocks (``run key``) whose text changed."""
    text = page.read_text(encoding="utf-8")
    stale: list[str] = []

    def fill(match: re.Match) -> str:
        body = render_table(page.parent / match["run"], match["key"])
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
