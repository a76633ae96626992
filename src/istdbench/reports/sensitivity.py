"""Protocol sensitivity: the seed paper's Table 8 scored three ways, and which rankings change.

The NeurSTT and 3-D CNN authors' public code writes only binary PNGs (0.4 and
0.5 x the chunk's maximum) and the toolbox's ROC reads those, while the
baselines' raw maps are scored raw. A run that scores every detection both raw
and binarised (run configs ``binarize = [...]``, e.g. ``daub-protocols``)
holds what is needed to set three scorings side by side:

(a) as published: NeurSTT and 3DSTPM binarised by their authors' rules
    (`AUTHOR_RULES`), every other method raw;
(b) all raw;
(c) all binarised by one rule: the rule every method of the run was scored
    with (``ratio:0.5`` where several are common).

Each is a pure function of the results table; a scoring that a method lacks
rows for is a missing cell, never a silent fallback to another scoring.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from istdbench.core.display import Presentation
from istdbench.core.errors import IstdbenchError
from istdbench.core.sorting import natural_key, natural_sorted
from istdbench.metrics.thresholds import parse_threshold

from .formatting import AUC_METRICS, direction, displayed
from .results import variant_labels
from .tables import PRIMARY_PROTOCOL, PRIMARY_THRESHOLD, Table, _grid

AUTHOR_RULES: dict[str, tuple[str, float]] = {"neurstt": ("chunk-max", 0.4), "3dstpm": ("chunk-max", 0.5)}
"""Method -> (rule kind, ratio) its authors' public code binarises with (any chunk length)."""

METRIC_TEXT = {
    "AUC_FPR_TPR": "AUC(FPR,TPR)",
    "AUC_tau_TPR": "AUC(τ,TPR)",
    "AUC_tau_FPR": "AUC(τ,FPR)",
}
"""Plain-text metric names for text cells and sentences (both renderers escape them)."""

_PROTOCOL_RE = re.compile(r"(?P<base>[^+]+?)(?:\+bin\((?P<rule>.*)\))?")


def metric_text(metric: str) -> str:
    return METRIC_TEXT.get(metric, metric)


def split_protocol(recorded: str) -> tuple[str, str | None]:
    """``tensoristd@1+bin(chunk-max:0.4)`` -> (``tensoristd@1``, ``chunk-max:0.4``); raw maps give None."""
    match = _PROTOCOL_RE.fullmatch(recorded.strip())
    if match is None:  # pragma: no cover - the pattern matches every non-empty string
        return recorded, None
    return match["base"], match["rule"]


def is_authors_rule(method: str, rule: str | None) -> bool:
    """Whether ``rule`` is the binarisation of ``method``'s authors (any chunk length)."""
    if rule is None or method not in AUTHOR_RULES:
        return False
    try:
        parsed = parse_threshold(rule)
    except IstdbenchError:
        return False
    kind, ratio = AUTHOR_RULES[method]
    return parsed.kind == kind and np.isclose(parsed.value, ratio)


def published_scoring(method: str, rules: set[str | None]) -> str | bool | None:
    """The rule the paper's pipeline scores ``method`` with, among the ``rules`` it has rows for.

    Returns the authors' rule for the neural methods, None (raw) for the others,
    False when the method lacks the rows the paper's pipeline needs.
    """
    if method in AUTHOR_RULES:
        own = natural_sorted(r for r in rules if is_authors_rule(method, r))
        return own[0] if own else False
    return None if None in rules else False


@dataclass(frozen=True)
class Scoring:
    """One way of scoring the whole table: a column group and, per variant, the rule used (None: raw)."""

    key: str
    label: str
    rules: dict[str, str | bool | None]  # variant -> rule; False: no such rows


def _auc_rows(df: pd.DataFrame) -> pd.DataFrame:
    rows = df[(df["status"] == "ok") & (df["noise"] == "none") & df["metric"].isin(AUC_METRICS)]
    rows = rows[rows["protocol"] != ""]
    split = [split_protocol(p) for p in rows["protocol"]]
    return rows.assign(base=[b for b, _ in split], rule=[r for _, r in split])


def _common_rule(rules_of: dict[str, set[str | None]]) -> tuple[str | None, list[str]]:
    """The binarisation every variant was scored with (``ratio:0.5`` first), and the other common ones."""
    common = set.intersection(*(set(r) - {None} for r in rules_of.values())) if rules_of else set()
    ordered = sorted(common, key=lambda r: (r != PRIMARY_THRESHOLD, natural_key(r)))
    return (ordered[0], ordered[1:]) if ordered else (None, [])


