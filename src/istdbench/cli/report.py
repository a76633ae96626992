"""``istdbench report OUT``: tables, figures and an index page from a run's output folder."""

from __future__ import annotations

import click

from . import main


@main.command("report")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--formats", default="md,tex,csv", show_default=True, help="Table formats: md, tex, csv.")
@click.option("--no-figures", is_flag=True, help="Write the tables and the index only.")
@click.option("--data-root", type=click.Path(file_okay=False), help="Root of the named datasets ($ISTDBENCH_DATA).")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    help="Write the report here instead of OUT/report (e.g. for a committed run in docs/runs/).",
)
def report_cmd(out: str, formats: str, no_figures: bool, data_root: str | None, output: str | None) -> None:
    """Write OUT/report/ (tables, figures, index.md) from OUT/results.csv."""
    from istdbench.reports import write_report

    report = write_report(out, formats=formats, figures=not no_figures, data_root=data_root, report_dir=output)
    click.echo(
        f"{len(report.tables)} table(s) and {len(report.figures)} figure(s) written; open {report.folder / 'index.md'}"
    )
