"""Agreement of the IPI and STT ports (``tensoristd`` presets) with the Octave reference maps on daub/sequence1."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from istdbench.core.registry import create_method
from istdbench.core.types import Sequence
from istdbench.datasets.catalog import load_sequence
from istdbench.metrics.roc3d import roc3d


@pytest.fixture(scope="module")
def sequence1(data_root: Path) -> Sequence:
    return load_sequence("daub/sequence1", data_root, (1, 20))


def _reference(reference_root: Path, stem: str) -> np.ndarray:
    return np.load(reference_root / "maps" / f"{stem}_sequence1.npz")["target"]


def _check_frames(out: np.ndarray, ref: np.ndarray, frames: range) -> None:
    for t in frames:
        o, r = out[t].astype(np.float64), ref[t]
        assert np.argmax(o) == np.argmax(r), f"frame {t + 1}: argmax differs"
        assert np.corrcoef(o.ravel(), r.ravel())[0, 1] >= 0.999999, f"frame {t + 1}"
        # float32 storage of our map is the only expected difference
        np.testing.assert_allclose(o, r, rtol=0, atol=1e-6 * r.max(), err_msg=f"frame {t + 1}")


@pytest.fixture(scope="module")
def ipi_maps(sequence1: Sequence) -> np.ndarray:
    return create_method("ipi", "tensoristd").detect(sequence1).target


def test_ipi_matches_octave(ipi_maps: np.ndarray, reference_root: Path) -> None:
    _check_frames(ipi_maps, _reference(reference_root, "IPI"), range(20))


def test_ipi_roc_matches_the_toolbox(ipi_maps: np.ndarray, sequence1: Sequence, reference_root: Path) -> None:
    expected = json.loads((reference_root / "roc" / "IPI_sequence1.json").read_text())
    res = roc3d(ipi_maps, sequence1, "tensoristd")
    for key in ("AUC_FPR_TPR", "AUC_tau_TPR", "AUC_tau_FPR"):
        assert res.aucs[key] == pytest.approx(expected[key], abs=1e-9), key


def test_stt_matches_octave_first_window(sequence1: Sequence, reference_root: Path) -> None:
    # frames 1-7 hold exactly the reference's first window (t = 4): it gives the maps of frames 1-4
    out = create_method("stt", "tensoristd").detect(sequence1.select(1, 7)).target
    _check_frames(out, _reference(reference_root, "STT"), range(4))


@pytest.mark.slow
def test_stt_matches_octave_all_frames(sequence1: Sequence, reference_root: Path) -> None:
    out = create_method("stt", "tensoristd").detect(sequence1).target
    _check_frames(out, _reference(reference_root, "STT"), range(20))