def scorings(rows: pd.DataFrame) -> tuple[list[Scoring], list[str]]:
    """The scorings (a), (b), (c) one base protocol's AUC rows support, and sentences on what was chosen."""
    methods = rows.groupby("variant")["method"].first()
    rules_of = {v: {r if isinstance(r, str) else None for r in g["rule"]} for v, g in rows.groupby("variant")}
    paper = {v: published_scoring(methods[v], rules_of[v]) for v in rules_of}
    out = [
        Scoring("a", "(a) paper's", paper),
        Scoring("b", "(b) raw", {v: (None if None in rules_of[v] else False) for v in rules_of}),
    ]
    common, others = _common_rule(rules_of)
    notes = []
    if common is not None:
        out.append(Scoring("c", f"(c) {common}", dict.fromkeys(rules_of, common)))
        if others:
            notes.append(f"Other rules every method was scored with (not shown): {', '.join(others)}.")
    else:
        notes.append("No binarisation rule is common to every method, so there is no (c) scoring.")
    lacking = natural_sorted(v for v, r in paper.items() if r is False and methods[v] in AUTHOR_RULES)
    if lacking:
        notes.append(f"No rows binarised by their authors' rule for {', '.join(lacking)}: (a) is missing there.")
    return out, notes


def _scored(rows: pd.DataFrame, scoring: Scoring, sequences: list[str]) -> pd.DataFrame:
    """The rows of one scoring (group column ``scoring``); variants lacking a sequence are left out."""
    parts = []
    for variant, rule in scoring.rules.items():
        if rule is False:
            continue
        sel = rows[(rows["variant"] == variant) & (rows["rule"].isna() if rule is None else rows["rule"] == rule)]
        if set(sel["sequence"]) == set(sequences):
            parts.append(sel)
    if not parts:
        return rows.iloc[:0].assign(scoring=pd.Series(dtype=object))
    return pd.concat(parts).assign(scoring=scoring.label)


def ranks(values: pd.Series, metric: str) -> pd.Series:
    """Competition ranks (1, 2, 2, 4) on the printed values; NaN where a value is missing."""
    shown = pd.Series([displayed(metric, v) for v in values], index=values.index, dtype=float)
    way = direction(metric)
    return shown.rank(method="min", ascending=way == "min")


def _rank_grid(values: pd.DataFrame, groups: list[str]) -> dict[str, pd.DataFrame]:
    """Metric -> (variant x scoring) ranks."""
    return {m: pd.DataFrame({g: ranks(values[(g, m)], m) for g in groups}, index=values.index) for m in AUC_METRICS}


def _rank_text(r: float) -> str:
    return "—" if np.isnan(r) else str(int(r))


def sensitivity_paragraph(grid: dict[str, pd.DataFrame], scoring_keys: list[str]) -> str:
    """Which rankings change between the scorings, in words (ranks given as a / b / c)."""
    keys = " / ".join(scoring_keys)
    changed, same = [], []
    for metric, table in grid.items():
        moved = [v for v in table.index if len({_rank_text(x) for x in table.loc[v]}) > 1]
        if not moved:
            same.append(metric_text(metric))
            continue
        who = ", ".join(f"{v} {' / '.join(_rank_text(x) for x in table.loc[v])}" for v in moved)
        best = [natural_sorted(table.index[table[g] == 1]) for g in table.columns]
        lead = ""
        if len({tuple(b) for b in best}) > 1:
            leaders = (f"{k}: {' = '.join(b) or '—'}" for k, b in zip(scoring_keys, best, strict=True))
            lead = f" (best: {'; '.join(leaders)})"
        changed.append(f"{metric_text(metric)}: {who}{lead}")
    if not changed:
        return f"No ranking changes between the scorings {keys}: every method keeps its rank in every AUC."
    text = f"Ranks ({keys}) change in {len(changed)} of {len(grid)} AUCs. " + ". ".join(changed) + "."
    if same:
        text += f" Unchanged: {', '.join(same)}."
    return text


def _mark_failures(status: pd.DataFrame, failed: pd.DataFrame, all_scorings: list[Scoring], base: str) -> None:
    """A failed job's cells read failed: in the scoring of its protocol, or in all where it recorded none."""
    for variant, protocol in zip(failed["variant"], failed["protocol"], strict=True):
        if variant not in status.index:
            continue
        job_base, rule = split_protocol(protocol) if protocol else (base, None)
        if job_base != base:
            continue
        for s in all_scorings:
            if not protocol or s.rules.get(variant) == rule:
                status.loc[variant, [(s.label, m) for m in AUC_METRICS]] = "failed"


