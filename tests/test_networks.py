"""RPCANet and RDIAN: strict loading of the authors' weights, bad weights files, geometry, batching, devices."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import istdbench
from istdbench import DataError, InvalidParameterError, Sequence
from istdbench.cli import main
from istdbench.methods._network import Geometry, batch_capacity, geometry
from istdbench.methods._weights import WEIGHTS_ENV, resolve_weights, weights_folder
from istdbench.methods.rdian import DIRECTIONS, RDIAN
from istdbench.methods.rpcanet import TRAININGS, RPCANet

NETWORKS = {"rpcanet": RPCANet, "rdian": RDIAN}

# The authors' files as ../shared/weights/README.md lists them (md5 there).
SHARED_FILES = {
    "rpcanet/RPCANet_SIRST.pkl": ("rpcanet", "a997a673d06775234406150214305696"),
    "rpcanet/RPCANet_NUDT.pkl": ("rpcanet", "dac07e296f350cff4c85dd8453ef5bc3"),
    "rpcanet/RPCANet_1K.pkl": ("rpcanet", "115dc5efc5765f77416ccd82fa9eec67"),
    "rpcanet/RPCANet_SIRST-Aug.pkl": ("rpcanet", "b89027b72cf6484276aaf0c8e8248c87"),
    "rdian/best.pth": ("rdian", "6d1fc0438ee425d0db1fca5354d1ee2d"),
}


def _frames(t=3, h=40, w=44, seed=0) -> np.ndarray:
    """8-bit-like frames with one bright 2x2 blob each."""
    rng = np.random.default_rng(seed)
    frames = np.round(255 * (0.3 + 0.2 * rng.random((t, h, w)))) / 255
    frames[:, h // 2 : h // 2 + 2, w // 3 : w // 3 + 2] = 1.0
    return frames.astype(np.float32)


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory) -> dict[str, str]:
    """A randomly initialised state_dict of each network, saved like the authors' files (no shared data needed)."""
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    paths = {}
    for name, cls in NETWORKS.items():
        net = cls.build()
        for module in net.modules():  # non-trivial running statistics, so eval-mode BatchNorm matters
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 2.0)
        paths[name] = str(folder / f"{name}.pt")
        torch.save(net.state_dict(), paths[name])
    return paths


def _method(name: str, weights: str, **overrides) -> istdbench.Method:
    return istdbench.create_method(name, overrides={"weights": weights, **overrides})


# --- the authors' files ------------------------------------------------------------------------------------


# Outputs of the authors' own model code (their repositories' models/deepunfolding.py and
# model/segmentation.py, run once on this input with these weights; docs/networks.md): RPCANet's sparse
# component T and RDIAN's logit at six pixels, and their sums. Our networks gave the same to float32 rounding.
AUTHORS_PIXELS = [(0, 0), (20, 30), (21, 31), (10, 40), (39, 47), (5, 17)]
AUTHORS_OUTPUTS = {
    "rpcanet": ([-41.87748, -692.41675, 11.81378, -1508.39856, -503.97729, -802.05658], -1258566.023),
    "rdian": ([-259.849, -411.09821, -496.21094, -206.54422, -9.79047, -576.40936], -632649.092),
}


