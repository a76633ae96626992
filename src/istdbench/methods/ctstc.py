"""CTSTC: clustering and tracking-guided spatial-temporal small target detection (Luo et al., 2024).

The sequence is processed in overlapping windows of 2f + 1 slices (f = 3):
the first f slices are the target maps found for the previous window's last f
frames ("tracking"), the last f + 1 are high-pass filtered frames (a Gaussian
notch on the spectrum's centre). Each window tensor D is split by ADMM into a
background B, a target T and noise N:

- the background's auxiliary Y1 is shifted by a score from a weighted k-means
  of its pixels ("clustering": K = the number of slices);
- T is a reweighted, halved l1 shrinkage, kept non-negative;
- the target's auxiliary Y2 is propagated slice to slice from pixels whose
  Gaussian curvature (of the Gaussian-smoothed T) is near the maximum;
- N is a ridge step; the penalty mu shrinks by gamma = 0.5 per iteration.

A frame's map is the sum of its target slice in two consecutive windows. The
original is the authors' MATLAB code (github.com/Andro-svg/CTSTC, ``main.m``,
``target_detection.m``, ``LRSD.m``, ``utils/``, commit 1f43431); this port
follows it step for step, and `CTSTC` lists what it leaves open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from scipy.ndimage import correlate

from istdbench.core.config import MethodConfig
from istdbench.core.errors import DataError
from istdbench.core.method import Method, RawOutput
from istdbench.core.registry import register

from ._numerics import fspecial_gaussian, snap_to_8bit

log = logging.getLogger(__name__)

Draw = Callable[[int, int], np.ndarray]
"""``draw(n, k)``: k distinct zero-based indices out of n (the k-means start)."""


@dataclass(frozen=True)
class CTSTCConfig(MethodConfig):
    """Settings of CTSTC (defaults: the original ``main.m`` / ``target_detection.m``; see `CTSTC` for the presets).

    Attributes
    ----------
    frame_step : int
        f: prior target slices per window, and the step between windows (f + 1 new frames each).
    lambda_l : float
        lambda_L in lambda_1 (the target's l1 weight), see ``lambda_rule``.
    lambda_rule : {"original", "paper"}
        ``original``: ``lambda_1 = lambda_L / (sqrt(max(H, W)) n3)`` (the code);
        ``paper``: ``lambda_L / sqrt(max(H, W) n3)`` (the seed paper's Table 2); n3 = 2f + 1.
    lambda2_ratio, lambda3_ratio : float
        lambda_2 (noise) and lambda_3 (tracking term) as multiples of lambda_1.
    mu0, gamma, mu_max : float
        Initial penalty, its factor per iteration (0.5: it shrinks) and its cap.
    tol : float
        Stop when ``||D - B - T - N|| / ||D|| < tol`` or B or T moves less than tol.
    max_iter : int
        ADMM iteration cap.
    rank_ratio : float
        ``per``: K = the index before the first singular value of the unfolded
        window above ``rank_ratio`` times its predecessor, else the number of slices.
    kmeans_local, kmeans_global : float
        Weights of a cluster's own mean and of the global mean in the k-means centre update.
    kmeans_iter, kmeans_tol : int, float
        k-means iteration cap and centre-change tolerance.
    reweight_eps : float
        The target weights are ``1 / (|T| + reweight_eps)``.
    curvature_size, curvature_sigma, curvature_ratio : int, float, float
        Gaussian pre-smoothing of T for the curvature, and the share of the
        maximum curvature above which a pixel enters the tracking mask.
    filter_sigma : float
        Width of the Gaussian removed from the spectrum's centre.
    transition : {"auto", "matrix", "elementwise"}
        How the previous slice's mask Z and auxiliary Y2 combine in the Y2 step:
        ``matrix`` is the original's matrix product ``Z_{t-1} Y2_{t-1}`` (square
        frames only), ``elementwise`` their element-wise product, ``auto`` the
        first for square frames and the second otherwise.
    input_scale : float
        Frames are multiplied by this first (the original reads 8-bit images);
        the maps are in these units.
    seed : int
        Seed of the k-means starts (random in the original too).
    """

    frame_step: int = 3
    lambda_l: float = 30.0
    lambda_rule: Literal["original", "paper"] = "original"
    lambda2_ratio: float = 80.0
    lambda3_ratio: float = 10.0
    mu0: float = 0.01
    gamma: float = 0.5
    mu_max: float = 1e5
    tol: float = 1e-4
    max_iter: int = 100
    rank_ratio: float = 1.0
    kmeans_local: float = 0.4
    kmeans_global: float = 0.6
    kmeans_iter: int = 100
    kmeans_tol: float = 1e-6
    reweight_eps: float = 0.001
    curvature_size: int = 3
    curvature_sigma: float = 2.0
    curvature_ratio: float = 0.9
    filter_sigma: float = 40.0
    transition: Literal["auto", "matrix", "elementwise"] = "auto"
    input_scale: float = 255.0
    seed: int = 0

    def validate(self) -> None:
        self._require("frame_step", isinstance(self.frame_step, int) and self.frame_step >= 1, "an integer >= 1")
        for name in ("lambda_l", "lambda2_ratio", "lambda3_ratio", "mu0", "gamma", "mu_max", "tol"):
            self._require(name, getattr(self, name) > 0, "a float > 0")
        for name in ("kmeans_tol", "reweight_eps", "curvature_sigma", "filter_sigma", "input_scale", "rank_ratio"):
            self._require(name, getattr(self, name) > 0, "a float > 0")
        self._require("max_iter", isinstance(self.max_iter, int) and self.max_iter >= 1, "an integer >= 1")
        self._require("kmeans_iter", isinstance(self.kmeans_iter, int) and self.kmeans_iter >= 1, "an integer >= 1")
        self._require("kmeans_local", 0 <= self.kmeans_local <= 1, "a float in [0, 1]")
        self._require(
            "kmeans_global", 0 <= self.kmeans_global <= 1 - self.kmeans_local, "a float in [0, 1 - kmeans_local]"
        )
        self._require(
            "curvature_size",
            isinstance(self.curvature_size, int) and self.curvature_size >= 1,
            "an integer >= 1",
        )
        self._require("curvature_ratio", self.curvature_ratio > 0, "a float > 0")
        self._require("seed", isinstance(self.seed, int) and self.seed >= 0, "an integer >= 0")

    @property
    def n_slices(self) -> int:
        """n3 = 2 f + 1 slices per window."""
        return 2 * self.frame_step + 1

    def lambda1(self, shape: tuple[int, int]) -> float:
        """lambda_1 for frames of ``shape`` (H, W)."""
        if self.lambda_rule == "original":
            return self.lambda_l / (float(np.sqrt(max(shape))) * self.n_slices)
        return self.lambda_l / float(np.sqrt(max(shape) * self.n_slices))


def highpass(img: np.ndarray, sigma: float) -> np.ndarray:
    """The original's ``DesignedFilter``: the spectrum times ``1 - exp(-r^2 / (2 sigma^2))`` about its centre.

    The original's grid is ``-128:127`` (256 x 256 frames only); here it is
    ``-floor(n/2) .. n - 1 - floor(n/2)`` per axis, the same for 256.
    """
    h, w = img.shape
    y = np.arange(h) - h // 2
    x = np.arange(w) - w // 2
    g = np.exp(-(x[None, :] ** 2 + y[:, None] ** 2) / (2.0 * sigma**2))
    filt = 1.0 - g / g.max()
    return np.real(np.fft.ifft2(np.fft.fft2(img) * np.fft.ifftshift(filt)))


def cluster_means(features: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """MATLAB's ``mean(features(idx == i, :))`` for every cluster i.

    An empty cluster gives NaN and a one-row cluster the mean of that row's
    entries (MATLAB's ``mean`` of a row vector), as the original meets them.
    The sums run over the rows in order, as MATLAB's do.
    """
    counts = np.bincount(idx, minlength=k)
    sums = np.stack([np.bincount(idx, weights=features[:, j], minlength=k) for j in range(features.shape[1])], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    for i in np.flatnonzero(counts == 1):
        row = features[idx == i][0]
        means[i] = row.sum() / row.size
    return means


def nearest_centre(features: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of every row (Euclidean; ties to the lowest index; NaN centres lose)."""
    d = np.sqrt(np.sum((features[:, None, :] - centres[None, :, :]) ** 2, axis=2))
    d[np.isnan(d)] = np.inf
    return np.argmin(d, axis=1)


def weighted_kmeans(features: np.ndarray, start: np.ndarray, cfg: CTSTCConfig) -> np.ndarray:
    """The original's ``improved_kmeans``: k-means whose centres move to a blend of their own and the global mean.

    ``start`` are the rows that give the initial centres. Returns the zero-based
    cluster of every row. A centre of an empty cluster is NaN and stays NaN, so
    the original's tolerance is then never met and it runs all its iterations;
    once the assignment and the centres repeat, every later iteration would
    repeat them too, so we stop there with the same result.
    """
    k = len(start)
    centres = features[start].copy()
    prev = centres.copy()
    global_mean = features.sum(axis=0) / features.shape[0]
    keep = 1.0 - cfg.kmeans_local - cfg.kmeans_global
    idx = np.zeros(len(features), dtype=np.int64)
    last_idx = None
    for _ in range(cfg.kmeans_iter):
        idx = nearest_centre(features, centres)
        local = cluster_means(features, idx, k)
        centres = cfg.kmeans_local * local + cfg.kmeans_global * global_mean + keep * prev
        if np.linalg.norm(centres - prev) < cfg.kmeans_tol:
            break
        if last_idx is not None and np.array_equal(idx, last_idx) and np.array_equal(centres, prev, equal_nan=True):
            break
        last_idx = idx
        prev = centres.copy()
    return idx


def cluster_scores(y1: np.ndarray, k: int, start: np.ndarray, cfg: CTSTCConfig) -> list[float]:
    """The scalars the original adds to Y1, one per cluster: share x (cluster norm / variance of the norms)."""
    flat = y1.reshape(-1, y1.shape[2], order="F")  # MATLAB reshape(Y1, [], n3)
    idx = weighted_kmeans(flat, start, cfg)
    norms = np.array([np.linalg.norm(flat[idx == i]) for i in range(k)])
    between = np.var(norms, ddof=1) if k > 1 else 0.0  # MATLAB's var of one value is 0 (then Y1 becomes inf)
    return [(np.count_nonzero(idx == i) / len(flat)) * (norms[i] / between) for i in range(k)]


def curvature_mask(t: np.ndarray, cfg: CTSTCConfig) -> np.ndarray:
    """Pixels whose |Gaussian curvature| of the smoothed slice exceeds ``ratio`` x the window's maximum curvature."""
    kernel = fspecial_gaussian(cfg.curvature_size, cfg.curvature_sigma)
    gcc = np.empty(t.shape)
    for k in range(t.shape[2]):
        u = correlate(t[:, :, k], kernel, mode="reflect")
        gy, gx = np.gradient(u)
        gxy, gxx = np.gradient(gx)
        gyy, gyx = np.gradient(gy)
        gcc[:, :, k] = (gxx * gyy - gxy * gyx) / (1.0 + gx * gx + gy * gy)
    return (np.abs(gcc) > cfg.curvature_ratio * gcc.max()).astype(np.float64)


def estimate_k(d: np.ndarray, ratio: float) -> int:
    """K: the index before the first singular value above ``ratio`` x its predecessor, else the slice count."""
    s = np.linalg.svd(d.reshape(-1, d.shape[2], order="F"), compute_uv=False)
    for i in range(1, len(s)):
        if s[i] > ratio * s[i - 1]:
            return i
    return len(s)


def lrsd(d: np.ndarray, k: int, lam1: float, cfg: CTSTCConfig, draw: Draw, square: bool) -> tuple[np.ndarray, int]:
    """The original's ``LRSD`` on a window ``d`` (H, W, n3): returns the target T and the iterations run."""
    lam2 = cfg.lambda2_ratio * lam1
    lam3 = cfg.lambda3_ratio * lam1
    shape = d.shape
    noise = np.ones(shape)
    b = np.ones(shape)
    t = np.ones(shape)
    m1 = np.zeros(shape)
    m2 = np.zeros(shape)
    m3 = np.zeros(shape)
    y1 = np.full(shape, 0.5)
    y2 = np.full(shape, 0.5)
    w = np.ones(shape)
    mu = cfg.mu0
    norm_d = np.linalg.norm(d)
    pre_nnz = t.size
    n_pix = shape[0] * shape[1]
    it = 0
    while it < cfg.max_iter:
        it += 1
        for score in cluster_scores(y1, k, draw(n_pix, k), cfg):
            y1 = y1 + score  # one cluster at a time, as the original adds them
        y1 = y1 + mu * (b + m2)
        b_prev = b
        b = (d - t - noise - m1 + y1 - m2) / 2.0
        t_prev = t
        t = 0.5 * np.maximum(d - b - noise + y2 - m1 - m3 - w * lam1 / mu, 0.0)
        w = 1.0 / (np.abs(t) + cfg.reweight_eps)
        z = curvature_mask(t, cfg)
        for s in range(shape[2]):
            p = max(s - 1, 0)
            moved = z[:, :, p] @ y2[:, :, p] if square else z[:, :, p] * y2[:, :, p]
            rhs = lam3 * (z[:, :, s] + moved) + mu * (t[:, :, s] + m3[:, :, s])
            y2[:, :, s] = rhs / (mu + 2.0 * lam3)
        noise = (mu * (d - b - t - m1)) / (2.0 * lam2 + mu)
        nnz = int(np.count_nonzero(t > 0))
        resid = d - b - t - noise
        change = np.linalg.norm(resid) / norm_d if norm_d > 0 else np.inf
        if change < cfg.tol or nnz == pre_nnz:
            break
        if np.linalg.norm(t_prev - t) < cfg.tol or np.linalg.norm(b_prev - b) < cfg.tol:
            break
        pre_nnz = nnz
        m1 = m1 - resid
        m2 = m2 - (y1 - b)
        m3 = m3 - (y2 - t)
        mu = min(cfg.gamma * mu, cfg.mu_max)
    return t, it


def window_list(n_frames: int, f: int) -> list[int]:
    """The original's ``t_list`` (1-based window starts): ``[f+1 : f : L-f, L-f, L]``."""
    return [*range(f + 1, n_frames - f + 1, f), n_frames - f, n_frames]


@dataclass(frozen=True)
class CTSTCResult:
    """Output of `ctstc`: target maps (T, H, W) in ``input_scale`` units, per-window K and iterations."""

    target: np.ndarray
    ks: list[int]
    iterations: list[int]


def ctstc(
    frames: np.ndarray, cfg: CTSTCConfig, draw: Draw | None = None, prior: np.ndarray | None = None
) -> CTSTCResult:
    """CTSTC on a sequence (T, H, W) with intensities in [0, 1], T >= 2 f + 1.

    ``draw`` replaces the seeded k-means starts (to replay another
    implementation's draws, in call order); ``prior`` (f, H, W, in
    ``input_scale`` units) replaces the all-zero target maps that stand in
    for the first f frames (the original reads ground-truth target images).
    """
    x = np.asarray(frames, dtype=np.float64) * cfg.input_scale
    n_frames, h, w = x.shape
    f = cfg.frame_step
    if n_frames < 2 * f + 1:
        raise DataError(f"CTSTC needs at least {2 * f + 1} frames (2 * frame_step + 1); got {n_frames}.")
    if min(h, w) < max(3, cfg.curvature_size):
        raise DataError(f"CTSTC needs frames of at least {max(3, cfg.curvature_size)} pixels a side; got {h}x{w}.")
    square = h == w if cfg.transition == "auto" else cfg.transition == "matrix"
    if square and h != w:
        raise DataError(f"CTSTC's transition='matrix' needs square frames; got {h}x{w} (use 'elementwise').")
    if draw is None:
        rng = np.random.default_rng(cfg.seed)

        def draw(n: int, k: int) -> np.ndarray:
            return rng.choice(n, size=k, replace=False)

    first_prior = np.zeros((f, h, w)) if prior is None else np.asarray(prior, dtype=np.float64)
    if first_prior.shape != (f, h, w):
        raise DataError(f"CTSTC's prior must have shape {(f, h, w)}; got {first_prior.shape}.")
    filtered: dict[int, np.ndarray] = {}

    def filt(i: int) -> np.ndarray:  # 1-based frame index
        if i not in filtered:
            filtered[i] = highpass(x[i - 1], cfg.filter_sigma)
        return filtered[i]

    lam1 = cfg.lambda1((h, w))
    target = np.zeros(x.shape)
    written = np.zeros(n_frames, dtype=bool)
    ts = window_list(n_frames, f)
    previous: np.ndarray | None = None
    ks, its = [], []
    for t in ts:
        d = np.empty((h, w, 2 * f + 1))
        for j in range(f):
            d[:, :, j] = first_prior[j] if t == f + 1 else previous[:, :, f + 1 + j]  # type: ignore[index]
        for j in range(f + 1):
            d[:, :, f + j] = filt(t) if t == ts[-1] else filt(t + j)
        k = estimate_k(d, cfg.rank_ratio)
        tt, n_it = lrsd(d, k, lam1, cfg, draw, square)
        ks.append(k)
        its.append(n_it)
        if t == f + 1:
            target[:f] = np.moveaxis(d[:, :, :f], 2, 0)
            target[f : 2 * f + 1] = np.moveaxis(tt[:, :, f:], 2, 0)
            written[: 2 * f + 1] = True
        else:
            for j in range(f):
                target[t - f + j - 1] = previous[:, :, f + j] + tt[:, :, j]  # type: ignore[index]
                written[t - f + j - 1] = True
        if t == ts[-1] and not written[-1]:
            target[-1] = tt[:, :, f]  # the original writes no map for the last frame
        previous = tt
    return CTSTCResult(target=target, ks=ks, iterations=its)


@register("ctstc")
class CTSTC(Method):
    """Clustering and tracking-guided spatial-temporal low-rank and sparse decomposition (multi-frame).

    Presets
    -------
    ``original``
        ``main.m``'s settings: f 3, lambda_L 30, lambda_1 = lambda_L / (sqrt(max(H, W)) n3),
        lambda_2 = 80 lambda_1, lambda_3 = 10 lambda_1, mu 0.01, gamma 0.5, tol 1e-4, 100 iterations.
    ``paper``
        The seed paper's Table 2: the same, except lambda_1 = lambda_L / sqrt(max(H, W) n3)
        (2.65x larger on 256 x 256 frames).

    What the original does that a reader may not expect, all kept:
    the first window's prior slices are read from ground-truth target images
    (here all-zero maps; `ctstc` accepts others), and those priors are the
    output of frames 1..f; frame j's map (j > f) is its target slice in one
    window plus the prior slice of frame j + 1 in the next; a window writes
    frames t-f..t-1 from the previous window's slots f+1..2f, which hold them
    only if that window began f frames earlier, so the window at L - f (off
    the step, or a repeat of the last one) writes its 3 frames from the slots
    of later frames (on 20 frames: frames 14-16 get the maps of 16-18); the
    last window holds the last frame f + 1 times; K is always the slice count with
    ``per = 1``; the clustering only shifts Y1 by one scalar per iteration;
    the Y2 step multiplies the previous slice's mask and Y2 as matrices;
    mu halves every iteration; T is halved after its shrinkage.

    Choices the original leaves open, and what this port does:

    - The last frame gets no map in the original; here its slice in the last window.
    - ``DesignedFilter`` is written for 256 x 256 frames; here its grid follows the frame size.
    - Non-square frames break the Y2 step's matrix product; ``transition``
      ``auto`` uses the element-wise product there.
    - k-means starts are ``randperm`` draws; numpy's generator (``seed``) draws
      others, and the reference test replays Octave's. MATLAB's ``pdist2``
      (absent in Octave) is taken as: ties to the lowest index, NaN distances
      (centres of empty clusters) lose. An empty cluster's centre is NaN and a
      one-pixel cluster's the mean of its 7 values, as MATLAB's ``mean`` gives.

    The target map is in 0..255 units (the original scales each map to
    [0, 1] only to write it as JPEG). 8-bit input is snapped to exact ``k/255``.

    References
    ----------
    Luo, Y., Li, X., Wang, J., Chen, S. "Clustering and tracking-guided
    infrared spatial-temporal small target detection", IEEE Transactions on
    Geoscience and Remote Sensing, 2024.
    """

    kind = "multi-frame"
    config_cls = CTSTCConfig
    presets: ClassVar[dict[str, MethodConfig]] = {
        "paper": CTSTCConfig(lambda_rule="paper"),
        "original": CTSTCConfig(),
    }
    default_preset = "paper"
    display_name = "CTSTC"
    cite_key = "luo2024ctstc"
    paper_order = 80
    category = "Optim."
    citation = (
        "Y. Luo, X. Li, J. Wang and S. Chen, 'Clustering and tracking-guided infrared spatial-temporal small "
        "target detection', IEEE Trans. Geoscience and Remote Sensing, 2024."
    )

    def min_frames(self) -> int:
        return 2 * self.config.frame_step + 1  # type: ignore[attr-defined]

    def _detect(self, frames: np.ndarray) -> RawOutput:
        res = ctstc(snap_to_8bit(frames), self.config)  # type: ignore[arg-type]
        return RawOutput(target=res.target, diagnostics={"k": res.ks, "iterations": res.iterations})