def _presented(df: pd.DataFrame, pres: Presentation) -> tuple[pd.DataFrame, dict[str, tuple]]:
    """``df`` with its variants under their display labels, and each label's sort key (the paper's order)."""
    pairs = df[["variant", "method"]].drop_duplicates()
    shown = {v: pres.variant(v, m) for v, m in zip(pairs["variant"], pairs["method"], strict=True)}
    order = {shown[v]: pres.variant_rank(v, m) for v, m in zip(pairs["variant"], pairs["method"], strict=True)}
    return df.assign(variant=df["variant"].map(shown)), order


def _tables_for(
    rows: pd.DataFrame, failed: pd.DataFrame, base: str, order: dict[str, tuple], pres: Presentation
) -> list[Table]:
    all_scorings, choice_notes = scorings(rows)
    sequences = natural_sorted(set(rows["sequence"]))
    variants = sorted(set(rows["variant"]), key=lambda v: order[v])
    scored = pd.concat([_scored(rows, s, sequences) for s in all_scorings])
    groups = [s.label for s in all_scorings]
    values, status = _grid(scored, "scoring", groups, AUC_METRICS, variants)
    _mark_failures(status, failed, all_scorings, base)
    suffix = "" if base.split("@", 1)[0] == PRIMARY_PROTOCOL else "__" + re.sub(r"[^A-Za-z0-9]+", "_", base).strip("_")
    neural = ", ".join(f"{pres.method(m).display_name} by {k}:{r:g}" for m, (k, r) in AUTHOR_RULES.items())
    how = (
        f"(a): the neural methods binarised by their authors' rules ({neural}, as their public code writes "
        f"PNGs), the others raw: the seed paper's pipeline. (b): every method's raw maps. "
        + (f"(c): every method's maps binarised by {all_scorings[2].rules[variants[0]]}. " if len(groups) > 2 else "")
    )
    common = (
        f"Protocol {base}; mean over {len(sequences)} sequence(s) without added noise: {', '.join(sequences)} "
        "(a method lacking a sequence under a scoring is missing there)."
    )
    aucs = Table(
        f"sensitivity_auc3d{suffix}",
        "Protocol sensitivity: 3-D ROC AUCs scored three ways",
        values,
        status,
        notes=(how.strip(), common, *choice_notes),
    )
    grid = _rank_grid(values, groups)
    keys = [s.key for s in all_scorings]
    info = pd.DataFrame(
        {metric_text(m): [" / ".join(_rank_text(x) for x in grid[m].loc[v]) for v in variants] for m in AUC_METRICS},
        index=pd.Index(variants, name="variant"),
    )
    empty = pd.MultiIndex.from_arrays([[], []], names=["group", "metric"])
    ranked = Table(
        f"sensitivity_ranks{suffix}",
        f"Protocol sensitivity: rank of each method per AUC under {' / '.join(keys)}",
        pd.DataFrame(index=info.index, columns=empty, dtype=float),
        pd.DataFrame(index=info.index, columns=empty, dtype=object),
        info=info,
        notes=(sensitivity_paragraph(grid, keys), "Ties on the printed value share a rank."),
    )
    return [aucs, *per_scoring(aucs), ranked]


def sensitivity_tables(df: pd.DataFrame, pres: Presentation | None = None) -> list[Table]:
    """The AUC table three ways, one table per scoring and the rank table, per protocol with raw and binarised rows.

    Nothing is returned for a run whose AUCs were scored one way only.
    """
    if "variant" not in df.columns:
        df = df.assign(variant=variant_labels(df))
    pres = pres or Presentation()
    df, order = _presented(df, pres)
    rows = _auc_rows(df)
    failed = df[(df["status"] == "failed") & (df["noise"] == "none")]
    out: list[Table] = []
    for base in sorted(set(rows["base"]), key=lambda b: (b.split("@", 1)[0] != PRIMARY_PROTOCOL, b)):
        part = rows[rows["base"] == base]
        if part["rule"].isna().any() and part["rule"].notna().any():
            out += _tables_for(part, failed, base, order, pres)
    return out


def per_scoring(table: Table) -> list[Table]:
    """The AUC table split into one eight-column table per scoring (for pages too narrow for all three)."""
    out = []
    for group in dict.fromkeys(table.values.columns.get_level_values("group")):
        cols = [c for c in table.values.columns if c[0] == group]
        out.append(
            dataclasses.replace(
                table,
                key=f"{table.key}_{group.split(')', 1)[0].strip('(')}",
                title=f"{table.title}: {group}",
                values=table.values[cols].rename(columns={group: ""}, level="group"),
                status=table.status[cols].rename(columns={group: ""}, level="group"),
            )
        )
    return out
