"""Point annotations: one text line per frame, in any of the conventions the public datasets use.

Every convention is converted to the suite's one form: per frame a float array
of shape (k, 2) of zero-based (row, col) target centres. A line may hold several
targets (``c1 r1 c2 r2 ...``); ``None``, an empty line, ``0<TAB><TAB>0`` and an
all-zero line mean "no target in this frame" (a (0, 0) pair can never be a
1-based pixel, which is why TensorISTD uses it as the placeholder).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import ndimage

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.types import Points

log = logging.getLogger(__name__)

_SPLIT = {"tab": r"\t", "comma": r",", "space": r"\s+", "auto": r"[\s,;]+"}
_NO_TARGET = {"", "none", "nan", "null", "-"}


@dataclass(frozen=True)
class AnnotationFormat:
    """How a point-annotation file is written.

    Parameters
    ----------
    order : {"col,row", "row,col"}
        Coordinate order within a pair (TensorISTD writes ``col row``; the ISTD city clips ``row,col``).
    delimiter : {"auto", "tab", "comma", "space"}
        Field separator; ``auto`` accepts any run of tabs, spaces, commas or semicolons.
    base : {0, 1}
        Index of the first pixel (MATLAB-made files are 1-based).
    """

    order: Literal["col,row", "row,col"] = "col,row"
    delimiter: Literal["auto", "tab", "comma", "space"] = "auto"
    base: int = 1

    def __post_init__(self) -> None:
        if self.order not in ("col,row", "row,col"):
            raise InvalidParameterError(f"annotation order must be 'col,row' or 'row,col'. Got {self.order!r} instead.")
        if self.delimiter not in _SPLIT:
            raise InvalidParameterError(
                f"annotation delimiter must be one of {sorted(_SPLIT)}. Got {self.delimiter!r} instead."
            )
        if self.base not in (0, 1):
            raise InvalidParameterError(f"annotation base must be 0 or 1. Got {self.base!r} instead.")


def _fit_lines(lines: list[str], n_frames: int | None, where: str) -> list[str]:
    """Drop blank lines past the last frame (trailing newlines); insist on one line per frame."""
    keep = len(lines)
    floor = 0 if n_frames is None else n_frames
    while keep > floor and not lines[keep - 1].strip():
        keep -= 1
    lines = lines[:keep]
    if n_frames is not None and len(lines) != n_frames:
        side = "shorter" if len(lines) < n_frames else "longer"
        raise DataError(
            f"annotation file {where} is {side} than the sequence: {len(lines)} lines for {n_frames} frames "
            "(one line per frame is required; write 'None' or an empty line for a frame without target)."
        )
    return lines


def split_line(line: str, delimiter: str) -> list[str]:
    """Fields of one line, surrounding blanks and empty fields (``0<TAB><TAB>0``) removed."""
    return [tok for tok in (t.strip() for t in re.split(_SPLIT[delimiter], line.strip())) if tok]


def _raw_pairs(lines: list[str], fmt: AnnotationFormat, where: str) -> list[np.ndarray]:
    """Per line, the (k, 2) pairs as written (file order, file base), no-target lines empty."""
    out = []
    for i, line in enumerate(lines, start=1):
        if line.strip().lower() in _NO_TARGET:
            out.append(np.zeros((0, 2)))
            continue
        fields = split_line(line, fmt.delimiter)
        try:
            values = np.array([float(f) for f in fields])
        except ValueError:
            raise DataError(f"annotation file {where}, line {i}: expected numbers, got {line.strip()!r}.") from None
        if not np.isfinite(values).all():
            raise DataError(f"annotation file {where}, line {i}: NaN or inf coordinate in {line.strip()!r}.")
        if values.size % 2:
            raise DataError(
                f"annotation file {where}, line {i}: {values.size} numbers in {line.strip()!r}; "
                "coordinates come in pairs (one pair per target)."
            )
        pairs = values.reshape(-1, 2)
        out.append(pairs[(pairs != 0).any(axis=1)])  # (0, 0) is the "no target" placeholder
    return out


def parse_points(
    text: str,
    fmt: AnnotationFormat,
    n_frames: int | None = None,
    shape: tuple[int, int] | None = None,
    source: str = "<text>",
) -> Points:
    """Parse annotation text into per-frame zero-based (row, col) arrays.

    Parameters
    ----------
    text : str
        File contents, one line per frame.
    fmt : AnnotationFormat
        Column order, delimiter and index base.
    n_frames : int, optional
        Frames in the sequence; the line count must match (trailing blank lines are ignored).
    shape : (H, W), optional
        Frame size; every point must fall on a pixel of it.
    source : str
        File name for messages.
    """
    where = repr(str(source))
    lines = _fit_lines(text.splitlines(), n_frames, where)
    points = []
    for i, pairs in enumerate(_raw_pairs(lines, fmt, where), start=1):
        rc = pairs[:, ::-1] if fmt.order == "col,row" else pairs
        rc = rc - fmt.base
        if shape is not None:
            _check_inside(rc, shape, fmt, where, i)
        rc = np.ascontiguousarray(rc, dtype=np.float64)
        rc.setflags(write=False)
        points.append(rc)
    return tuple(points)


def _check_inside(rc: np.ndarray, shape: tuple[int, int], fmt: AnnotationFormat, where: str, line: int) -> None:
    h, w = shape
    bad = (rc[:, 0] < -0.5) | (rc[:, 0] > h - 0.5) | (rc[:, 1] < -0.5) | (rc[:, 1] > w - 0.5)
    if bad.any():
        r, c = rc[bad][0] + fmt.base
        raise DataError(
            f"annotation file {where}, line {line}: point (row={r:g}, col={c:g}) ({fmt.base}-based, read as "
            f"{fmt.order}) lies outside the {w}x{h} (W x H) frames."
        )


def read_points(
    path: str | Path, fmt: AnnotationFormat, n_frames: int | None = None, shape: tuple[int, int] | None = None
) -> Points:
    """Read and parse a point-annotation file (see `parse_points`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"annotation file {str(path)!r} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read annotation file {str(path)!r}: {exc}") from None
    return parse_points(text, fmt, n_frames, shape, source=str(path))


