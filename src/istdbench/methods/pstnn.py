"""PSTNN: partial sum of the tensor nuclear norm (Zhang and Peng, 2019).

A frame is cut into a patch tensor D (patches as frontal slices) and split
into a low-rank background B and a sparse, non-negative target T:

    min ||B||_{PSTNN} + lambda ||W . T||_1   s.t.  D = B + T,  T >= 0,

where the partial sum of the tensor nuclear norm leaves the N largest singular
values of every Fourier slice unpenalised (N estimated from D), and W combines
a local structure-tensor prior (edges and corners are background) with
reweighting by 1/(|T| + 0.01). Solved by ADMM; the target patches are fused
back into a frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from istdbench.core.config import MethodConfig
from istdbench.core.errors import DataError
from istdbench.core.method import RawOutput, SingleFrameMethod
from istdbench.core.registry import register

from ._numerics import corner_prior, snap_to_8bit, tnn_prox
from ._patches import FUSIONS, extract_patches, fuse_patches, make_grid
from ._trpca import trpca_admm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PSTNNConfig(MethodConfig):
    """Settings of PSTNN (defaults: the original repository's ``Demo.m``).

    Attributes
    ----------
    patch_size, step : int
        Patch side and stride; a last patch is aligned with the bottom/right edge.
    lambda_l : float
        L in ``lambda = L / sqrt(max(n1, n2) * n3)`` for a patch tensor of n1 x n2 x n3.
    tol : float
        Stop when ``||B + T - D||_F / ||D||_F < tol``.
    max_iter : int
        ADMM iteration cap.
    rho, mu0, mu_max : float
        Penalty growth factor, initial and maximal penalty.
    rank_ratio : float
        N = number of leading singular values of D (unfolded n3 x n1*n2,
        column-major) before the first one below ``rank_ratio`` times the largest.
    nnz_stop : bool
        Also stop when the count of positive target entries is non-zero and
        unchanged between iterations (the original repository's rule).
    input_scale : float
        Frames are multiplied by this before solving (both MATLAB codes work in
        0..255); the target map is in these units.
    fusion : {"last", "mean", "median"}
        How overlapping target patches are fused ("last": later patches
        overwrite, which is what the original ``res_patch_ten_mean`` does).
    """

    patch_size: int = 40
    step: int = 40
    lambda_l: float = 0.7
    tol: float = 1e-3
    max_iter: int = 500
    rho: float = 1.05
    mu0: float = 2e-3
    mu_max: float = 1e10
    rank_ratio: float = 0.1
    nnz_stop: bool = True
    input_scale: float = 255.0
    fusion: Literal["last", "mean", "median"] = "last"

    def validate(self) -> None:
        self._require("patch_size", isinstance(self.patch_size, int) and self.patch_size >= 2, "an integer >= 2")
        self._require("step", isinstance(self.step, int) and self.step >= 1, "an integer >= 1")
        self._require("lambda_l", self.lambda_l > 0, "a float > 0")
        self._require("tol", self.tol > 0, "a float > 0")
        self._require("max_iter", isinstance(self.max_iter, int) and self.max_iter >= 1, "an integer >= 1")
        self._require("rho", self.rho >= 1, "a float >= 1")
        self._require("mu0", self.mu0 > 0, "a float > 0")
        self._require("mu_max", self.mu_max >= self.mu0, "a float >= mu0")
        self._require("rank_ratio", 0 < self.rank_ratio < 1, "a float in (0, 1)")
        self._require("input_scale", self.input_scale > 0, "a float > 0")
        self._require("fusion", self.fusion in FUSIONS, f"one of {list(FUSIONS)}")


@dataclass(frozen=True)
class PSTNNResult:
    """Output of `pstnn` for one frame: maps in ``input_scale`` units and solver facts."""

    target: np.ndarray
    background: np.ndarray
    iterations: int
    rank_n: int
    converged: bool


def estimate_rank(tensor: np.ndarray, ratio: float) -> int:
    """PSTNN's N: leading singular values of ``reshape(D, n3, [])`` before the first ``< ratio * s_max``.

    The reshape is MATLAB's column-major one (not a mode-3 unfolding). When no
    singular value falls below the ratio, all are kept; an all-zero tensor gives 1.
    """
    n3 = tensor.shape[2]
    s = np.linalg.svd(tensor.reshape((n3, -1), order="F"), compute_uv=False)
    if s[0] <= 0:
        return 1
    below = np.flatnonzero(s / s[0] < ratio)
    if below.size == 0:
        return len(s)
    return max(int(below[0]), 1)


def trpca_pstnn(
    data: np.ndarray, weight_prior: np.ndarray, lam: float, cfg: PSTNNConfig
) -> tuple[np.ndarray, np.ndarray, int, int, bool]:
    """ADMM for PSTNN on a patch tensor; returns (B, T, iterations, N, converged).

    Notes
    -----
    The target step is the non-negative weighted soft threshold
    ``max(R - w * lam / mu, 0)``. A weight that is infinite (prior 0) or NaN
    (prior 0/0 on flat areas, kept NaN as MATLAB's ``mat2gray`` does) forces
    the entry to 0, which is what MATLAB's NaN-ignoring ``max``/``min`` give.
    """
    n_keep = estimate_rank(data, cfg.rank_ratio)

    def low_step(t: np.ndarray, tau: float) -> np.ndarray:
        return tnn_prox(t, tau, axis=-1, n_keep=n_keep, solver="svd")[0]

    def reweight(target: np.ndarray, _active: np.ndarray) -> np.ndarray:
        return n_keep / (np.abs(target) + 0.01) / weight_prior

    low, sparse, its, converged = trpca_admm(data[None], lam, cfg, low_step, reweight)
    return low[0], sparse[0], int(its[0]), n_keep, bool(converged[0])


def pstnn(frame: np.ndarray, cfg: PSTNNConfig) -> PSTNNResult:
    """PSTNN on one frame in [0, 1].

    Parameters
    ----------
    frame : ndarray of shape (H, W)
        At least ``patch_size`` pixels on each side.
    cfg : PSTNNConfig

    Returns
    -------
    PSTNNResult
        Target and background maps of shape (H, W), in ``cfg.input_scale`` units.
    """
    img = np.asarray(frame, dtype=np.float64) * cfg.input_scale
    h, w = img.shape
    if cfg.patch_size > min(h, w):
        raise DataError(
            f"PSTNN needs frames of at least {cfg.patch_size}x{cfg.patch_size} pixels (patch_size); got {h}x{w}."
        )
    grid = make_grid(img.shape, cfg.patch_size, cfg.step, border=True, row_fastest=True)
    data = extract_patches(img, grid)
    prior = extract_patches(corner_prior(img), grid)
    n1, n2, n3 = data.shape
    lam = cfg.lambda_l / np.sqrt(max(n1, n2) * n3)
    low, sparse, iterations, rank_n, converged = trpca_pstnn(data, prior, lam, cfg)
    if not converged:
        log.debug("PSTNN stopped at max_iter=%d before reaching tol=%g", cfg.max_iter, cfg.tol)
    return PSTNNResult(
        target=fuse_patches(sparse, grid, cfg.fusion),
        background=fuse_patches(low, grid, cfg.fusion),
        iterations=iterations,
        rank_n=rank_n,
        converged=converged,
    )


@register("pstnn")
class PSTNN(SingleFrameMethod):
    """Partial-sum tensor nuclear norm with a local structure-tensor prior (single-frame).

    Presets: ``paper`` is the seed paper's Table 2 (40x40 patches, step 40,
    lambda = 1/sqrt(max(n1, n2) * n3), i.e. L = 1) with the original
    repository's tol 1e-3 and its stop on an unchanged target support
    (``original`` keeps that repository's L = 0.7); ``tensoristd`` is the TensorISTD toolbox's
    ``PSTNN.m`` (10x10 patches, step 10, L = 0.9, tol 1e-4, no support stop),
    which produced the reference maps. Both scale the input to 0..255 and fuse
    with "last patch wins", as the MATLAB codes do; the target map is in those
    units. 8-bit input is snapped back to exact ``k/255`` (`snap_to_8bit`) so
    that the ADMM takes MATLAB's path.

    References
    ----------
    Zhang, L., Peng, Z. "Infrared small target detection based on partial sum
    of the tensor nuclear norm", Remote Sensing 11(4), 382, 2019.
    """

    config_cls = PSTNNConfig
    presets: ClassVar[dict[str, MethodConfig]] = {
        "paper": PSTNNConfig(lambda_l=1.0),
        "original": PSTNNConfig(),
        "tensoristd": PSTNNConfig(patch_size=10, step=10, lambda_l=0.9, tol=1e-4, nnz_stop=False),
    }
    default_preset = "paper"
    display_name = "PSTNN"
    cite_key = "zhang2019pstnn"
    paper_order = 30
    category = "Optim."
    citation = (
        "L. Zhang and Z. Peng, 'Infrared small target detection based on partial sum of the tensor nuclear "
        "norm', Remote Sensing, vol. 11, no. 4, p. 382, 2019."
    )

    def detect_frame(self, frame: np.ndarray) -> RawOutput:
        res = pstnn(snap_to_8bit(frame), self.config)  # type: ignore[arg-type]
        diagnostics = {"iterations": res.iterations, "rank_n": res.rank_n, "converged": res.converged}
        return RawOutput(target=res.target, background=res.background, diagnostics=diagnostics)
