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
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Processes drawing figures (default: the cores available)."
)
@click.option(
    "--roc",
    "roc",
    multiple=True,
    metavar="SEQ",
    help="Sequence or group (wildcards allowed) with per-sequence 3-D ROC figures; repeatable; 'all' or 'none'.",
)
@click.option(
    "--visual", "visual", multiple=True, metavar="SEQ", help="Sequence or group shown in the visual grids; as --roc."
)
@click.option(
    "--max-figures",
    type=click.IntRange(min=0),
    help="Per group, sequences the default selection draws (default 8, or the run config's [report]).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="Write the report here instead of OUT/report (e.g. for a committed run in docs/runs/).",
)
@click.option(
    "--summary/--no-summary",
    default=None,
    help="One mean-ROC figure per group (default: for groups whose sequences are not all drawn).",
)
@threads_option
def report_cmd(
    out: str,
    formats: str,
    no_figures: bool,
    data_root: str | None,
    jobs: int | None,
    roc: tuple[str, ...],
    visual: tuple[str, ...],
    max_figures: int | None,
    summary: bool | None,
    threads: int,
    output: str | None,
) -> None:
    """Write OUT/report/ (tables, figures, index.md) from the jobs of OUT's last run that are stored.

    A run that was stopped or is still running is reported as far as it got; the index and this
    command say how many of its jobs are missing or failed. Figures whose inputs did not change
    since the last report are reused, not redrawn. See docs/report-figures.md for choosing figures.
    """
    from istdbench.reports import write_report
    from istdbench.runners.execute import thread_limit

    with thread_limit(threads, torch=False):
        report = write_report(
            out,
            formats=formats,
            figures=not no_figures,
            data_root=data_root,
            jobs=jobs,
            roc=roc or None,
            visual=visual or None,
            max_figures=max_figures,
            summary=summary,
            threads=threads,
            report_dir=output,
        )
    if report.state is not None and not report.state.complete:
        click.echo(f"warning: incomplete results: {report.state.describe()}", err=True)
    click.echo(
        f"{len(report.tables)} table(s) and {len(report.figures)} figure(s) written; open {report.folder / 'index.md'}"
    )
