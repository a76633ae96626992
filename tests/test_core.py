"""Data model, configs, registry (including an entry-point plugin) and the detect CLI."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import istdbench
from istdbench import DataError, Detection, InvalidParameterError, Sequence, UnknownNameError
from istdbench.cli import main
from istdbench.core import registry
from istdbench.core.config import parse_assignments
from istdbench.core.io import load_maps

PLUGIN_DIR = Path(__file__).parent / "plugin_example"


def _frames(t=3, h=8, w=9):
    return np.random.default_rng(0).random((t, h, w)).astype(np.float32)


# --- Sequence / Detection validation ---------------------------------------------------------------


def test_sequence_validates_and_freezes():
    seq = Sequence(_frames(), name="x", points=[[(1, 2)], [], [(3.5, 4), (0, 0)]])
    assert seq.shape == (3, 8, 9) and seq.frames.dtype == np.float32
    assert seq.provenance.frame_numbers == (1, 2, 3)
    assert seq.points[1].shape == (0, 2)
    with pytest.raises(ValueError):
        seq.frames[0, 0, 0] = 1.0
    sub = seq.select(2, 3)
    assert len(sub) == 2 and sub.provenance.frame_numbers == (2, 3) and len(sub.points) == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"frames": np.zeros((4, 4))}, r"shape \(T, H, W\)"),
        ({"frames": np.zeros((0, 4, 4))}, "no frames"),
        ({"frames": np.full((2, 4, 4), np.nan)}, r"NaN or inf values in frame\(s\) 0, 1"),
        ({"frames": np.full((2, 4, 4), 2.0)}, r"scaled to \[0, 1\]"),
        ({"frames": np.zeros((2, 4, 4)), "masks": np.zeros((2, 4, 5))}, "masks have shape"),
        ({"frames": np.zeros((2, 4, 4)), "points": [[(1, 1)]]}, "1 entries for 2 frames"),
        ({"frames": np.zeros((2, 4, 4)), "points": [[(1, 1)], [(9, 1)]]}, "outside the 4x4 image"),
        ({"frames": np.array([[["a"]]])}, "real numbers"),
    ],
)
def test_sequence_bad_input(kwargs, match):
    with pytest.raises(DataError, match=match):
        Sequence(**kwargs)


def test_crop_shifts_points_and_drops_those_outside():
    frames = _frames()
    masks = frames > 0.5
    seq = Sequence(frames, name="x", masks=masks, points=[[(1, 2)], [], [(3.5, 4), (0, 0)]])
    sub = seq.crop((1, 5), (2, 7))
    assert sub.shape == (3, 4, 5) and sub.name == "x[1:5,2:7]"
    np.testing.assert_array_equal(sub.frames, frames[:, 1:5, 2:7].astype(np.float32))
    np.testing.assert_array_equal(sub.masks, masks[:, 1:5, 2:7])
    assert sub.points[0].tolist() == [[0.0, 0.0]] and sub.points[1].shape == (0, 2)
    assert sub.points[2].tolist() == [[2.5, 2.0]]  # (0, 0) lies outside the region
    with pytest.raises(DataError, match=r"crop rows 1:9, cols 0:3 is not a non-empty region of the 8x9"):
        seq.crop((1, 9), (0, 3))


def test_select_out_of_range():
    with pytest.raises(DataError, match=r"frame range 2:9 is outside 1:3"):
        Sequence(_frames()).select(2, 9)


def test_detection_checks_background_shape():
    with pytest.raises(DataError, match="background has shape"):
        Detection(target=np.zeros((2, 4, 4)), background=np.zeros((2, 4, 3)))
    with pytest.raises(DataError, match="NaN or inf"):
        Detection(target=np.full((1, 2, 2), np.inf))


# --- configs ------------------------------------------------------------------------------------------


def test_config_overrides_parse_types_and_validate():
    base = registry.get_method("tophat").presets["tensoristd"]
    changed = base.with_overrides({"radius": "4", "shape": "disk"})
    assert (changed.radius, changed.shape) == (4, "disk") and isinstance(changed.radius, int)
    assert (base.radius, base.shape) == (2, "square")  # the preset itself is never modified
    assert changed.config_hash() != base.config_hash()
    assert pickle.loads(pickle.dumps(changed)) == changed
    with pytest.raises(UnknownNameError, match=r"Unknown parameter of TophatConfig 'raduis'\. Did you mean 'radius'"):
        base.with_overrides({"raduis": "3"})
    with pytest.raises(InvalidParameterError, match="'radius' parameter of TophatConfig must be an integer >= 1"):
        base.with_overrides({"radius": "0"})
    with pytest.raises(
        InvalidParameterError, match="'shape' parameter of TophatConfig must be one of 'square', 'disk'"
    ):
        dataclasses.replace(base, shape="circle")  # declared choices are checked even without parsing


def test_parse_value_errors():
    from istdbench.core.config import parse_value

    assert parse_value("n", "3", int) == 3
    assert parse_value("x", "0.5", float) == 0.5
    assert parse_value("b", "yes", bool) is True
    assert parse_value("t", "1,2,3", tuple[int, ...]) == (1, 2, 3)
    assert parse_value("o", "none", int | None) is None
    with pytest.raises(InvalidParameterError, match="expects a value of type int"):
        parse_value("n", "three", int)
    with pytest.raises(InvalidParameterError, match="expects a value of type bool"):
        parse_value("b", "maybe", bool)
    with pytest.raises(InvalidParameterError, match="--set expects key=value"):
        parse_assignments(["novalue"])


# --- registry ---------------------------------------------------------------------------------------


def test_unknown_method_suggests_closest():
    with pytest.raises(UnknownNameError, match=r"Unknown method 'tophta'\. Did you mean 'tophat'\?"):
        istdbench.create_method("tophta")


def test_unknown_preset():
    with pytest.raises(UnknownNameError, match="Unknown preset of method 'tophat'"):
        istdbench.create_method("tophat", preset="nope")


def test_cpu_only_method_rejects_cuda():
    with pytest.raises(InvalidParameterError, match="runs on the CPU only"):
        istdbench.create_method("tophat", device="cuda")


def test_register_rejects_non_method_and_missing_presets():
    with pytest.raises(TypeError, match=r"subclass of istdbench\.Method"):
        istdbench.register("bad")(object)

    class NoPresets(istdbench.SingleFrameMethod):
        def detect_frame(self, frame):
            return frame

    with pytest.raises(TypeError, match="declares no presets"):
        istdbench.register("nopresets")(NoPresets)


def test_list_methods_wildcard():
    assert "tophat" in istdbench.list_methods("top*")
    assert istdbench.list_methods("zzz*") == []


def test_one_method_loads_without_the_others():
    """Asking for the top-hat imports its module only: no network module, so no torch (reports stay fast)."""
    code = (
        "import sys; from istdbench.core.registry import get_method, _REGISTRY; get_method('tophat'); "
        "print(sorted(_REGISTRY), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["['tophat']", "False"]


def test_builtin_modules_are_found_from_their_register_lines():
    found = registry._builtin_modules()
    assert found["3dstpm"] == "istdbench.methods.stpm3d" and found["asttv-ntla"] == "istdbench.methods.asttv_ntla"
    assert set(found) == {n for n in istdbench.list_methods() if get_module(n).startswith("istdbench.methods.")}


def test_entry_point_plugin(tmp_path, monkeypatch):
    """A package that declares the `istdbench.methods` entry point is found without touching the suite."""
    dist = tmp_path / "istdbench_plugin_example-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: istdbench-plugin-example\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[istdbench.methods]\nbrightest = istdbench_plugin_example:Brightest\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    assert "brightest" in istdbench.list_methods()
    method = istdbench.create_method("brightest", overrides={"gain": "2"})
    seq = Sequence(_frames())
    det = method.detect(seq)
    np.testing.assert_allclose(det.target, 2 * seq.frames, rtol=1e-6)
    assert det.method == "brightest" and det.config == {"gain": 2.0}
    with pytest.raises(InvalidParameterError, match="'gain' parameter of BrightestConfig must be a float > 0"):
        istdbench.create_method("brightest", overrides={"gain": "-1"})
    sys.modules.pop("istdbench_plugin_example", None)


# Small settings that keep each method's run short; every registered method must appear here, so a new
# built-in method is added to the contract test deliberately.
FAST_OVERRIDES: dict[str, dict[str, object]] = {
    "tophat": {},
    "mpcm": {},
    "ipi": {},
    "pstnn": {},
    "stt": {"tol": 1e-2},
    "asttv-ntla": {"max_iter": 10},
    "npstt": {"patch_size": 16, "step": 16},
    "neurstt": {"iterations": 3},
    "3dstpm": {"iterations": 3},
    "nftdgstv": {"max_iter": 5},
    "ctstc": {},
    # the networks at a small input size; they need the authors' weights (../shared/weights)
    "rpcanet": {"input_size": 32},
    "rdian": {"input_size": 32},
}
NEEDS_WEIGHTS = {"rpcanet", "rdian"}


def test_every_builtin_method_is_in_the_contract_table():
    builtins = {n for n in istdbench.list_methods() if get_module(n).startswith("istdbench.methods.")}
    assert builtins == set(FAST_OVERRIDES)


def get_module(name: str) -> str:
    return istdbench.get_method(name).__module__


@pytest.mark.parametrize("name", sorted(FAST_OVERRIDES))
def test_every_method_honours_the_common_contract(name, request):
    """Shape kept, finite float32 output, deterministic, config picklable, metadata set.

    The frames a method gets are read-only, so a method that wrote into its input would fail here.
    """
    if name in NEEDS_WEIGHTS:
        request.getfixturevalue("weights_root")  # sets $ISTDBENCH_WEIGHTS, or skips without the shared weights
    frames = 0.3 + 0.4 * np.random.default_rng(3).random((8, 56, 60))
    frames[:, 20:22, 30:32] = 1.0
    seq = Sequence(frames)
    assert not seq.frames.flags.writeable
    cls = istdbench.get_method(name)
    assert cls.citation and cls.kind in ("single-frame", "multi-frame")
    config = cls.presets[cls.default_preset]
    assert pickle.loads(pickle.dumps(config)) == config
    first = istdbench.create_method(name, overrides=FAST_OVERRIDES[name]).detect(seq)
    second = istdbench.create_method(name, overrides=FAST_OVERRIDES[name]).detect(seq)
    assert first.target.shape == seq.shape and first.target.dtype == np.float32
    assert np.isfinite(first.target).all()
    np.testing.assert_array_equal(first.target, second.target)
    assert first.method == name and first.runtime_s > 0
    assert (first.n_params is not None) == cls.learned


# --- CLI ---------------------------------------------------------------------------------------------


def test_cli_methods_lists_tophat():
    res = CliRunner().invoke(main, ["methods"])
    assert res.exit_code == 0, res.output
    assert "tophat" in res.output


def test_cli_detect_synthetic_roundtrip(tmp_path):
    out = tmp_path / "maps.npz"
    res = CliRunner().invoke(
        main, ["detect", "tophat", "synthetic:h=48,w=40,t=5,seed=1", "-o", str(out), "--frames", "2:4"]
    )
    assert res.exit_code == 0, res.output
    target, frames, meta = load_maps(out)
    assert target.shape == (3, 48, 40) and target.dtype == np.float32
    assert frames.tolist() == [2, 3, 4]
    assert meta["method"] == "tophat" and meta["versions"]["istdbench"] == istdbench.__version__


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["detect", "tophta", "synthetic:h=32,w=32,t=2", "-o", "x.npz"], "Did you mean 'tophat'"),
        (["detect", "tophat", "synthetic:h=32,w=32,t=2", "-o", "x.npz", "--set", "bogus=1"], "Unknown parameter"),
        (["detect", "tophat", "synthetic:h=32,w=32,t=2", "-o", "x.npz", "--frames", "3-4"], "--frames expects a:b"),
        (["detect", "tophat", "synthetic:h=32,w=32,t=2", "-o", "x.npz", "--preset", "zz"], "Unknown preset"),
        (
            ["detect", "tophat", "synthetic:h=32,w=32,t=2", "-o", "x.npz", "--set", "radius=two"],
            "Parameter 'radius' expects a value of type int. Got 'two'.",
        ),
        (
            ["detect", "tophat", "synthetic:h=32,w=32,t=2", "-o", "x.npz", "--set", "shape=round"],
            "Parameter 'shape' must be one of ['square', 'disk']. Got 'round'.",
        ),
        (["detect", "tophat", "no/such/folder", "-o", "x.npz"], "no/such/folder"),
    ],
)
def test_cli_detect_errors_are_one_line(args, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert match in res.output
    assert "Traceback" not in res.output


def test_cli_detect_tophat_matches_octave_reference(tmp_path, data_root, reference_root):
    """Issue 2's end-to-end check: `istdbench detect tophat daub/sequence1 --frames 1:20` equals the reference."""
    out = tmp_path / "tophat.npz"
    args = ["detect", "tophat", "daub/sequence1", "--frames", "1:20", "-o", str(out), "--data-root", str(data_root)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    target, frames, _ = load_maps(out)
    with np.load(reference_root / "maps" / "Tophat_sequence1.npz") as ref:
        np.testing.assert_array_equal(frames, ref["frames"])
        np.testing.assert_allclose(target, ref["target"], rtol=0, atol=1e-6)
