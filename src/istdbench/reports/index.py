"""The report's index page (Markdown): every table and figure, the protocols, configs and environment.

Like the tables, the page is a pure function of its inputs (no dates), so a
regenerated report differs only where the results do.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from istdbench.core.errors import IstdbenchError
from istdbench.core.runfolder import JOBS_DIR, RESULTS, RUN_INFO
from istdbench.core.sorting import natural_sorted
from istdbench.metrics.protocols import get_protocol

from .render_markdown import render_markdown
from .results import noise_order
from .tables import Table

ENV_COLUMNS = ("istdbench_version", "git_commit", "python", "numpy", "torch", "cpu", "gpu", "threads")


@dataclass
class IndexInputs:
    """What the index lists; paths are relative to the report folder."""

    results: pd.DataFrame
    tables: list[Table]
    table_files: dict[str, list[str]]
    figures: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
    run_info: dict[str, Any] | None = None
    skipped: list[str] = field(default_factory=list)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: Any = None  # a `RunState`: how complete the run is (None: unknown)
    threads: int | None = None  # the report's thread limit
    results_link: str = "../results.csv"  # the results table, relative to the report folder


def _md(text: Any) -> str:
    return str(text).replace("|", r"\|").replace("\n", " ")


def _links(paths: list[str]) -> str:
    return " · ".join(f"[{Path(p).suffix.lstrip('.').upper()}]({p})" for p in paths)


def _run_config(run_info: dict[str, Any] | None) -> dict[str, Any]:
    config = (run_info or {}).get("config")
    return config if isinstance(config, dict) else {}


def _summary(
    df: pd.DataFrame,
    run_info: dict[str, Any] | None,
    state: Any = None,
    threads: int | None = None,
    link: str = "../results.csv",
) -> list[str]:
    jobs = df.drop_duplicates("job_key")
    failed = int((jobs["status"] == "failed").sum())
    name = _run_config(run_info).get("name")
    source = f"Built from [`results.csv`]({link}){f' of run config `{name}`' if name else ''}"
    if state is not None:
        jobs_dir = link.removesuffix(RESULTS) + JOBS_DIR
        source = f"Built from the job folders ([`jobs/`]({jobs_dir})) of run config `{state.config}`"
    if jobs.empty:
        summary = f"{source}, which holds no jobs."
    else:
        summary = (
            f"{source}: {len(jobs)} job(s), {failed} failed; {jobs['variant'].nunique()} method variant(s), "
            f"{jobs['sequence'].nunique()} sequence(s), noise settings {', '.join(noise_order(set(jobs['noise'])))}."
        )
    lines = ["# istdbench report", "", summary, ""]
    if state is not None and not state.complete:
        text = _md(state.describe())
        lines += [f"**Incomplete results.** {text[0].upper()}{text[1:]}.", ""]
    if threads is not None:
        lines += [f"Report built with {threads} thread(s).", ""]
    if run_info is not None:
        run_json = link.removesuffix(RESULTS) + RUN_INFO
        lines += [f"The resolved run configuration and job list are in [`run.json`]({run_json}).", ""]
    return lines


def _grid_description(run_info: dict[str, Any] | None) -> list[str]:
    """The run config's grid in words: sequence blocks, seeds, protocols, threshold, device."""
    config = _run_config(run_info)
    if not config:
        return []
    lines = ["## Run configuration", ""]
    if config.get("description"):
        lines += [_md(config["description"]), ""]
    for key in ("seeds", "protocols", "threshold", "device"):
        if key in config:
            value = config[key]
            lines.append(f"- {key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")
    for block in config.get("sequences") or []:
        if isinstance(block, dict):
            frames = block.get("frames")
            span = f"frames {frames[0]}-{frames[1]}" if isinstance(frames, list) and len(frames) == 2 else "all frames"
            refs = ", ".join(f"`{r}`" for r in block.get("refs", []))
            lines.append(f"- sequences {refs} ({span}); noise {', '.join(block.get('noise', []))}")
    return [*lines, ""]


