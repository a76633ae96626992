"""Losses on a Tucker tensor's frames without forming more than they need.

`tucker_nuclear_norm`: the nuclear norms of the frames, from small matrices.

Frame ``k`` of ``B = G x1 Fh x2 Fw x3 Ft`` is ``B_k = Fh G_k Fw^T`` with
``G_k = sum_c G[:, :, c] Ft[k, c]`` of size (r1, r2). With the thin QR
factorisations ``Fh = Qh Rh`` and ``Fw = Qw Rw`` (orthonormal ``Q``),
``B_k = Qh (Rh G_k Rw^T) Qw^T``, so ``B_k`` has the singular values of the
small core ``S_k = Rh G_k Rw^T``. Summing ``||S_k||_*`` gives the background's
nuclear norm, value and gradient, without an SVD of any full frame.

Two solvers for ``sum_k ||S_k||_*``:

- ``svd``: ``torch.linalg.svdvals`` (exact; autograd gives the subgradient
  ``U V^T``). Fast on a CPU, slow on a GPU, where batched SVDs of many small
  matrices are serialised.
- ``gram``: `istdbench.methods._tnn.nuclear_norms` in float64: singular
  values from an eigendecomposition of the Gram matrix ``S^T S = V diag(s^2) V^T``
  and the gradient ``U_r V_r^T = S V diag(1/s) V^T`` over the singular values
  above ``max(m, n) eps32 s_max`` (the float32 rounding level of the cores). A
  batched symmetric eigensolver is about 1.6x faster than a batched SVD on a
  CPU, and float64 keeps the squared spectrum resolved down to ``1e-8`` of the
  largest singular value, finer than a float32 SVD resolves.
- ``polar``: matmul-only. The gradient of the nuclear norm is the polar factor
  ``P = U V^T`` of ``S``, and ``||S||_* = <P, S>``. ``P`` is found by a
  Newton-Schulz iteration ``X <- X (15 I - 10 A + 3 A^2) / 8`` with
  ``A = X^T X``, started from ``S / ||S||_F``: every singular value is mapped
  through the monotone polynomial ``p(s) = (15 s - 10 s^3 + 3 s^5) / 8``, which
  grows small values by 1.875 per step and converges cubically to 1. Singular
  values below about ``1.875^-steps`` of ``||S||_F`` may not reach 1; they
  change the value by at most that fraction, and for rounding-level (zero)
  singular values any factor in [0, 1] is still a valid subgradient.

`dense_terms`: the L1 terms that need every voxel (sparse target, Neur3DTV),
with a hand-written backward that keeps only sign tensors.
"""

from __future__ import annotations

from typing import Literal

import torch

from ._tnn import nuclear_norms

Solver = Literal["svd", "gram", "polar"]


