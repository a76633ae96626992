"""Replication report: each number the seed paper published beside ours for the same method, metric and protocol.

For every variant of a run that the paper's tables name (Tables 8-11: by
method, for variants without a ``label``; Tables 3-7: by the ``label`` of the
``ablation-*`` configs), one row per published number: the number as printed
(`paper_numbers`), ours from the run, the difference, and what each is
computed over. Ours is scored the way the paper scored that method: 3-D ROC
protocol ``tensoristd`` (the toolbox the paper used), NeurSTT and 3DSTPM on
the binary maps of their authors' rules (`sensitivity.AUTHOR_RULES`), the
others on raw maps; IoU/F1 of the others at 0.5 of the per-frame maximum
(``ratio:0.5``, the paper's rule for the traditional methods).

The data differ, and the notes say how: the paper's nine sequences against our
clips, pixel masks against centre points, the paper's CPU+GPU against the run's
device. `SEQUENCE_MAP` would pair our clips with the paper's Seqs. 1-6 where
the paper's Table 1 identified them; it does not (see its docstring), so our
clips are compared with the paper's averages and labelled as ours.
"""

from __future__ import annotations

import pandas as pd

from istdbench.core.sorting import natural_sorted

from .formatting import AUC_METRICS, format_value
from .paper_numbers import load_paper_numbers
from .results import variant_labels
from .sensitivity import AUTHOR_RULES, metric_text, published_scoring, split_protocol
from .tables import PRIMARY_THRESHOLD, Table

PAPER_PROTOCOL = "tensoristd@1"
"""The 3-D ROC protocol of the paper's numbers (its authors' MATLAB toolbox)."""

SEQUENCE_MAP: dict[str, str] = {}
"""Our clip -> the paper's sequence (``Seq.k``), where the paper's Table 1 identifies it: none does.

Table 1 gives Seqs. 1-6 the same frame count (80) and size (256 x 256) and
describes each in words; its example images are not in the text. The eight
daub clips are all 256 x 256 with 100 frames, from the same dataset (Hui et
al. 2019), and the descriptions fit several of them (buildings in view:
sequence5-7; "large range movement": sequence5-7, whose annotated points span
23-40 px over the 100 frames, while the others' span under 10 px), so no clip
is identified with a paper sequence.
"""

PAPER_DATA = (
    "The paper's numbers are over its own nine sequences (Table 1): Seqs. 1-6, six 80-frame 256x256 scenes "
    "of the ground/air dataset of Hui et al. (its ref. [42]), and Seqs. 7-9, three 720x480 IRDST scenes "
    "(ref. [22]); ours are over the clips in 'Our data'. No clip of ours is identified with a paper sequence "
    "(Table 1 gives Seqs. 1-6 one frame count and size and describes them in words only), so ours are labelled "
    "as ours."
)
PIXEL_DATA = (
    "IoU and F1: the paper scores against pixel masks; the daub and city clips carry centre points only, so ours "
    "exist only for sequences with masks (synthetic: exact masks). Neural methods on the binary maps of their "
    "authors' rules, the others at ratio:0.5, as the paper states."
)
TIME_DATA = (
    "Times differ in kind: ours are wall seconds per frame on the run's device (column 'Our scoring'); the "
    "paper's learned methods ran in PyTorch on an Intel Xeon Platinum 8222CL CPU with an Nvidia GeForce 3090 GPU "
    "and its traditional ones in MATLAB R2021b (Section 5.1)."
)
AUC_DATA = (
    "AUCs: protocol tensoristd@1 (the toolbox the paper used) on the paper's pipeline: NeurSTT and 3DSTPM "
    "binarised by their authors' rules, the others raw (the protocol-sensitivity tables show the other scorings)."
)
PARAMS_DATA = "Parameters: at the frame size named; ours also depend on the frames per chunk (Our data)."
INFO_COLUMNS = ("Paper", "Published", "Ours", "Ours - published", "Our data", "Our scoring")


def _table_number(table: str) -> int:
    return int(table.removeprefix("table"))


def _paper() -> pd.DataFrame:
    """The published numbers, one per (table, variant, sequence, metric) (Table 3 repeats its published row)."""
    return load_paper_numbers().drop_duplicates(["table", "variant", "sequence", "metric"]).reset_index(drop=True)


