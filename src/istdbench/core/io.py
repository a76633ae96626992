"""Saving detections: one ``.npz`` per run, written atomically.

The file holds ``target`` (T,H,W float32, raw), ``background`` when the model
has one, ``frames`` (1-based frame numbers of the source) and ``meta`` (a JSON
string: method, preset, config, runtime, device, versions), so a map can be
evaluated later without re-running the method.

An image set's file (`save_image_set_detection`) holds one array per image,
keyed by image name: ``target/<name>`` (H_i,W_i float32, raw) and
``background/<name>`` where the model has one, ``names`` (the set's order) and
``meta`` with ``"kind": "imageset"`` and the set's name, split and data hash.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError
from .types import Detection, ImageSet, ImageSetDetection, Sequence

NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)
"""What reading a damaged .npz raises (a truncated member ends in EOFError or a zlib error)."""


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


def current_umask() -> int:
    """The process's umask (read from /proc where it can be, which leaves it untouched for other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, write: Any) -> None:
    """Call ``write(fileobj)`` on a temp file beside ``path``, then rename it into place.

    A crash or kill mid-write leaves the old file (or none), never a partial one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600: give the file the mode open() would
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_detection(
    path: str | Path, det: Detection, seq: Sequence, preset: str | None = None, threads: int | None = None
) -> Path:
    """Write a detection and its metadata (``threads``: the thread limit it ran under) to ``path`` (``.npz``)."""
    path = npz_path(path)
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
        "threads": threads,
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


IMAGESET_KIND = "imageset"


def npz_path(path: str | Path) -> Path:
    """``path`` with the ``.npz`` suffix the savers add when it has another (or none)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    return path


def save_image_set_detection(
    path: str | Path, det: ImageSetDetection, images: ImageSet, preset: str | None = None, threads: int | None = None
) -> Path:
    """Write the per-image maps of an image-set detection and their metadata to ``path`` (``.npz``)."""
    path = npz_path(path)
    arrays = image_set_arrays(det, images, preset, threads=threads)
    atomic_write_bytes(path, lambda fh: np.savez_compressed(fh, **arrays))
    return path


def image_set_arrays(
    det: ImageSetDetection,
    images: ImageSet,
    preset: str | None = None,
    backgrounds: bool = True,
    threads: int | None = None,
) -> dict[str, np.ndarray]:
    """The arrays of an image-set maps file (the one format of ``detect -o`` and of the runner's ``maps.npz``)."""
    if det.names != images.names:
        raise DataError(f"the detection's {len(det)} images are not those of image set {images.label!r}.")
    meta = {
        "kind": IMAGESET_KIND,
        "method": det.method,
        "preset": preset,
        "config": det.config,
        "runtime_s": det.runtime_s,
        "seconds_per_image": det.seconds_per_frame,
        "device": det.device,
        "n_params": det.n_params,
        "image_set": images.name,
        "split": images.split,
        "n_images": len(images),
        "source": images.provenance.source,
        "noise": images.provenance.noise,
        "data_hash": images.provenance.data_hash,
        "threads": threads,
        "versions": versions(),
    }
    arrays: dict[str, np.ndarray] = {
        "names": np.asarray(images.names),
        "meta": np.asarray(json.dumps(meta, default=str)),
    }
    for name, target in zip(det.names, det.targets, strict=True):
        arrays[f"target/{name}"] = target
    if backgrounds and det.backgrounds is not None:
        for name, bg in zip(det.names, det.backgrounds, strict=True):
            arrays[f"background/{name}"] = bg
    return arrays