def frame_cores(core: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
    """Per-frame cores ``G_k = G x3 Ft[k]``: (r1, r2, r3) and (n3, r3) -> (n3, r1, r2)."""
    r1, r2, r3 = core.shape
    return (ft @ core.reshape(r1 * r2, r3).T).reshape(ft.shape[0], r1, r2)


def small_cores(core: torch.Tensor, fh: torch.Tensor, fw: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
    """``S_k = Rh G_k Rw^T`` of shape (n3, r1, r2), with the singular values of the frames ``Fh G_k Fw^T``."""
    rh = torch.linalg.qr(fh, mode="reduced").R
    rw = torch.linalg.qr(fw, mode="reduced").R
    return rh @ frame_cores(core, ft) @ rw.T


def polar_factor(s: torch.Tensor, steps: int = 30) -> torch.Tensor:
    """Polar factor ``U V^T`` of each matrix of a (..., m, n) batch by Newton-Schulz (matmuls only)."""
    wide = s.shape[-2] < s.shape[-1]
    x = s.mT if wide else s
    norm = torch.linalg.matrix_norm(x, keepdim=True)
    x = x / torch.where(norm > 0, norm, torch.ones_like(norm))
    eye = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device)
    for _ in range(steps):
        a = x.mT @ x
        x = x @ (15.0 * eye - 10.0 * a + 3.0 * (a @ a)) / 8.0
    return x.mT if wide else x


class _PolarNuclearNorm(torch.autograd.Function):
    """``sum_k ||S_k||_*`` with the polar factor as its gradient."""

    @staticmethod
    def forward(ctx, s: torch.Tensor, steps: int) -> torch.Tensor:  # type: ignore[override]
        p = polar_factor(s.detach(), steps)
        ctx.save_for_backward(p)
        return (p * s).sum()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (p,) = ctx.saved_tensors
        return grad * p, None


def nuclear_norm_sum(s: torch.Tensor, solver: Solver = "svd", steps: int = 30) -> torch.Tensor:
    """Sum of the nuclear norms of a (..., m, n) batch of small matrices, differentiable."""
    if solver == "svd":
        return torch.linalg.svdvals(s).sum()
    if solver == "gram":
        # The cores carry float32 rounding (about n eps32 of s_max): singular values below it are noise.
        return nuclear_norms(s, torch.float64, rel_tol=max(s.shape[-2:]) * torch.finfo(torch.float32).eps).sum()
    return _PolarNuclearNorm.apply(s, steps)


def tucker_nuclear_norm(
    core: torch.Tensor,
    fh: torch.Tensor,
    fw: torch.Tensor,
    ft: torch.Tensor,
    solver: Solver = "svd",
    steps: int = 30,
) -> torch.Tensor:
    """Sum over the frames ``k`` of ``||Fh G_k Fw^T||_*``, exact, from the (r1, r2) cores.

    Pass a subset of rows of ``ft`` to restrict the sum to those frames.
    """
    return nuclear_norm_sum(small_cores(core, fh, fw, ft), solver, steps)


class Workspace:
    """Full-size buffers that `dense_terms` reuses from one iteration to the next.

    Why: on a CPU, the allocator returns tensors of tens of MB to the system
    when they are freed, so four fresh (n1, L, n2) arrays per iteration cost
    their page faults every time (about 10 ms of a 0.1 s iteration at
    256x256x80). Reuse is safe across iterations that each run forward then
    backward; autograd's version check raises if a buffer is overwritten before
    the backward pass that needs it.
    """

    def __init__(self) -> None:
        self._buffers: dict[int, torch.Tensor] = {}

    def buffer(self, index: int, shape: torch.Size, like: torch.Tensor) -> torch.Tensor:
        buf = self._buffers.get(index)
        if buf is None or buf.shape != shape or buf.dtype != like.dtype or buf.device != like.device:
            buf = self._buffers[index] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return buf


class _DenseTerms(torch.autograd.Function):
    """``||M (.) soft(D - Lh Fw^T, tau)||_1 + phi (||dLh Fw^T||_1 + ||Lh dFw^T||_1 + kappa ||Lt Fw^T||_1)``.

    The four full-size tensors exist only inside this function: each is formed
    by one matmul, reduced to its L1 norm and overwritten by its sign, which is
    all the backward pass needs. This saves most of the full-size temporaries
    and elementwise passes that autograd would keep.
    """

    @staticmethod
    def forward(ctx, lh, dlh, lt, fw, dfw, data, mask, tau, phi, kappa, workspace):  # type: ignore[override]
        ws = workspace if workspace is not None else Workspace()
        shape = data.shape
        b = torch.matmul(lh, fw.T, out=ws.buffer(0, shape, data))
        torch.sub(data, b, out=b)
        b.sub_(torch.clamp(b, -tau, tau, out=ws.buffer(4, shape, data)))  # T = soft(D - B, tau), in place
        if mask is not None:
            b.mul_(mask)
        terms = [torch.linalg.vector_norm(b, 1)]
        signs = [b.sign_()]  # d l1 / dB = -sign(T)
        scratch = ws.buffer(4, shape, data)
        for i, (left, right) in enumerate(((dlh, fw), (lh, dfw), (lt, fw)), start=1):
            y = torch.matmul(left, right.T, out=scratch)
            sign = torch.sign(y, out=ws.buffer(i, shape, data))
            terms.append(torch.dot(y.view(-1), sign.view(-1)))  # ||y||_1, cheaper than vector_norm on a CPU
            signs.append(sign)
        ctx.save_for_backward(lh, dlh, lt, fw, dfw, *signs)
        ctx.weights = (phi, kappa)
        return terms[0] + phi * (terms[1] + terms[2] + kappa * terms[3])

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        lh, dlh, lt, fw, dfw, s_b, s_h, s_w, s_t = ctx.saved_tensors
        phi, kappa = ctx.weights
        gp, gk = grad * phi, grad * phi * kappa

        def flat(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(-1, x.shape[-1])

        def left_t(s: torch.Tensor, left: torch.Tensor) -> torch.Tensor:  # sum_k S_k^T left_k
            return flat(s).T @ flat(left)

        # The scalar weights go on the small (n2, r2) factors, and the two products
        # of g_lh accumulate in place: no full-size temporaries in the backward pass.
        g_lh = (flat(s_w) @ (dfw * gp)).addmm_(flat(s_b), fw, alpha=-grad).view_as(lh)
        g_dlh = (flat(s_h) @ (fw * gp)).view_as(dlh)
        g_lt = (flat(s_t) @ (fw * gk)).view_as(lt)
        g_fw = left_t(s_h, dlh) * gp + left_t(s_t, lt) * gk - left_t(s_b, lh) * grad
        g_dfw = left_t(s_w, lh) * gp
        return g_lh, g_dlh, g_lt, g_fw, g_dfw, None, None, None, None, None, None


def dense_terms(
    lh: torch.Tensor,
    dlh: torch.Tensor,
    lt: torch.Tensor,
    fw: torch.Tensor,
    dfw: torch.Tensor,
    data: torch.Tensor,
    mask: torch.Tensor | None,
    tau: float,
    phi: float,
    kappa: float,
    workspace: Workspace | None = None,
) -> torch.Tensor:
    """L1 of the soft-thresholded residual plus weighted L1 of the three background derivatives.

    With ``B_k = Lh_k Fw^T`` (``Lh_k = Fh G_k``), the derivatives are
    ``dB/dh = dLh Fw^T``, ``dB/dw = Lh dFw^T`` and ``dB/dt = Lt Fw^T``
    (``Lt_k = Fh dG_k``). Inputs: left factors (..., r2) (e.g. (n1, L, r2)),
    right factors (n2, r2), data (..., n2) in the same layout, optional mask of
    the data's shape. Pass the same `Workspace` on every iteration of a fit to
    reuse the full-size buffers.
    """
    return _DenseTerms.apply(lh, dlh, lt, fw, dfw, data, mask, tau, phi, kappa, workspace)
