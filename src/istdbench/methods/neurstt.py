"""NeurSTT: a neural low-rank Tucker background with neural 3-D total variation.

The background of a chunk of frames ``D`` (n1 x n2 x n3 = H x W x L) is the
Tucker tensor ``B = G x1 Fh x2 Fw x3 Ft``: a learnable core ``G`` of size
(n1/4, n2/4, n3/4) and three bias-free SIREN factor networks that map a
coordinate of one mode to a rank vector. The target is the closed-form
``T = soft(D - B, lambda/2)``; gradients flow through it into ``B``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
import torch
from torch import nn

from istdbench.core.config import ADDED, MethodConfig
from istdbench.core.errors import ConfigWarning, InvalidParameterError
from istdbench.core.method import RawOutput
from istdbench.core.registry import register

from ._fitstate import FitState, chunk_state
from ._lowrank import Solver, Workspace, dense_terms, frame_cores, tucker_nuclear_norm
from ._neuralfit import ChunkedNeuralMethod, run_fit
from ._neurstt_ablation import ablation_loss
from ._siren import Activation, SineFactor, factor_param_count


@dataclass(frozen=True)
class NeurSTTConfig(MethodConfig):
    """Hyperparameters of NeurSTT; the defaults are the seed paper's (preset ``paper``).

    Attributes
    ----------
    lr, weight_decay : float
        Adam step size and its coupled L2 weight decay.
    lam : float
        Sparsity weight; the target threshold is ``lam / 2``.
    phi, kappa : float
        Weight of Neur3DTV and the extra weight of its temporal derivative.
    iterations : int
        Adam steps per chunk (no early stop, no schedule).
    chunk_length : int
        Frames fitted together (L).
    rank_ratio : int
        Tucker rank of each mode is ``n_i // rank_ratio`` (temporal rank at least 1).
    hidden : {"image-size", "width"}
        Hidden width ``c_i = n_i`` per mode, or the image width ``n2`` for all three.
    omega : float
        Frequency of both sine layers.
    init : {"kaiming", "siren", "normal"}
        Weight initialisation (see `SineFactor.reset_parameters`); ``init_std`` for ``normal``.
    coords : {"raw", "unit"}
        Inputs ``1..n`` (integer indices) or those divided by ``n``.
    nuclear : {"all", "cycle"}
        Nuclear norm of every frame each iteration, or of frame ``it mod L`` only.
    nuclear_solver : {"auto", "svd", "gram", "polar"}
        How the small per-frame cores are reduced (see `istdbench.methods._lowrank`);
        ``auto`` is ``gram`` (float64 ``eigh`` of the cores' Gram matrices) on a CPU
        and ``polar`` (matmul-only) on CUDA. ``polar_steps`` Newton-Schulz steps.
    l1_mask : {"none", "nonzero"}
        ``nonzero`` counts ``|T|`` only where the input is non-zero (authors' code).
    seed : int
        Chunk ``i`` is initialised from ``seed + i``.
    dtype : {"float32", "float64"}

    Ablation switches (the seed paper's Tables 5-7; the defaults are the
    method, and keep every preset's results and config hash):

    activation : {"sine", "relu", "leaky-relu", "tanh"}
        Nonlinearity of the factor networks (Table 5: "we compare ReLU,
        LeakyReLU, and Tanh [...] all compared methods are implemented
        implicitly"): the same bias-free networks, initialisation, ``omega``
        and coordinates with another ``s`` (see `istdbench.methods._siren`).
    background_loss : {"nuclear", "mse"}
        ``L_Nuc = sum_k ||B_k||_*`` (Eq. 19) or Table 6's ``L_MSE =
        ||D - B - T||_F^2``, a sum of squares as the table writes it (not the
        mean its name suggests), in place of ``L_Nuc``.
    target : {"soft", "subtract", "none"}
        Target module (Table 7): ``T = soft(D - B, lam/2)`` with ``||T||_1`` in the
        loss (Eqs. 22-23); ``"subtract"``: "the loss constrain ||D - B||_1, without
        soft-thresholding, as [13]", with ``T = D - B``; ``"none"``: "no such
        module", no target term and ``T = D - B`` (what is left).
    regularizer : {"neur3dtv", "neurtv", "neursstv", "3dtv", "none"}
        Background regulariser weighted by ``phi`` (Table 7): Neur3DTV (Eq. 16,
        ``kappa`` on the temporal derivative); NeurTV, which "only considers
        spatial constraints, where N = 2" (Eq. 15); NeurSSTV [37], which the
        paper does not write out: taken as the neural form of spatial-spectral
        TV, the L1 of the mixed derivatives d2B/dh dt and d2B/dw dt; the discrete
        3DTV of Eq. 13 (forward differences, no ``kappa``); or none. ``kappa``
        only acts in ``neur3dtv``. The formulas: `istdbench.methods._neurstt_ablation`.

    Switches that contradict each other are refused: a regulariser with
    ``phi = 0`` (that is ``regularizer="none"``), ``background_loss="mse"`` with
    a target other than ``soft`` (then ``D - B - T = 0`` and the loss is empty)
    or with ``nuclear="cycle"`` (no nuclear norm to cycle), ``target="none"`` with
    ``l1_mask="nonzero"`` (no L1 term to mask). SIREN's initialisation with
    another activation gives a `ConfigWarning`.
    """

    lr: float = 5e-4
    weight_decay: float = 0.01
    lam: float = 0.2
    phi: float = 5e-5
    kappa: float = 100.0
    iterations: int = 2000
    chunk_length: int = 80
    rank_ratio: int = 4
    hidden: Literal["image-size", "width"] = "image-size"
    omega: float = 2.0
    init: Literal["kaiming", "siren", "normal"] = "kaiming"
    init_std: float = 5.0
    coords: Literal["raw", "unit"] = "raw"
    nuclear: Literal["all", "cycle"] = "all"
    nuclear_solver: Literal["auto", "svd", "gram", "polar"] = "auto"
    polar_steps: int = 30
    l1_mask: Literal["none", "nonzero"] = "none"
    seed: int = 42
    dtype: Literal["float32", "float64"] = "float32"
    activation: Activation = field(default="sine", metadata=ADDED)
    background_loss: Literal["nuclear", "mse"] = field(default="nuclear", metadata=ADDED)
    target: Literal["soft", "subtract", "none"] = field(default="soft", metadata=ADDED)
    regularizer: Literal["neur3dtv", "neurtv", "neursstv", "3dtv", "none"] = field(default="neur3dtv", metadata=ADDED)

    @property
    def published_loss(self) -> bool:
        """Whether the loss is the method's own (nuclear norm, soft-thresholded target, Neur3DTV)."""
        return (self.background_loss, self.target, self.regularizer) == ("nuclear", "soft", "neur3dtv")

    def validate(self) -> None:
        for name in ("lr", "omega", "init_std"):
            self._require(name, math.isfinite(getattr(self, name)) and getattr(self, name) > 0, "a finite float > 0")
        for name in ("weight_decay", "lam", "phi", "kappa"):
            self._require(name, math.isfinite(getattr(self, name)) and getattr(self, name) >= 0, "a finite float >= 0")
        self._require("iterations", self.iterations >= 1, "an int >= 1")
        self._require("chunk_length", self.chunk_length >= 2, "an int >= 2")
        self._require("rank_ratio", self.rank_ratio >= 1, "an int >= 1")
        self._require("polar_steps", self.polar_steps >= 1, "an int >= 1")
        self._check_switches()

    def _check_switches(self) -> None:
        """Refuse ablation switches that contradict each other; warn about one without its design."""
        if self.regularizer != "none":
            why = f"> 0 with regularizer={self.regularizer!r} (phi = 0 switches it off: use regularizer='none')"
            self._require("phi", self.phi > 0, why)
        if self.background_loss == "mse":
            self._require("target", self.target == "soft", "'soft' with background_loss='mse' (else D - B - T = 0)")
            self._require("nuclear", self.nuclear == "all", "'all' with background_loss='mse' (no nuclear norm)")
        if self.target == "none":
            self._require("l1_mask", self.l1_mask == "none", "'none' with target='none' (there is no L1 term)")
        if self.activation != "sine" and self.init == "siren":
            warnings.warn(
                f"NeurSTTConfig: init='siren' is SIREN's scheme for sine layers; activation={self.activation!r} "
                "gets it too.",
                ConfigWarning,
                stacklevel=4,
            )


PAPER = NeurSTTConfig()
AUTHORS = dataclasses.replace(
    PAPER,
    weight_decay=0.1,
    lam=0.25,
    kappa=1.0,
    iterations=1500,
    hidden="width",
    nuclear="cycle",
    l1_mask="nonzero",
)


def tucker_ranks(shape: tuple[int, int, int], ratio: int) -> tuple[int, int, int]:
    """Ranks (r1, r2, r3) of a chunk of shape (L, H, W): ``n // ratio``, the temporal one at least 1."""
    length, height, width = shape
    r1, r2 = height // ratio, width // ratio
    if r1 < 1 or r2 < 1:
        raise InvalidParameterError(
            f"NeurSTT needs frames of at least {ratio}x{ratio} pixels for Tucker ranks n/{ratio} >= 1; "
            f"got {height}x{width}."
        )
    return r1, r2, max(1, length // ratio)


def hidden_widths(shape: tuple[int, int, int], hidden: str) -> tuple[int, int, int]:
    """Hidden widths of the (h, w, t) networks for a chunk of shape (L, H, W)."""
    length, height, width = shape
    return (height, width, length) if hidden == "image-size" else (width, width, width)


def param_count(shape: tuple[int, int, int], cfg: NeurSTTConfig) -> int:
    """Learnable parameters of one chunk's model: core plus the three factor networks."""
    ranks = tucker_ranks(shape, cfg.rank_ratio)
    widths = hidden_widths(shape, cfg.hidden)
    return math.prod(ranks) + sum(factor_param_count(c, r) for c, r in zip(widths, ranks, strict=True))


class NeurSTTModel(nn.Module):
    """Core and factor networks of one chunk; `forward` gives B and its three coordinate derivatives."""

    def __init__(self, shape: tuple[int, int, int], cfg: NeurSTTConfig, generator: torch.Generator) -> None:
        super().__init__()
        dtype = getattr(torch, cfg.dtype)
        r1, r2, r3 = tucker_ranks(shape, cfg.rank_ratio)
        ch, cw, ct = hidden_widths(shape, cfg.hidden)
        self.core = nn.Parameter(torch.empty(r1, r2, r3, dtype=dtype))
        bound = 1.0 / math.sqrt(r1)
        with torch.no_grad():
            self.core.uniform_(-bound, bound, generator=generator)
        self.fh = SineFactor(ch, r1, cfg.omega, dtype, cfg.activation)
        self.fw = SineFactor(cw, r2, cfg.omega, dtype, cfg.activation)
        self.ft = SineFactor(ct, r3, cfg.omega, dtype, cfg.activation)
        for net in (self.fh, self.fw, self.ft):
            net.reset_parameters(cfg.init, generator, cfg.init_std)
        length, height, width = shape
        for name, n in (("xh", height), ("xw", width), ("xt", length)):
            x, scale = _coordinates(n, cfg.coords, dtype)
            self.register_buffer(name, x, persistent=False)
            self.register_buffer(f"s{name[1]}", torch.tensor(scale, dtype=dtype), persistent=False)

    def factors(self) -> tuple[torch.Tensor, ...]:
        """``(Fh, dFh, Fw, dFw, Ft, dFt)``; derivatives per pixel/frame step."""
        fh, dfh = self.fh(self.xh)
        fw, dfw = self.fw(self.xw)
        ft, dft = self.ft(self.xt)
        return fh, dfh * self.sh, fw, dfw * self.sw, ft, dft * self.st

    def left_factors(self) -> tuple[torch.Tensor, ...]:
        """``(Lh, dLh, Lt, factors)``: ``Fh G_k``, ``dFh G_k``, ``Fh dG_k`` laid out as (n1, L, r2), and `factors`.

        Every full-size quantity is one of these times ``Fw^T`` or ``dFw^T``:
        ``B_k = Lh_k Fw^T``, ``dB/dh = dLh_k Fw^T``, ``dB/dw = Lh_k dFw^T``,
        ``dB/dt = Lt_k Fw^T``. The (row, frame, column) layout makes each of
        these one contiguous matrix product, without batch copies.
        """
        fh, dfh, _, _, ft, dft = f = self.factors()
        n1, r1 = fh.shape
        length, r2 = ft.shape[0], self.core.shape[1]
        cores = frame_cores(self.core, torch.cat([ft, dft]))  # (2L, r1, r2): G_k, then dG_k
        flat = cores.permute(1, 0, 2).reshape(r1, 2, length * r2)  # (r1, [G | dG], L r2)
        lh, dlh = (torch.cat([fh, dfh]) @ flat[:, 0]).view(2, n1, length, r2).unbind()  # unbind: no zero-filled grads
        return lh, dlh, (fh @ flat[:, 1]).view(n1, length, r2), f

    def forward(self) -> tuple[torch.Tensor, ...]:
        """``(B, dB/dh, dB/dw, dB/dt)``, tensors of shape (L, H, W) (for inspection and tests)."""
        lh, dlh, lt, (_, _, fw, dfw, _, _) = self.left_factors()
        return tuple((a @ b.T).transpose(0, 1) for a, b in ((lh, fw), (dlh, fw), (lh, dfw), (lt, fw)))

    def background(self) -> torch.Tensor:
        """B of shape (L, H, W)."""
        lh, _, _, (_, _, fw, _, _, _) = self.left_factors()
        return (lh @ fw.T).transpose(0, 1)


def _coordinates(n: int, mode: str, dtype: torch.dtype) -> tuple[torch.Tensor, float]:
    """Network inputs (n, 1) and d(input)/d(index), which turns input derivatives into per-step ones.

    ``unit`` divides the raw indices by ``n`` (inputs in (0, 1]). A symmetric
    range such as [-1, 1] would be wrong here: a bias-free sine network is an
    odd function, so it would force ``B`` to be antisymmetric about the centre.
    """
    x = torch.arange(1, n + 1, dtype=dtype).unsqueeze(1)
    return (x, 1.0) if mode == "raw" else (x / n, 1.0 / n)


def solver_for(cfg: NeurSTTConfig, device: torch.device) -> Solver:
    """The nuclear-norm solver for a device: ``gram`` on a CPU, matmul-only ``polar`` on CUDA, unless set."""
    if cfg.nuclear_solver != "auto":
        return cfg.nuclear_solver
    return "polar" if device.type == "cuda" else "gram"


def neurstt_loss(
    model: NeurSTTModel,
    data: torch.Tensor,
    mask: torch.Tensor | None,
    cfg: NeurSTTConfig,
    it: int,
    solver: Solver,
    workspace: Workspace | None = None,
) -> torch.Tensor:
    """Loss of iteration ``it``: nuclear norm of B's frames + L1(T) + phi * Neur3DTV.

    ``data`` (and ``mask``) are the chunk's frames laid out as (H, L, W).
    Pass one `Workspace` for all iterations of a fit to reuse its full-size buffers.
    Ablation variants (``cfg.published_loss`` false) take the plain-autograd
    loss of `istdbench.methods._neurstt_ablation`.
    """
    if not cfg.published_loss:
        return ablation_loss(model, data, mask, cfg, it, solver)
    lh, dlh, lt, (fh, _, fw, dfw, ft, _) = model.left_factors()
    dense = dense_terms(lh, dlh, lt, fw, dfw, data, mask, cfg.lam / 2, cfg.phi, cfg.kappa, workspace)
    rows = ft if cfg.nuclear == "all" else ft[it % ft.shape[0]].unsqueeze(0)
    return tucker_nuclear_norm(model.core, fh, fw, rows, solver, cfg.polar_steps) + dense


class NeurSTTFit:
    """The `FitProblem` of one chunk: model, Adam (coupled L2 weight decay) and the NeurSTT loss."""

    def __init__(self, frames: np.ndarray, cfg: NeurSTTConfig, device: str, seed: int) -> None:
        dev = torch.device(device)
        dtype = getattr(torch, cfg.dtype)
        self.cfg = cfg
        self.model = NeurSTTModel(frames.shape, cfg, torch.Generator().manual_seed(seed)).to(dev)
        self.frames = torch.from_numpy(np.array(frames)).to(device=dev, dtype=dtype)  # a copy: input stays read-only
        self.data = self.frames.transpose(0, 1).contiguous()  # (H, L, W), the layout of `NeurSTTModel.left_factors`
        self.mask = (self.data != 0).to(dtype) if cfg.l1_mask == "nonzero" else None
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.solver = solver_for(cfg, dev)
        self.workspace = Workspace()

    def loss(self, step: int) -> torch.Tensor:
        return neurstt_loss(self.model, self.data, self.mask, self.cfg, step, self.solver, self.workspace)

    def maps(self) -> RawOutput:
        background = self.model.background()
        diff = self.frames - background
        if self.cfg.target != "soft":  # "subtract" and "none": what the background leaves
            return RawOutput(diff.float().cpu().numpy(), background.float().cpu().numpy(), {"solver": self.solver})
        target = torch.sign(diff) * torch.relu(diff.abs() - self.cfg.lam / 2)
        return RawOutput(
            target=target.float().cpu().numpy(),
            background=background.float().cpu().numpy(),
            diagnostics={"solver": self.solver},
        )


def fit_chunk(
    frames: np.ndarray,
    cfg: NeurSTTConfig,
    device: str = "cpu",
    seed: int | None = None,
    state: FitState | None = None,
) -> RawOutput:
    """Fit one NeurSTT model to frames of shape (L, H, W); return raw T, B and the loss curve.

    The returned maps come from the parameters after the last Adam step. With
    ``state`` the fit is written every ``state.every`` steps and continues
    from a saved state of the same fit (see `FitState`).
    """
    seed = cfg.seed if seed is None else seed
    build = lambda: NeurSTTFit(frames, cfg, device, seed)  # noqa: E731
    return run_fit(build, cfg.iterations, desc="neurstt", state=state)[cfg.iterations]


@register("neurstt")
class NeurSTT(ChunkedNeuralMethod):
    """NeurSTT: unsupervised neural Tucker background plus a soft-thresholded target.

    Notes
    -----
    Per chunk of ``L`` frames ``D`` it minimises over the core and the three
    factor networks, with Adam (coupled L2 weight decay),

        sum_k ||B_k||_* + ||T||_1 + phi (||dB/dh||_1 + ||dB/dw||_1 + kappa ||dB/dt||_1),
        B = G x1 Fh x2 Fw x3 Ft,  T = soft(D - B, lam / 2),

    where the derivatives are analytic (chain rule through the sine networks,
    pushed through the Tucker product). Each frame's nuclear norm is computed
    exactly from an (r1, r2) core (see `istdbench.methods._lowrank`). A fresh
    model is fitted per chunk; a sequence of at most ``L`` frames is one chunk,
    and frames left over after the last full chunk are fitted in a final chunk
    of ``L`` frames that overlaps its predecessor (the authors' code drops them;
    see `istdbench.methods._chunks`). ``detect`` returns the raw ``T`` (signed,
    never binarised) and ``B``; ``diagnostics["chunks"][i]["loss"]`` is the loss
    curve of chunk ``i``.

    Presets: ``paper`` follows the seed paper's text, ``authors`` the public code
    (fengyiwu98/NeurSTT @2831b363). Where they differ:

    ============== ============================ ===================================
    item           paper                        authors
    ============== ============================ ===================================
    weight_decay   0.01                         0.1
    lam            0.2 (threshold 0.1)          0.25 (threshold 0.125)
    kappa          100                          1
    iterations     2000                         1500
    hidden         c_i = n_i ("image-size")     n2 for all three ("width")
    nuclear        all frames, every iteration  frame ``it mod L`` ("cycle")
    l1_mask        none                         only where D != 0 ("nonzero")
    ============== ============================ ===================================

    Shared by both: lr 5e-4, phi 5e-5, L = 80, ranks ``n_i // 4``, omega 2,
    ``kaiming`` init, raw integer coordinates, core ``U(+-1/sqrt(r1))``. The paper
    states "std 5" for the SIREN and gives no frequency or coordinate scaling;
    the only concrete reading is the code's, so ``paper`` uses it too
    (``init="normal"`` with ``init_std=5`` is the literal alternative). The code's
    binarisation (0.4 x chunk maximum) is not part of ``detect``. Differences from
    the code that do not change the model: ranks for chunks under 4 frames are
    clamped to 1 along time; the returned maps use the parameters after the last
    step (the code keeps T from before it); no SVD-failure fallback is needed.

    Parameters of one chunk's model (`n_params`): 317,184 at 256x256x80 under
    ``authors`` (the paper's Table 11: 0.317 M) and 2,219,760 at 720x480x80
    (H 480, W 720), where the paper reports 2.117 M; ``paper`` widths give
    254,352 and 1,377,280.

    Cost per iteration: four full-size products (B and its three derivatives)
    forward and eight backward, all (n1 L, r2) x (r2, n2) matrix products, plus
    the nuclear norms of L small (r1, r2) cores (float64 ``eigh`` of their Gram
    matrices on a CPU): 0.095 s at 256x256x80 on two idle cores
    (``benchmarks/bench_neurstt.py``). On a busy CPU one torch thread can be
    much faster than two (OpenMP spin-waiting).

    References
    ----------
    The NeurSTT paper (the seed paper of this suite), Sections 4.1-4.5,
    Algorithm 1 and Table 11. Public code: github.com/fengyiwu98/NeurSTT,
    commit 2831b363 (main.py, models/model_NeurSTT.py, models/utils.py).
    """

    config_cls = NeurSTTConfig
    presets: ClassVar[dict[str, MethodConfig]] = {"paper": PAPER, "authors": AUTHORS}
    default_preset = "paper"
    display_name = "NeurSTT"
    cite_key = "wu2025neurstt"
    paper_order = 130
    category = "DL"
    citation = "NeurSTT (the seed paper); code: github.com/fengyiwu98/NeurSTT @2831b363"

    config: NeurSTTConfig

    def n_params(self, shape: tuple[int, int, int]) -> int:
        """Parameters of one chunk's model for input frames of shape (T, H, W)."""
        length = min(shape[0], self.config.chunk_length)
        return param_count((length, shape[1], shape[2]), self.config)

    def _detect_checkpoints(self, frames: np.ndarray, steps: tuple[int, ...]) -> dict[int, RawOutput]:
        cfg = self.config
        tucker_ranks((min(len(frames), cfg.chunk_length), *frames.shape[1:]), cfg.rank_ratio)
        return super()._detect_checkpoints(frames, steps)

    def fit_problem(self, chunk: np.ndarray, seed: int) -> NeurSTTFit:
        return NeurSTTFit(chunk, self.config, self.device, seed)

    def fit_state(self, chunk: np.ndarray, seed: int) -> FitState | None:
        return chunk_state(self.state_dir, self.name, self.config.config_hash(), self.device, seed, chunk)
