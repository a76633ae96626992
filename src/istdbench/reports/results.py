"""Reading the results table the runner writes, with fixed dtypes and one row set per job.

The report layer works only from this table (plus per-job files for figures),
so the table is checked here once: a missing column or an unreadable file is a
`DataError` that names the file, not a ``KeyError`` deep inside a pivot.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from istdbench.core.errors import DataError
from istdbench.core.runfolder import RESULTS
from istdbench.core.schema import ADDED_COLUMNS, FLOAT_COLUMNS, INT_COLUMNS, TEXT_COLUMNS
from istdbench.core.sorting import natural_key

COLUMNS = (*TEXT_COLUMNS, *FLOAT_COLUMNS, *INT_COLUMNS)
"""Every column of the long results table (one row per job and metric)."""


def load_results(out: str | Path) -> pd.DataFrame:
    """Read ``OUT/results.csv`` (or a CSV path) with the dtypes the reports rely on.

    Text columns are plain strings ("" where empty, so a failed job's metric is
    ""), numeric columns are float, counts are nullable integers.

    Parameters
    ----------
    out : str or Path
        The run's output folder, or the CSV file itself.
    """
    path = Path(out)
    if path.is_dir():
        path = path / RESULTS
    if not path.is_file():
        raise DataError(f"No results table at {path}: run `istdbench run CONFIG -o OUT` first.")
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot read the results table {path}: {exc}") from None
    missing = [c for c in COLUMNS if c not in header and c not in ADDED_COLUMNS]
    if missing:
        raise DataError(f"The results table {path} lacks column(s) {', '.join(missing)}.")
    dtypes = {c: str for c in TEXT_COLUMNS}
    na_values = {c: ["", "nan", "NaN", "NA"] for c in (*FLOAT_COLUMNS, *INT_COLUMNS)}
    try:
        df = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=na_values)
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"Cannot read the results table {path}: {exc}") from None
    return normalize(df.assign(**{c: v for c, v in ADDED_COLUMNS.items() if c not in df.columns}))


def normalize(df: pd.DataFrame) -> pd.DataFrame:
    """Fix the dtypes of a results DataFrame built in memory (same rules as `load_results`)."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"The results table lacks column(s) {', '.join(missing)}.")
    df = df.copy()
    for c in TEXT_COLUMNS:
        df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    for c in FLOAT_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in INT_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").round().astype("Int64")
    bad = sorted(set(df["status"]) - {"ok", "failed"})
    if bad:
        raise DataError(f"The results table has status value(s) {bad}; expected 'ok' or 'failed'.")
    return drop_superseded_failures(df)


def drop_superseded_failures(df: pd.DataFrame) -> pd.DataFrame:
    """Drop the failure row of a job that also has result rows (a retry succeeded)."""
    ok_keys = set(df.loc[df["status"] == "ok", "job_key"])
    stale = (df["status"] == "failed") & df["job_key"].isin(ok_keys)
    return df.loc[~stale].reset_index(drop=True)


def variant_labels(df: pd.DataFrame) -> pd.Series:
    """Row label of each result: the method name, plus preset (and hash) where one method runs in several configs.

    A method run with one configuration is shown by its bare name; two presets
    of one method become ``neurstt (paper)`` and ``neurstt (code)``; two
    configurations of one preset add the first six hex digits of the hash.
    A variant the run config labelled (``label = "lr=1e-3"``) is shown by its
    label: ``3dstpm (lr=1e-3)``.
    """
    labels = df["method"].copy()
    named = df["label"] != "" if "label" in df else pd.Series(False, index=df.index)
    for idx in df.index[named]:
        labels.at[idx] = f"{df.at[idx, 'method']} ({df.at[idx, 'label']})"
    for method, group in df[~named].groupby("method", sort=True):
        pairs = group[["preset", "config_hash"]].drop_duplicates()
        if len(pairs) <= 1:
            continue
        presets_unique = pairs.groupby("preset")["config_hash"].nunique().max() <= 1
        for idx, row in group.iterrows():
            suffix = row["preset"] if presets_unique else f"{row['preset']}, {row['config_hash'][:6]}"
            labels.at[idx] = f"{method} ({suffix})"
    return labels


_NOISE_KINDS = {"none": 0, "gaussian": 1, "cross": 2, "vline": 3}


def noise_order(noises) -> list[str]:
    """Noise settings in the seed paper's order: clean, Gaussian (by SNR), cross, vertical lines, then others."""

    def key(spec: str) -> tuple:
        kind = spec.split(":", 1)[0]
        return (_NOISE_KINDS.get(kind, len(_NOISE_KINDS)), natural_key(spec))

    return sorted(set(noises), key=key)