@pytest.mark.parametrize("name", sorted(AUTHORS_OUTPUTS))
def test_networks_reproduce_the_authors_code(weights_root, name):
    x = np.random.default_rng(0).random((1, 1, 40, 48)).astype(np.float32)
    x[0, 0, 20:22, 30:32] = 1.0
    method = istdbench.create_method(name)
    with torch.inference_mode():
        inp = method.normalise(torch.from_numpy(x))
        out = method.network()(inp)
        raw = (out[1] if name == "rpcanet" else out)[0, 0].double().numpy()
    values, total = AUTHORS_OUTPUTS[name]
    np.testing.assert_allclose([raw[p] for p in AUTHORS_PIXELS], values, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(raw.sum(), total, rtol=1e-6)


@pytest.mark.parametrize("rel", sorted(SHARED_FILES))
def test_authors_weights_load_strictly(weights_root, rel):
    name, md5 = SHARED_FILES[rel]
    path = weights_root / rel
    assert hashlib.md5(path.read_bytes()).hexdigest() == md5, "the shared file differs from the authors' release"
    method = istdbench.create_method(name, overrides={"weights": rel})
    net = method.network()  # strict: raises on any missing, unexpected or reshaped key
    assert not net.training and not any(m.training for m in net.modules())  # eval-mode BatchNorm, no dropout
    assert set(net.state_dict()) == set(torch.load(path, map_location="cpu", weights_only=True))


def test_presets_name_the_four_rpcanet_trainings(weights_root):
    assert set(RPCANet.presets) == set(TRAININGS) and RPCANet.default_preset == "sirst"
    for preset in RPCANet.presets:
        assert resolve_weights(RPCANet.presets[preset].weights).is_file()


def test_rdian_file_holds_the_fixed_direction_kernels(weights_root):
    state = torch.load(weights_root / "rdian/best.pth", map_location="cpu", weights_only=True)
    for k, (dr, dc) in zip(range(11, 19), DIRECTIONS, strict=True):
        expected = torch.zeros(5, 5)
        expected[2, 2], expected[2 + dr, 2 + dc] = 1.0, -1.0
        torch.testing.assert_close(state[f"d{k}.weight"][0, 0], expected, rtol=0, atol=0)


def test_parameter_counts():
    """Trainable only; the README's 0.680 M for RPCANet; state_dict elements as ../shared/weights lists them."""
    rpcanet, rdian = RPCANet(overrides={"weights": "x"}), RDIAN(overrides={"weights": "x"})
    assert rpcanet.n_params((1, 256, 256)) == 679_896 and round(679_896 / 1e6, 3) == 0.680
    assert RPCANet.n_state_elements() == 683_016
    assert rdian.n_params((1, 480, 720)) == 216_558
    assert RDIAN.n_state_elements() == 217_692


# --- bad weights ---------------------------------------------------------------------------------------------


def test_missing_weights_file_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "folder"))
    method = istdbench.create_method("rpcanet")
    with pytest.raises(DataError, match=r"weights file 'rpcanet/RPCANet_SIRST\.pkl' not found .*never downloads"):
        method.detect(Sequence(_frames(t=1)))
    with pytest.raises(DataError, match=r"folder/rpcanet/RPCANet_SIRST\.pkl"):
        method.fingerprint()


def test_weights_folder_defaults_to_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert weights_folder() == tmp_path / "istdbench" / "weights"
    (tmp_path / "istdbench" / "weights" / "rdian").mkdir(parents=True)
    (tmp_path / "istdbench" / "weights" / "rdian" / "best.pth").write_bytes(b"")
    assert resolve_weights("rdian/best.pth") == (tmp_path / "istdbench/weights/rdian/best.pth").resolve()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"not a pickle at all", "is not a PyTorch state_dict torch can read"),
        ([1, 2, 3], r"is not a state_dict .* it holds list"),
        ({"epsilon": 0.01}, "it holds a mapping whose values are not all tensors"),
    ],
)
def test_file_that_is_not_a_state_dict(tmp_path, content, match):
    path = tmp_path / "bad.pkl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(DataError, match=match) as err:
        _method("rpcanet", str(path)).network()
    assert str(path) in str(err.value)


def test_wrong_shapes_name_the_first_mismatched_keys(tmp_path, random_weights):
    state = torch.load(random_weights["rpcanet"], weights_only=True)
    state["decos.0.sparse.epsilon"] = torch.zeros(2)
    del state["decos.5.merge.mapping.12.bias"]
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "edited.pkl"
    torch.save(state, path)
    with pytest.raises(DataError) as err:
        _method("rpcanet", str(path)).network()
    message = str(err.value)
    assert f"weights file {str(path)!r} does not fit rpcanet." in message
    assert "missing: decos.5.merge.mapping.12.bias" in message and "unexpected: extra.weight" in message
    assert "wrong shape: decos.0.sparse.epsilon (2,) (expected (1,))" in message


@pytest.mark.parametrize(("name", "other"), [("rpcanet", "rdian"), ("rdian", "rpcanet")])
def test_weights_of_the_other_network(random_weights, name, other):
    with pytest.raises(DataError, match=rf"does not fit {name}\. It holds {other}'s weights, not {name}'s\. missing: "):
        _method(name, random_weights[other]).network()