def is_image_set_maps(path: str | Path) -> bool:
    """Whether ``path`` is an image-set maps file (`save_image_set_detection`); False for anything else."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return "names" in z.files and "target" not in z.files
    except NPZ_ERRORS:
        return False


def load_image_set_maps(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Image name -> raw map (in the file's order) and ``meta`` of an image-set maps file."""
    path = check_npz(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            names = [str(n) for n in z["names"]] if "names" in keys else None
            maps = {n: z[f"target/{n}"] for n in names if f"target/{n}" in keys} if names else {}
            meta = json.loads(str(z["meta"])) if "meta" in keys else {}
    except NPZ_ERRORS as exc:
        raise DataError(f"cannot read maps file {path}: it is truncated or corrupt ({exc}).") from None
    if names is None:
        raise DataError(f"{path} is no image-set maps file: it has no 'names' array (keys: {sorted(keys)[:8]}).")
    missing = [n for n in names if n not in maps]
    if missing:
        raise DataError(f"{path} lists {len(missing)} image(s) without a 'target/<name>' map, e.g. {missing[0]!r}.")
    return maps, meta


def check_npz(path: str | Path, what: str = "maps file") -> Path:
    """``path`` as a Path when it is a readable .npz (zip) file, else a `DataError` that says what it is."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} not found: {path}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise DataError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if not head:
        raise DataError(f"{what} {path} is empty (0 bytes): it was not written completely; make it again.")
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        kind = "an .npy array" if head == b"\x93NUM" else "not an .npz (zip) file"
        raise DataError(f"{what} {path} is {kind}: expected the .npz that `istdbench detect` writes.")
    return path


def load_maps(path: str | Path) -> tuple[np.ndarray, np.ndarray | None, dict[str, Any]]:
    """Read ``target``, ``frames`` and ``meta`` back from a detection file.

    Raises
    ------
    DataError
        Naming the file, for an empty, truncated or foreign file, a ``target`` that is not a
        non-empty (T, H, W) stack, or ``frames`` that are not T distinct positive integers.
    """
    path = check_npz(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if "target" not in z and "names" in z:
                raise DataError(
                    f"{path} holds the maps of an image set (one per image); score it against an image set."
                )
            if "target" not in z:
                raise DataError(f"{path} holds no 'target' array (keys: {sorted(z.files)}).")
            target = z["target"]
            frames = z["frames"] if "frames" in z else None
            meta = json.loads(str(z["meta"])) if "meta" in z else {}
    except DataError:
        raise
    except NPZ_ERRORS as exc:
        raise DataError(f"cannot read maps file {path}: it is truncated or corrupt ({exc}).") from None
    if target.ndim != 3 or 0 in target.shape:
        raise DataError(f"{path}: 'target' must be a non-empty (T, H, W) stack of maps; it has shape {target.shape}.")
    if frames is not None:
        frames = check_frame_numbers(frames, len(target), path)
    return target, frames, meta if isinstance(meta, dict) else {}


def check_frame_numbers(frames: np.ndarray, n_maps: int, path: str | Path) -> np.ndarray:
    """``frames`` as int64 when they are ``n_maps`` distinct integers >= 1, else a `DataError` naming ``path``."""
    frames = np.asarray(frames).ravel()
    if len(frames) != n_maps:
        raise DataError(f"{path}: 'frames' lists {len(frames)} numbers for {n_maps} maps.")
    if frames.dtype.kind not in "iuf" or (frames.dtype.kind == "f" and not np.all(np.isfinite(frames))):
        raise DataError(f"{path}: 'frames' must hold integer frame numbers; it has dtype {frames.dtype}.")
    whole = frames.astype(np.int64)
    if frames.dtype.kind == "f" and not np.array_equal(whole, frames):
        bad = frames[whole != frames][:3].tolist()
        raise DataError(f"{path}: 'frames' must be whole numbers; it holds {bad}.")
    if whole.min() < 1:
        raise DataError(f"{path}: 'frames' are 1-based frame numbers; it holds {int(whole.min())}.")
    values, counts = np.unique(whole, return_counts=True)
    if (counts > 1).any():
        raise DataError(f"{path}: 'frames' lists frame(s) {values[counts > 1][:5].tolist()} more than once.")
    return whole
