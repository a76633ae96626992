"""The paper's tables as DataFrames, built as pure functions of the long results table.

Each builder returns a `Table`: the values (rows are method variants, columns a
two-level index ``(group, metric)`` where the group is a sequence, a noise
setting, an image size or ``""``), a parallel frame of cell status (``ok``,
``failed``, ``missing``) and what the renderers need to caption it. Nothing
here formats numbers or writes files.

Each evaluation setting (protocol, threshold and ground-truth source: the
data's own annotations or derived masks, the ``gt`` column) gets its own
tables, so scores against derived masks are never averaged with real ones.
Image sets scored under ``basicirstd`` get the single-frame table
(IoU, nIoU, F1, Pd, Fa in 1e-6) instead of the paper's tables.

A cell averages the jobs it covers: over seeds first, then over sequences.
A cell with any failed job shows "failed" rather than an average over fewer
jobs, which would not be comparable with its neighbours.

Tables come in the seed paper's form: rows in its method order with display
names and citation keys, sequences as "Seq. k", noise as "Gaussian 5 dB"
(`istdbench.core.display`), IoU/F1 in percent, a fixed number of decimals per
table, and notes that state protocol, threshold, data and ground truth
(`captions`), which the LaTeX renderer puts into the caption.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from istdbench.core.display import Presentation
from istdbench.core.sorting import natural_sorted

from . import captions
from .results import noise_order, variant_labels

log = logging.getLogger(__name__)

PRIMARY_PROTOCOL = "tensoristd"
PRIMARY_THRESHOLD = "ratio:0.5"
AVERAGE = "Average"
PIXEL_METRICS = ("IoU", "F1")
TARGET_METRICS = ("Pd", "Fa", "AUC_tau_TPR")
PERCENT_METRICS = frozenset(PIXEL_METRICS)
"""Printed in percent, as in the paper's Tables 9 and Fig. 12."""
PAPER_AUC_ORDER = (
    "AUC_FPR_TPR",
    "AUC_tau_FPR",
    "AUC_tau_TPR",
    "AUC_BS",
    "AUC_TD",
    "AUC_TDBS",
    "AUC_ODP",
    "AUC_SNPR",
)
"""Table 8's columns in the seed paper's order."""
IMAGESET_PROTOCOL = "basicirstd"
FA_E6 = "Fa (1e-6)"
IMAGESET_METRICS = ("IoU", "nIoU", "F1", "Pd", FA_E6)
PER_SEQUENCE_METRICS = ("AUC_ODP", "AUC_SNPR")
FINAL = "final"


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
        Caption sentences: protocol, threshold, data, ground truth.
    deterministic : bool
        False for tables of measured times; CI compares only deterministic ones.
    decimals : int, optional
        Decimals of every value (None: the per-metric defaults of `formatting`).
    cite_keys : tuple of (row label, key)
        Citation keys the LaTeX renderer cites after the row labels.
    """

    key: str
    title: str
    values: pd.DataFrame
    status: pd.DataFrame
    info: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    deterministic: bool = True
    row_header: str = "Method"
    decimals: int | None = None
    cite_keys: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Setting:
    """One evaluation setting of the metric tables: a protocol, a threshold rule and a ground-truth source."""

    protocol: str
    threshold: str
    suffix: str
    gt: str = ""  # "": the data's own annotations; else the derived-mask rule

    @property
    def notes(self) -> tuple[str, ...]:
        """What every table of the setting says about its ground truth (nothing for the data's own)."""
        return (f"Ground truth: masks derived from the annotated points, {self.gt}.",) if self.gt else ()


def evaluation_settings(df: pd.DataFrame) -> list[Setting]:
    """The (protocol, threshold) pairs present, the primary one first and without a file suffix.

    Failed jobs count too: a run whose jobs all failed still gets its tables, showing the failures.
    """
    named = df[df["protocol"] != ""]
    gts = named["gt"] if "gt" in named else pd.Series("", index=named.index)
    triples = sorted(set(zip(named["protocol"], named["threshold"], gts, strict=True)))

    def rank(key: tuple[str, str, str]) -> tuple[bool, bool, bool, str, str, str]:
        name = key[0].split("@", 1)[0]
        return (key[2] != "", name != PRIMARY_PROTOCOL, key[1] != PRIMARY_THRESHOLD, *key)

    triples.sort(key=rank)
    out = []
    for i, (protocol, threshold, gt) in enumerate(triples):
        name = f"{protocol}_{threshold}" + (f"_{gt}" if gt else "")
        suffix = "" if i == 0 else "__" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
        out.append(Setting(protocol, threshold, suffix, gt))
    return out


def _for_setting(df: pd.DataFrame, setting: Setting) -> pd.DataFrame:
    """Rows of one setting, plus every failure (a failed job may lack protocol and threshold)."""
    gt = df["gt"] if "gt" in df else pd.Series("", index=df.index)
    same = (df["protocol"] == setting.protocol) & (df["threshold"] == setting.threshold) & (gt == setting.gt)
    keep = ((df["status"] == "failed") & (gt == setting.gt)) | same
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


def _average_only(values: pd.DataFrame, status: pd.DataFrame, metrics) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Only the ``Average`` columns of ``metrics``, in that order, under an unnamed group (a means table)."""
    keep = [(AVERAGE, m) for m in metrics]
    unnamed = {AVERAGE: ""}
    return values[keep].rename(columns=unnamed, level="group"), status[keep].rename(columns=unnamed, level="group")


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


def _rows(df: pd.DataFrame, pres: Presentation) -> list[str]:
    """Variants in the paper's method order (the config's ``order`` first), then by name."""
    pairs = df[["variant", "method"]].drop_duplicates()
    method_of = dict(zip(pairs["variant"], pairs["method"], strict=True))
    return sorted(method_of, key=lambda v: pres.variant_rank(v, method_of[v]))


def _present(
    df: pd.DataFrame, pres: Presentation, values: pd.DataFrame, status: pd.DataFrame, groups: str = "sequence"
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[tuple[str, str], ...]]:
    """Display labels for rows (and sequence or noise groups), plus the rows' citation keys."""
    pairs = df[["variant", "method"]].drop_duplicates()
    method_of = dict(zip(pairs["variant"], pairs["method"], strict=True))
    rows = {v: pres.variant(v, method_of.get(v, v)) for v in values.index}
    label = {"sequence": pres.sequence, "noise": pres.noise}.get(groups, lambda g: g)

    def relabel(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.rename(index=rows)
        if isinstance(frame.columns, pd.MultiIndex):
            frame.columns = pd.MultiIndex.from_tuples(
                [(label(g) if g not in ("", AVERAGE) else g, m) for g, m in frame.columns], names=frame.columns.names
            )
        return frame

    keys = tuple((rows[v], pres.method(method_of.get(v, v)).cite_key) for v in values.index) if pres.cite else ()
    return relabel(values), relabel(status), tuple((r, k) for r, k in keys if k)


def _percent(values: pd.DataFrame) -> pd.DataFrame:
    """IoU and F1 columns times 100."""
    values = values.copy()
    for col in values.columns:
        if col[-1] in PERCENT_METRICS:
            values[col] = values[col] * 100
    return values


def _masked_sequences(df: pd.DataFrame) -> set[str]:
    """Sequences with pixel masks: those scored by IoU; sequences with no scores at all go by dataset."""
    ok = df[df["status"] == "ok"]
    masked = set(ok.loc[ok["metric"] == "IoU", "sequence"])
    unscored = set(df["sequence"]) - set(ok["sequence"])
    masked |= {s for s in unscored if s.split("/", 1)[0] == "synthetic"}
    return masked


def table8_auc3d(df: pd.DataFrame, setting: Setting, pres: Presentation) -> Table | None:
    """Table 8: the eight 3-D ROC AUCs per method (the paper's column order), averaged over clean sequences."""
    clean = _for_setting(df, setting).query("noise == 'none'")
    if clean.empty:
        return None
    sequences = natural_sorted(set(clean["sequence"]))
    values, status = _grid(clean, "sequence", sequences, PAPER_AUC_ORDER, _rows(clean, pres))
    values, status = _average(values, status, sequences)
    values, status = _average_only(values, status, PAPER_AUC_ORDER)
    values, status, cites = _present(clean, pres, values, status)
    notes = (
        "Mean over " + captions.data_sentence(clean, sequences, pres),
        captions.protocol_sentence(setting.protocol),
        *(setting.notes or (captions.truth_sentence(sequences, pixel=False),)),
    )
    return Table(
        f"table8_auc3d{setting.suffix}",
        "3-D ROC AUCs (mean over sequences)",
        values,
        status,
        notes=notes,
        decimals=pres.table_decimals("table8"),
        cite_keys=cites,
    )


def table9_pixel(df: pd.DataFrame, setting: Setting, pres: Presentation, sequences: set[str]) -> Table | None:
    """Table 9: IoU and F1 (%) per sequence and their average, for the sequences with masks."""
    part = df[df["sequence"].isin(sequences)]
    if part.empty:
        return None
    groups = natural_sorted(sequences)
    values, status = _grid(part, "sequence", groups, PIXEL_METRICS, _rows(part, pres))
    values, status = _average(values, status, groups)
    values, status, cites = _present(part, pres, _percent(values), status)
    notes = (
        "Per sequence and the mean over " + captions.data_sentence(part, groups, pres),
        captions.threshold_sentence(setting.threshold),
        *(setting.notes or (captions.truth_sentence(groups, pixel=True),)),
    )
    return Table(
        f"table9_pixel{setting.suffix}",
        "Pixel-level IoU and F1 (%)",
        values,
        status,
        notes=notes,
        decimals=pres.table_decimals("table9"),
        cite_keys=cites,
    )


def table9_target(df: pd.DataFrame, setting: Setting, pres: Presentation, sequences: set[str]) -> Table | None:
    """The target-level companion of Table 9: Pd, Fa and AUC(tau,TPR), averaged over the sequences (narrow)."""
    part = df[df["sequence"].isin(sequences)]
    if part.empty:
        return None
    groups = natural_sorted(sequences)
    values, status = _grid(part, "sequence", groups, TARGET_METRICS, _rows(part, pres))
    values, status = _average(values, status, groups)
    values, status = _average_only(values, status, TARGET_METRICS)
    values, status, cites = _present(part, pres, values, status)
    notes = (
        "Mean over " + captions.data_sentence(part, groups, pres),
        captions.threshold_sentence(setting.threshold, "Pd and Fa"),
        "AUC(τ,TPR) under " + captions.protocol_sentence(setting.protocol),
        *(setting.notes or (captions.truth_sentence(groups, pixel=False),)),
    )
    return Table(
        f"table9_target{setting.suffix}",
        "Target-level Pd, Fa and AUC(τ,TPR)",
        values,
        status,
        notes=notes,
        decimals=pres.table_decimals("table8"),
        cite_keys=cites,
    )


def table9_detection(df: pd.DataFrame, setting: Setting, pres: Presentation | None = None) -> list[Table]:
    """Table 9: IoU/F1 where masks exist, and a narrow target-level table for point-annotated sequences."""
    pres = pres or Presentation()
    clean = _for_setting(df, setting).query("noise == 'none'")
    masked = _masked_sequences(clean)
    pointed = set(clean["sequence"]) - masked
    tables = [table9_pixel(clean, setting, pres, masked), table9_target(clean, setting, pres, pointed)]
    return [t for t in tables if t is not None]


def table10_runtime(df: pd.DataFrame, pres: Presentation | None = None) -> Table | None:
    """Table 10: seconds per frame per sequence and on average, with category, scene and device."""
    pres = pres or Presentation()
    jobs = df[df["noise"] == "none"].drop_duplicates("job_key").assign(metric="s_per_frame")
    jobs = jobs.assign(value=jobs["s_per_frame"])
    if jobs.empty:
        return None
    groups = natural_sorted(set(jobs["sequence"]))
    rows = _rows(jobs, pres)
    values, status = _grid(jobs, "sequence", groups, ("s_per_frame",), rows)
    values, status = _average(values, status, groups)
    ok = jobs[jobs["status"] == "ok"]
    devices = ok.groupby("variant")["device"].agg(lambda d: ", ".join(sorted(set(d) - {""})))
    method_of = dict(zip(jobs["variant"], jobs["method"], strict=False))
    info = pd.DataFrame(
        {
            "Category": [pres.method(method_of[r]).category for r in rows],
            "Scene": [pres.method(method_of[r]).scene for r in rows],
            "Device": [devices.get(r, "") for r in rows],
        },
        index=values.index,
    )
    info = info[[c for c in info.columns if (info[c] != "").any()]]
    if "Device" in info.columns and info["Device"].nunique() <= 1:
        info = info.drop(columns="Device")  # one device for all: the caption names it
    values, status, cites = _present(jobs, pres, values, status)
    info.index = values.index
    notes = (
        "Wall time of detection divided by the number of frames, per sequence and the mean over "
        + captions.data_sentence(jobs, groups, pres),
        captions.device_sentence(jobs),
    )
    return Table(
        "table10_runtime",
        "Runtime (seconds per frame)",
        values,
        status,
        info=info if len(info.columns) else None,
        notes=tuple(n for n in notes if n),
        deterministic=False,
        decimals=pres.table_decimals("table10"),
        cite_keys=cites,
    )


def table11_params(df: pd.DataFrame, pres: Presentation | None = None) -> Table | None:
    """Table 11: learnable parameters (M) of the learned methods per image size, with the ratio to a reference.

    Every row gets "its count / the reference's count" at each size (the
    reference, ``[display] reference``, NeurSTT by default, reads 1.0×).
    """
    pres = pres or Presentation()
    # image sets (no single height and width) are left out: their counts are those at the first image's size
    jobs = df[(df["status"] == "ok") & df["n_params"].notna() & df["height"].notna()].drop_duplicates("job_key")
    if jobs.empty:
        return None
    size = jobs["height"].astype(str) + "×" + jobs["width"].astype(str)
    counts_per_size = jobs.assign(size=size).groupby(["variant", "size"])["n_params"].nunique()
    ambiguous = set(counts_per_size[counts_per_size > 1].index.get_level_values("size"))
    size = size.where(~size.isin(ambiguous), size + "×" + jobs["n_frames"].astype(str))
    jobs = jobs.assign(size=size, metric="params_M", value=jobs["n_params"].astype(float) / 1e6)

    def size_key(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split("×"))

    groups = sorted(set(jobs["size"]), key=size_key)
    rows = _rows(jobs, pres)
    values, status = _grid(jobs, "size", groups, ("params_M",), rows)
    reference = [v for v in rows if jobs.loc[jobs["variant"] == v, "method"].iloc[0] == pres.reference]
    notes = ["Learnable parameters in millions at each image size (H×W, or H×W×T where the count depends on T)."]
    if reference and len(rows) > 1:
        ref = reference[0]
        columns = []
        for g in groups:
            ratio = values[(g, "params_M")] / values.loc[ref, (g, "params_M")]
            values[(g, "ratio")] = ratio
            status[(g, "ratio")] = np.where(ratio.notna(), "ok", "missing")
            columns += [(g, "params_M"), (g, "ratio")]
        values, status = values[columns], status[columns]
        shown = pres.variant(ref, pres.reference)
        notes.append(f"Ratio: a method's parameters divided by {shown}'s at the same size.")
    values, status, cites = _present(jobs, pres, values, status, groups="size")
    return Table(
        "table11_params",
        "Parameter counts of the learned methods",
        values,
        status,
        notes=tuple(notes),
        decimals=pres.table_decimals("table11"),
        cite_keys=cites,
    )


def table12_noise(df: pd.DataFrame, setting: Setting, pres: Presentation | None = None) -> list[Table]:
    """The data of Fig. 12 (b, c): per noise setting and method, F1/IoU (%) where masks exist, else AUC(tau,TPR)."""
    pres = pres or Presentation()
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
        (masked, ("F1", "IoU"), "table12_noise_pixel", "Noise robustness: F1 and IoU (%)"),
        (noisy - masked, ("AUC_tau_TPR",), "table12_noise_target", "Noise robustness: AUC(τ,TPR)"),
    ):
        sub = part[part["sequence"].isin(sequences)]
        sub_noises = [n for n in noises if n in set(sub["noise"])]
        if len(sub_noises) < 2:
            continue
        values, status = _grid(sub, "noise", sub_noises, metrics, _rows(sub, pres))
        values, status, cites = _present(sub, pres, _percent(values), status, groups="noise")
        seqs = natural_sorted(sequences)
        notes = (
            "Mean over " + captions.data_sentence(sub, seqs, pres, noise="with each noise setting"),
            captions.protocol_sentence(setting.protocol) if key.endswith("target") else "",
            captions.threshold_sentence(setting.threshold) if key.endswith("pixel") else "",
            *(setting.notes or (captions.truth_sentence(seqs, pixel=key.endswith("pixel")),)),
        )
        tables.append(
            Table(
                f"{key}{setting.suffix}",
                title,
                values,
                status,
                notes=tuple(n for n in notes if n),
                decimals=pres.table_decimals("table12" if key.endswith("pixel") else "table8"),
                cite_keys=cites,
            )
        )
    return tables


