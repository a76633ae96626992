"""``istdbench detect`` / ``evaluate`` on image sets: one maps file keyed by image name, --split, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from imageset_fixtures import make_sirst_v1, make_sirst_v2
from PIL import Image

from istdbench.cli import main
from istdbench.core.errors import DataError
from istdbench.core.io import load_image_set_maps, load_maps
from istdbench.datasets.catalog import load_image_set
from istdbench.metrics.basicirstd import basicirstd


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("data")
    make_sirst_v1(tmp / "sirst")
    make_sirst_v2(tmp / "sirst2")
    return tmp


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def maps_file(root: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "tophat.npz"
    res = _run("detect", "tophat", "sirst", "--split", "test_NUAA-SIRST", "-o", str(out), "--data-root", str(root))
    assert res.exit_code == 0, res.output
    assert "tophat on sirst/test_NUAA-SIRST: 2 images" in res.output
    return out


def test_detect_writes_one_map_per_image_keyed_by_name(maps_file: Path, root: Path) -> None:
    maps, meta = load_image_set_maps(maps_file)
    images = load_image_set("sirst", root, split="test_NUAA-SIRST")
    assert list(maps) == ["Misc_2", "Misc_1"]
    assert [m.shape for m in maps.values()] == list(images.shapes)  # different sizes in one file
    assert meta["kind"] == "imageset" and meta["image_set"] == "sirst" and meta["split"] == "test_NUAA-SIRST"
    assert meta["data_hash"] == images.provenance.data_hash and meta["method"] == "tophat"
    with np.load(maps_file) as z:
        assert z["target/Misc_1"].dtype == np.float32
    with pytest.raises(DataError, match="holds the maps of an image set"):
        load_maps(maps_file)


def test_evaluate_basicirstd_json(maps_file: Path, root: Path) -> None:
    res = _run(
        "evaluate", str(maps_file), "sirst", "--split", "test_NUAA-SIRST", "--protocol", "basicirstd", "--json",
        "--data-root", str(root),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["protocol"] == "basicirstd@1" and out["threshold"] == "minmax:0.5" and out["split"] == "test_NUAA-SIRST"
    assert out["n_images"] == 2 and out["dataset"] == "sirst"
    maps, _ = load_image_set_maps(maps_file)
    expected = basicirstd(maps, load_image_set("sirst", root, split="test_NUAA-SIRST")).metrics
    for key in ("IoU", "nIoU", "F1", "Pd", "Fa"):
        assert 0.0 <= out[key] <= 1.0 and out[key] == pytest.approx(expected[key], rel=1e-12), key
    assert out["Pd"] == 1.0  # top-hat finds both bright squares


def test_evaluate_roc_protocol_on_an_image_set(maps_file: Path, root: Path) -> None:
    res = _run("evaluate", str(maps_file), "sirst", "--split", "test_NUAA-SIRST", "--data-root", str(root), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["protocol"] == "tensoristd@1" and out["threshold"] == "ratio:0.5"
    assert {"AUC_FPR_TPR", "AUC_ODP", "AUC_SNPR", "IoU", "nIoU", "Pd", "Fa", "SCRG"} <= set(out)
    res = _run("evaluate", str(maps_file), "sirst", "--split", "test_NUAA-SIRST", "--data-root", str(root))
    assert "sirst/test_NUAA-SIRST, 2 images; protocol tensoristd@1" in res.output


def test_evaluate_png_maps_dir(root: Path, tmp_path: Path) -> None:
    images = load_image_set("sirst", root, split="test_NUAA-SIRST")
    for name, mask in zip(images.names, images.masks, strict=True):
        Image.fromarray(mask.astype(np.uint8) * 255).save(tmp_path / f"{name}.png")
    res = _run(
        "evaluate", "--maps-dir", str(tmp_path), "sirst", "--split", "test_NUAA-SIRST", "--protocol", "basicirstd",
        "--json", "--data-root", str(root),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["IoU"] == 1.0 and out["nIoU"] == 1.0 and out["Pd"] == 1.0 and out["Fa"] == 0.0


def test_target_free_images_score_as_false_alarms(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "bg.npz"
    res = _run("detect", "tophat", "sirst2", "--split", "trainval_full", "-o", str(out), "--data-root", str(root))
    assert res.exit_code == 0, res.output
    res = _run(
        "evaluate", str(out), "sirst2", "--split", "trainval_full", "--protocol", "basicirstd", "--json",
        "--data-root", str(root),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    scores = json.loads(res.output)
    assert scores["n_targets"] == 1 and scores["false_pixels"] > 0  # the bright spot of the background image


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["evaluate", "{maps}", "sirst"], r"2 maps but image set 'sirst/all' has 4 .*give --split test_NUAA-SIRST"),
        (["evaluate", "{maps}", "sirst", "--split", "test"], r"2 maps .* 'sirst/test' has 2 images, and other names"),
        (["evaluate", "{maps}", "sirst", "--split", "nope"], r"Unknown split of image set 'sirst' 'nope'"),
        (["evaluate", "{maps}", "sirst", "--split", "test_NUAA-SIRST", "--threshold", "chunk-max:1"], "set has none"),
        (["evaluate", "{maps}", "synthetic:h=16,w=16,t=2"], "is no image set"),
        (["detect", "stt", "sirst", "-o", "{tmp}/x.npz"], "Method 'stt' is multi-frame: it needs a .* Sequence"),
        (["detect", "tophat", "sirst", "--frames", "1:2", "-o", "{tmp}/x.npz"], "'sirst' is an image set: it has no"),
        (["detect", "tophat", "synthetic:h=8,w=8,t=2", "--split", "a", "-o", "{tmp}/x.npz"], "--split applies to"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(args, match, maps_file: Path, root: Path, tmp_path: Path) -> None:
    argv = [a.format(maps=maps_file, tmp=tmp_path) for a in args] + ["--data-root", str(root)]
    res = _run(*argv)
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error: ") and len(res.output.strip().splitlines()) == 1
    assert re.search(match, res.output), res.output


def test_maps_of_the_wrong_size(maps_file: Path, root: Path, tmp_path: Path) -> None:
    with np.load(maps_file) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["target/Misc_1"] = arrays["target/Misc_1"][:-1]
    np.savez(tmp_path / "bad.npz", **arrays)
    res = _run("evaluate", str(tmp_path / "bad.npz"), "sirst", "--split", "test_NUAA-SIRST", "--data-root", str(root))
    assert (
        res.exit_code == 2
        and "the map of image 'Misc_1' has shape (19, 30) but the image has shape (20, 30)" in res.output
    )


def test_sequence_maps_against_an_image_set(root: Path, tmp_path: Path) -> None:
    np.savez(tmp_path / "seq.npz", target=np.zeros((2, 4, 4), np.float32))
    res = _run("evaluate", str(tmp_path / "seq.npz"), "sirst", "--data-root", str(root))
    assert res.exit_code == 2 and "holds the (T, H, W) maps of a sequence, but 'sirst' is an image set" in res.output
