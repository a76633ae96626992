"""Speed of the image-set path on SIRST: load the 427 images and masks, score one method's maps with basicirstd.

The target (issue 14) is under 2 s for loading the whole SIRST set and scoring
one method's maps under ``basicirstd@1`` on this machine. The maps are the
top-hat's (computed once, not timed); each step is the best of ``--repeat``
runs, and wall and CPU (process) time are both printed, because on a shared
machine wall time mostly measures the other processes (the load average is
printed too). The 3-D ROC of the same maps and reading the maps file are timed
for reference.

Example::

    OMP_NUM_THREADS=1 python benchmarks/bench_imagesets.py --data-root ../shared/data --repeat 3
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from threadpoolctl import threadpool_limits

from istdbench.core.io import load_image_set_maps, save_image_set_detection
from istdbench.core.registry import create_method
from istdbench.datasets.catalog import load_image_set
from istdbench.metrics.basicirstd import basicirstd
from istdbench.metrics.roc3d import roc3d


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Shortest wall and shortest CPU time of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("ISTDBENCH_DATA", "../shared/data"))
    parser.add_argument("--set", default="sirst")
    parser.add_argument("--split", default=None, help="default: the whole set")
    parser.add_argument("--method", default="tophat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    with threadpool_limits(args.threads):
        images = load_image_set(args.set, args.data_root, args.split)
        det = create_method(args.method).detect(images)
        maps = det.maps()
        rows = [
            ("load", best_of(lambda: load_image_set(args.set, args.data_root, args.split), args.repeat)),
            ("basicirstd", best_of(lambda: basicirstd(maps, images), args.repeat)),
            (
                "load + basicirstd",
                best_of(lambda: basicirstd(maps, load_image_set(args.set, args.data_root, args.split)), args.repeat),
            ),
            ("roc3d tensoristd", best_of(lambda: roc3d(maps, images, "tensoristd"), args.repeat)),
        ]
        with tempfile.TemporaryDirectory() as tmp:
            path = save_image_set_detection(Path(tmp) / "maps.npz", det, images)
            rows.append(("read maps file", best_of(lambda: load_image_set_maps(path), args.repeat)))
    load1, load5, _ = os.getloadavg()
    print(
        f"{images.label}: {len(images)} images, {images.n_pixels / 1e6:.1f} Mpx; {args.method} maps; best of "
        f"{args.repeat}; {args.threads} thread(s); load average {load1:.1f} (1 min) {load5:.1f} (5 min), "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'step':<20} {'wall s':>8} {'cpu s':>8}")
    for name, (wall, cpu) in rows:
        print(f"{name:<20} {wall:8.3f} {cpu:8.3f}")
    s = basicirstd(maps, images).metrics
    print("basicirstd@1 minmax:0.5: " + ", ".join(f"{k} {v:.4g}" for k, v in s.items()))


if __name__ == "__main__":
    main()
