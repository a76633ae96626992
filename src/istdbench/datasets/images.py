"""Reading frame folders: natural ordering, bit depths, colour conversion, and clear errors.

Frames are read the way MATLAB's ``imread`` + ``rgb2gray`` + ``im2double`` would,
because the reference outputs of the original toolboxes were computed from
that pipeline: 8-bit images become ``k / 255``, 16-bit ones ``k / 65535``, RGB
is converted with MATLAB's ``rgb2gray`` weights and rounded back to the integer
type, and a palette image is read as its indices (MATLAB returns the index
matrix, not the colours).

Image sets (`istdbench.datasets.imagesets`) read palette images through their
palette instead (``palette="colour"``): the colour of each index, then
``rgb2gray``, so a grey palette gives its grey levels. SIRST holds five palette
PNGs whose grey palettes are not the identity (Misc_73's indices correlate at
0.12 with its grey levels), and every Python toolbox (PIL ``convert``, OpenCV)
reads such images by their colours. An alpha channel is always dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from istdbench.core.errors import DataError
from istdbench.core.sorting import natural_key

IMAGE_EXTENSIONS = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")
"""File suffixes (lower case) read as frames."""

RGB2GRAY_WEIGHTS = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])
"""MATLAB's ``rgb2gray`` coefficients (first row of the inverse NTSC transform), not the rounded 0.299/0.587/0.114."""

_INTEGER_MAX = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def list_frames(folder: str | Path) -> list[Path]:
    """Image files of a frame folder in natural order.

    Raises
    ------
    DataError
        If the folder is missing, holds no image, or mixes image formats (a
        mixture usually means two copies of the frames, and the order between
        them would be a guess).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"frame folder {str(folder)!r} does not exist or is not a folder.")
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    if not files:
        raise DataError(
            f"frame folder {str(folder)!r} holds no frames (looked for {', '.join(IMAGE_EXTENSIONS)} files)."
        )
    kinds = {_kind(p.suffix) for p in files}
    if len(kinds) > 1:
        raise DataError(
            f"frame folder {str(folder)!r} mixes image formats ({', '.join(sorted(kinds))}); "
            "keep one format per folder."
        )
    return sorted(files, key=lambda p: natural_key(p.name))


def _kind(suffix: str) -> str:
    s = suffix.lower()
    return {".jpeg": ".jpg", ".tiff": ".tif"}.get(s, s)


def rgb2gray_matlab(rgb: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2gray`` for an integer (H, W, 3) image: weighted sum, rounded half away from zero, same dtype."""
    if rgb.dtype not in _INTEGER_MAX:
        raise DataError(f"RGB frames must be 8- or 16-bit integers; got dtype {rgb.dtype}.")
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    if np.array_equal(r, g) and np.array_equal(g, b):
        # equal channels: the weighted sum rounds back to the channel (checked for every 8- and 16-bit value)
        return np.ascontiguousarray(r)
    # MATLAB's cast to an integer class rounds halves away from zero; the sums are >= 0, so floor(x + 0.5).
    gray = np.floor(rgb[..., :3].astype(np.float64) @ RGB2GRAY_WEIGHTS + 0.5)
    return np.clip(gray, 0, _INTEGER_MAX[rgb.dtype]).astype(rgb.dtype)


def _open(path: Path) -> Image.Image:
    try:
        im = Image.open(path)
        im.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"cannot read image {str(path)!r}: {exc}") from None
    return im


PALETTE_RULES = ("index", "colour")
"""How a palette image is read: its index matrix (MATLAB ``imread``) or its colours (then ``rgb2gray``)."""


def image_integers(path: str | Path, palette: str = "index") -> np.ndarray:
    """One frame as a 2-D integer (or float) array, as MATLAB's ``imread`` + ``rgb2gray`` give it.

    ``palette="colour"`` reads a palette image (mode P or PA) by the colours
    its indices stand for, converted with ``rgb2gray``, instead of the indices.
    """
    if palette not in PALETTE_RULES:
        raise ValueError(f"palette must be one of {PALETTE_RULES}; got {palette!r}.")
    path = Path(path)
    im = _open(path)
    mode = im.mode
    if palette == "colour" and mode in ("P", "PA"):
        return rgb2gray_matlab(np.asarray(im.convert("RGB")))
    if mode in ("RGB", "RGBA", "RGBX", "RGBa"):
        return rgb2gray_matlab(np.asarray(im)[..., :3])
    if mode in ("LA", "La", "PA"):  # grey level or palette index plus alpha: the alpha is dropped
        return np.asarray(im)[..., 0]
    if mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        return rgb2gray_matlab(np.asarray(im.convert("RGB")))
    arr = np.asarray(im)  # L, P (indices), 1, I;16*, I, F
    if arr.ndim != 2:
        raise DataError(f"image {str(path)!r} has unsupported layout {arr.shape} (mode {mode}).")
    return arr


