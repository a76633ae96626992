"""Agreement of the top-hat, MPCM and PSTNN ports with the Octave reference maps on daub/sequence1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.datasets.catalog import load_sequence


@pytest.fixture(scope="module")
def sequence1(data_root: Path) -> Sequence:
    return load_sequence("daub/sequence1", data_root, (1, 20))


def _reference(reference_root: Path, stem: str) -> np.ndarray:
    return np.load(reference_root / "maps" / f"{stem}_sequence1.npz")["target"]


@pytest.mark.parametrize(("preset", "stem"), [("tensoristd", "Tophat"), ("disk", "Tophat_disk0")])
def test_tophat_matches_octave(sequence1: Sequence, reference_root: Path, preset: str, stem: str) -> None:
    ref = _reference(reference_root, stem)
    out = create_method("tophat", preset).detect(sequence1).target
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("preset", "stem"), [("paper", "MPCM_r1-4"), ("tensoristd", "MPCM")])
def test_mpcm_matches_octave_to_float32(sequence1: Sequence, reference_root: Path, preset: str, stem: str) -> None:
    ref = _reference(reference_root, stem)
    out = create_method("mpcm", preset).detect(sequence1).target
    # float32 rounding of the map; atol covers entries MATLAB rounds to exactly 0 (products of ~1e-8 differences)
    np.testing.assert_allclose(out, ref, rtol=2e-7, atol=1e-12)


def _check_pstnn(sequence1: Sequence, reference_root: Path, first: int, last: int) -> None:
    ref = _reference(reference_root, "PSTNN")[first - 1 : last]
    out = create_method("pstnn", "tensoristd").detect(sequence1.select(first, last)).target
    for t in range(len(ref)):
        np.testing.assert_allclose(out[t], ref[t], rtol=0, atol=1e-3 * ref[t].max(), err_msg=f"frame {first + t}")


def test_pstnn_matches_octave_first_frames(sequence1: Sequence, reference_root: Path) -> None:
    _check_pstnn(sequence1, reference_root, 1, 3)


@pytest.mark.slow
def test_pstnn_matches_octave_all_frames(sequence1: Sequence, reference_root: Path) -> None:
    _check_pstnn(sequence1, reference_root, 1, 20)
