"""One-off conversion: the rows the removed quality scripts measured, into committed runs (docs/runs/).

Before run configs could crop, checkpoint and label, the quality studies were
scripts (``quality_neurstt.py``, ``quality_stpm3d.py``, ``sweep_stpm3d_lr.py``)
that wrote CSVs of their own under ``benchmarks/results/``. Their rows took
hours of CPU; this rewrites them, unchanged in value, as the long results table
of the runner's store (``istdbench.core.schema.ROW_COLUMNS``), one committed
run per study config, so that ``istdbench report docs/runs/NAME`` builds their
tables. It reads the CSVs from git at ``SOURCE_COMMIT`` (the last commit that
had them), so it stays runnable after their removal::

    python benchmarks/convert_legacy_results.py          # rewrites docs/runs/*/results.csv

What the legacy files did not record is left empty (environment, parameter
counts, the config hash of the NeurSTT and STT rows); ``job_key`` is
``legacy-`` plus a hash of the row's identity, since these rows were never
jobs of a store. Each run folder's README says which file and commit its rows
come from.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path

import pandas as pd

from istdbench.core.schema import ROW_COLUMNS
from istdbench.metrics.roc3d import AUC_KEYS

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "docs" / "runs"
SOURCE_COMMIT = "36fa694"
LEGACY = "benchmarks/results"
SIDE = 256  # the daub clips are 256 x 256
FRAMES = 80


def legacy_csv(name: str) -> pd.DataFrame:
    """A legacy result CSV as it was at ``SOURCE_COMMIT``, plus the commit that last wrote it."""
    text = subprocess.run(
        ["git", "show", f"{SOURCE_COMMIT}:{LEGACY}/{name}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%h", SOURCE_COMMIT, "--", f"{LEGACY}/{name}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return pd.read_csv(io.StringIO(text)).assign(_commit=commit)


def lr_label(lr: float) -> str:
    """``1e-3`` style, as the study configs label their variants."""
    mantissa, exponent = f"{lr:.0e}".split("e")
    return f"lr={mantissa}e{int(exponent)}"


def long_rows(row: dict, metrics: tuple[str, ...], **fields) -> list[dict]:
    """One store row per metric of a legacy wide row; ``fields`` fill the identity and context columns."""
    base = {c: "" for c in ROW_COLUMNS}
    base.update(noise="none", seed=0, protocol="tensoristd@1", threshold="ratio:0.5", status="ok", device="cpu")
    base.update(n_frames=FRAMES, height=SIDE, width=SIDE, git_commit=row["_commit"])
    base.update(fields)
    identity = "|".join(str(base[c]) for c in ("method", "preset", "label", "sequence", "checkpoint", "height"))
    base["job_key"] = "legacy-" + hashlib.sha256(identity.encode()).hexdigest()[:12]
    return [{**base, "metric": m, "value": row[m]} for m in metrics if pd.notna(row.get(m))]


def neurstt_daub() -> pd.DataFrame:
    """NeurSTT `paper` / `authors` and STT `tensoristd` on daub sequence1-8 (quality_neurstt.py)."""
    rows = []
    for row in legacy_csv("quality_daub_neurstt_stt.csv").to_dict("records"):
        runtime = float(row["runtime_s"])
        rows += long_rows(
            row,
            ("AUC_FPR_TPR", "AUC_tau_TPR", "AUC_tau_FPR", "AUC_ODP", "AUC_SNPR"),
            method=row["method"],
            preset=row["preset"],
            dataset="daub",
            sequence=f"daub/{row['clip']}",
            runtime_s=runtime,
            s_per_frame=runtime / FRAMES,
            threads=int(row["threads"]),
        )
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))


def stpm3d_rows(name: str, label: str | None = None) -> list[dict]:
    """3DSTPM rows of quality_stpm3d.py: final rows and checkpoint rows (``final`` False)."""
    rows = []
    frame = legacy_csv(name)
    finals = frame[frame["final"]].set_index("lr" if "lr" in frame else "clip")
    for row in frame.to_dict("records"):
        crop = row["clip"].partition("[")[2]
        side = SIDE if not crop else int(crop.split(",")[0].split(":")[1]) - int(crop.split(":")[0])
        lr = row.get("lr", 1e-4)
        final = finals.loc[lr if "lr" in frame else row["clip"]]
        runtime = row["runtime_s"] if row["final"] else ""
        rows += long_rows(
            row,
            AUC_KEYS,
            method="3dstpm",
            preset="paper",
            label=label or lr_label(lr),
            config_hash=final["config_hash"],
            dataset="daub",
            sequence=row["clip"],
            checkpoint="" if row["final"] else int(row["iterations"]),
            runtime_s=runtime,
            s_per_frame=runtime / FRAMES if runtime != "" else "",
            height=side,
            width=side,
        )
    return rows


def stpm3d_daub() -> pd.DataFrame:
    """3DSTPM `paper` (lr 1e-4) on daub sequence1-8, with checkpoints."""
    return pd.DataFrame(stpm3d_rows("quality_daub_stpm3d.csv", "lr=1e-4"), columns=list(ROW_COLUMNS))


def stpm3d_daub_lr1e3() -> pd.DataFrame:
    """3DSTPM `paper` at lr 1e-3 on daub/sequence1, with checkpoints."""
    return pd.DataFrame(stpm3d_rows("quality_daub_stpm3d_lr1e-3.csv"), columns=list(ROW_COLUMNS))


def stpm3d_lr_window() -> pd.DataFrame:
    """3DSTPM at lr 1e-4, 1e-3, 1e-2 on the 128 x 128 window of daub/sequence2, with checkpoints."""
    return pd.DataFrame(stpm3d_rows("lr_crop_daub_sequence2_stpm3d.csv"), columns=list(ROW_COLUMNS))


def stpm3d_lr_synthetic() -> pd.DataFrame:
    """3DSTPM at four learning rates on one synthetic 128 x 128 x 80 ground clip (sweep_stpm3d_lr.py)."""
    rows = []
    for row in legacy_csv("lr_sweep_synthetic_ground128_stpm3d.csv").to_dict("records"):
        size = int(row["size"])
        rows += long_rows(
            row,
            ("AUC_ODP", "AUC_SNPR", "AUC_tau_TPR", "AUC_tau_FPR"),
            method="3dstpm",
            preset="paper",
            label=lr_label(row["lr"]),
            dataset="synthetic",
            sequence=f"synthetic/h={size},w={size},t={int(row['frames'])},seed={int(row['clip_seed'])},"
            f"clutter={row['clutter']}",
            runtime_s=row["seconds"],
            s_per_frame=row["seconds"] / int(row["frames"]),
            height=size,
            width=size,
        )
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))


def networks_daub() -> pd.DataFrame:
    """RPCANet and RDIAN on daub sequence1-2: already long rows of a store, missing the newer columns."""
    frame = legacy_csv("quality_daub_networks.csv")
    frame = frame.assign(dataset="daub", job_key="", label="", error="", height=SIDE, width=SIDE, seed=0)
    for col in ROW_COLUMNS:
        if col not in frame:
            frame[col] = ""
    ident = frame["method"] + "|" + frame["preset"] + "|" + frame["sequence"]
    frame["job_key"] = ["legacy-" + hashlib.sha256(t.encode()).hexdigest()[:12] for t in ident]
    return frame[list(ROW_COLUMNS)]


CONVERSIONS = {
    "study-neurstt-daub": neurstt_daub,
    "study-stpm3d-daub": stpm3d_daub,
    "study-stpm3d-daub-lr1e-3": stpm3d_daub_lr1e3,
    "study-stpm3d-lr": stpm3d_lr_window,
    "study-stpm3d-lr-synthetic": stpm3d_lr_synthetic,
    "daub-networks": networks_daub,
}


def main() -> None:
    for name, convert in CONVERSIONS.items():
        folder = RUNS / name
        folder.mkdir(parents=True, exist_ok=True)
        table = convert()
        table.to_csv(folder / "results.csv", index=False)
        print(f"{folder / 'results.csv'}: {len(table)} rows")


if __name__ == "__main__":
    main()