def test_checkpoint_wrappers_are_unwrapped(tmp_path, random_weights):
    """A BasicIRSTD-style {'state_dict': ...} checkpoint with DataParallel's 'module.' prefix loads."""
    state = torch.load(random_weights["rdian"], weights_only=True)
    path = tmp_path / "ckpt.pth.tar"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    seq = Sequence(_frames(t=1))
    wrapped = _method("rdian", str(path), input_size=32).detect(seq).target
    plain = _method("rdian", random_weights["rdian"], input_size=32).detect(seq).target
    np.testing.assert_array_equal(wrapped, plain)


# --- geometry, batching, determinism -------------------------------------------------------------------------


def test_geometry_resizes_or_pads():
    cfg = RPCANet.presets["sirst"]
    assert geometry((100, 120), cfg) == Geometry((100, 120), (256, 256), (256, 256))
    native = cfg.with_overrides({"input_size": "none"})
    assert geometry((100, 120), native) == Geometry((100, 120), (100, 120), (128, 128))
    assert geometry((8, 9), native).padded == (32, 32)
    assert batch_capacity((256, 256), 160, 1024) == 25 and batch_capacity((4096, 4096), 160, 1) == 1


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_small_frame_is_padded_and_said(random_weights, caplog, name):
    seq = Sequence(_frames(t=2, h=8, w=9))
    with caplog.at_level(logging.WARNING, logger="istdbench.methods._network"):
        det = _method(name, random_weights[name], input_size=None).detect(seq)
    assert det.target.shape == (2, 8, 9) and np.isfinite(det.target).all()
    assert f"{name}: frame 8x9 is smaller than the network's 32x32 minimum" in caplog.text


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_maps_are_deterministic_and_batch_independent(random_weights, name):
    seq = Sequence(_frames(t=3, h=30, w=34))
    first = _method(name, random_weights[name], input_size=32).detect(seq)
    second = _method(name, random_weights[name], input_size=32).detect(seq)
    np.testing.assert_array_equal(first.target, second.target)
    one_by_one = _method(name, random_weights[name], input_size=32, batch_mb=1).detect(seq)
    np.testing.assert_allclose(one_by_one.target, first.target, rtol=0, atol=1e-6)
    assert first.target.dtype == np.float32 and ((first.target >= 0) & (first.target <= 1)).all()


