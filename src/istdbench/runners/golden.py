"""The CI check: the deterministic part of a run's results against a committed copy.

Only what must not change without a reason is compared: per (method, preset,
config hash, sequence, noise, seed, protocol, threshold, metric) the metric
value (within a tolerance) and the job status. A changed method config shows as
rows missing from the run plus rows not in the golden copy. Runtimes, devices
and the environment are left out. Regenerate the committed copy after an intended
change with::

    istdbench run quick -o results/quick
    python -m istdbench.runners.golden write results/quick tests/golden/quick_metrics.csv

and check a run against it with::

    python -m istdbench.runners.golden compare results/quick tests/golden/quick_metrics.csv

(``make golden`` and ``make check-golden`` do both with the committed copy.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd

from istdbench.core.errors import DataError
from istdbench.core.io import atomic_write_bytes
from istdbench.core.runfolder import RESULTS

KEY = ("method", "preset", "config_hash", "sequence", "noise", "seed", "protocol", "threshold", "metric")
CHECKED = ("status",)
COLUMNS = (*KEY, *CHECKED, "value")


def deterministic_table(results: pd.DataFrame) -> pd.DataFrame:
    """The compared columns of a results table, one row per key, sorted."""
    missing = [c for c in COLUMNS if c not in results.columns]
    if missing:
        raise DataError(f"results table lacks column(s) {', '.join(missing)}.")
    table = results[list(COLUMNS)].copy()
    for c in (*KEY, *CHECKED):
        table[c] = table[c].fillna("").astype(str)
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    if table.duplicated(list(KEY)).any():
        dup = table[table.duplicated(list(KEY), keep=False)].head(4)
        raise DataError(f"results table has repeated rows for one key, e.g.:\n{dup.to_string(index=False)}")
    return table.sort_values(list(KEY), ignore_index=True)


def read_table(path: str | Path) -> pd.DataFrame:
    """A run's ``results.csv`` (given the file or its output folder) or a golden copy, as a compared table."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS
    if not path.is_file():
        raise DataError(f"No results table at {path}.")
    return deterministic_table(pd.read_csv(path, dtype=str, keep_default_na=False))


def write_golden(out: str | Path, golden: str | Path) -> Path:
    """Write the compared columns of the run in ``out`` to ``golden`` (atomically)."""
    table = read_table(out)
    golden = Path(golden)
    atomic_write_bytes(golden, lambda fh: fh.write(table.to_csv(index=False, float_format="%.12g").encode()))
    return golden


def compare_tables(got: pd.DataFrame, expected: pd.DataFrame, atol: float = 1e-6, rtol: float = 0.0) -> list[str]:
    """Human-readable differences between a run's table and the golden one (empty when they agree)."""
    merged = expected.merge(got, on=list(KEY), how="outer", suffixes=("_golden", "_run"), indicator=True)
    lines = []
    for _, row in merged.iterrows():
        key = " ".join(f"{k}={row[k]}" for k in KEY if row[k] != "")
        if row["_merge"] == "left_only":
            lines.append(f"- missing from run: {key}")
            continue
        if row["_merge"] == "right_only":
            lines.append(f"+ not in golden:   {key} value={row['value_run']:.9g}")
            continue
        for c in CHECKED:
            if row[f"{c}_golden"] != row[f"{c}_run"]:
                lines.append(f"~ {c} differs:   {key}: golden {row[f'{c}_golden']!r}, run {row[f'{c}_run']!r}")
        a, b = float(row["value_golden"]), float(row["value_run"])
        if not np.isclose(b, a, atol=atol, rtol=rtol, equal_nan=True):
            lines.append(f"~ value differs:   {key}: golden {a:.9g}, run {b:.9g} (diff {b - a:+.3g})")
    return lines


@click.group()
def cli() -> None:
    """Compare a run of the quick config with the committed golden table, or regenerate it."""


@cli.command("compare")
@click.argument("out", type=click.Path(exists=True, path_type=Path))
@click.argument("golden", type=click.Path(path_type=Path))
@click.option("--atol", type=float, default=1e-6, show_default=True)
@click.option("--rtol", type=float, default=0.0, show_default=True)
def compare_command(out: Path, golden: Path, atol: float, rtol: float) -> None:
    """Exit 1 with a diff when the run in OUT differs from GOLDEN."""
    try:
        diff = compare_tables(read_table(out), read_table(golden), atol=atol, rtol=rtol)
    except DataError as exc:
        raise click.ClickException(str(exc)) from None
    if diff:
        click.echo(f"{len(diff)} difference(s) between {out} and {golden}:", err=True)
        click.echo("\n".join(diff), err=True)
        click.echo(f"If intended, regenerate: python -m istdbench.runners.golden write {out} {golden}", err=True)
        sys.exit(1)
    click.echo(f"{out} matches {golden}.")


@cli.command("write")
@click.argument("out", type=click.Path(exists=True, path_type=Path))
@click.argument("golden", type=click.Path(path_type=Path))
def write_command(out: Path, golden: Path) -> None:
    """Regenerate GOLDEN from the run in OUT."""
    try:
        path = write_golden(out, golden)
    except DataError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    cli()
