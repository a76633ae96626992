"""The losses of NeurSTT's ablation variants (the seed paper's Tables 6 and 7), in plain autograd.

The published loss (nuclear norm + L1 of the soft-thresholded target +
Neur3DTV) runs through the fused kernels of `istdbench.methods._lowrank`. Its
variants change one term at a time; they are written here as plain tensor
expressions on the full background ``B`` (more memory and time, no hand-made
backward), which is what an ablation at study size needs. With the published
switches this loss equals the fused one (a test checks value and gradient).

All tensors are in the (n1, L, n2) = (H, L, W) layout of
`istdbench.methods.neurstt.NeurSTTModel.left_factors`. Terms (``tau = lam / 2``,
``R = D - B``, ``M`` the optional L1 mask):

======================  =========================================================
switch                  term
======================  =========================================================
background ``nuclear``  ``sum_k ||B_k||_*`` (Eq. 19), from the small cores
background ``mse``      ``||D - B - T||_F^2`` with ``T = soft(R, tau)`` (Table 6):
                        ``||clamp(R, -tau, tau)||_F^2``, a sum, not a mean
target ``soft``         ``||M (.) soft(R, tau)||_1`` (Eqs. 22-23), weight 1
target ``subtract``     ``||M (.) R||_1`` (Table 7 "Subtract", as 3DSTPM), weight 1
target ``none``         no term (Table 7 Config I)
reg. ``neur3dtv``       ``phi (|dB/dh| + |dB/dw| + kappa |dB/dt|)`` (Eq. 16)
reg. ``neurtv``         ``phi (|dB/dh| + |dB/dw|)``: spatial only (Eq. 15, N = 2)
reg. ``neursstv``       ``phi (|d2B/dh dt| + |d2B/dw dt|)``: the neural form of
                        SSTV [37], spatial derivatives of the temporal one
reg. ``3dtv``           ``phi (|D_h B| + |D_w B| + |D_t B|)``: discrete forward
                        differences (Eq. 13), no kappa
reg. ``none``           no term
======================  =========================================================

The derivatives are analytic: the factor networks' input derivatives pushed
through the Tucker product; the mixed ones are separable,
``d2B/dh dt = dFh dG_k Fw^T`` and ``d2B/dw dt = Fh dG_k dFw^T``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ._lowrank import Solver, frame_cores, tucker_nuclear_norm

if TYPE_CHECKING:
    from .neurstt import NeurSTTConfig, NeurSTTModel


def ablation_loss(
    model: NeurSTTModel,
    data: torch.Tensor,
    mask: torch.Tensor | None,
    cfg: NeurSTTConfig,
    it: int,
    solver: Solver,
) -> torch.Tensor:
    """Loss of iteration ``it`` under ``cfg``'s switches (``background_loss``, ``target``, ``regularizer``)."""
    lh, dlh, lt, (fh, dfh, fw, dfw, ft, dft) = model.left_factors()
    tau = cfg.lam / 2
    residual = data - lh @ fw.T
    if cfg.background_loss == "nuclear":
        rows = ft if cfg.nuclear == "all" else ft[it % ft.shape[0]].unsqueeze(0)
        loss = tucker_nuclear_norm(model.core, fh, fw, rows, solver, cfg.polar_steps)
    else:
        loss = residual.clamp(-tau, tau).square().sum()
    if cfg.target != "none":
        target = residual - residual.clamp(-tau, tau) if cfg.target == "soft" else residual
        loss = loss + _l1(target if mask is None else target * mask)
    return loss + cfg.phi * _regulariser(cfg, lh, dlh, lt, fh, dfh, fw, dfw, dft, model.core)


def _regulariser(cfg, lh, dlh, lt, fh, dfh, fw, dfw, dft, core) -> torch.Tensor | float:
    kind = cfg.regularizer
    if kind == "none":
        return 0.0
    if kind in ("neur3dtv", "neurtv"):
        spatial = _l1(dlh @ fw.T) + _l1(lh @ dfw.T)
        return spatial + cfg.kappa * _l1(lt @ fw.T) if kind == "neur3dtv" else spatial
    if kind == "neursstv":
        dlt = torch.einsum("ir,krs->iks", dfh, frame_cores(core, dft))  # dFh dG_k, (n1, L, r2)
        return _l1(dlt @ fw.T) + _l1(lt @ dfw.T)
    b = lh @ fw.T  # "3dtv": discrete differences along h, w and t
    return sum(_l1(torch.diff(b, dim=d)) for d in (0, 2, 1))


def _l1(x: torch.Tensor) -> torch.Tensor:
    return x.abs().sum()