def _our_data(jobs: pd.DataFrame) -> str:
    """What our number is computed over, e.g. ``4 clips (ours): daub/sequence1-4; 40 frames; 256x256``."""
    sequences = natural_sorted(set(jobs["sequence"]))
    frames = natural_sorted({str(int(n)) for n in jobs["n_frames"].dropna()})
    sizes = natural_sorted({f"{int(w)}x{int(h)}" for h, w in zip(jobs["height"], jobs["width"], strict=True)})
    named = ", ".join(sequences) if len(sequences) <= 3 else f"{sequences[0]} ... {sequences[-1]}"
    return f"{len(sequences)} sequence(s) (ours): {named}; {'/'.join(frames)} frames; {'/'.join(sizes)}"


def _mean(rows: pd.DataFrame) -> float:
    """Mean over seeds per sequence, then over sequences."""
    return float(rows.groupby("sequence")["value"].mean().mean())


def _scored_rows(rows: pd.DataFrame, method: str) -> tuple[pd.DataFrame, str] | None:
    """The rows scored as the paper scored ``method``, and the scoring in words; None if the run has none."""
    roc = rows[rows["protocol"] != ""]
    split = [split_protocol(p) for p in roc["protocol"]]
    roc = roc.assign(base=[b for b, _ in split], rule=[r for _, r in split])
    roc = roc[roc["base"] == PAPER_PROTOCOL]
    rule = published_scoring(method, {r if isinstance(r, str) else None for r in roc["rule"]})
    if rule is False:
        return None
    keep = roc["rule"].isna() if rule is None else roc["rule"] == rule
    protocol = PAPER_PROTOCOL if rule is None else f"{PAPER_PROTOCOL}+bin({rule})"
    return roc[keep], protocol


def _flag(notes: pd.Series) -> str:
    """The contradiction note of any of the averaged numbers (so the average is flagged too)."""
    return next((n for n in notes if n.startswith("as printed")), "")


def _paper_reference(paper: pd.DataFrame, sequences: set[str]) -> pd.DataFrame:
    """The published numbers to set beside a mean over our ``sequences`` (their ``sequence`` says which).

    A table with per-sequence numbers (9, 10) is compared on its Seqs. 1-6 (computed from the printed
    values) when all our clips are daub clips (256x256, the dataset of Seqs. 1-6); else on its printed average.
    """
    averages = paper[paper["sequence"].str.startswith("mean of")]
    per_seq = paper[paper["sequence"].str.fullmatch(r"Seq\.[1-6]")]
    if sequences and all(s.startswith("daub/") for s in sequences) and not per_seq.empty:
        keys = ["table", "group", "row", "variant", "metric"]
        computed = per_seq.groupby(keys, as_index=False, sort=False).agg(value=("value", "mean"), note=("note", _flag))
        return computed.assign(sequence="mean of Seqs. 1-6 (computed)")
    return averages


def _compare(df: pd.DataFrame, paper: pd.DataFrame) -> list[dict[str, object]]:
    """One dict per published number with a counterpart in the run."""
    out = []
    for (variant, label), rows in df.groupby(["variant", "label"], sort=False):
        method = rows["method"].iloc[0]
        variant = f"{method} [{label}]" if label else variant
        if label:
            mine = paper[(paper["table"].map(_table_number) <= 7) & (paper["variant"] == label)]
        else:
            mine = paper[(paper["table"].map(_table_number) >= 8) & (paper["variant"] == method)]
        if label and method not in AUTHOR_RULES:
            mine = mine.iloc[:0]
        if mine.empty:
            continue
        jobs = rows.drop_duplicates("job_key")
        scored = _scored_rows(rows, method)
        for metric, published in mine.groupby("metric", sort=False):
            if metric == "n_params":
                out += _params_rows(variant, published, jobs)
                continue
            if metric == "s_per_frame":
                source, scoring = jobs.assign(value=jobs["s_per_frame"]), ", ".join(sorted(set(jobs["device"]) - {""}))
            elif scored is None:
                continue
            else:
                source, scoring = scored
                source = source[source["metric"] == metric]
                if metric not in AUC_METRICS:
                    source = source[source["threshold"] == PRIMARY_THRESHOLD]
                    scoring = f"{scoring}, threshold {PRIMARY_THRESHOLD}"
            source = source[source["value"].notna()]
            if source.empty:
                continue
            for p in _paper_reference(published, set(source["sequence"])).itertuples():
                out.append(_row(variant, p, metric, _mean(source), _our_data(source), scoring))
    return out