def test_detect_batch_keeps_order_over_mixed_sizes(random_weights):
    method = _method("rdian", random_weights["rdian"], input_size=None)
    frames = [f.astype(np.float64) for f in (_frames(1, 40, 44)[0], _frames(1, 33, 20, 1)[0], _frames(1, 40, 44, 2)[0])]
    outs = method.detect_batch(frames)
    assert [o.target.shape for o in outs] == [(40, 44), (33, 20), (40, 44)]
    for frame, out in zip(frames, outs, strict=True):
        np.testing.assert_allclose(out.target, method.detect_frame(frame), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_image_set_of_mixed_sizes(random_weights, name):
    """An image set goes through detect_batch: one map per image at its own size, equal to one-by-one maps."""
    from istdbench.core.types import ImageSet

    images = [_frames(1, 40, 44)[0], _frames(1, 33, 20, 1)[0], _frames(1, 21, 50, 2)[0]]
    method = _method(name, random_weights[name], input_size=32)
    det = method.detect(ImageSet(images=images, names=["a", "b", "c"], name="tiny"))
    assert [t.shape for t in det.targets] == [(40, 44), (33, 20), (21, 50)] and det.n_params == method.n_params(
        (1, 1, 1)
    )
    for img, target in zip(images, det.targets, strict=True):
        np.testing.assert_allclose(target, method.detect_frame(img.astype(np.float64)), rtol=0, atol=1e-6)


def test_resize_matches_pillow_within_one_level(random_weights):
    """RDIAN's input resize is Pillow's BILINEAR (antialiased when shrinking), rounded to 8 bit."""
    rng = np.random.default_rng(1)
    img = (np.clip(rng.normal(120, 40, (48, 72)), 0, 255)).astype(np.uint8)
    seen = {}
    method = _method("rdian", random_weights["rdian"], input_size=40)
    method.normalise = lambda x: seen.setdefault("x", x.clone())  # capture the resized input
    method.forward_map = lambda net, x: x[:, :1]
    method.detect_batch([img / 255.0])
    ours = np.round(seen["x"][0, 0].numpy() * 255).astype(int)
    pillow = np.asarray(Image.fromarray(img).resize((40, 40), Image.BILINEAR), dtype=int)
    assert np.abs(ours - pillow).max() <= 1


def test_resize_matches_opencv_within_one_level(random_weights):
    """RPCANet's input resize is OpenCV's INTER_LINEAR on uint8 (checked where OpenCV is installed)."""
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(2)
    img = (np.clip(rng.normal(120, 40, (90, 130)), 0, 255)).astype(np.uint8)
    seen = {}
    method = _method("rpcanet", random_weights["rpcanet"], input_size=64)
    method.normalise = lambda x: seen.setdefault("x", x.clone())
    method.forward_map = lambda net, x: x[:, :1]
    method.detect_batch([img / 255.0])
    ours = np.round(seen["x"][0, 0].numpy() * 255).astype(int)
    assert np.abs(ours - cv2.resize(img, (64, 64), interpolation=cv2.INTER_LINEAR).astype(int)).max() <= 1


# --- devices -------------------------------------------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidParameterError, match="device 'cuda' was requested but no CUDA device is available"):
        istdbench.create_method("rdian", device="cuda")
    res = CliRunner().invoke(
        main, ["detect", "rpcanet", "synthetic:h=32,w=32,t=2", "-o", str(tmp_path / "m.npz"), "--device", "cuda"]
    )
    assert res.exit_code == 2 and "error: device 'cuda' was requested but no CUDA device" in res.output


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_cuda_maps_match_cpu(random_weights, name):
    seq = Sequence(_frames(t=3))
    cpu = _method(name, random_weights[name], input_size=64).detect(seq).target
    gpu = istdbench.create_method(
        name, overrides={"weights": random_weights[name], "input_size": 64}, device="cuda"
    ).detect(seq)
    assert gpu.device == "cuda"
    np.testing.assert_allclose(gpu.target, cpu, rtol=0, atol=1e-4)


# --- real data ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_rdian_detects_the_irdst_sample_target_in_every_frame(weights_root, data_root):
    """The authors' IRDST weights on three IRDST frames (their own domain): sigmoid > 0.5 hits every mask."""
    from istdbench.datasets.catalog import load_sequence
    from istdbench.datasets.images import list_frames, read_masks

    seq = load_sequence(str(data_root / "irdst-sample" / "images"))
    masks = read_masks(list_frames(data_root / "irdst-sample" / "masks"), seq.shape[1:])
    det = istdbench.create_method("rdian").detect(seq)
    for t in range(len(seq)):
        hit = det.target[t] > 0.5
        assert (hit & masks[t]).any(), f"frame {t + 1}: no detection on the target"


# --- the quick-networks run config -------------------------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden" / "quick_networks_metrics.csv"


def test_quick_networks_run_matches_its_golden_table(weights_root, tmp_path):
    """Both networks through the runner (weights fingerprinted in the job keys) against the committed table.

    Tolerance 1e-4: oneDNN may pick other float32 kernels on another CPU, which can move a map value by
    an ulp and the 3-D ROC's 8-bit quantisation of it by one level.
    """
    from istdbench.runners.golden import compare_tables, read_table
    from istdbench.runners.runner import run

    run("quick-networks", tmp_path / "out")
    got = read_table(tmp_path / "out")
    assert set(got["status"]) == {"ok"} and set(got["method"]) == {"rpcanet", "rdian"}
    assert compare_tables(got, read_table(GOLDEN), atol=1e-4) == []


def test_planning_without_the_weights_names_the_file(tmp_path, monkeypatch):
    from istdbench.runners.config import load_config
    from istdbench.runners.jobs import plan_jobs

    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path))
    with pytest.raises(DataError, match=r"weights file 'rpcanet/RPCANet_SIRST\.pkl' not found"):
        plan_jobs(load_config("quick-networks"))
