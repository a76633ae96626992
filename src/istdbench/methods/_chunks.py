"""Splitting long sequences into fixed-length chunks for the multi-frame neural methods.

NeurSTT and 3DSTPM fit one model per chunk of L frames (L = 80 in both
papers). The NeurSTT authors' code drops the last ``T mod L`` frames (and then
fails to reshape its metrics). Here every frame is processed: a sequence of at
most L frames is one chunk; otherwise chunks ``[0, L), [L, 2L), ...`` and, if
frames are left over, one last full-length chunk ``[T - L, T)`` that overlaps
its predecessor, of which only the frames not yet covered are kept. Every chunk
therefore has the same length, so the model sizes (ranks n3/4, n4 = 2 n3) stay
those of the paper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from istdbench.core.errors import InvalidParameterError
from istdbench.core.method import RawOutput


@dataclass(frozen=True)
class Chunk:
    """Frames ``start:stop`` are fitted together; frames ``keep_from:stop`` are written out."""

    start: int
    stop: int
    keep_from: int


def plan_chunks(n_frames: int, length: int) -> list[Chunk]:
    """Chunks covering ``n_frames`` frames, each of ``min(length, n_frames)`` frames."""
    if length < 1:
        raise InvalidParameterError(f"chunk length must be >= 1; got {length}.")
    if n_frames < 1:
        raise InvalidParameterError(f"cannot chunk an empty sequence (n_frames={n_frames}).")
    if n_frames <= length:
        return [Chunk(0, n_frames, 0)]
    chunks = [Chunk(s, s + length, s) for s in range(0, n_frames - length + 1, length)]
    covered = chunks[-1].stop
    if covered < n_frames:
        chunks.append(Chunk(n_frames - length, n_frames, covered))
    return chunks


def run_chunked(frames: np.ndarray, length: int, fit: Callable[[np.ndarray, int], RawOutput]) -> RawOutput:
    """Apply ``fit(chunk_frames, chunk_index)`` per chunk and stitch the outputs.

    Diagnostics of each chunk are gathered under ``diagnostics["chunks"]`` as a
    list (one dict per chunk, with its frame range).
    """
    return run_chunked_many(frames, length, lambda chunk, i: {0: fit(chunk, i)})[0]


def run_chunked_many(
    frames: np.ndarray, length: int, fit: Callable[[np.ndarray, int], dict[int, RawOutput]]
) -> dict[int, RawOutput]:
    """Like `run_chunked` for fits that give several results per chunk (e.g. after k optimiser steps).

    ``fit`` returns the same keys for every chunk; the result has one stitched
    output per key. Where every chunk reports a ``runtime_s``, the stitched
    output's is their sum.
    """
    stitched: dict[int, RawOutput] = {}
    for i, ch in enumerate(plan_chunks(frames.shape[0], length)):
        k = ch.keep_from - ch.start
        for key, out in fit(frames[ch.start : ch.stop], i).items():
            if key not in stitched:
                target = np.empty(frames.shape, dtype=np.float32)
                stitched[key] = RawOutput(target=target, diagnostics={"chunks": []}, runtime_s=0.0)
            whole = stitched[key]
            whole.target[ch.keep_from : ch.stop] = out.target[k:]
            if out.background is not None:
                if whole.background is None:
                    whole.background = np.empty(frames.shape, dtype=np.float32)
                whole.background[ch.keep_from : ch.stop] = out.background[k:]
            whole.diagnostics["chunks"].append(
                {"start": ch.start, "stop": ch.stop, "keep_from": ch.keep_from, **out.diagnostics}
            )
            timed = whole.runtime_s is not None and out.runtime_s is not None
            whole.runtime_s = whole.runtime_s + out.runtime_s if timed else None
    return stitched
