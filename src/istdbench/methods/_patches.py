"""Patch images and patch tensors: sliding-window extraction and fusion back into an image.

The low-rank classical methods (IPI, PSTNN, STT, ...) cut a frame into
overlapping square patches, stack them (as matrix columns or as frontal slices
of a tensor), separate background and target, and fuse the target patches back
into an image. The exact grid, stacking order and fusion rule of each MATLAB
original change the result (t-SVD methods are not invariant to the order of the
frontal slices), so all three are explicit parameters here:

- grid: origins ``0, step, 2*step, ...`` and, with ``border=True``, one extra
  patch aligned with the bottom/right edge (Dai's ``gen_patch_ten``, used by
  PSTNN and STT); without it (Gao's IPI) the last rows/columns may stay
  uncovered.
- order: ``row_fastest=True`` stacks patches with the row origin varying
  fastest (a MATLAB ``for col, for row`` loop); ``False`` is the transpose
  (``for row, for col``).
- fusion: ``last`` (each patch overwrites the pixels it covers, in stacking
  order: what Dai's ``res_patch_ten_mean`` really does), ``mean`` or
  ``median`` over the covering patches. Uncovered pixels are 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from istdbench.core.errors import DataError, InvalidParameterError

Fusion = Literal["last", "mean", "median"]
FUSIONS: tuple[str, ...] = ("last", "mean", "median")


def patch_origins(length: int, patch: int, step: int, border: bool = True) -> np.ndarray:
    """Zero-based start positions of patches along one image axis.

    Parameters
    ----------
    length : int
        Image size along the axis.
    patch, step : int
        Patch side and stride, both >= 1.
    border : bool
        Add a last patch flush with the far edge when the regular grid does
        not end there (MATLAB ``[1:step:(N-1)*step, length-patch+1]`` with
        ``N = ceil((length-patch)/step) + 1``).

    Returns
    -------
    ndarray of int
        Strictly increasing origins.
    """
    if patch < 1 or step < 1:
        raise InvalidParameterError(f"patch size and step must be >= 1; got patch={patch}, step={step}.")
    if patch > length:
        raise DataError(f"the image side of {length} pixels is smaller than the patch size {patch}.")
    if border:
        return np.append(np.arange(0, length - patch, step), length - patch)
    return np.arange(0, length - patch + 1, step)


@dataclass(frozen=True, eq=False)
class PatchGrid:
    """Where the patches of one frame lie and in which order they are stacked.

    Attributes
    ----------
    shape : (H, W)
        Frame size.
    patch : int
        Patch side.
    rows, cols : ndarray of int
        Zero-based patch origins along each axis.
    row_fastest : bool
        Stacking order: patch ``k`` has origin ``(rows[k % nr], cols[k // nr])``
        when True, ``(rows[k // nc], cols[k % nc])`` when False.
    """

    shape: tuple[int, int]
    patch: int
    rows: np.ndarray
    cols: np.ndarray
    row_fastest: bool = True

    @property
    def n_patches(self) -> int:
        return len(self.rows) * len(self.cols)

    def origins(self) -> np.ndarray:
        """Origins (row, col) of the patches in stacking order, shape (n_patches, 2)."""
        rr, cc = np.meshgrid(self.rows, self.cols, indexing="ij")  # (nr, nc)
        if self.row_fastest:
            rr, cc = rr.T, cc.T
        return np.stack([rr.ravel(), cc.ravel()], axis=1)

    def coverage(self) -> np.ndarray:
        """How many patches cover each pixel, shape (H, W)."""
        count = np.zeros(self.shape, dtype=np.int64)
        p = self.patch
        for r, c in self.origins():
            count[r : r + p, c : c + p] += 1
        return count


def make_grid(
    shape: tuple[int, int], patch: int, step: int, border: bool = True, row_fastest: bool = True
) -> PatchGrid:
    """Patch grid of a frame of size ``shape`` (see `patch_origins` for ``border``)."""
    h, w = (int(s) for s in shape)
    if patch > h or patch > w:
        raise DataError(f"the frame of {h}x{w} pixels is smaller than the {patch}x{patch} patch.")
    return PatchGrid(
        shape=(h, w),
        patch=int(patch),
        rows=patch_origins(h, patch, step, border),
        cols=patch_origins(w, patch, step, border),
        row_fastest=row_fastest,
    )


def extract_patches(img: np.ndarray, grid: PatchGrid) -> np.ndarray:
    """Patch tensor of a frame: the patches as frontal slices, shape (p, p, n_patches).

    ``extract_patches(img, grid).reshape(p * p, -1, order="F")`` is the
    patch-image matrix of IPI (each patch vectorised column-major).
    """
    img = np.asarray(img)
    if img.shape != grid.shape:
        raise DataError(f"frame of shape {img.shape} does not match the patch grid made for {grid.shape}.")
    p = grid.patch
    windows = np.lib.stride_tricks.sliding_window_view(img, (p, p))  # (H-p+1, W-p+1, p, p), no copy
    sel = windows[grid.rows[:, None], grid.cols[None, :]]  # (nr, nc, p, p)
    if grid.row_fastest:
        sel = sel.transpose(1, 0, 2, 3)
    return np.moveaxis(sel.reshape(-1, p, p), 0, -1)


def fuse_patches(patches: np.ndarray, grid: PatchGrid, mode: Fusion = "last") -> np.ndarray:
    """Fuse a patch tensor back into a frame.

    Parameters
    ----------
    patches : ndarray of shape (p, p, n_patches)
        Frontal slices in the stacking order of ``grid``.
    grid : PatchGrid
        The grid the patches were extracted with.
    mode : {"last", "mean", "median"}
        ``last``: later patches overwrite earlier ones; ``mean`` / ``median``:
        per-pixel statistic over the covering patches (median of an even count
        is the mean of the two middle values, as in MATLAB).

    Returns
    -------
    ndarray of shape (H, W)
        Float64 frame; pixels no patch covers are 0.
    """
    p, n = grid.patch, grid.n_patches
    if patches.shape != (p, p, n):
        raise DataError(f"patch tensor of shape {patches.shape} does not match the grid's ({p}, {p}, {n}).")
    if mode not in FUSIONS:
        raise InvalidParameterError(f"fusion mode must be one of {list(FUSIONS)}; got {mode!r}.")
    origins = grid.origins()
    out = np.zeros(grid.shape, dtype=np.float64)
    if mode == "last":
        for k, (r, c) in enumerate(origins):
            out[r : r + p, c : c + p] = patches[:, :, k]
        return out
    if mode == "mean":
        count = np.zeros(grid.shape, dtype=np.float64)
        for k, (r, c) in enumerate(origins):
            out[r : r + p, c : c + p] += patches[:, :, k]
            count[r : r + p, c : c + p] += 1
        np.divide(out, count, out=out, where=count > 0)
        return out
    # median: one layer per covering patch, NaN where a pixel has fewer patches
    count = np.zeros(grid.shape, dtype=np.int64)
    layers = np.full((int(grid.coverage().max()), *grid.shape), np.nan)
    ar = np.arange(p)
    for k, (r, c) in enumerate(origins):
        rows, cols = r + ar[:, None], c + ar[None, :]
        layers[count[rows, cols], rows, cols] = patches[:, :, k]
        count[r : r + p, c : c + p] += 1
    covered = count > 0
    out[covered] = np.nanmedian(layers[:, covered], axis=0)
    return out


def neighbour_origins(grid: PatchGrid, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel origins of the (2k+1)^2 neighbours of every patch location, edge locations repeated.

    STT and NPSTT stack each patch with its neighbours on the grid; past the
    border the nearest edge patch stands in (their MATLAB codes pad the grid of
    patches by replication). Returns row and column origins of shape
    (n_patches, (2k+1)^2), locations in the grid's stacking order, the
    neighbours in row-major order of their offsets (MATLAB ``for dr, for dc``).
    """
    nr, nc = len(grid.rows), len(grid.cols)
    ir, ic = np.meshgrid(np.arange(nr), np.arange(nc), indexing="ij")
    if grid.row_fastest:
        ir, ic = ir.T, ic.T
    ir, ic = ir.ravel(), ic.ravel()
    d = np.arange(-radius, radius + 1)
    dr, dc = np.repeat(d, len(d)), np.tile(d, len(d))
    rows = grid.rows[np.clip(ir[:, None] + dr[None, :], 0, nr - 1)]
    cols = grid.cols[np.clip(ic[:, None] + dc[None, :], 0, nc - 1)]
    return rows, cols
