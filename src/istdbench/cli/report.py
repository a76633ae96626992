"""``istdbench report OUT``: tables, figures and an index page from a run's output folder."""

from __future__ import annotations

import click

from . import main
from ._threads import threads_option


@main.command("report")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--formats", default="md,tex,csv", show_default=True, help="Table formats: md, tex, csv.")
@click.option("--no-figures", is_flag=True, help="Write the tables and the index only.")
@click.option("--data-root", type=click.Path(file_okay=False), help="Root of the named datasets ($ISTDBENCH_DATA).")
@threads_option
def report_cmd(out: str, formats: str, no_figures: bool, data_root: str | None, threads: int) -> None:
    """Write OUT/report/ (tables, figures, index.md) from the jobs of OUT's last run that are stored.

    A run that was stopped or is still running is reported as far as it got; the index and this
    command say how many of its jobs are missing or failed.
    """
    from istdbench.reports import write_report
    from istdbench.runners.execute import thread_limit

    with thread_limit(threads, torch=False):
        report = write_report(out, formats=formats, figures=not no_figures, data_root=data_root, threads=threads)
    if report.state is not None and not report.state.complete:
        click.echo(f"warning: incomplete results: {report.state.describe()}", err=True)
    click.echo(
        f"{len(report.tables)} table(s) and {len(report.figures)} figure(s) written; open {report.folder / 'index.md'}"
    )
