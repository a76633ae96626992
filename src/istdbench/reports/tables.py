"""The paper's tables as DataFrames, built as pure functions of the long results table.

Each builder returns a `Table`: the values (rows are method variants, columns a
two-level index ``(group, metric)`` where the group is a sequence, a noise
setting, an image size or ``""``), a parallel frame of cell status (``ok``,
``failed``, ``missing``) and what the renderers need to caption it. Nothing
here formats numbers or writes files.

A cell averages the jobs it covers: over seeds first, then over sequences.
A cell with any failed job shows "failed" rather than an average over fewer
jobs, which would not be comparable with its neighbours.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .formatting import AUC_METRICS
from .results import natural_sorted, noise_order, variant_labels

log = logging.getLogger(__name__)

PRIMARY_PROTOCOL = "tensoristd"
PRIMARY_THRESHOLD = "ratio:0.5"
AVERAGE = "Average"
PIXEL_METRICS = ("IoU", "F1")
TARGET_METRICS = ("Pd", "Fa", "AUC_tau_TPR")


@dataclass(frozen=True)
class Table:
    """One report table, ready for a renderer.

    Parameters
    ----------
    key : str
        File stem (``table8_auc3d``); unique within a report.
    title : str
        Caption.
    values : DataFrame
        Float values; index = row labels, columns = MultiIndex (group, metric).
    status : DataFrame
        Same shape as ``values``: ``ok``, ``failed`` or ``missing`` per cell.
    info : DataFrame, optional
        Text columns shown between the row label and the values (e.g. device).
    notes : tuple of str
        Sentences printed under the table (what was averaged, protocol).
    deterministic : bool
        False for tables of measured times; CI compares only deterministic ones.
    """

    key: str
    title: str
    values: pd.DataFrame
    status: pd.DataFrame
    info: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    deterministic: bool = True
    row_header: str = "Method"


@dataclass(frozen=True)
class Setting:
    """One evaluation setting of the metric tables: a protocol and a threshold rule."""

    protocol: str
    threshold: str
    suffix: str


def evaluation_settings(df: pd.DataFrame) -> list[Setting]:
    """The (protocol, threshold) pairs present, the primary one first and without a file suffix.

    Failed jobs count too: a run whose jobs all failed still gets its tables, showing the failures.
    """
    named = df[df["protocol"] != ""]
    pairs = sorted(set(zip(named["protocol"], named["threshold"], strict=True)))

    def rank(pair: tuple[str, str]) -> tuple[bool, bool, str, str]:
        name = pair[0].split("@", 1)[0]
        return (name != PRIMARY_PROTOCOL, pair[1] != PRIMARY_THRESHOLD, *pair)

    pairs.sort(key=rank)
    out = []
    for i, (protocol, threshold) in enumerate(pairs):
        suffix = "" if i == 0 else "__" + re.sub(r"[^A-Za-z0-9]+", "_", f"{protocol}_{threshold}").strip("_")
        out.append(Setting(protocol, threshold, suffix))
    return out


def _for_setting(df: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """Rows of one setting, plus every failure (a failed job may lack protocol and threshold)."""
    keep = (df["status"] == "failed") | ((df["protocol"] == setting.protocol) & (df["threshold"] == setting.threshold))
    return df[keep]


def _grid(
    df: pd.DataFrame, group_col: str, groups: list[str], metrics: tuple[str, ...], rows: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Values and status per (variant) x (group, metric): mean over seeds, then over sequences."""
    ok = df[(df["status"] == "ok") & df["metric"].isin(metrics)]
    keys = list(dict.fromkeys(["variant", group_col, "sequence", "metric"]))
    per_sequence = ok.groupby(keys)["value"].mean()
    means = per_sequence.groupby(level=["variant", group_col, "metric"]).mean()
    failed = set(zip(*(df.loc[df["status"] == "failed", c] for c in ("variant", group_col)), strict=True))
    columns = pd.MultiIndex.from_product([groups, list(metrics)], names=["group", "metric"])
    cells = pd.MultiIndex.from_product([rows, groups, list(metrics)])
    grid = means.reindex(cells).to_numpy(dtype=float).reshape(len(rows), len(columns))
    values = pd.DataFrame(grid, index=pd.Index(rows, name="variant"), columns=columns)
    status = pd.DataFrame("missing", index=values.index, columns=columns, dtype=object)
    status[values.notna()] = "ok"
    for variant, group in failed:
        if variant in status.index and group in groups:
            status.loc[variant, [(group, m) for m in metrics]] = "failed"
    return values, status


