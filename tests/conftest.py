"""Shared fixtures: where the real data and the reference outputs live, and small synthetic inputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _first_existing(*candidates: Path) -> Path | None:
    for c in candidates:
        if c.is_dir():
            return c
    return None


SHARED = _first_existing(
    *([Path(os.environ["ISTDBENCH_SHARED"])] if "ISTDBENCH_SHARED" in os.environ else []),
    REPO.parent / "shared",
)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real clips (../shared/data); tests that need them skip with a message if absent."""
    root = SHARED / "data" if SHARED else None
    if root is None or not root.is_dir():
        pytest.skip("real data not found: expected ../shared/data beside the repository (or set ISTDBENCH_SHARED)")
    return root


@pytest.fixture(scope="session")
def reference_root() -> Path:
    """Octave reference outputs (../shared/reference); skipped with a message if absent."""
    root = SHARED / "reference" if SHARED else None
    if root is None or not root.is_dir():
        pytest.skip("reference outputs not found: expected ../shared/reference (or set ISTDBENCH_SHARED)")
    return root


@pytest.fixture
def weights_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The authors' network weights (../shared/weights), set as ``$ISTDBENCH_WEIGHTS``; skipped if absent."""
    root = SHARED / "weights" if SHARED else None
    if root is None or not root.is_dir():
        pytest.skip("network weights not found: expected ../shared/weights (or set ISTDBENCH_SHARED)")
    monkeypatch.setenv("ISTDBENCH_WEIGHTS", str(root))
    return root


@pytest.fixture(scope="session", autouse=True)
def _single_threaded_numerics():
    """One BLAS/torch thread: the tests' many small SVDs run far slower when threads contend, and
    results stay independent of the machine's core count."""
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(previous)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