def _params_rows(variant: str, published: pd.DataFrame, jobs: pd.DataFrame) -> list[dict[str, object]]:
    """Parameter counts at the paper's frame sizes (``WxH``), one row per frame count of ours."""
    out = []
    counted = jobs[jobs["n_params"].notna()]
    sizes = [f"{int(w)}x{int(h)}" for h, w in zip(counted["height"], counted["width"], strict=True)]
    counted = counted.assign(size=sizes)
    for p in published.itertuples():
        same = counted[counted["size"] == p.sequence]
        for _, group in same.groupby("n_frames", sort=True):
            value = float(group["n_params"].astype(float).median())
            out.append(_row(variant, p, "n_params", value, _our_data(group), ""))
    return out


def _row(variant: str, p, metric: str, ours: float, our_data: str, scoring: str) -> dict[str, object]:
    flagged = str(p.note).startswith("as printed")
    where = f"Table {_table_number(p.table)}, {p.row}" + (f" ({p.group})" if p.group else "") + f", {p.sequence}"
    return {
        "table": p.table,
        "variant": variant,
        "metric": metric,
        "Paper": where,
        "Published": format_value(metric, p.value) + (" *" if flagged else ""),
        "Ours": format_value(metric, ours),
        "Ours - published": format_value(metric, ours - p.value),
        "Our data": our_data,
        "Our scoring": scoring,
        "flagged": flagged,
    }


def _notes(table: str, rows: pd.DataFrame) -> tuple[str, ...]:
    metrics = set(rows["metric"])
    notes = [PAPER_DATA]
    if metrics & set(AUC_METRICS):
        notes.append(AUC_DATA)
    if metrics & {"IoU", "F1"}:
        notes.append(PIXEL_DATA)
    if "s_per_frame" in metrics:
        notes.append(TIME_DATA)
    if "n_params" in metrics:
        notes.append(PARAMS_DATA)
    if rows["Paper"].str.contains("(computed)", regex=False).any():
        notes.append("'mean of Seqs. 1-6 (computed)': the mean of the paper's printed Seq. 1-6 values.")
    if rows["flagged"].any():
        notes.append("*: a printed number its own row contradicts (the note in paper_numbers), used as printed.")
    notes.append("Differences are ours minus published, in our units (IoU and F1 as fractions).")
    return tuple(notes)


def replication_tables(df: pd.DataFrame) -> list[Table]:
    """One table per paper table with a counterpart in the run: published beside ours, with the difference."""
    if "variant" not in df.columns:
        df = df.assign(variant=variant_labels(df))
    ok = df[(df["status"] == "ok") & (df["noise"] == "none")]
    if ok.empty:
        return []
    paper = _paper()
    compared = pd.DataFrame(_compare(ok, paper))
    if compared.empty:
        return []
    order = {m: i for i, m in enumerate(dict.fromkeys(paper["metric"]))}
    tables = []
    for table, rows in sorted(compared.groupby("table"), key=lambda kv: _table_number(kv[0])):
        rows = rows.assign(_m=rows["metric"].map(order)).sort_values(["variant", "_m", "Paper"], kind="stable")
        index = [f"{v} / {metric_text(m)}" for v, m in zip(rows["variant"], rows["metric"], strict=True)]
        index = _unique(index)
        info = pd.DataFrame({c: list(rows[c]) for c in INFO_COLUMNS}, index=pd.Index(index, name="variant"))
        empty = pd.MultiIndex.from_arrays([[], []], names=["group", "metric"])
        tables.append(
            Table(
                f"replication_{table}",
                f"Replication: the seed paper's Table {_table_number(table)} beside ours",
                pd.DataFrame(index=info.index, columns=empty, dtype=float),
                pd.DataFrame(index=info.index, columns=empty, dtype=object),
                info=info,
                notes=_notes(table, rows),
                deterministic=not ({"s_per_frame"} & set(rows["metric"])),
                row_header="Ours / metric",
            )
        )
    return tables


def _unique(labels: list[str]) -> list[str]:
    """Row labels made unique by a counter (a metric compared at two sizes or frame counts)."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out
