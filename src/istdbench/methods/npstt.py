"""NPSTT: non-overlapping patch spatial-temporal tensor with the capped nuclear norm (Wang et al., 2021).

Each frame is cut into large patches that (almost) do not overlap. For frame t
and each patch location, the patches at that location and its (2k+1)^2
neighbouring locations in frames t-r..t+r are the frontal slices of a tensor
X (n1 x n2 x n3, n3 = (2r+1)(2k+1)^2). X is split into a low-rank background
L and a sparse, non-negative target S:

    min ||L||_capped + lambda ||S||_1   s.t.  X = L + S,  S >= 0,

where the capped nuclear norm penalises only the singular values of each
Fourier slice beyond the N_i largest (tensor capped singular value
thresholding, t-CSVT). N_i is re-estimated at every iteration from the
background itself. Solved by ADMM; the target patch of frame t at the centre
location is its map there, and the patches are fused by their mean.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from istdbench.core.config import MethodConfig
from istdbench.core.method import Method, RawOutput
from istdbench.core.registry import register

from ._numerics import snap_to_8bit, tnn_prox
from ._trpca import trpca_admm
from .stt import STTResult, WindowTensorConfig, window_tensors_rpca

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NPSTTConfig(WindowTensorConfig):
    """Settings of NPSTT (defaults: the authors' code, which are also the seed paper's Table 2).

    The patch grid, window and ADMM settings are `WindowTensorConfig`'s, with
    NPSTT's defaults: 70 x 70 patches at stride 70 (non-overlapping; a last
    patch aligned with the bottom/right edge overlaps its neighbour), tol 1e-2,
    mu0 1e-3; ``lam`` None gives ``1/sqrt(max(n1, n2) n3)``. NPSTT adds:

    Attributes
    ----------
    cap_threshold : float
        N_i = the number of singular values above this of the background's
        i-th frontal slice (in ``input_scale`` units).
    """

    patch_size: int = 70
    step: int = 70
    tol: float = 1e-2
    mu0: float = 1e-3
    cap_threshold: float = 3.0

    def validate(self) -> None:
        super().validate()
        self._require("cap_threshold", self.cap_threshold >= 0, "a float >= 0")

    def lambda_value(self) -> float:
        """The l1 weight these settings give (the authors' ``1/sqrt(9 * 7 * 70)`` at the defaults)."""
        if self.lam is not None:
            return float(self.lam)
        return 1.0 / np.sqrt(self.patch_size * self.n_slices)


def cap_counts(low: np.ndarray, threshold: float) -> np.ndarray:
    """N for the next t-CSVT: per tensor and Fourier slice, how many leading singular values stay unshrunk.

    The original counts the singular values above ``threshold`` of the first
    ``n3 // 2 + 1`` *spatial* frontal slices of L (not of its Fourier
    slices) and uses count i for Fourier slice i; for an even n3 the middle
    Fourier slice takes count 2 (MATLAB ``N(1, 2)``). Kept as it is.

    Parameters
    ----------
    low : ndarray of shape (B, n3, n1, n2)
    threshold : float

    Returns
    -------
    ndarray of int, shape (B, n3 // 2 + 1)
    """
    n3 = low.shape[1]
    n_counted = (n3 + 1) // 2  # Fourier slices 1..round(n3/2) in MATLAB's numbering
    a = low[:, :n_counted]
    gram = np.swapaxes(a, -1, -2) @ a if a.shape[-2] >= a.shape[-1] else a @ np.swapaxes(a, -1, -2)
    counts = (np.linalg.eigvalsh(gram) > threshold * threshold).sum(axis=-1)
    if n3 % 2 == 0:
        counts = np.concatenate([counts, counts[:, 1:2]], axis=1)
    return counts


class _CappedLowStep:
    """t-CSVT as a `trpca_admm` low step: keeps each active tensor's N between iterations."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.n_keep: np.ndarray | None = None

    def __call__(self, t: np.ndarray, tau: float) -> np.ndarray:
        if self.n_keep is None:  # N starts at 1 for every Fourier slice
            self.n_keep = np.ones((len(t), t.shape[1] // 2 + 1), dtype=np.int64)
        low, _ = tnn_prox(t, tau, axis=1, n_keep=self.n_keep)
        self.n_keep = cap_counts(low, self.threshold)
        return low

    def leave(self, keep: np.ndarray) -> None:
        if self.n_keep is not None:
            self.n_keep = self.n_keep[keep]


def tcsvt(data: np.ndarray, lam: float, cfg: NPSTTConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ADMM with tensor capped singular value thresholding for a batch of tensors, each stopped by its own rule.

    Parameters
    ----------
    data : ndarray of shape (B, n3, n1, n2)
        B independent tensors, frontal slices along axis 1.
    lam : float
        Weight of the l1 term.
    cfg : NPSTTConfig
        Solver settings (cap_threshold, tol, max_iter, rho, mu0, mu_max, nnz_stop).

    Returns
    -------
    low, sparse : ndarray of shape (B, n3, n1, n2)
        Background and non-negative target of each tensor.
    iterations : ndarray of int, shape (B,)
        Iterations each tensor took (0 for an all-zero tensor).

    Notes
    -----
    One iteration, as in the authors' ``tCSVT.m`` (N starts at 1 per slice)::

        L = t-CSVT(X - S - Y/mu; N, 1/mu)     keep N_i, shrink the rest by 1/mu
        N = cap_counts(L)
        S = max(X - L - Y/mu - lambda/mu, 0)
        stop if ||L + S - X|| / ||X|| < tol or #(S > 0) unchanged and > 0
        Y = Y + mu (L + S - X),  mu = min(rho mu, mu_max)

    This is the suite's shared solver (`trpca_admm`, as STT and PSTNN) with
    the capped low step; all tensors of a batch share mu.
    """
    step = _CappedLowStep(cfg.cap_threshold)
    low, sparse, iterations, _ = trpca_admm(data, lam, cfg, step, on_leave=step.leave)
    return low, sparse, iterations


def npstt(frames: np.ndarray, cfg: NPSTTConfig) -> STTResult:
    """NPSTT on a sequence: `window_tensors_rpca` with the capped nuclear norm, centred windows."""
    r = cfg.frame_radius
    return window_tensors_rpca(frames, cfg, "NPSTT", list(range(-r, r + 1)), "centre", tcsvt)


@register("npstt")
class NPSTT(Method):
    """Non-overlapping patch spatial-temporal tensor with capped nuclear norm (multi-frame).

    Presets
    -------
    ``paper``
        The seed paper's Table 2 (70x70 patches, p = 3 frames on each side,
        lambda = 1/sqrt(max(n1, n2) n3), mu0 = alpha = 1e-3), which are also
        the defaults of the authors' code (``constructNPSTT.m`` and
        ``tCSVT.m`` by G. Wang, as bundled in the TensorISTD toolbox's first
        commit): 3x3 neighbouring patches (70x70x63 tensors), lambda =
        1/sqrt(9 * 7 * 70), N-threshold 3, tol 1e-2, 500 iterations, rho
        1.05, mu_max 1e10, the stop on an unchanged count of positive target
        entries, mean fusion, input in 0..255. The Octave reference maps come
        from this code. There is no separate ``original`` preset: it would be
        the same.

    Choices the original leaves open, and what we did:

    - Frames within r of either end: the original computes frames r+1..T-r
      only. They take their maps from the first / last window (the centre
      patch of their own frame there), as the toolbox's 2025 rewrite does.
    - Neighbours past the grid's border repeat the edge patch, and the last
      patch row/column is flush with the bottom/right edge (the original's
      grid); on a 256x256 frame the patches start at 0, 70, 140, 186.
    - N is counted on the background's spatial slices and applied to the
      Fourier slices with the same index (see `cap_counts`), as in the code.
    - An all-zero tensor is its own solution (L = S = 0; the original would
      divide 0 by 0 in its stopping rule).

    The toolbox's 2025 ``NPSTT.m`` rewrite differs (lambda 0.5/sqrt(9*7*70)
    and a frame loop t-3..t that leaves 27 of the 63 slices zero); it is not
    offered.

    The sequence must have at least 2 r + 1 = 7 frames (fewer raise
    `InvalidParameterError`), frames at least ``patch_size`` pixels on each
    side (`DataError`). Constant frames give an all-zero target (the
    background absorbs them). The target map is in 0..255 units. 8-bit input
    is snapped to exact ``k/255``. Many maps come out all zero (7 of the 14
    reference frames): on daub/sequence1 every tensor stops after 3-4
    iterations, when 1/mu is still ~900, so the capped thresholding leaves
    the background nearly all of the data and the target often nothing.

    References
    ----------
    Wang, G., Tao, B., Kong, X., Peng, Z. "Infrared small target detection
    using nonoverlapping patch spatial-temporal tensor factorization with
    capped nuclear norm regularization", IEEE Transactions on Geoscience and
    Remote Sensing 60, 1-17, 2021.
    """

    kind = "multi-frame"
    config_cls = NPSTTConfig
    presets: ClassVar[dict[str, MethodConfig]] = {"paper": NPSTTConfig()}
    default_preset = "paper"
    display_name = "NPSTT"
    cite_key = "wang2023npstt"
    paper_order = 60
    category = "Optim."
    citation = (
        "G. Wang, B. Tao, X. Kong and Z. Peng, 'Infrared small target detection using nonoverlapping patch "
        "spatial-temporal tensor factorization with capped nuclear norm regularization', IEEE Trans. Geoscience "
        "and Remote Sensing, vol. 60, pp. 1-17, 2021."
    )

    def min_frames(self) -> int:
        return 2 * self.config.frame_radius + 1  # type: ignore[attr-defined]

    def _detect(self, frames: np.ndarray) -> RawOutput:
        res = npstt(snap_to_8bit(frames), self.config)  # type: ignore[arg-type]
        diagnostics = {"mean_iterations": res.mean_iterations, "max_iterations": res.max_iterations}
        return RawOutput(target=res.target, background=res.background, diagnostics=diagnostics)
