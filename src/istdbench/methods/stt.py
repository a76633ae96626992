"""STT: the spatio-temporal tensor model for small targets in infrared video (Liu, Zhang and Huang, 2020).

For every frame t and every patch location, the patches at that location and
its neighbouring locations in frames t-r..t+r are stacked as the frontal
slices of a tensor X (n1 x n2 x n3, n3 = (2r+1) (2k+1)^2). The slow, smooth
background is low-rank in the t-SVD sense and the small moving target sparse:

    min ||L||_TNN + lambda ||S||_1   s.t.  X = L + S,  S >= 0,

solved by ADMM (tensor robust PCA with the tensor nuclear norm of Lu et al.).
The centre patch of frame t in S is the target patch of that location; the
patches are fused back into a frame by their mean.

No code by the authors is public. The TensorISTD toolbox's 2025 ``STT.m`` is
the only implementation; its settings and quirks are the ``tensoristd``
preset (see `STT`), which reproduces the reference maps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from istdbench.core.config import MethodConfig
from istdbench.core.errors import DataError
from istdbench.core.method import Method, RawOutput
from istdbench.core.registry import register

from ._numerics import snap_to_8bit, tnn_prox
from ._patches import FUSIONS, fuse_patches, make_grid, neighbour_origins
from ._trpca import trpca_admm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowTensorConfig(MethodConfig):
    """Settings STT and NPSTT share: patch tensors of a window of frames, split by tensor-RPCA ADMM.

    Defaults are STT's; each method's config overrides its own and adds the rest.

    Attributes
    ----------
    patch_size, step : int
        Patch side and stride; a last patch is aligned with the bottom/right edge.
    frame_radius : int
        r: each tensor holds frames t-r..t+r.
    patch_radius : int
        k: each frame contributes the (2k+1)^2 patches around the location
        (locations past the border repeat the edge patch).
    lam : float, optional
        An explicit l1 weight; overrides the method's rule.
    tol : float
        Stop a tensor when ``||L + S - X||_F / ||X||_F < tol``.
    max_iter : int
        ADMM iteration cap.
    rho, mu0, mu_max : float
        Penalty growth factor, initial and maximal penalty.
    nnz_stop : bool
        Also stop when the count of positive entries of S is non-zero and
        unchanged by an iteration (the toolbox's rule).
    input_scale : float
        Frames are multiplied by this before solving; the maps are in these units.
    fusion : {"mean", "median", "last"}
        How overlapping target patches are fused into a frame.
    batch_size : int
        Tensors solved together (memory ~ 40 MB per 16 tensors of 50x50x63);
        no effect on the result.
    """

    patch_size: int = 50
    step: int = 40
    frame_radius: int = 3
    patch_radius: int = 1
    lam: float | None = None
    tol: float = 1e-7
    max_iter: int = 500
    rho: float = 1.05
    mu0: float = 2e-3
    mu_max: float = 1e10
    nnz_stop: bool = True
    input_scale: float = 255.0
    fusion: Literal["mean", "median", "last"] = "mean"
    batch_size: int = 16

    def validate(self) -> None:
        self._require("patch_size", isinstance(self.patch_size, int) and self.patch_size >= 2, "an integer >= 2")
        self._require("step", isinstance(self.step, int) and self.step >= 1, "an integer >= 1")
        self._require("frame_radius", isinstance(self.frame_radius, int) and self.frame_radius >= 1, "an integer >= 1")
        self._require("patch_radius", isinstance(self.patch_radius, int) and self.patch_radius >= 0, "an integer >= 0")
        self._require("lam", self.lam is None or self.lam > 0, "None or a float > 0")
        self._require("tol", self.tol > 0, "a float > 0")
        self._require("max_iter", isinstance(self.max_iter, int) and self.max_iter >= 1, "an integer >= 1")
        self._require("rho", self.rho >= 1, "a float >= 1")
        self._require("mu0", self.mu0 > 0, "a float > 0")
        self._require("mu_max", self.mu_max >= self.mu0, "a float >= mu0")
        self._require("input_scale", self.input_scale > 0, "a float > 0")
        self._require("fusion", self.fusion in FUSIONS, f"one of {list(FUSIONS)}")
        self._require("batch_size", isinstance(self.batch_size, int) and self.batch_size >= 1, "an integer >= 1")

    @property
    def n_slices(self) -> int:
        """n3 = (2r+1) (2k+1)^2 frontal slices per tensor."""
        return (2 * self.frame_radius + 1) * (2 * self.patch_radius + 1) ** 2


@dataclass(frozen=True)
class STTConfig(WindowTensorConfig):
    """Settings of STT (defaults: the seed paper's Table 2; see `STT` for the presets).

    The patch grid, window and ADMM settings are `WindowTensorConfig`'s; STT adds:

    Attributes
    ----------
    slice_order : {"time", "current-last"}
        Frontal slices in time order, or with frame t's block moved to the
        end (``[t-r..t-1, t+1..t+r, t]``, as the toolbox does). The t-SVD is
        not invariant to this order.
    alignment : {"centre", "toolbox"}
        Which slice becomes frame t's map. ``centre``: the centre patch of
        frame t from the window centred on t (frames within r of either end
        come from the first / last window). ``toolbox``: the toolbox's
        off-by-one, frame t gets the centre patch of frame t+1 from window t;
        the first r frames are aligned; after the last window centre c, frames
        c+j (j < r) get frame c+j+1 and the last frame gets frame c.
    lambda_rule : {"tensor", "toolbox"}
        ``1/sqrt(max(n1, n2) n3)`` (Lu et al., the seed paper's Table 2) or the
        toolbox's ``1/sqrt((2k+1)^2 (1 + 2 r p) + step)``; ``lam`` overrides it.
    """

    slice_order: Literal["time", "current-last"] = "time"
    alignment: Literal["centre", "toolbox"] = "centre"
    lambda_rule: Literal["tensor", "toolbox"] = "tensor"

    def lambda_value(self) -> float:
        """The l1 weight these settings give."""
        if self.lam is not None:
            return float(self.lam)
        if self.lambda_rule == "tensor":
            return 1.0 / np.sqrt(self.patch_size * self.n_slices)
        neighbours = (2 * self.patch_radius + 1) ** 2
        return 1.0 / np.sqrt(neighbours * (1 + 2 * self.frame_radius * self.patch_size) + self.step)

    def frame_offsets(self) -> list[int]:
        """Frame offsets of the slice blocks, in stacking order."""
        r = self.frame_radius
        if self.slice_order == "time":
            return list(range(-r, r + 1))
        return [*range(-r, 0), *range(1, r + 1), 0]


def frame_sources(n_frames: int, radius: int, alignment: str) -> dict[int, list[tuple[int, int]]]:
    """Which window and which frame offset in it give each output frame.

    Returns
    -------
    dict
        Window centre c (zero-based, ``radius <= c < n_frames - radius``) ->
        list of (output frame, offset within the window).
    """
    first, last = radius, n_frames - 1 - radius
    plan: dict[int, list[tuple[int, int]]] = {c: [] for c in range(first, last + 1)}
    for f in range(first):
        plan[first].append((f, f - first))
    for c in range(first, last + 1):
        plan[c].append((c, 1 if alignment == "toolbox" else 0))
    for j in range(1, radius + 1):
        if alignment == "toolbox":
            plan[last].append((last + j, j + 1 if j < radius else 0))
        else:
            plan[last].append((last + j, j))
    return plan


def trpca(data: np.ndarray, lam: float, cfg: STTConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tensor robust PCA by ADMM for a batch of tensors, each stopped by its own rule.

    Parameters
    ----------
    data : ndarray of shape (B, n3, n1, n2)
        B independent tensors, frontal slices along axis 1.
    lam : float
        Weight of the l1 term.
    cfg : STTConfig
        Solver settings (tol, max_iter, rho, mu0, mu_max, nnz_stop).

    Returns
    -------
    low, sparse : ndarray of shape (B, n3, n1, n2)
        Background and non-negative target of each tensor.
    iterations : ndarray of int, shape (B,)
        Iterations each tensor took (0 for an all-zero tensor).

    Notes
    -----
    The toolbox's ``TRPCA.m`` iteration with the tensor nuclear norm prox
    (`trpca_admm`); all tensors of a batch share mu, and a tensor that meets a
    stopping rule leaves the batch with its current L and S.
    """
    low, sparse, iterations, _ = trpca_admm(data, lam, cfg, lambda t, tau: tnn_prox(t, tau, axis=1)[0])
    return low, sparse, iterations


WindowSolver = Callable[[np.ndarray, float, Any], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""``(batch of patch tensors, lambda, config) -> (low, sparse, iterations per tensor)``."""


@dataclass(frozen=True)
class STTResult:
    """Output of `stt`: maps in ``input_scale`` units and per-window solver facts."""

    target: np.ndarray
    background: np.ndarray
    mean_iterations: list[float]
    max_iterations: list[int]


def stt(frames: np.ndarray, cfg: STTConfig) -> STTResult:
    """STT on a sequence: `window_tensors_rpca` with the tensor nuclear norm and the configured alignment."""
    return window_tensors_rpca(frames, cfg, "STT", cfg.frame_offsets(), cfg.alignment, trpca)


def window_tensors_rpca(
    frames: np.ndarray, cfg: WindowTensorConfig, name: str, offsets: list[int], alignment: str, solve: WindowSolver
) -> STTResult:
    """The spatial-temporal patch-tensor pipeline shared by STT and NPSTT.

    Each window of ``2 r + 1`` frames (frame ``offsets`` around its centre,
    frame-to-window ``alignment`` as in `frame_sources`) is cut into patch
    tensors of the location and its neighbours in every frame; ``solve``
    splits each batch into low-rank and sparse parts, and the centre
    neighbours' sparse parts are fused back into frames.

    Parameters
    ----------
    frames : ndarray of shape (T, H, W)
        Intensities in [0, 1]; T >= 2 r + 1 and H, W >= ``patch_size``.
    cfg : STTConfig or NPSTTConfig
        Patch grid, solver and fusion settings.
    name : str
        The method, for error messages.

    Returns
    -------
    STTResult
        Target (fused non-negative sparse part) and background maps of shape
        (T, H, W), in ``cfg.input_scale`` units.
    """
    x = np.asarray(frames, dtype=np.float64) * cfg.input_scale
    n_frames, h, w = x.shape
    r, p = cfg.frame_radius, cfg.patch_size
    if n_frames < 2 * r + 1:
        raise DataError(f"{name} needs at least {2 * r + 1} frames (2 * frame_radius + 1); got {n_frames}.")
    if p > min(h, w):
        raise DataError(f"{name} needs frames of at least {p}x{p} pixels (patch_size); got {h}x{w}.")
    grid = make_grid((h, w), p, cfg.step, border=True, row_fastest=False)
    nb_rows, nb_cols = neighbour_origins(grid, cfg.patch_radius)
    n_nb = nb_rows.shape[1]
    slice_rows = np.tile(nb_rows, (1, len(offsets)))  # (n_patches, n3): block by frame, neighbours inside
    slice_cols = np.tile(nb_cols, (1, len(offsets)))
    centre = n_nb // 2
    lam = cfg.lambda_value()
    windows = np.lib.stride_tricks.sliding_window_view(x, (p, p), axis=(1, 2))  # (T, H-p+1, W-p+1, p, p)
    target = np.zeros(x.shape)
    background = np.zeros(x.shape)
    mean_its: list[float] = []
    max_its: list[int] = []
    n_loc = grid.n_patches
    for c, outputs in frame_sources(n_frames, r, alignment).items():
        slice_frames = np.repeat([c + o for o in offsets], n_nb)  # (n3,)
        wanted = [offsets.index(o) * n_nb + centre for _, o in outputs]
        tgt = np.empty((len(outputs), p, p, n_loc))
        bkg = np.empty((len(outputs), p, p, n_loc))
        its = np.empty(n_loc, dtype=np.int64)
        for start in range(0, n_loc, cfg.batch_size):
            sel = slice(start, min(start + cfg.batch_size, n_loc))
            data = windows[slice_frames[None, :], slice_rows[sel], slice_cols[sel]]  # (B, n3, p, p)
            low, sparse, its[sel] = solve(data, lam, cfg)
            tgt[:, :, :, sel] = np.moveaxis(sparse[:, wanted], 0, -1)
            bkg[:, :, :, sel] = np.moveaxis(low[:, wanted], 0, -1)
        for i, (f, _) in enumerate(outputs):
            target[f] = fuse_patches(tgt[i], grid, cfg.fusion)
            background[f] = fuse_patches(bkg[i], grid, cfg.fusion)
        mean_its.append(float(its.mean()))
        max_its.append(int(its.max()))
        if its.max() >= cfg.max_iter:
            log.debug("%s window %d: a tensor reached max_iter=%d", name, c, cfg.max_iter)
    return STTResult(target=target, background=background, mean_iterations=mean_its, max_iterations=max_its)


@register("stt")
class STT(Method):
    """Spatio-temporal tensor model solved by TNN-based tensor robust PCA (multi-frame).

    Presets
    -------
    ``paper``
        The seed paper's Table 2: 50x50 patches, step 40, lambda =
        1/sqrt(max(n1, n2) n3) = 0.0178, tol 1e-7. Choices the sources we
        have leave open (the authors' code is not public) follow the only
        implementation, the toolbox's ``STT.m``: windows of 7 frames (r = 3)
        x 3x3 neighbouring patches (50x50x63 tensors; neighbours past the
        border repeat the edge patch; a last patch flush with the
        bottom/right edge), ADMM with rho 1.05, mu0 2e-3, mu_max 1e10, 500
        iterations and the stop on an unchanged count of positive target
        entries, a non-negative target, mean fusion, input in 0..255. Unlike
        the toolbox, the slices stay in time order and frame t's map is the
        centre patch of frame t. Its tensors need ~60 ADMM iterations on the
        daub clips (the toolbox preset ~3), so it is ~20x slower.
    ``tensoristd``
        The toolbox's 2025 ``STT.m`` that produced the reference maps, quirks
        included: step 30, lambda = 1/sqrt(9 (1 + 2*3*50) + 30) = 0.0191075,
        tol 1e-2, frame t's block moved last, and the off-by-one alignment
        (see `STTConfig.alignment`).

    The sequence must have at least 2 r + 1 = 7 frames (fewer raise
    `InvalidParameterError`); windows never reach past the sequence, so the
    first and last r frames take their maps from the first and last windows
    (as the toolbox does). An all-zero tensor is its own solution (L = S = 0).
    The target map is in 0..255 units. 8-bit input is snapped to exact ``k/255``.

    References
    ----------
    Liu, H.-K., Zhang, L., Huang, H. "Small target detection in infrared
    videos based on spatio-temporal tensor model", IEEE Transactions on
    Geoscience and Remote Sensing 58(12), 8689-8700, 2020.
    """

    kind = "multi-frame"
    config_cls = STTConfig
    presets: ClassVar[dict[str, MethodConfig]] = {
        "paper": STTConfig(),
        "tensoristd": STTConfig(
            step=30, slice_order="current-last", alignment="toolbox", lambda_rule="toolbox", tol=1e-2
        ),
    }
    default_preset = "paper"
    display_name = "STT"
    cite_key = "liu2020stt"
    paper_order = 40
    category = "Optim."
    citation = (
        "H.-K. Liu, L. Zhang and H. Huang, 'Small target detection in infrared videos based on spatio-temporal "
        "tensor model', IEEE Trans. Geoscience and Remote Sensing, vol. 58, no. 12, pp. 8689-8700, 2020."
    )

    def min_frames(self) -> int:
        return 2 * self.config.frame_radius + 1  # type: ignore[attr-defined]

    def _detect(self, frames: np.ndarray) -> RawOutput:
        res = stt(snap_to_8bit(frames), self.config)  # type: ignore[arg-type]
        diagnostics = {"mean_iterations": res.mean_iterations, "max_iterations": res.max_iterations}
        return RawOutput(target=res.target, background=res.background, diagnostics=diagnostics)
