"""One optimisation loop for the chunked neural fits (NeurSTT, 3DSTPM): progress, fit state, checkpoints, time.

Both methods fit a fresh model to each chunk of ``L`` frames with Adam for a
fixed number of steps. What differs is the model, its loss and how maps are
read off it; that is a `FitProblem`. Everything else lives here once:

- the loop (``zero_grad``, loss, ``backward``, ``step``) with a tqdm bar and the
  loss curve kept on the model's device (no host sync per step);
- resumable state (`istdbench.methods._fitstate.FitState`): written every
  ``every`` steps, resumed bit-identically, carrying the seconds spent, so a
  resumed fit reports the time of all its attempts;
- fit checkpoints: the maps after ``k`` steps for each requested ``k``, which
  are exactly the maps of a fit of ``k`` steps (no schedule looks ahead), kept
  beside the state so a resumed fit still has them;
- `ChunkedNeuralMethod`, the `Method` base that splits a sequence into chunks
  (`istdbench.methods._chunks`), seeds chunk ``i`` with ``seed + i`` and
  implements `Method.detect_checkpoints`.
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar, Protocol

import numpy as np
import torch
from tqdm.auto import tqdm

from istdbench.core.method import Method, RawOutput

from ._chunks import run_chunked_many
from ._fitstate import FitState

log = logging.getLogger(__name__)


class FitProblem(Protocol):
    """One chunk's model, its optimiser, its loss per step and the maps read off it."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer

    def loss(self, step: int) -> torch.Tensor:
        """The loss of (0-based) step ``step`` from the current parameters, ready for ``backward``."""

    def maps(self) -> RawOutput:
        """Target and background from the current parameters (called under ``torch.no_grad``)."""


def run_fit(
    build: Callable[[], FitProblem],
    iterations: int,
    *,
    desc: str = "fit",
    state: FitState | None = None,
    checkpoints: Sequence[int] = (),
) -> dict[int, RawOutput]:
    """Build a problem, run ``iterations`` Adam steps on it, and return its maps after each checkpoint.

    Returns one `RawOutput` per step count in ``checkpoints`` and one for
    ``iterations`` (the final maps). Each has the loss curve up to its step
    (``diagnostics["loss"]``), ``"iterations"`` (its step count),
    ``"resumed_from"`` (steps taken from a saved state, 0 for a fresh fit) and
    ``runtime_s``: seconds from the start of the fit (model building included)
    to its maps, earlier attempts of a resumed fit included.

    With ``state`` the fit is written every ``state.every`` steps and continues
    from a saved state of the same fit; checkpoint maps it passed are read back
    (a saved state without them, e.g. of a fit run without checkpoints, is set
    aside and the fit starts afresh).
    """
    started = time.perf_counter()
    problem = build()
    model, optimizer = problem.model, problem.optimizer
    device = next(model.parameters()).device
    marks = sorted({k for k in checkpoints if k < iterations})
    losses = torch.empty(iterations, dtype=torch.float64, device=device)
    results: dict[int, RawOutput] = {}
    start, earlier = 0, 0.0
    payload = state.load() if state is not None else None
    if payload is not None:
        done = int(payload["steps_done"])
        passed = {k: state.load_checkpoint_maps(k) for k in marks if k <= done}
        if any(raw is None for raw in passed.values()):
            log.warning("saved fit %s lacks the maps of a checkpoint it passed; fitting from the start", state.key)
        else:
            for k, raw in passed.items():  # every step of these came from an earlier attempt
                raw.diagnostics["resumed_from"] = k
            results.update(passed)
            start = state.restore(model, optimizer, losses, payload)
            earlier = float(payload.get("seconds", 0.0))

    def seconds() -> float:
        return earlier + time.perf_counter() - started

    def snapshot(steps: int) -> RawOutput:
        with torch.no_grad():
            raw = problem.maps()
        curve = losses[:steps].cpu().numpy()
        raw.diagnostics = {"loss": curve.tolist(), "iterations": steps, **raw.diagnostics}
        raw.diagnostics["resumed_from"] = min(start, steps)
        raw.runtime_s = seconds()
        return raw

    pending = [k for k in marks if k > start]
    for it in tqdm(range(start, iterations), desc=desc, leave=False, disable=None, initial=start, total=iterations):
        optimizer.zero_grad(set_to_none=True)
        loss = problem.loss(it)
        loss.backward()
        optimizer.step()
        losses[it] = loss.detach()
        done = it + 1
        if pending and done == pending[0]:
            pending.pop(0)
            results[done] = snapshot(done)
            if state is not None:  # before the state that passes it, so a saved state always has its maps
                state.save_checkpoint_maps(done, results[done])
        if state is not None and state.due(done, iterations):
            state.save(done, model, optimizer, losses, seconds())
    results[iterations] = snapshot(iterations)
    curve = results[iterations].diagnostics["loss"]
    log.info("%s: loss %.4g -> %.4g in %d steps (%d resumed)", desc, curve[0], curve[-1], iterations, start)
    return results


class ChunkedNeuralMethod(Method):
    """Base of the neural methods that fit one model per chunk of ``chunk_length`` frames.

    A subclass implements `fit_problem` (the model, optimiser and loss of one
    chunk) and `fit_state` (where that chunk's resumable state lives); its
    config has ``iterations``, ``chunk_length`` and ``seed``. Chunk ``i`` is
    fitted from seed ``seed + i``.
    """

    kind: ClassVar = "multi-frame"
    gpu_capable: ClassVar = True
    learned: ClassVar = True
    checkpoint_parameter: ClassVar = "iterations"

    def min_frames(self) -> int:
        return 2

    @abstractmethod
    def fit_problem(self, chunk: np.ndarray, seed: int) -> FitProblem:
        """A fresh problem for one chunk of frames (L, H, W), initialised from ``seed``."""

    @abstractmethod
    def fit_state(self, chunk: np.ndarray, seed: int) -> FitState | None:
        """Where the fit of this chunk keeps its resumable state (None: no state kept)."""

    def _detect(self, frames: np.ndarray) -> RawOutput:
        total = self.config.iterations
        return self._detect_checkpoints(frames, (total,))[total]

    def _detect_checkpoints(self, frames: np.ndarray, steps: tuple[int, ...]) -> dict[int, RawOutput]:
        cfg = self.config

        def fit(chunk: np.ndarray, index: int) -> dict[int, RawOutput]:
            seed = cfg.seed + index
            return run_fit(
                lambda: self.fit_problem(chunk, seed),
                cfg.iterations,
                desc=f"{self.name} chunk {index}",
                state=self.fit_state(chunk, seed),
                checkpoints=steps,
            )

        outputs = run_chunked_many(frames, cfg.chunk_length, fit)
        for raw in outputs.values():
            raw.diagnostics["resumed_steps"] = sum(c["resumed_from"] for c in raw.diagnostics["chunks"])
        return outputs