def _average(values: pd.DataFrame, status: pd.DataFrame, groups: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Append the group ``Average``: the mean over groups per metric; failed if any group failed."""
    metrics = list(dict.fromkeys(values.columns.get_level_values("metric")))
    values, status = values.copy(), status.copy()
    for m in metrics:
        cols = [(g, m) for g in groups]
        values[(AVERAGE, m)] = values[cols].mean(axis=1, skipna=True)
        any_failed = (status[cols] == "failed").any(axis=1)
        status[(AVERAGE, m)] = np.where(any_failed, "failed", np.where(values[(AVERAGE, m)].notna(), "ok", "missing"))
    return values, status


def _rows(df: pd.DataFrame) -> list[str]:
    return natural_sorted(set(df["variant"]))


def _masked_sequences(df: pd.DataFrame) -> set[str]:
    """Sequences with pixel masks: those scored by IoU; sequences with no scores at all go by dataset."""
    ok = df[df["status"] == "ok"]
    masked = set(ok.loc[ok["metric"] == "IoU", "sequence"])
    unscored = set(df["sequence"]) - set(ok["sequence"])
    masked |= {s for s in unscored if s.split("/", 1)[0] == "synthetic"}
    return masked


def table8_auc3d(df: pd.DataFrame, setting: Setting) -> Table | None:
    """Table 8: the eight 3-D ROC AUCs per method, averaged over the clean sequences."""
    clean = _for_setting(df, setting).query("noise == 'none'")
    if clean.empty:
        return None
    sequences = natural_sorted(set(clean["sequence"]))
    values, status = _grid(clean, "sequence", sequences, AUC_METRICS, _rows(clean))
    values, status = _average(values, status, sequences)
    keep = [(AVERAGE, m) for m in AUC_METRICS]
    notes = (
        f"Mean over {len(sequences)} sequence(s) without added noise: {', '.join(sequences)}.",
        f"Protocol {setting.protocol}.",
    )
    return Table(
        f"table8_auc3d{setting.suffix}",
        "3-D ROC AUCs (mean over sequences)",
        values[keep].rename(columns={AVERAGE: ""}, level="group"),
        status[keep].rename(columns={AVERAGE: ""}, level="group"),
        notes=notes,
    )


def _per_sequence_table(
    df: pd.DataFrame, setting: Setting, sequences: set[str], metrics: tuple[str, ...], key: str, title: str
) -> Table | None:
    part = df[df["sequence"].isin(sequences)]
    if part.empty:
        return None
    groups = natural_sorted(sequences)
    values, status = _grid(part, "sequence", groups, metrics, _rows(part))
    values, status = _average(values, status, groups)
    notes = (f"Protocol {setting.protocol}, threshold {setting.threshold}; sequences without added noise.",)
    return Table(f"{key}{setting.suffix}", title, values, status, notes=notes)


def table9_detection(df: pd.DataFrame, setting: Setting) -> list[Table]:
    """Table 9: IoU/F1 where masks exist, and Pd/Fa/AUC(tau,TPR) for point-annotated sequences."""
    clean = _for_setting(df, setting).query("noise == 'none'")
    masked = _masked_sequences(clean)
    pointed = set(clean["sequence"]) - masked
    tables = [
        _per_sequence_table(clean, setting, masked, PIXEL_METRICS, "table9_pixel", "Pixel-level IoU and F1"),
        _per_sequence_table(
            clean, setting, pointed, TARGET_METRICS, "table9_target", "Target-level Pd, Fa and AUC(tau,TPR)"
        ),
    ]
    return [t for t in tables if t is not None]


def table10_runtime(df: pd.DataFrame) -> Table | None:
    """Table 10: seconds per frame per sequence and on average, with the device each method ran on."""
    jobs = df[df["noise"] == "none"].drop_duplicates("job_key").assign(metric="s_per_frame")
    jobs = jobs.assign(value=jobs["s_per_frame"])
    if jobs.empty:
        return None
    groups = natural_sorted(set(jobs["sequence"]))
    rows = _rows(jobs)
    values, status = _grid(jobs, "sequence", groups, ("s_per_frame",), rows)
    values, status = _average(values, status, groups)
    ok = jobs[jobs["status"] == "ok"]
    devices = ok.groupby("variant")["device"].agg(lambda d: ", ".join(sorted(set(d) - {""})))
    info = pd.DataFrame({"Device": [devices.get(r, "") for r in rows]}, index=values.index)
    return Table(
        "table10_runtime",
        "Runtime (seconds per frame)",
        values,
        status,
        info=info,
        notes=("Wall time of detection divided by the number of frames; sequences without added noise.",),
        deterministic=False,
    )


def table11_params(df: pd.DataFrame) -> Table | None:
    """Table 11: parameter counts of the learned methods (those reporting one) at each image size."""
    jobs = df[(df["status"] == "ok") & df["n_params"].notna()].drop_duplicates("job_key")
    if jobs.empty:
        return None
    size = jobs["height"].astype(str) + "x" + jobs["width"].astype(str)
    counts_per_size = jobs.assign(size=size).groupby(["variant", "size"])["n_params"].nunique()
    ambiguous = set(counts_per_size[counts_per_size > 1].index.get_level_values("size"))
    size = size.where(~size.isin(ambiguous), size + "x" + jobs["n_frames"].astype(str))
    jobs = jobs.assign(size=size, metric="n_params", value=jobs["n_params"].astype(float))

    def size_key(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split("x"))

    groups = sorted(set(jobs["size"]), key=size_key)
    values, status = _grid(jobs, "size", groups, ("n_params",), _rows(jobs))
    return Table(
        "table11_params",
        "Parameter counts of the learned methods",
        values,
        status,
        notes=("Learnable parameters at each image size (HxW, or HxWxT where the count depends on T).",),
    )


def table12_noise(df: pd.DataFrame, setting: Setting) -> list[Table]:
    """Fig. 12 data: per noise setting and method, F1/IoU where masks exist, else AUC(tau,TPR)."""
    part = _for_setting(df, setting)
    noises = noise_order(set(part["noise"]))
    if len(noises) < 2:
        return []
    # only sequences run with added noise, so that every column averages the same sequences
    noisy = set(part.loc[part["noise"] != "none", "sequence"])
    part = part[part["sequence"].isin(noisy)]
    masked = _masked_sequences(part)
    tables = []
    for sequences, metrics, key, title in (
        (masked, ("F1", "IoU"), "table12_noise_pixel", "Noise robustness: F1 and IoU"),
        (noisy - masked, ("AUC_tau_TPR",), "table12_noise_target", "Noise robustness: AUC(tau,TPR)"),
    ):
        sub = part[part["sequence"].isin(sequences)]
        sub_noises = [n for n in noises if n in set(sub["noise"])]
        if len(sub_noises) < 2:
            continue
        values, status = _grid(sub, "noise", sub_noises, metrics, _rows(sub))
        note = f"Mean over {len(sequences)} sequence(s): {', '.join(natural_sorted(sequences))}."
        tables.append(
            Table(
                f"{key}{setting.suffix}",
                title,
                values,
                status,
                notes=(note, f"Protocol {setting.protocol}, threshold {setting.threshold}."),
            )
        )
    return tables


def build_tables(df: pd.DataFrame) -> list[Table]:
    """Every table of the report, in report order (metric tables per evaluation setting)."""
    if "variant" not in df.columns:
        df = df.assign(variant=variant_labels(df))
    tables: list[Table] = []
    for setting in evaluation_settings(df):
        tables += [t for t in (table8_auc3d(df, setting),) if t is not None]
        tables += table9_detection(df, setting)
        tables += table12_noise(df, setting)
    tables += [t for t in (table10_runtime(df), table11_params(df)) if t is not None]
    if not tables:
        log.warning("the results table holds no rows a report table can use")
    return tables