def sniff_delimiter(text: str) -> Literal["tab", "comma", "auto"]:
    """Comma if any line has one, else tab if any has one, else ``auto`` (spaces, semicolons)."""
    if "," in text:
        return "comma"
    if "\t" in text:
        return "tab"
    return "auto"


def _contrast(frames: np.ndarray, rc_per_frame: list[np.ndarray]) -> float:
    """Mean over points of (max of the 3x3 box - median of the 11x11 window): targets are local bright spots.

    The 3x3 box (TensorISTD's hit box) tolerates annotations that are one pixel off.
    """
    h, w = frames.shape[1:]
    scores = []
    for t, rc in enumerate(rc_per_frame):
        for r, c in np.clip(np.rint(rc), 0, [h - 1, w - 1]).astype(int):
            box = frames[t, max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]
            win = frames[t, max(r - 5, 0) : r + 6, max(c - 5, 0) : c + 6]
            scores.append(float(box.max()) - float(np.median(win)))
    return float(np.mean(scores)) if scores else 0.0


def sniff_format(text: str, frames: np.ndarray, source: str = "<text>") -> AnnotationFormat:
    """Guess the format of an annotation file of an unknown group from its text and the frames.

    The delimiter comes from the text. The column order is the one that keeps
    every point inside the frames; when both do (square frames, central
    targets), the one whose points are brighter than their surroundings wins.
    """
    delimiter = sniff_delimiter(text)
    lines = _fit_lines(text.splitlines(), len(frames), repr(str(source)))
    raw = _raw_pairs(lines, AnnotationFormat(delimiter=delimiter), repr(str(source)))
    h, w = frames.shape[1:]
    fits = {}
    for order in ("col,row", "row,col"):
        rc = [(p[:, ::-1] if order == "col,row" else p) - 1 for p in raw]
        inside = all(((q >= -0.5) & (q <= [h - 0.5, w - 0.5])).all() for q in rc)
        if inside:
            fits[order] = _contrast(frames, rc)
    if not fits:
        raise DataError(
            f"annotation file {str(source)!r}: no column order puts every point inside the {w}x{h} frames; "
            "declare the group's format in catalog.toml."
        )
    order = max(fits, key=lambda k: fits[k])
    log.info("sniffed annotation format of %s: %s, delimiter %s (contrast %s)", source, order, delimiter, fits)
    return AnnotationFormat(order=order, delimiter=delimiter, base=1)  # type: ignore[arg-type]


def points_from_masks(masks: np.ndarray) -> Points:
    """Per frame, the centroids of the 8-connected mask components (zero-based (row, col))."""
    out = []
    eight = np.ones((3, 3), dtype=bool)
    for m in masks:
        labels, n = ndimage.label(m, structure=eight)
        rc = np.array(ndimage.center_of_mass(m, labels, range(1, n + 1)), dtype=np.float64).reshape(-1, 2)
        rc.setflags(write=False)
        out.append(rc)
    return tuple(out)
