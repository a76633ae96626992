r"""Compile report tables and figures into a two-column test paper and report every overfull box.

A table or figure "goes into a paper unchanged" only if it compiles in a
journal's layout without running into the margin. This module wraps the
report's ``.tex`` tables and PDF figures into a ``\documentclass[twocolumn]{article}``
document with the figure widths of IEEE's author guide (column 3.5 in, text
7.16 in; IEEEtran's own are 252 and 516 pt, 0.3% less, which `texwidth`'s
10% margin covers), runs ``pdflatex`` and reads ``Overfull \hbox`` warnings
from the log.

Command line (exit 1 on overfull boxes beyond the tolerance, 2 when it cannot run)::

    python -m istdbench.reports.texcheck OUT/report [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from istdbench.core.errors import IstdbenchError

TOLERANCE_PT = 1.0
TEX_PACKAGES = ("texlive-latex-base", "texlive-latex-recommended")
PREAMBLE = r"""\documentclass[twocolumn,10pt]{article}
\usepackage[letterpaper,textwidth=7.16in,columnsep=0.16in,textheight=9.25in]{geometry}
\usepackage{booktabs}
\usepackage{graphicx}
\usepackage{amsmath}
\begin{document}
"""
_OVERFULL = re.compile(r"Overfull \\[hv]box \(([0-9.]+)pt too (?:wide|high)\)(.*)")


class TexError(IstdbenchError):
    """pdflatex is missing or the document did not compile."""


@dataclass(frozen=True)
class Overfull:
    """One overfull box: how far it runs over (pt) and where, as the log says."""

    points: float
    where: str


@dataclass(frozen=True)
class CheckResult:
    """What one compilation found: the PDF, every overfull box and the log."""

    pdf: Path
    overfull: tuple[Overfull, ...]
    log: str

    def too_wide(self, tolerance: float = TOLERANCE_PT) -> list[Overfull]:
        return [o for o in self.overfull if o.points > tolerance]


def pdflatex() -> str | None:
    """Path of pdflatex, or None where it is not installed."""
    return shutil.which("pdflatex")


def figure_block(pdf: Path, wide: bool, caption: str) -> str:
    r"""A ``figure`` (column width) or ``figure*`` (text width) float showing a PDF at its own size."""
    env = "figure*" if wide else "figure"
    return "\n".join(
        [
            rf"\begin{{{env}}}[t]",
            r"\centering",
            rf"\includegraphics{{{pdf.as_posix()}}}",
            rf"\caption{{{caption}}}",
            rf"\end{{{env}}}",
            "",
        ]
    )


def document(blocks: Sequence[str]) -> str:
    """The test paper around the given floats (a line of text keeps an otherwise empty page typeset)."""
    body = "\n".join([r"Test page for istdbench tables and figures.", "", *blocks, r"\clearpage"])
    return PREAMBLE + body + "\n\\end{document}\n"


def compile_blocks(blocks: Sequence[str], folder: Path, name: str = "check") -> CheckResult:
    """Write ``folder/name.tex`` from the floats and run pdflatex once (one pass settles every width)."""
    exe = pdflatex()
    if exe is None:
        raise TexError(f"pdflatex is not installed (Debian: apt-get install {' '.join(TEX_PACKAGES)}).")
    folder.mkdir(parents=True, exist_ok=True)
    tex = folder / f"{name}.tex"
    tex.write_text(document(blocks), encoding="utf-8")
    cmd = [exe, "-interaction=nonstopmode", "-halt-on-error", tex.name]
    try:
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=120, errors="replace")
    except subprocess.TimeoutExpired:
        raise TexError(f"pdflatex did not finish within 120 s on {tex}.") from None
    log_path = folder / f"{name}.log"
    log = log_path.read_text(encoding="latin-1") if log_path.is_file() else proc.stdout
    pdf = folder / f"{name}.pdf"
    if proc.returncode != 0 or not pdf.is_file():
        errors = [line for line in log.splitlines() if line.startswith("!")]
        raise TexError(f"pdflatex failed on {tex}: {errors[0] if errors else 'see ' + str(log_path)}")
    found = tuple(Overfull(float(m.group(1)), m.group(2).strip()) for m in _OVERFULL.finditer(log))
    return CheckResult(pdf, found, log)


PAPER_FIGURES = ("fig6_visual_", "fig9_roc_grid", "fig12a_", "fig12bc")
"""Stems of the figures drawn for a paper (`visual_grid`, `rocgrid`, `noise_examples`, `noisebars`); the others
are for browsing."""


def report_blocks(report: Path) -> list[str]:
    """Every ``tables/*.tex`` of a report folder, plus each paper figure's PDF in a float of its width."""
    blocks = [p.read_text(encoding="utf-8") for p in sorted((report / "tables").glob("*.tex"))]
    for pdf in sorted((report / "figures").glob("*.pdf")):
        if not pdf.stem.startswith(PAPER_FIGURES):
            continue
        wide = _pdf_width_pt(pdf) > 260
        blocks.append(figure_block(pdf.resolve(), wide, pdf.stem.replace("_", r"\_")))
    return blocks


def _pdf_width_pt(pdf: Path) -> float:
    """Width of a PDF's first page in pt from its MediaBox (matplotlib writes one plainly)."""
    head = pdf.read_bytes()[:200_000]
    m = re.search(rb"/MediaBox\s*\[\s*([-0-9.]+)\s+([-0-9.]+)\s+([-0-9.]+)\s+([-0-9.]+)\s*\]", head)
    return float(m.group(3)) - float(m.group(1)) if m else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m istdbench.reports.texcheck", description=__doc__.split("\n")[0])
    parser.add_argument("report", type=Path, help="a report folder (OUT/report)")
    parser.add_argument("--keep", type=Path, help="write the test paper here instead of a temporary folder")
    args = parser.parse_args(argv)
    if not (args.report / "tables").is_dir():
        print(f"error: {args.report} has no tables/ folder; run `istdbench report OUT` first.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        try:
            result = compile_blocks(report_blocks(args.report), folder)
        except TexError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        bad = result.too_wide()
        for o in result.overfull:
            print(f"overfull by {o.points:.2f} pt {o.where}")
        where = result.pdf if args.keep else "(temporary)"
        print(f"{len(bad)} overfull box(es) beyond {TOLERANCE_PT} pt; PDF: {where}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
