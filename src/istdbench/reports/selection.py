"""Which figures a report draws: the run config's ``[report]`` section, then the command-line flags.

A run of a thousand sequences cannot show a thousand 3-D ROC figures usefully,
and drawing them would take most of the report's time. So per-sequence figures
are a choice: ``"all"``, ``"none"``, or names of sequences or groups (the part
of a sequence name before ``/``, e.g. ``daub``), with shell wildcards. By
default each group's first ``max_figures`` sequences (natural order) are drawn,
plus one summary figure per group whose sequences are not all drawn, and the
index says what was left out and how to get it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from istdbench.core.errors import InvalidParameterError
from istdbench.core.runfolder import RUN_INFO
from istdbench.runners.config import ReportSpec, report_spec

Choice = str | tuple[str, ...] | None


@dataclass(frozen=True)
class FigureChoice:
    """The sequences and groups a report draws figures for, and sentences on what it leaves out."""

    roc: tuple[str, ...]
    visual: tuple[str, ...]
    summary: tuple[str, ...]
    left_out: tuple[str, ...] = ()


def group_of(sequence: str) -> str:
    """The group of a sequence: its dataset, the part of the name before ``/``."""
    return sequence.split("/", 1)[0]


def resolve_spec(
    run_info: dict[str, Any] | None,
    roc: Choice = None,
    visual: Choice = None,
    max_figures: int | None = None,
    summary: bool | None = None,
) -> ReportSpec:
    """The run config's ``[report]`` section (as recorded in ``run.json``) with the given flags put over it."""
    config = (run_info or {}).get("config")
    recorded = config.get("report") if isinstance(config, dict) else None
    spec = report_spec(recorded, RUN_INFO) if recorded is not None else ReportSpec()
    given = {"roc": _flag(roc), "visual": _flag(visual), "max_figures": max_figures, "summary": summary}
    given = {k: v for k, v in given.items() if v is not None}
    flags = report_spec(given, "the command line")
    return replace(spec, **{k: getattr(flags, k) for k in given})


def _flag(value: Choice) -> Choice:
    """``--roc all`` arrives as ``("all",)``: the keyword, not a sequence name."""
    if isinstance(value, tuple | list) and len(value) == 1 and value[0] in ("all", "none"):
        return value[0]
    return tuple(value) if isinstance(value, list) else value


def _pick(choice: Choice, sequences: list[str], max_figures: int, label: str) -> list[str]:
    if choice == "all":
        return list(sequences)
    if choice == "none":
        return []
    if choice is None:
        counts: dict[str, int] = {}
        picked = []
        for s in sequences:
            g = group_of(s)
            if counts.get(g, 0) < max_figures:
                picked.append(s)
                counts[g] = counts.get(g, 0) + 1
        return picked
    chosen: set[str] = set()
    for name in choice:
        hits = _matching(name, sequences)
        if not hits:
            raise _no_match(name, sequences, label)
        chosen.update(hits)
    return [s for s in sequences if s in chosen]


def _matching(name: str, sequences: list[str]) -> list[str]:
    """Sequences named by ``name``: itself, its group, a wildcard pattern, or a ``group:spec`` reference."""
    patterns = {name, name.replace(":", "/", 1)}
    return [s for s in sequences if any(fnmatchcase(s, p) or fnmatchcase(group_of(s), p) for p in patterns)]


def _no_match(name: str, sequences: list[str], label: str) -> InvalidParameterError:
    groups = sorted({group_of(s) for s in sequences})
    close = difflib.get_close_matches(name, [*groups, *sequences], n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    examples = ", ".join(sequences[:3]) + (", ..." if len(sequences) > 3 else "")
    return InvalidParameterError(
        f"{label} names {name!r}, which matches no sequence or group of this run.{hint} "
        f"Groups: {', '.join(groups) or '(none)'}; sequences: {examples or '(none)'}."
    )


def choose_figures(spec: ReportSpec, sequences: list[str]) -> FigureChoice:
    """Apply ``spec`` to the run's sequences (in report order): what to draw and what is left out."""
    roc = _pick(spec.roc, sequences, spec.max_figures, "The ROC figure selection (--roc or report.roc)")
    visual = _pick(spec.visual, sequences, spec.max_figures, "The visual grid selection (--visual or report.visual)")
    groups = list(dict.fromkeys(group_of(s) for s in sequences))
    size = {g: sum(group_of(s) == g for s in sequences) for g in groups}
    drawn = {g: sum(group_of(s) == g for s in roc) for g in groups}
    if spec.summary is None:
        summary = [g for g in groups if size[g] > 1 and drawn[g] < size[g]]
    else:
        summary = [g for g in groups if size[g] > 1] if spec.summary else []
    left_out = []
    default = f"by default each group's first {spec.max_figures} sequence(s) in natural order"
    for what, picked, choice, flag in (
        ("3-D ROC figures", roc, spec.roc, "--roc"),
        ("Visual-grid rows", visual, spec.visual, "--visual"),
    ):
        missing = len(sequences) - len(picked)
        if missing:
            per_group = ", ".join(f"{g}: {size[g] - sum(group_of(s) == g for s in picked)}" for g in groups)
            why = default if choice is None else "not selected"
            left_out.append(
                f"{what} of {missing} of {len(sequences)} sequence(s) are not drawn ({why}; {per_group}). "
                f"`istdbench report OUT {flag} all` draws every one; `{flag} NAME` (repeatable) or the run config's "
                f"[report] section names sequences or groups (docs/report-figures.md)."
            )
    return FigureChoice(tuple(roc), tuple(visual), tuple(summary), tuple(left_out))
