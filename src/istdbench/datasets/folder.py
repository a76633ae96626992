"""Load one clip laid out on disk: a folder of frames plus its point and/or mask annotations.

The layout the public toolboxes use (and the catalog expects) is::

    <group>/<clip>/0001.png ...       frames, naturally sorted
    <group>/anno/<clip>.txt           one line of points per frame (optional)
    <group>/masks/<clip>/0001.png ... one binary mask per frame (optional)

A point file beside the folder (``<group>/<clip>.txt``) is accepted too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from istdbench.core.errors import DataError
from istdbench.core.types import Points, Provenance, Sequence

from .annotations import (
    AnnotationFormat,
    parse_points,
    points_from_masks,
    sniff_delimiter,
    sniff_format,
)
from .images import frames_hash, list_frames, read_frames, read_masks


@dataclass(frozen=True)
class ClipLayout:
    """Where the parts of one clip are.

    Parameters
    ----------
    name : str
        ``<group>/<clip>``, the sequence name in result tables.
    frames_dir : Path
        Folder of frame images.
    anno_path : Path, optional
        Point-annotation file.
    masks_dir : Path, optional
        Folder of binary mask images, one per frame.
    fmt : AnnotationFormat, optional
        Format of ``anno_path``; None means guess it (`sniff_format`).
    """

    name: str
    frames_dir: Path
    anno_path: Path | None = None
    masks_dir: Path | None = None
    fmt: AnnotationFormat | None = None


def layout_of(frames_dir: str | Path, fmt: AnnotationFormat | None = None) -> ClipLayout:
    """Find the annotations that belong to a frame folder by the conventions in the module docstring."""
    frames_dir = Path(frames_dir).expanduser()
    if not frames_dir.is_dir():
        raise DataError(f"sequence folder {str(frames_dir)!r} does not exist or is not a folder.")
    frames_dir = frames_dir.resolve()  # so that "./clip" still names its group
    clip, group_dir = frames_dir.name, frames_dir.parent
    anno = next(
        (p for p in (group_dir / "anno" / f"{clip}.txt", group_dir / f"{clip}.txt") if p.is_file()),
        None,
    )
    masks = group_dir / "masks" / clip
    return ClipLayout(
        name=f"{group_dir.name}/{clip}",
        frames_dir=frames_dir,
        anno_path=anno,
        masks_dir=masks if masks.is_dir() else None,
        fmt=fmt,
    )


def check_range(frames: tuple[int, int] | None, n: int, what: str) -> tuple[int, int]:
    """Validate a 1-based inclusive frame range against ``n`` frames (None means all)."""
    if frames is None:
        return 1, n
    try:
        a, b = (int(v) for v in frames)
    except (TypeError, ValueError):
        raise DataError(f"frame range must be two integers (first, last); got {frames!r}.") from None
    if not 1 <= a <= b <= n:
        raise DataError(f"frame range {a}:{b} is outside 1:{n} of {what} (1-based, inclusive).")
    return a, b


def _points(layout: ClipLayout, frames: np.ndarray, n: int, a: int) -> Points | None:
    if layout.anno_path is None:
        return None
    src = str(layout.anno_path)
    try:
        text = layout.anno_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read annotation file {src!r}: {exc}") from None
    fmt = layout.fmt
    if fmt is None:
        parse_points(text, AnnotationFormat(delimiter=sniff_delimiter(text)), n, None, src)  # line count, syntax
        lines = text.splitlines()[a - 1 : a - 1 + len(frames)]
        fmt = sniff_format("\n".join(lines), frames, src)
    return parse_points(text, fmt, n, frames.shape[1:], src)[a - 1 : a - 1 + len(frames)]


def _masks(layout: ClipLayout, n: int, a: int, b: int, shape: tuple[int, int]) -> np.ndarray | None:
    if layout.masks_dir is None:
        return None
    paths = list_frames(layout.masks_dir)
    if len(paths) != n:
        raise DataError(f"mask folder {str(layout.masks_dir)!r} has {len(paths)} images for {n} frames.")
    return read_masks(paths[a - 1 : b], shape)


def load_clip(layout: ClipLayout, frames: tuple[int, int] | None = None) -> Sequence:
    """Read a clip (optionally frames ``a..b``, 1-based inclusive) into a validated `Sequence`.

    Only the selected frames are decoded; the annotation file is still checked
    against the full frame count, so a misaligned file is caught whatever the range.
    """
    paths = list_frames(layout.frames_dir)
    n = len(paths)
    a, b = check_range(frames, n, f"sequence {layout.name!r}")
    arr = read_frames(paths[a - 1 : b])
    masks = _masks(layout, n, a, b, arr.shape[1:])
    points = _points(layout, arr, n, a)
    if points is None and masks is not None:
        points = points_from_masks(masks)
    return Sequence(
        frames=arr,
        name=layout.name,
        masks=masks,
        points=points,
        provenance=Provenance(
            source=str(layout.frames_dir.resolve()),
            frame_numbers=tuple(range(a, b + 1)),
            noise="none",
            data_hash=frames_hash(arr),
        ),
    )
