"""Noise models: SNR accuracy (with clipping), seeding, the cross and line patterns, and spec parsing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from istdbench.core.errors import DataError, InvalidParameterError
from istdbench.core.types import Sequence
from istdbench.datasets.noise import NoiseSpec, apply_noise, measure_snr, parse_noise
from istdbench.datasets.synthetic import SyntheticSpec, make_sequence


@pytest.fixture(scope="module")
def seq() -> Sequence:
    return make_sequence(SyntheticSpec(h=48, w=56, t=6, seed=4))


def _bright(level: float) -> Sequence:
    rng = np.random.default_rng(1)
    return Sequence(frames=np.clip(level + 0.05 * rng.standard_normal((4, 32, 32)), 0, 1), name="test/bright")


@pytest.mark.parametrize("snr", [5.0, 15.0, 30.0])
def test_gaussian_snr_is_exact(seq: Sequence, snr: float) -> None:
    noisy = apply_noise(seq, f"gaussian:snr={snr:g}", seed=0)
    assert abs(measure_snr(seq.frames, noisy.frames) - snr) < 0.01
    assert noisy.provenance.noise == f"gaussian:snr={snr:g}"


@pytest.mark.parametrize("level", [0.9, 0.08])
def test_gaussian_snr_holds_under_heavy_clipping(level: float) -> None:
    clean = _bright(level)
    noisy = apply_noise(clean, "gaussian:snr=5", seed=3)
    assert (noisy.frames == (1.0 if level > 0.5 else 0.0)).mean() > 0.1  # clipping did happen
    assert abs(measure_snr(clean.frames, noisy.frames) - 5.0) < 0.01
    assert 0.0 <= noisy.frames.min() and noisy.frames.max() <= 1.0


def test_unreachable_snr(seq: Sequence) -> None:
    with pytest.raises(InvalidParameterError, match="cannot be reached with frames clipped to"):
        apply_noise(seq, "gaussian:snr=-30", seed=0)


def test_zero_frames_have_no_snr() -> None:
    dark = Sequence(frames=np.zeros((2, 8, 8)), name="test/dark")
    with pytest.raises(DataError, match="signal power is 0"):
        apply_noise(dark, "gaussian:snr=5", seed=0)


@pytest.mark.parametrize("spec", ["gaussian:snr=10", "cross", "vline"])
def test_seeded_and_truth_preserved(seq: Sequence, spec: str) -> None:
    a, b, c = (apply_noise(seq, spec, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)
    assert a.provenance.data_hash == b.provenance.data_hash != seq.provenance.data_hash
    np.testing.assert_array_equal(a.masks, seq.masks)
    assert a.name == seq.name and a.provenance.frame_numbers == seq.provenance.frame_numbers
    np.testing.assert_array_equal(seq.frames, make_sequence(SyntheticSpec(h=48, w=56, t=6, seed=4)).frames)


def test_cross_pattern() -> None:
    clean = Sequence(frames=np.full((3, 40, 40), 0.2), name="test/flat")
    noisy = apply_noise(clean, "cross:n=1,arm=3,amp=0.5", seed=0)
    full = 0
    for diff in noisy.frames - clean.frames:
        mark = diff > 0.25
        np.testing.assert_allclose(diff[mark], 0.5, atol=1e-6)
        r, c = ndimage.center_of_mass(mark)
        rows, cols = np.nonzero(mark)
        if 3 <= r <= 36 and 3 <= c <= 36:  # away from the border: a full 7 + 7 - 1 px "+"
            assert mark.sum() == 13
            assert set(rows[cols == round(c)]) == set(range(round(r) - 3, round(r) + 4))
            full += 1
    assert full >= 1


@pytest.mark.parametrize("fixed", [True, False])
def test_vline_pattern(fixed: bool) -> None:
    clean = Sequence(frames=np.full((4, 20, 30), 0.5), name="test/flat")
    noisy = apply_noise(clean, f"vline:n=2,width=2,amp=-0.3,fixed={str(fixed).lower()}", seed=1)
    diff = noisy.frames - clean.frames
    columns = [tuple(np.nonzero(np.abs(d[0]) > 0.1)[0]) for d in diff]
    for d, cols in zip(diff, columns, strict=True):
        np.testing.assert_allclose(d[:, list(cols)], -0.3, atol=1e-6)  # full-height, constant lines
        assert 2 <= len(cols) <= 4
    assert (len(set(columns)) == 1) is fixed


def test_noise_on_noise_is_recorded(seq: Sequence) -> None:
    twice = apply_noise(apply_noise(seq, "vline", seed=0), "gaussian:snr=20", seed=0)
    assert twice.provenance.noise == "vline+gaussian:snr=20"


def test_none_returns_the_sequence(seq: Sequence) -> None:
    assert apply_noise(seq, "none", seed=0) is seq


def test_canonical_spelling() -> None:
    assert parse_noise("cross").canonical() == "cross"
    assert parse_noise("cross:n=10").canonical() == "cross"
    assert parse_noise("CROSS:amp=0.8,n=20").canonical() == "cross:n=20,amp=0.8"
    assert str(parse_noise(" gaussian:snr=5.0 ")) == "gaussian:snr=5"
    assert parse_noise("vline:fixed=yes").canonical() == "vline:fixed=true"
    spec = NoiseSpec("gaussian", (("snr", 15.0),))
    assert parse_noise(spec) is spec and spec.get("snr") == 15.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gausian:snr=5", "Unknown noise kind 'gausian'. Did you mean 'gaussian'"),
        ("gaussian", "'gaussian' noise needs snr"),
        ("cross:nn=3", "Unknown parameter of 'cross' noise 'nn'. Did you mean 'n'"),
        ("gaussian:snr=abc", "'snr' expects a value of type float"),
        ("gaussian:snr=inf", "'snr' parameter of 'gaussian' noise must be a finite number"),
        ("vline:amp=3", r"'amp' parameter of 'vline' noise must be a float in \[-1, 1\]"),
        ("cross:arm=0", "'arm' parameter .* an int >= 1"),
        ("cross:n=-1", "'n' parameter .* an int >= 0"),
        ("vline:width=0", "'width' parameter .* an int >= 1"),
        ("cross:n", "items must be key=value"),
        ("cross:n=1,n=2", "given twice"),
    ],
)
def test_bad_noise_specs(text: str, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        parse_noise(text)


def test_bad_noise_spec_objects() -> None:
    with pytest.raises(InvalidParameterError, match="Unknown noise kind 'salt'"):
        NoiseSpec("salt")
    with pytest.raises(InvalidParameterError, match="Unknown parameter of 'vline' noise 'arm'"):
        NoiseSpec("vline", (("arm", 2),))


def test_measure_snr_definition() -> None:
    clean = np.full((1, 2, 2), 0.5)
    noisy = clean + np.array([0.05, -0.05, 0.05, -0.05]).reshape(1, 2, 2)
    assert measure_snr(clean, noisy) == pytest.approx(10 * np.log10(0.25 / 0.0025), abs=1e-9)
    assert measure_snr(clean, clean) == np.inf
