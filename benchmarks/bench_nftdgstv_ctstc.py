"""Speed of the NFTDGSTV and CTSTC ports against the Octave runs of the authors' code, with their agreement.

Runs each port on daub/sequence1 as its reference was computed (NFTDGSTV frames
1-18 with Octave's random start, CTSTC frames 1-20 replaying Octave's k-means
starts), on one thread unless told otherwise, and prints a table: our seconds
per frame (best of ``--repeat``), Octave's (``time_per_frame_s`` of the fixture
in tests/fixtures/reference), the ratio, and the agreement with the stored
reference maps (lowest per-frame correlation and argmax matches). The Octave
times are wall times on a shared, loaded machine; ours are the wall time and,
in brackets, the CPU time of this process.

    OMP_NUM_THREADS=1 python benchmarks/bench_nftdgstv_ctstc.py --repeat 1
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from istdbench.datasets.catalog import load_sequence
from istdbench.methods._numerics import snap_to_8bit
from istdbench.methods.ctstc import CTSTC, CTSTCConfig, ctstc
from istdbench.methods.nftdgstv import NFTDGSTV, NFTDGSTVConfig, nftdgstv

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "reference"
SHARED = Path(os.environ.get("ISTDBENCH_SHARED", REPO.parent / "shared"))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def bench_nftdgstv(frames: np.ndarray, repeat: int) -> tuple[float, float, str]:
    """Wall and CPU seconds per frame on frames 1-18 and the agreement with Octave's maps."""
    with np.load(FIXTURES / "nftdgstv_sequence1.npz") as z:
        ref = {k: z[k] for k in z.files}
    u = [np.full((n, n), c / n) for n, c in zip((256, 256, 3), ref["u0_norm"], strict=True)]
    start = (u, [ref["v0_rows"], ref["v0_rows"], ref["v0_time"]])
    cfg = NFTDGSTV.presets["original"]
    assert isinstance(cfg, NFTDGSTVConfig)
    x = snap_to_8bit(frames[:18])
    best = cpu = np.inf
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        res = nftdgstv(x, cfg, start)
        best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    flat = res.target.reshape(18, -1)
    same = int((flat.argmax(axis=1) == ref["top_index"][:, 0]).sum())
    corr = min(_corr(res.target[t], ref["target"][t]) for t in range(3))
    return best / 18, cpu / 18, f"argmax {same}/18 frames; corr >= {corr:.4f} (frames 1-3); iterations {res.iterations}"


def bench_ctstc(frames: np.ndarray, repeat: int) -> tuple[float, float, str]:
    """Wall and CPU seconds per frame on frames 1-20 and the agreement with Octave's maps."""
    with np.load(FIXTURES / "ctstc_sequence1.npz") as z:
        ref, has_map, starts = z["target"], z["has_map"], z["kmeans_starts"]
    cfg = CTSTC.presets["original"]
    assert isinstance(cfg, CTSTCConfig)
    x = snap_to_8bit(frames[:20])
    best = cpu = np.inf
    for _ in range(repeat):
        replay = iter(starts)
        t0, c0 = time.perf_counter(), time.process_time()
        res = ctstc(x, cfg, draw=lambda n, k, it=replay: next(it))
        best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    worst = 0.0
    for t in np.flatnonzero(has_map):
        scale = max(float(np.abs(ref[t]).max()), 1e-300)
        worst = max(worst, float(np.abs(res.target[t] - ref[t]).max()) / scale if ref[t].any() else res.target[t].max())
    return best / 20, cpu / 20, f"max |diff| / max ref {worst:.1e} over 19 frames (15 all-zero)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per method; the best counts")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--data-root", type=Path, default=SHARED / "data")
    args = parser.parse_args()
    seq = load_sequence("daub/sequence1", args.data_root, (1, 20))
    rows = []
    with threadpool_limits(limits=args.threads):
        for name, fn, fixture in (
            ("NFTDGSTV", bench_nftdgstv, "nftdgstv"),
            ("CTSTC", bench_ctstc, "ctstc"),
        ):
            ours, cpu, agreement = fn(seq.frames, args.repeat)
            octave = float(np.load(FIXTURES / f"{fixture}_sequence1.npz")["time_per_frame_s"])
            rows.append((name, ours, cpu, octave, agreement))
    print("| method | preset | ours s/frame (CPU s) | Octave s/frame | speed-up | agreement |")
    print("|---|---|---:|---:|---:|---|")
    for name, ours, cpu, octave, agreement in rows:
        print(f"| {name} | original | {ours:.2f} ({cpu:.2f}) | {octave:.2f} | {octave / ours:.1f}x | {agreement} |")


if __name__ == "__main__":
    main()
