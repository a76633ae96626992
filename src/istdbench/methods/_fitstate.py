"""Resumable optimisation loops for the neural methods (NeurSTT, 3DSTPM).

A 3DSTPM chunk takes about 1.5 hours of one CPU core (3000 Adam steps at
256 x 256 x 80); a killed run used to lose all of it. `FitState` writes the
model's and the optimiser's state and the loss curve so far to one file every
``every`` steps (and after the last step), and a later fit of the same chunk
with the same settings continues from the newest file. Only the model, the
optimiser and the step count change during these loops (no random numbers are
drawn after initialisation), so a resumed fit gives bit-identical results on
the CPU.

Each fit has its own file, named by its key: the method, its config hash, the
device, the seed and a digest of the chunk's frames. Changed settings or data
therefore start a fresh fit instead of resuming a foreign one; a file that
cannot be read, or whose stored key differs from its name, is refused with an
error that names it.

The state also carries the seconds the fit had spent when it was written, so
that a resumed fit reports the time of all its attempts (not only the last),
and, beside it, the maps of every fit checkpoint passed so far
(``<key>.step<k>.npz``, written once), so that a resumed fit still hands out
the maps of checkpoints it passed before it was killed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from istdbench.core.errors import InvalidParameterError
from istdbench.core.io import atomic_write_bytes
from istdbench.core.method import RawOutput

log = logging.getLogger(__name__)

Losses = np.ndarray | torch.Tensor


def fit_key(method: str, config_hash: str, device: str, seed: int, frames: np.ndarray) -> str:
    """Identity of one chunk's fit: what must match for a saved state to be resumed."""
    digest = hashlib.sha1(np.ascontiguousarray(frames).tobytes()).hexdigest()[:16]
    shape = "x".join(str(n) for n in frames.shape)
    return f"{method}-{config_hash}-{device.replace(':', '')}-seed{seed}-{shape}-{digest}"


@dataclass(frozen=True)
class FitState:
    """Where one chunk's fit keeps its resumable state, and how often it is written.

    Parameters
    ----------
    directory : Path
        Folder of the state files (created when first written).
    key : str
        `fit_key` of the chunk; the file is ``<directory>/<key>.pt``.
    every : int
        Write after every ``every`` optimiser steps (the state of a 3DSTPM
        chunk at 256 x 256 x 80 is about 64 MB; one write per 100 steps costs
        under 0.1 % of the fit).
    """

    directory: Path
    key: str
    every: int = 100

    def __post_init__(self) -> None:
        if self.every < 1:
            raise InvalidParameterError(f"FitState.every must be >= 1; got {self.every}.")

    @property
    def path(self) -> Path:
        return Path(self.directory) / f"{self.key}.pt"

    def due(self, steps_done: int, total: int) -> bool:
        """Whether to write after ``steps_done`` steps of ``total``."""
        return steps_done == total or steps_done % self.every == 0

    def save(
        self,
        steps_done: int,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        losses: Losses,
        seconds: float = 0.0,
    ) -> None:
        """Write the state atomically (a crash mid-write leaves the previous file intact).

        ``losses`` is the loss curve buffer (a numpy array or a torch tensor);
        its first ``steps_done`` entries are kept. ``seconds``: the time the fit
        has spent so far, earlier attempts included.
        """
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "key": self.key,
            "steps_done": steps_done,
            "seconds": float(seconds),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "losses": torch.as_tensor(losses[:steps_done]).detach().to("cpu", torch.float64).clone(),
        }
        tmp = path.with_suffix(".pt.tmp")
        torch.save(payload, tmp)
        os.replace(tmp, path)

    def load(self) -> dict[str, Any] | None:
        """The saved state of this fit (checked to be its own), or None when there is none."""
        path = self.path
        if not path.is_file():
            return None
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InvalidParameterError(
                f"cannot read the saved fit state {path}: {exc}. Delete it to start over."
            ) from exc
        if not isinstance(payload, dict) or payload.get("key") != self.key:
            other = payload.get("key") if isinstance(payload, dict) else None
            raise InvalidParameterError(
                f"the saved fit state {path} belongs to another fit ({other!r}); delete it to start over."
            )
        return payload

    def restore(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        losses: Losses,
        payload: dict[str, Any] | None = None,
    ) -> int:
        """Load a saved state into ``model``, ``optimizer`` and ``losses``; return the steps done (0: none saved).

        ``payload``: a state already read by `load` (read from disk when None).
        """
        path = self.path
        if payload is None:
            payload = self.load()
        if payload is None:
            return 0
        done = int(payload["steps_done"])
        if done > len(losses):
            raise InvalidParameterError(
                f"the saved fit state {path} has {done} steps but this fit asks for {len(losses)}; "
                "raise the iteration count or delete the file."
            )
        model.load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        saved = payload["losses"]
        if isinstance(losses, torch.Tensor):
            losses[:done] = saved.to(losses.device, losses.dtype)
        else:
            losses[:done] = saved.numpy()
        log.info("resuming %s after %d steps (%s)", self.key, done, path)
        return done

    def maps_path(self, steps: int) -> Path:
        return Path(self.directory) / f"{self.key}.step{steps}.npz"

    def save_checkpoint_maps(self, steps: int, raw: RawOutput) -> None:
        """Keep the maps of the fit checkpoint after ``steps`` steps (written atomically, once)."""
        meta = {"key": self.key, "steps": steps, "runtime_s": raw.runtime_s, "diagnostics": raw.diagnostics}
        arrays = {"target": raw.target, "meta": np.asarray(json.dumps(meta))}
        if raw.background is not None:
            arrays["background"] = raw.background
        atomic_write_bytes(self.maps_path(steps), lambda fh: np.savez(fh, **arrays))

    def load_checkpoint_maps(self, steps: int) -> RawOutput | None:
        """The maps `save_checkpoint_maps` kept for ``steps`` steps of this fit, or None (none kept, or unreadable)."""
        path = self.maps_path(steps)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                background = z["background"] if "background" in z else None
                target = z["target"]
        except (OSError, ValueError, KeyError) as exc:
            log.warning("cannot read the checkpoint maps %s (%s); they will be recomputed", path, exc)
            return None
        if meta.get("key") != self.key or meta.get("steps") != steps:
            return None
        return RawOutput(target, background, meta["diagnostics"], meta["runtime_s"])


def chunk_state(
    state_dir: str | Path | None, method: str, config_hash: str, device: str, seed: int, frames: np.ndarray
) -> FitState | None:
    """The `FitState` of one chunk's fit under ``state_dir``, or None when no state is kept."""
    if state_dir is None:
        return None
    return FitState(Path(state_dir), fit_key(method, config_hash, device, seed, frames))