def _protocol_rules(recorded: str) -> str:
    """The rules of a recorded ``name[:options]@version`` protocol, as the metrics layer defines them."""
    try:
        rules = dataclasses.asdict(get_protocol(recorded.rpartition("@")[0] or recorded))
    except IstdbenchError:
        return " (not a protocol of this suite version)"
    rules.pop("name", None)
    return ": " + ", ".join(f"{k}={v}" for k, v in rules.items())


def _protocols(df: pd.DataFrame) -> list[str]:
    ok = df[df["status"] == "ok"]
    lines = ["## Protocols", ""]
    for protocol in natural_sorted(set(ok["protocol"]) - {""}):
        lines.append(f"- 3-D ROC protocol `{protocol}`{_protocol_rules(protocol)}.")
    for threshold in natural_sorted(set(ok["threshold"]) - {""}):
        lines.append(f"- Threshold for IoU, F1, Pd and Fa: `{threshold}`.")
    lines += [
        "- Per sequence, values are averaged over seeds; averages over sequences weight each sequence equally.",
        "- A cell with a failed job shows *failed*; a missing value shows —.",
        "",
    ]
    return lines


def _configs(df: pd.DataFrame, configs: dict[str, dict[str, Any]]) -> list[str]:
    rows = df.drop_duplicates(["variant", "method", "preset", "config_hash"])
    lines = [
        "## Methods and configurations",
        "",
        "| Label | Method | Preset | Config hash | Resolved parameters |",
        "|:--|:--|:--|:--|:--|",
    ]
    for r in rows.sort_values(["variant", "config_hash"]).itertuples():
        params = ", ".join(f"{k}={v}" for k, v in sorted(configs.get(r.variant, {}).items())) or "—"
        lines.append(f"| {_md(r.variant)} | {_md(r.method)} | {_md(r.preset)} | `{r.config_hash}` | {_md(params)} |")
    return [*lines, ""]


def _environment(df: pd.DataFrame) -> list[str]:
    lines = ["## Environment", "", "| Field | Value(s) |", "|:--|:--|"]
    for col in ENV_COLUMNS:
        values = natural_sorted({str(v) for v in df[col] if not pd.isna(v) and str(v) != ""})
        lines.append(f"| {col} | {_md(', '.join(values)) or '—'} |")
    devices = natural_sorted(set(df["device"]) - {""})
    lines.append(f"| device | {_md(', '.join(devices)) or '—'} |")
    return [*lines, ""]


def _failures(df: pd.DataFrame) -> list[str]:
    failed = df[df["status"] == "failed"].drop_duplicates("job_key")
    if failed.empty:
        return []
    lines = ["## Failed jobs", "", "| Method | Sequence | Noise | Seed | Error |", "|:--|:--|:--|--:|:--|"]
    for r in failed.sort_values(["variant", "sequence", "noise", "seed"]).itertuples():
        lines.append(f"| {_md(r.variant)} | {_md(r.sequence)} | {_md(r.noise)} | {r.seed} | {_md(r.error)} |")
    return [*lines, ""]


def render_index(inputs: IndexInputs) -> str:
    """The Markdown index page."""
    df = inputs.results
    lines = _summary(df, inputs.run_info, inputs.state, inputs.threads, inputs.results_link)
    lines += _protocols(df) + _grid_description(inputs.run_info)
    lines += ["## Tables", ""]
    for table in inputs.tables:
        files = inputs.table_files.get(table.key, [])
        section = render_markdown(table, heading_level=3).rstrip("\n").split("\n")
        lines += [section[0], "", f"Files: {_links(files)}" if files else "", *section[1:], ""]
    if inputs.figures:
        lines += ["## Figures", ""]
        for heading, items in inputs.figures.items():
            lines += [f"### {heading}", ""]
            for caption, paths in items:
                png = next((p for p in paths if p.endswith(".png")), None)
                lines += [f"**{_md(caption)}** — {_links(paths)}", ""]
                lines += [f"![{_md(caption)}]({png})", ""] if png else []
    if inputs.skipped:
        lines += ["## Left out", "", *(f"- {_md(s)}" for s in inputs.skipped), ""]
    lines += _configs(df, inputs.configs) + _environment(df) + _failures(df)
    return "\n".join(lines).rstrip("\n") + "\n"
