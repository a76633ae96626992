"""Speed of the metrics on a 100-frame 256x256 sequence: the whole 3-D ROC curve, and a full `evaluate`.

The target (issue 3) is under 1 s for the 101-threshold curve of a 100-frame
256x256 sequence on a 2-core machine. The maps are synthetic float64 noise
with a bright target at each annotated point (one per frame), so every
threshold has work to do; the timing is the best of ``--repeat`` runs.

Example::

    OMP_NUM_THREADS=2 python benchmarks/bench_metrics.py --frames 100 --size 256 --repeat 5
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from istdbench.core.types import Sequence
from istdbench.metrics.evaluate import evaluate
from istdbench.metrics.roc3d import roc3d


def make_case(t: int, size: int, seed: int = 0) -> tuple[np.ndarray, Sequence]:
    """Float64 maps and a point-annotated sequence of ``t`` frames of ``size`` x ``size`` pixels."""
    rng = np.random.default_rng(seed)
    maps = rng.random((t, size, size)) ** 4
    rows = rng.integers(8, size - 8, t)
    cols = rng.integers(8, size - 8, t)
    maps[np.arange(t), rows, cols] += 1.0
    frames = rng.random((t, size, size)).astype(np.float32)
    points = [np.array([[r, c]], dtype=np.float64) for r, c in zip(rows, cols, strict=True)]
    return maps, Sequence(frames=frames, name="bench", points=points)


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Shortest wall time of ``repeat`` calls (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    maps, seq = make_case(args.frames, args.size)
    rows = []
    with threadpool_limits(args.threads):
        for protocol in ("tensoristd", "clean", "clean:norm=sequence"):
            rows.append((f"roc3d {protocol}", best_of(lambda p=protocol: roc3d(maps, seq, p), args.repeat)))
        rows.append(("evaluate tensoristd ratio:0.5", best_of(lambda: evaluate(maps, seq), args.repeat)))
    print(f"{args.frames} frames of {args.size}x{args.size}, best of {args.repeat}, {args.threads} threads")
    for name, seconds in rows:
        print(f"{name:<32} {seconds:8.3f} s")


if __name__ == "__main__":
    main()
