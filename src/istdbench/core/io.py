"""Saving detections: one ``.npz`` per run, written atomically.

The file holds ``target`` (T,H,W float32, raw), ``background`` when the model
has one, ``frames`` (1-based frame numbers of the source) and ``meta`` (a JSON
string: method, preset, config, runtime, device, versions), so a map can be
evaluated later without re-running the method.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError
from .types import Detection, Sequence


def versions() -> dict[str, str]:
    """Versions of the packages that decide the numbers."""
    import scipy
    import torch

    from istdbench import __version__

    return {
        "istdbench": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
    }


def atomic_write_bytes(path: Path, write: Any) -> None:
    """Call ``write(fileobj)`` on a temp file beside ``path``, then rename it into place.

    A crash or kill mid-write leaves the old file (or none), never a partial one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_detection(path: str | Path, det: Detection, seq: Sequence, preset: str | None = None) -> Path:
    """Write a detection and its metadata to ``path`` (``.npz``)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    meta = {
        "method": det.method,
        "preset": preset,
        "config": det.config,
        "runtime_s": det.runtime_s,
        "seconds_per_frame": det.seconds_per_frame,
        "device": det.device,
        "n_params": det.n_params,
        "sequence": seq.name,
        "source": seq.provenance.source,
        "noise": seq.provenance.noise,
        "data_hash": seq.provenance.data_hash,
        "versions": versions(),
    }
    arrays: dict[str, np.ndarray] = {
        "target": det.target,
        "frames": np.asarray(seq.provenance.frame_numbers, dtype=np.int64),
        "meta": np.asarray(json.dumps(meta, default=str)),
    }
    if det.background is not None:
        arrays["background"] = det.background
    loss = det.diagnostics.get("chunks")
    if loss:
        arrays["diagnostics"] = np.asarray(json.dumps(det.diagnostics, default=str))
    atomic_write_bytes(path, lambda fh: np.savez_compressed(fh, **arrays))
    return path


def load_maps(path: str | Path) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    """Read ``target``, ``frames`` and ``meta`` back from a detection file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"maps file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            if "target" not in z:
                raise DataError(f"{path} holds no 'target' array (keys: {sorted(z.files)}).")
            target = z["target"]
            frames = z["frames"] if "frames" in z else None
            meta = json.loads(str(z["meta"])) if "meta" in z else {}
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read maps file {path}: {exc}") from None
    return target, frames, meta
