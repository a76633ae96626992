"""IPI: the infrared patch-image model (Gao et al., 2013).

A frame is cut into overlapping patches; each patch, vectorised, is a column
of the patch image D, which is split into a low-rank background A and a sparse
target E by robust PCA,

    min ||A||_* + lambda ||E||_1   s.t.  D = A + E,

solved by the accelerated proximal gradient (APG) method with continuation on
the penalty mu. The target patches are fused back into a frame by the
per-pixel median over the patches covering it, and negative values are set to
zero.
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

from ._numerics import mat2gray, snap_to_8bit, soft_threshold, svt_gram
from ._patches import extract_patches, fuse_patches, make_grid

log = logging.getLogger(__name__)

LIPSCHITZ = 2.0
"""tau_0 of the APG code: the Lipschitz constant of the gradient of ||A + E - D||^2 / 2 in (A, E)."""

LambdaRule = Literal["image_max", "patch_image_min", "patch_image_max"]


@dataclass(frozen=True)
class IPIConfig(MethodConfig):
    """Settings of IPI (defaults: the seed paper's Table 2; see `IPI` for the presets).

    Attributes
    ----------
    patch_size, step : int
        Patch side and stride. As in Gao's code there is no extra patch flush
        with the bottom/right edge, so up to ``step - 1`` rows/columns there
        are covered by no patch and stay 0.
    lambda_rule : {"image_max", "patch_image_min", "patch_image_max"}
        ``lambda = 1/sqrt(max(H, W))`` of the frame (Gao's code and the
        toolbox), ``1/sqrt(min(m, n))`` of the m x n patch image (the seed
        paper's Table 2), or ``1/sqrt(max(m, n))`` of the patch image (the
        robust-PCA default of Candes et al.).
    lam : float, optional
        An explicit lambda; overrides ``lambda_rule``.
    tol : float
        APG stops when its relative optimality residual is <= tol.
    max_iter : int
        APG iteration cap.
    mu_decay, mu_floor : float
        Continuation: mu starts at the 2nd singular value of D and shrinks by
        ``mu_decay`` per iteration down to ``mu_floor`` times the 4th.
    rank_cap : float
        Stop once rank(A) exceeds ``rank_cap * min(m, n)`` (Gao's truncation).
    stall_iters, stall_card : int
        Stop once rank(A) has been unchanged for more than ``stall_iters``
        iterations and |E|_0 moved by fewer than ``stall_card`` entries since
        the rank last changed.
    """

    patch_size: int = 30
    step: int = 10
    lambda_rule: LambdaRule = "patch_image_min"
    lam: float | None = None
    tol: float = 1e-6
    max_iter: int = 1000
    mu_decay: float = 0.9
    mu_floor: float = 0.005
    rank_cap: float = 0.3
    stall_iters: int = 10
    stall_card: int = 20

    def validate(self) -> None:
        self._require("patch_size", isinstance(self.patch_size, int) and self.patch_size >= 2, "an integer >= 2")
        self._require("step", isinstance(self.step, int) and self.step >= 1, "an integer >= 1")
        rules = ("image_max", "patch_image_min", "patch_image_max")
        self._require("lambda_rule", self.lambda_rule in rules, f"one of {list(rules)}")
        self._require("lam", self.lam is None or self.lam > 0, "None or a float > 0")
        self._require("tol", self.tol > 0, "a float > 0")
        self._require("max_iter", isinstance(self.max_iter, int) and self.max_iter >= 1, "an integer >= 1")
        self._require("mu_decay", 0 < self.mu_decay <= 1, "a float in (0, 1]")
        self._require("mu_floor", self.mu_floor > 0, "a float > 0")
        self._require("rank_cap", 0 < self.rank_cap <= 1, "a float in (0, 1]")
        self._require("stall_iters", isinstance(self.stall_iters, int) and self.stall_iters >= 1, "an integer >= 1")
        self._require("stall_card", isinstance(self.stall_card, int) and self.stall_card >= 0, "an integer >= 0")


@dataclass(frozen=True)
class APGResult:
    """Low-rank and sparse parts of the patch image and how the solver ended."""

    low_rank: np.ndarray
    sparse: np.ndarray
    iterations: int
    rank: int
    stop: str


def apg_rpca(data: np.ndarray, lam: float, cfg: IPIConfig) -> APGResult:
    """Robust PCA of a patch image by APG with continuation, with the stopping rules of Gao's ``APG_IR.m``.

    Parameters
    ----------
    data : ndarray of shape (m, n)
        The (min-max scaled) patch image.
    lam : float
        Weight of the l1 term.
    cfg : IPIConfig
        Tolerance, iteration cap, continuation and stall rules.

    Notes
    -----
    One step from the extrapolated point (Y_A, Y_E), t_k the Nesterov sequence:

        G = (Y_A + Y_E - D) / tau,   A+ = SVT(Y_A - G, mu/tau),   E+ = soft(Y_E - G, lambda mu/tau),

    then ``mu <- max(mu_decay mu, mu_floor s_4(D))``. The rules of the original
    code are kept in its order: the residual test, the stall test (rank
    unchanged and |E|_0 settled) and the rank cap are checked after the
    iterate has been accepted, so the returned pair is the last one computed.
    """
    m, n = data.shape
    s = np.linalg.svd(data, compute_uv=False)
    s = np.pad(s, (0, max(0, 4 - len(s))))  # degenerate (tiny) patch images: missing values are 0
    mu, mu_bar = s[1], cfg.mu_floor * s[3]
    a_k = np.zeros_like(data)
    e_k = np.zeros_like(data)
    a_prev, e_prev = a_k, e_k
    t_k = t_prev = 1.0
    pre_rank, pre_card, unchanged = 0, 0, 0
    stop = "max_iter"
    for it in range(1, cfg.max_iter + 1):  # noqa: B007  (the count is returned)
        beta = (t_prev - 1.0) / t_k
        y_a = a_k + beta * (a_k - a_prev)
        y_e = e_k + beta * (e_k - e_prev)
        grad = (y_a + y_e - data) / LIPSCHITZ
        a_new, ranks = svt_gram(y_a - grad, mu / LIPSCHITZ)
        e_new = soft_threshold(y_e - grad, lam * mu / LIPSCHITZ)
        rank, card = int(ranks), int(np.count_nonzero(e_new))
        # optimality residual of the step, as in APG_IR.m
        shift = a_new + e_new - y_a - y_e
        res_a = LIPSCHITZ * (y_a - a_new) + shift
        res_e = LIPSCHITZ * (y_e - e_new) + shift
        size = np.sqrt(np.sum(a_new * a_new) + np.sum(e_new * e_new))
        crit = np.sqrt(np.sum(res_a * res_a) + np.sum(res_e * res_e)) / (LIPSCHITZ * max(1.0, size))
        mu = max(cfg.mu_decay * mu, mu_bar)
        t_prev, t_k = t_k, 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t_k * t_k))
        a_prev, e_prev, a_k, e_k = a_k, e_k, a_new, e_new
        if crit <= cfg.tol:
            stop = "tol"
        if rank == pre_rank:
            unchanged += 1
            if unchanged > cfg.stall_iters and abs(card - pre_card) < cfg.stall_card:
                stop = "stall"
        else:
            unchanged, pre_card = 0, card
        pre_rank = rank
        if rank > cfg.rank_cap * min(m, n):
            stop = "rank_cap"
        if stop != "max_iter":
            break
    return APGResult(low_rank=a_k, sparse=e_k, iterations=it, rank=rank, stop=stop)


def ipi_lambda(cfg: IPIConfig, frame_shape: tuple[int, int], patch_image_shape: tuple[int, int]) -> float:
    """The l1 weight that ``cfg`` asks for, given the frame and patch-image sizes."""
    if cfg.lam is not None:
        return float(cfg.lam)
    if cfg.lambda_rule == "image_max":
        return 1.0 / np.sqrt(max(frame_shape))
    if cfg.lambda_rule == "patch_image_min":
        return 1.0 / np.sqrt(min(patch_image_shape))
    return 1.0 / np.sqrt(max(patch_image_shape))


@dataclass(frozen=True)
class IPIResult:
    """Output of `ipi` for one frame."""

    target: np.ndarray
    background: np.ndarray
    sparse: np.ndarray
    lam: float
    iterations: int
    rank: int
    stop: str


def ipi(frame: np.ndarray, cfg: IPIConfig) -> IPIResult:
    """IPI on one frame.

    Parameters
    ----------
    frame : ndarray of shape (H, W)
        Intensities; at least ``patch_size`` pixels on each side.
    cfg : IPIConfig

    Returns
    -------
    IPIResult
        ``target = max(E, 0)`` and ``background`` (median-fused A), both in the
        units of the min-max scaled patch image; ``sparse`` is the signed E.
    """
    img = np.asarray(frame, dtype=np.float64)
    h, w = img.shape
    if cfg.patch_size > min(h, w):
        raise DataError(
            f"IPI needs frames of at least {cfg.patch_size}x{cfg.patch_size} pixels (patch_size); got {h}x{w}."
        )
    grid = make_grid(img.shape, cfg.patch_size, cfg.step, border=False, row_fastest=False)
    p = cfg.patch_size
    patches = extract_patches(img, grid)
    data = mat2gray(patches.reshape(p * p, -1, order="F"))
    lam = ipi_lambda(cfg, (h, w), data.shape)
    res = apg_rpca(data, lam, cfg)
    if res.stop == "max_iter":
        log.debug("IPI: APG reached max_iter=%d before any stopping rule", cfg.max_iter)
    sparse = fuse_patches(res.sparse.reshape(p, p, -1, order="F"), grid, "median")
    background = fuse_patches(res.low_rank.reshape(p, p, -1, order="F"), grid, "median")
    return IPIResult(
        target=np.maximum(sparse, 0.0),
        background=background,
        sparse=sparse,
        lam=lam,
        iterations=res.iterations,
        rank=res.rank,
        stop=res.stop,
    )


@register("ipi")
class IPI(SingleFrameMethod):
    """Infrared patch-image model: robust PCA of a patch image by APG (single-frame).

    Presets
    -------
    ``paper``
        The seed paper's Table 2: 30x30 patches, step 10, lambda =
        1/sqrt(min(m, n)) of the m x n patch image (900 x 529 at 256x256, so
        lambda = 0.0435). Gao et al.'s own code uses 1/sqrt(max(H, W)) of the
        frame instead (0.0625 at 256x256); that rule is ``lambda_rule=image_max``.
    ``tensoristd``
        The TensorISTD toolbox's ``IPI.m``, which produced the reference maps:
        60x60 patches, step 25, lambda = 1/sqrt(max(H, W)).

    Both keep Gao's APG (tol 1e-6, 1000 iterations, mu from s_2 down to
    0.005 s_4, its stall and rank-cap stops), the min-max scaling of the patch
    image, the missing border patch and the median fusion. The target map is
    ``max(E, 0)`` in patch-image units (Gao's demo rescales E to 8 bits; the
    toolbox clamps, as here). 8-bit input is snapped to exact ``k/255``.

    References
    ----------
    Gao, C., Meng, D., Yang, Y., Wang, Y., Zhou, X., Hauptmann, A. G. "Infrared
    patch-image model for small target detection in a single image", IEEE
    Transactions on Image Processing 22(12), 4996-5009, 2013.
    """

    config_cls = IPIConfig
    presets: ClassVar[dict[str, MethodConfig]] = {
        "paper": IPIConfig(),
        "tensoristd": IPIConfig(patch_size=60, step=25, lambda_rule="image_max"),
    }
    default_preset = "paper"
    display_name = "IPI"
    cite_key = "gao2013ipi"
    paper_order = 20
    category = "Optim."
    citation = (
        "C. Gao, D. Meng, Y. Yang, Y. Wang, X. Zhou and A. G. Hauptmann, 'Infrared patch-image model for small "
        "target detection in a single image', IEEE Trans. Image Processing, vol. 22, no. 12, pp. 4996-5009, 2013."
    )

    def detect_frame(self, frame: np.ndarray) -> RawOutput:
        res = ipi(snap_to_8bit(frame), self.config)  # type: ignore[arg-type]
        diagnostics = {"iterations": res.iterations, "rank": res.rank, "stop": res.stop}
        return RawOutput(target=res.target, background=res.background, diagnostics=diagnostics)
