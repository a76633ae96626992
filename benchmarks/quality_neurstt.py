"""NeurSTT detection quality on the real daub clips (frames 1-80), both presets, full iterations.

Runs each requested method/preset on each clip, scores the raw target map with
the ``tensoristd`` 3-D ROC protocol and prints AUC(FPR,TPR), AUC(tau,TPR),
AUC(tau,FPR), ODP and SNPR. Rows are appended to ``OUT/quality_neurstt.csv``
as each job finishes (so a long run can be read while it goes) and the maps go
to ``OUT/maps/<clip>_<method>_<preset>.npz``. Baselines (``--baseline mpcm``,
any registered method, ``--baseline stt:tensoristd`` for another preset) are scored the same way.

Example::

    nice python benchmarks/quality_neurstt.py --out /tmp/q --clips sequence1 --presets paper,authors --threads 1
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
import numpy as np
import torch
from result_rows import append_rows

from istdbench.core.config import parse_assignments
from istdbench.core.registry import create_method
from istdbench.datasets.catalog import load_sequence
from istdbench.metrics.roc3d import roc3d

log = logging.getLogger("quality_neurstt")
REPORTED = ("AUC_FPR_TPR", "AUC_tau_TPR", "AUC_tau_FPR", "AUC_ODP", "AUC_SNPR")
FIELDS = (
    "clip",
    "method",
    "preset",
    "overrides",
    "iterations",
    *REPORTED,
    "runtime_s",
    "threads",
    "device",
    "protocol",
)


def _jobs(presets: list[str], baselines: list[str]) -> list[tuple[str, str | None]]:
    """(method, preset) pairs: NeurSTT under each preset, then each baseline (``name`` or ``name:preset``)."""
    jobs: list[tuple[str, str | None]] = [("neurstt", p) for p in presets]
    for spec in baselines:
        name, _, preset = spec.partition(":")
        jobs.append((name, preset or None))
    return jobs


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option("--data-root", default="/work/shared/data", show_default=True)
@click.option("--clips", default="sequence1", show_default=True, help="Comma-separated daub clips, or 'all'.")
@click.option("--presets", default="paper,authors", show_default=True, help="NeurSTT presets to run.")
@click.option(
    "--baseline", "baselines", multiple=True, help="Baseline to score alike: a registered name, or name:preset."
)
@click.option("--frames", default="1-80", show_default=True, help="1-based inclusive frame range.")
@click.option("--threads", default=1, show_default=True, help="torch threads (1 is fastest on a busy machine).")
@click.option("--device", default="cpu", show_default=True)
@click.option("--set", "assignments", multiple=True, help="NeurSTT override key=value (smoke runs only).")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Save each NeurSTT fit every 100 steps here; the same command resumes a stopped run.",
)
def main(
    out: Path,
    data_root: str,
    clips: str,
    presets: str,
    baselines: tuple[str, ...],
    frames: str,
    threads: int,
    device: str,
    assignments: tuple[str, ...],
    state_dir: Path | None,
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(threads)
    overrides = parse_assignments(assignments)
    names = [f"sequence{i}" for i in range(1, 9)] if clips == "all" else clips.split(",")
    first, last = (int(x) for x in frames.split("-"))
    (out / "maps").mkdir(parents=True, exist_ok=True)
    table = out / "quality_neurstt.csv"
    for clip in names:
        seq = load_sequence(f"daub/{clip}", data_root, (first, last))
        for method, preset in _jobs([p for p in presets.split(",") if p], list(baselines)):
            if method == "neurstt":
                det = create_method(method, preset=preset, overrides=overrides, device=device, state_dir=state_dir)
            else:
                det = create_method(method, preset=preset)
            start = time.perf_counter()
            result = det.detect(seq)
            elapsed = time.perf_counter() - start
            roc = roc3d(result.target, seq, "tensoristd")
            label = preset or det.default_preset
            np.savez_compressed(
                out / "maps" / f"{clip}_{method}_{label}.npz",
                target=result.target,
                **({} if result.background is None else {"background": result.background}),
            )
            row = {
                "clip": clip,
                "method": method,
                "preset": label,
                "overrides": " ".join(assignments) if method == "neurstt" else "",
                "iterations": det.config.to_dict().get("iterations", ""),
                **{k: f"{roc.aucs[k]:.6g}" for k in REPORTED},
                "runtime_s": f"{elapsed:.1f}",
                "threads": threads,
                "device": result.device,
                "protocol": roc.protocol,
            }
            append_rows(table, [row], FIELDS)
            log.info("%s", "  ".join(f"{k}={v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