def table_imagesets(df: pd.DataFrame, setting: Setting, pres: Presentation) -> Table | None:
    """The single-frame table: IoU, nIoU, F1, Pd and Fa (in 1e-6) per image set under ``basicirstd``."""
    part = _for_setting(df, setting).query("noise == 'none'")
    if part.empty:
        return None
    fa = part["metric"] == "Fa"
    part = part.assign(metric=part["metric"].where(~fa, FA_E6), value=part["value"].where(~fa, part["value"] * 1e6))
    groups = natural_sorted(set(part["sequence"]))
    values, status = _grid(part, "sequence", groups, IMAGESET_METRICS, _rows(part, pres))
    notes = (
        f"Protocol {setting.protocol}, threshold {setting.threshold}: IoU and F1 pooled over the images, nIoU the "
        "mean per-image IoU, Pd and Fa (unmatched predicted pixels over all pixels, in 1e-6) as BasicIRSTD counts.",
        *setting.notes,
    )
    return Table(f"table_imagesets{setting.suffix}", "Single-frame image sets", values, status, notes=notes)


def table8_sequences(df: pd.DataFrame, setting: Setting, pres: Presentation) -> list[Table]:
    """ODP and SNPR of each method on each clean sequence (the per-clip view of Table 8)."""
    clean = _for_setting(df, setting).query("noise == 'none'")
    tables = []
    for metric in PER_SEQUENCE_METRICS:
        scored = clean[(clean["status"] == "failed") | (clean["metric"] == metric)]
        if not (scored["status"] == "ok").any():
            continue
        groups = natural_sorted(set(scored["sequence"]))
        values, status = _grid(scored, "sequence", groups, (metric,), _rows(scored, pres))
        values, status = _average(values, status, groups)
        values, status, cites = _present(scored, pres, values, status)
        key = f"table8_sequences_{metric.removeprefix('AUC_').lower()}{setting.suffix}"
        notes = (
            "Per sequence and the mean over " + captions.data_sentence(scored, groups, pres),
            captions.protocol_sentence(setting.protocol),
            *setting.notes,
        )
        decimals = pres.table_decimals("table8")
        tables.append(
            Table(key, f"{metric} per sequence", values, status, notes=notes, decimals=decimals, cite_keys=cites)
        )
    return tables


