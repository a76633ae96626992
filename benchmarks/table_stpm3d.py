"""Rebuild README's 3DSTPM real-data table from the committed result CSVs.

The README quotes 3DSTPM beside NeurSTT ``paper`` and STT on every daub clip
3DSTPM has finished; this prints that table (ODP / SNPR / AUC(tau,TPR) /
AUC(tau,FPR), mean row over the same clips), the AUC(FPR,TPR) of each clip,
the ODP at each checkpoint and 3DSTPM's row of the table of means, so the
numbers there come from the rows and not from hand copying.

Run::

    python benchmarks/table_stpm3d.py            # Markdown to stdout
"""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

RESULTS = Path(__file__).parent / "results"
CELL = ("AUC_ODP", "AUC_SNPR", "AUC_tau_TPR", "AUC_tau_FPR")
DEFAULT_LABEL = "3DSTPM `paper`"
DAUB_CLIPS = 8
MEANS = ("AUC_FPR_TPR", "AUC_tau_TPR", "AUC_tau_FPR", "AUC_ODP", "AUC_SNPR")


def cell(row: pd.Series) -> str:
    """ODP / SNPR / AUC(tau,TPR) / AUC(tau,FPR), rounded as the README prints them."""
    odp, snpr, tpr, fpr = (float(row[k]) for k in CELL)
    return f"{odp:.3f} / {snpr:.1f} / {tpr:.3f} / {fpr:.4f}"


def load(stpm3d_csv: Path, others_csv: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """3DSTPM's final rows, its checkpoint rows, and the NeurSTT `paper` / STT rows, all keyed by short clip name."""
    rows = pd.read_csv(stpm3d_csv)
    rows["clip"] = rows["clip"].str.removeprefix("daub/")
    final = rows[rows["final"]].drop_duplicates("clip", keep="last").set_index("clip").sort_index()
    if final.empty:
        raise click.ClickException(f"{stpm3d_csv} has no final 3DSTPM rows")
    checkpoints = rows[~rows["final"]]
    others = pd.read_csv(others_csv)
    baselines = {
        "NeurSTT `paper`": others[(others["method"] == "neurstt") & (others["preset"] == "paper")],
        "STT `tensoristd`": others[(others["method"] == "stt") & (others["preset"] == "tensoristd")],
    }
    for label, frame in baselines.items():
        missing = sorted(set(final.index) - set(frame["clip"]))
        if missing:
            raise click.ClickException(f"{others_csv} lacks {label} rows for {', '.join(missing)}")
        baselines[label] = frame.set_index("clip").loc[final.index]
    return final, checkpoints, baselines


def markdown(
    final: pd.DataFrame, checkpoints: pd.DataFrame, baselines: dict[str, pd.DataFrame], label: str = DEFAULT_LABEL
) -> str:
    """The table, the AUC(FPR,TPR) line and the checkpoint ODP line, as README carries them.

    The mean row needs two clips or more; 3DSTPM's row of the table of means
    over the eight clips is printed only when all eight have finished.
    """
    header = ["clip", label, *baselines]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for clip in final.index:
        cells = [cell(final.loc[clip]), *(cell(frame.loc[clip]) for frame in baselines.values())]
        lines.append(f"| {clip} | " + " | ".join(cells) + " |")
    if len(final) > 1:
        means = [cell(final[list(CELL)].mean()), *(cell(frame[list(CELL)].mean()) for frame in baselines.values())]
        lines.append(f"| mean of the {len(final)} | " + " | ".join(means) + " |")
    auc = " / ".join(f"{v:.4f}" for v in final["AUC_FPR_TPR"])
    lines += ["", f"AUC(FPR,TPR) of {label} ({', '.join(final.index)}): {auc}."]
    marks = sorted(checkpoints["iterations"].unique())
    odp = []
    for clip in final.index:
        at = checkpoints[checkpoints["clip"] == clip].drop_duplicates("iterations", keep="last")
        at = at.set_index("iterations")["AUC_ODP"].reindex(marks)
        odp.append(" / ".join(f"{v:.3f}" for v in [*at, final.loc[clip, "AUC_ODP"]]) + f" on {clip}")
    iterations = " / ".join(str(int(m)) for m in [*marks, final["iterations"].iloc[0]])
    lines += ["", f"ODP after {iterations} iterations: " + ",\n".join(odp) + "."]
    if len(final) == DAUB_CLIPS:
        lines += ["", means_row(final, label)]
    return "\n".join(lines)


def means_row(final: pd.DataFrame, label: str) -> str:
    """3DSTPM's row of README's table of means over the clips, in that table's columns and rounding."""
    m = final[list(MEANS)].mean()
    return (
        f"| {label} | {m['AUC_FPR_TPR']:.4f} | {m['AUC_tau_TPR']:.4f} | {m['AUC_tau_FPR']:.5f} "
        f"| {m['AUC_ODP']:.4f} | {m['AUC_SNPR']:.2f} |"
    )


@click.command()
@click.option("--stpm3d", type=click.Path(exists=True, path_type=Path), default=RESULTS / "quality_daub_stpm3d.csv")
@click.option(
    "--others", type=click.Path(exists=True, path_type=Path), default=RESULTS / "quality_daub_neurstt_stt.csv"
)
@click.option("--label", default=DEFAULT_LABEL, show_default=True, help="3DSTPM's column name, e.g. for an lr run.")
def main(stpm3d: Path, others: Path, label: str) -> None:
    click.echo(markdown(*load(stpm3d, others), label=label))


if __name__ == "__main__":
    main()
