"""Chunk planning for the neural methods: every frame processed, every chunk of full length."""

import numpy as np
import pytest

from istdbench import InvalidParameterError, RawOutput
from istdbench.methods._chunks import Chunk, plan_chunks, run_chunked


@pytest.mark.parametrize(
    ("n", "length", "expected"),
    [
        (50, 80, [Chunk(0, 50, 0)]),
        (80, 80, [Chunk(0, 80, 0)]),
        (160, 80, [Chunk(0, 80, 0), Chunk(80, 160, 80)]),
        (100, 80, [Chunk(0, 80, 0), Chunk(20, 100, 80)]),
        (7, 3, [Chunk(0, 3, 0), Chunk(3, 6, 3), Chunk(4, 7, 6)]),
    ],
)
def test_plan_chunks_covers_every_frame_once(n, length, expected):
    chunks = plan_chunks(n, length)
    assert chunks == expected
    written = np.concatenate([np.arange(c.keep_from, c.stop) for c in chunks])
    np.testing.assert_array_equal(written, np.arange(n))
    assert all(c.stop - c.start == min(n, length) for c in chunks)


def test_run_chunked_stitches_outputs_and_diagnostics():
    frames = np.arange(7, dtype=np.float32)[:, None, None] * np.ones((1, 2, 2), np.float32)
    calls = []

    def fit(chunk, i):
        calls.append((i, chunk[:, 0, 0].tolist()))
        return RawOutput(target=chunk * 2, background=chunk, diagnostics={"loss": [float(i)]})

    out = run_chunked(frames, 3, fit)
    np.testing.assert_array_equal(out.target, frames * 2)
    np.testing.assert_array_equal(out.background, frames)
    assert [c[1] for c in calls] == [[0, 1, 2], [3, 4, 5], [4, 5, 6]]
    assert [d["loss"] for d in out.diagnostics["chunks"]] == [[0.0], [1.0], [2.0]]


def test_plan_chunks_rejects_bad_sizes():
    with pytest.raises(InvalidParameterError, match="chunk length must be >= 1"):
        plan_chunks(10, 0)
    with pytest.raises(InvalidParameterError, match="cannot chunk an empty sequence"):
        plan_chunks(0, 80)