def table_checkpoints(df: pd.DataFrame, setting: Setting, pres: Presentation) -> Table | None:
    """ODP after each fit checkpoint and at the end, per method variant and clean sequence (run config ``checkpoints``).

    ``df`` holds the checkpoint rows and the final rows; only variants with checkpoints appear.
    """
    part = _for_setting(df, setting).query("noise == 'none'")
    marked = part["checkpoint"].notna()
    fitted = set(part.loc[marked, "variant"])
    part = part[part["variant"].isin(fitted)]
    if part.empty:
        return None
    steps = part["checkpoint"].astype("Int64").astype(str).where(part["checkpoint"].notna(), FINAL)
    part = part.assign(step=steps, variant=part["variant"] + " on " + part["sequence"])
    groups = [*natural_sorted(set(steps) - {FINAL}), FINAL]
    values, status = _grid(part, "step", groups, ("AUC_ODP",), _rows(part, pres))
    notes = (
        f"AUC_ODP of the maps after that many optimiser steps; {FINAL}: the fit's last step.",
        f"Protocol {setting.protocol}.",
    )
    return Table(f"checkpoints_odp{setting.suffix}", "AUC_ODP at fit checkpoints", values, status, notes=notes)


def final_results(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of final results: those of fit checkpoints (a ``checkpoint`` step count) left out."""
    return df[df["checkpoint"].isna()] if "checkpoint" in df else df


def build_tables(df: pd.DataFrame, pres: Presentation | None = None) -> list[Table]:
    """Every table of the report, in report order (metric tables per evaluation setting).

    ``pres`` names and orders rows and columns (default: the registry's names
    and the paper's order; ``Seq. k`` numbered over this run's sequences).
    Rows of fit checkpoints appear only in the checkpoint table; every other table shows final results.
    """
    if "variant" not in df.columns:
        df = df.assign(variant=variant_labels(df))
    pres = (pres or Presentation()).with_sequences(df["sequence"])
    everything = df
    df = final_results(df)
    tables: list[Table] = []
    for setting in evaluation_settings(df):
        if setting.protocol.split("@", 1)[0] == IMAGESET_PROTOCOL:
            tables += [t for t in (table_imagesets(df, setting, pres),) if t is not None]
            continue
        tables += [t for t in (table8_auc3d(df, setting, pres),) if t is not None]
        tables += table8_sequences(df, setting, pres)
        tables += table9_detection(df, setting, pres)
        tables += table12_noise(df, setting, pres)
        if "checkpoint" in everything and everything["checkpoint"].notna().any():
            tables += [t for t in (table_checkpoints(everything, setting, pres),) if t is not None]
    tables += [t for t in (table10_runtime(df, pres), table11_params(df, pres)) if t is not None]
    if not tables:
        log.warning("the results table holds no rows a report table can use")
    return tables