def to_unit(arr: np.ndarray, path: str | Path = "") -> np.ndarray:
    """Scale a frame to [0, 1] float64 by its bit depth (MATLAB ``im2double``)."""
    where = f" in {str(path)!r}" if path else ""
    if arr.dtype == bool:
        return arr.astype(np.float64)
    if arr.dtype in _INTEGER_MAX:
        return arr.astype(np.float64) / _INTEGER_MAX[arr.dtype]
    if np.issubdtype(arr.dtype, np.integer):  # PIL mode "I": 32-bit container, e.g. 16-bit data
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 65535:
            raise DataError(f"integer frame{where} has values in [{lo}, {hi}], outside the 16-bit range.")
        return arr.astype(np.float64) / 65535.0
    out = arr.astype(np.float64)
    if not np.isfinite(out).all():
        raise DataError(f"frame{where} contains NaN or inf values.")
    lo, hi = float(out.min()), float(out.max())
    if lo < 0.0 or hi > 1.0:
        raise DataError(f"floating-point frame{where} has values in [{lo:g}, {hi:g}]; float frames must lie in [0, 1].")
    return out


def to_unit32(arr: np.ndarray, path: str | Path = "") -> np.ndarray:
    """`to_unit` cast to float32, computed in float32 for 8- and 16-bit data.

    For integers k, float32 ``k / 255`` (``k / 65535``) is correctly rounded and
    equals the float64 quotient cast to float32 for every 8- and 16-bit value
    (checked exhaustively in the tests), so this is `to_unit` in half the memory.
    """
    if arr.dtype in _INTEGER_MAX:
        return arr.astype(np.float32) / np.float32(_INTEGER_MAX[arr.dtype])
    return to_unit(arr, path).astype(np.float32)


def read_frame(path: str | Path, palette: str = "index") -> np.ndarray:
    """One frame as float64 in [0, 1] (``palette``: see `image_integers`)."""
    return to_unit(image_integers(path, palette), path)


def read_frames(paths: Iterable[Path]) -> np.ndarray:
    """Stack frames into (T, H, W) float32 in [0, 1]; all must have the size of the first."""
    paths = list(paths)
    if not paths:
        raise DataError("no frames to read.")
    first = read_frame(paths[0])
    out = np.empty((len(paths), *first.shape), dtype=np.float32)
    out[0] = first
    for i, p in enumerate(paths[1:], start=1):
        frame = read_frame(p)
        if frame.shape != first.shape:
            raise DataError(
                f"frames differ in size: {str(p)!r} is {frame.shape[1]}x{frame.shape[0]} (W x H) but "
                f"{str(paths[0])!r} is {first.shape[1]}x{first.shape[0]}."
            )
        out[i] = frame
    return out


def read_masks(paths: Iterable[Path], shape: tuple[int, int]) -> np.ndarray:
    """Binary mask images (any non-zero pixel is target) as (T, H, W) bool, each of the given (H, W)."""
    paths = list(paths)
    out = np.empty((len(paths), *shape), dtype=bool)
    for i, p in enumerate(paths):
        m = image_integers(p)
        if m.shape != tuple(shape):
            raise DataError(
                f"mask {str(p)!r} is {m.shape[1]}x{m.shape[0]} (W x H) but the frames are {shape[1]}x{shape[0]}."
            )
        out[i] = m != 0
    return out


def image_size(path: str | Path) -> tuple[int, int]:
    """(H, W) of an image from its header, without decoding the pixels."""
    try:
        with Image.open(path) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"cannot read image {str(path)!r}: {exc}") from None
    return h, w


def images_hash(names: Iterable[str], images: Iterable[np.ndarray]) -> str:
    """Short sha256 of an image set: each name, size and float32 image in order (what a method saw)."""
    h = hashlib.sha256()
    for name, img in zip(names, images, strict=True):
        arr = np.ascontiguousarray(img, dtype=np.float32)
        h.update(f"{name}\0{arr.shape}\0".encode())
        h.update(arr.data)
    return h.hexdigest()[:16]


def frames_hash(frames: np.ndarray) -> str:
    """Short sha256 of the float32 frame bytes: identifies the exact data a method saw."""
    arr = np.ascontiguousarray(frames, dtype=np.float32)
    h = hashlib.sha256()
    h.update(str(arr.shape).encode())
    h.update(arr.tobytes())
    return h.hexdigest()[:16]
