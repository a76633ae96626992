"""Image-set loaders: each native layout from tiny fixtures, splits, the catalog, IRDST sequences, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from imageset_fixtures import (
    SIRST_IMAGES,
    expected_grey,
    grey_image,
    make_basicirstd,
    make_irdst,
    make_sirst_v1,
    make_sirst_v2,
    save_mask,
    write_split,
)
from PIL import Image

from istdbench.cli import main
from istdbench.core.errors import DataError, InvalidParameterError, UnknownNameError
from istdbench.core.types import ImageSet, Sequence
from istdbench.datasets.catalog import (
    discover,
    image_set_layouts,
    load_data,
    load_image_set,
    load_sequence,
    summarize_image_set,
)
from istdbench.datasets.images import images_hash, rgb2gray_matlab, to_unit, to_unit32
from istdbench.datasets.imagesets import detect_layout, image_set_layout, read_image_set, read_split


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A data root with one image set per layout beside an ordinary group of clips."""
    make_sirst_v1(tmp_path / "sirst")
    make_sirst_v2(tmp_path / "sirst2")
    make_basicirstd(tmp_path / "NUDT-SIRST")
    make_irdst(tmp_path / "irdst")
    clip = tmp_path / "daub" / "seqA"
    clip.mkdir(parents=True)
    for i in range(2):
        Image.fromarray(np.full((8, 8), 50, np.uint8)).save(clip / f"{i + 1:04d}.png")
    return tmp_path


def test_layouts_are_detected(root: Path) -> None:
    assert detect_layout(root / "sirst") == "sirst-v1"
    assert detect_layout(root / "sirst2") == "sirst-v2"
    assert detect_layout(root / "NUDT-SIRST") == "basicirstd"
    assert detect_layout(root / "irdst") == "irdst"
    assert detect_layout(root / "daub") is None


def test_sirst_v1_whole_set_reads_every_colour_mode(root: Path) -> None:
    s = load_image_set("sirst", root)
    assert isinstance(s, ImageSet) and s.name == "sirst" and s.split == ""
    assert s.names == ("Misc_1", "Misc_2", "Misc_3", "Misc_10")  # natural order
    for i, (name, (h, w, r, c, mode)) in enumerate(SIRST_IMAGES.items()):
        img = s.images[s.index(name)]
        expected = expected_grey(grey_image(h, w, r, c, i), mode) / 255.0
        np.testing.assert_array_equal(img, expected.astype(np.float32))  # palette by colour, alpha dropped
        mask = np.zeros((h, w), bool)
        mask[r, c] = True
        np.testing.assert_array_equal(s.masks[s.index(name)], mask)
    assert s.provenance.source == str((root / "sirst").resolve())
    assert s.provenance.data_hash == images_hash(s.names, s.images)


def test_splits_keep_their_order_and_accept_blank_lines_and_crlf(root: Path) -> None:
    s = load_image_set("sirst", root, split="test_NUAA-SIRST")
    assert s.names == ("Misc_2", "Misc_1") and s.split == "test_NUAA-SIRST" and s.label == "sirst/test_NUAA-SIRST"
    assert load_image_set("sirst", root, split="img_idx/test_NUAA-SIRST").names == s.names  # the long form
    assert load_image_set("sirst", root, split="test").names == ("Misc_3", "Misc_2")  # idx_427/test.txt
    assert load_image_set("sirst", root, split="idx_427/test").split == "test"


def test_clashing_split_stems_are_named_by_folder(root: Path) -> None:
    write_split(root / "sirst" / "idx_320" / "test.txt", ["Misc_1"])
    layout = image_set_layout(root / "sirst")
    assert {"idx_427/test", "idx_320/test", "trainval"} <= set(layout.splits)
    assert "test" not in layout.splits
    assert read_image_set(layout, "idx_320/test").names == ("Misc_1",)


def test_sirst_v2_background_image_loads_with_an_empty_mask(root: Path) -> None:
    s = load_image_set("sirst2", root, split="trainval_full")
    assert s.names == ("Misc_1", "iraytek-5")
    assert s.masks[0].sum() == 9 and not s.masks[1].any()


def test_basicirstd_layout_and_masks_of_any_nonzero_value(root: Path) -> None:
    s = load_image_set(str(root / "NUDT-SIRST"), split="test_NUDT-SIRST")  # by folder path, no data root
    assert s.names == ("000002",) and s.name == "NUDT-SIRST"
    assert s.masks[0].sum() == 4  # that mask is 0/1, not 0/255: nonzero is target
    full = load_image_set("NUDT-SIRST", root)
    assert full.names == ("000001", "000002", "000010")


def test_mask_values_other_than_0_and_255_are_target(root: Path) -> None:
    save_mask(root / "NUDT-SIRST" / "masks" / "000001.png", 16, 20, slice(4, 7), slice(4, 7), value=128)
    assert load_image_set("NUDT-SIRST", root).masks[0].sum() == 9


def test_irdst_orders_by_sequence_then_frame_and_loads_sequences(root: Path) -> None:
    s = load_image_set("irdst", root)
    assert s.names == ("1(1)", "1(2)", "1(10)", "2(1)", "2(2)")
    assert load_image_set("irdst", root, split="test").names == ("2(2)", "1(10)")
    seq = load_sequence("irdst/1", root)
    assert isinstance(seq, Sequence) and seq.name == "irdst/1" and seq.shape == (3, 12, 16)
    np.testing.assert_array_equal(seq.frames, np.stack(s.images[:3]))  # the same data either way
    assert [p.tolist() for p in seq.points] == [[[6.5, 3.5]], [[6.5, 4.5]], [[6.5, 5.5]]]  # 1(10) is the third
    assert load_sequence("irdst/2", root, frames=(2, 2)).provenance.frame_numbers == (2,)
    with pytest.raises(UnknownNameError, match=r"Unknown sequence 'irdst/3'.*Did you mean 'irdst/1'|'irdst/2'"):
        load_sequence("irdst/3", root)


def test_discovery_reports_image_sets_as_image_sets(root: Path) -> None:
    assert [c.name for c in discover(root)] == ["daub/seqA"]
    sets = image_set_layouts(root)
    assert list(sets) == ["irdst", "NUDT-SIRST", "sirst", "sirst2"]
    summary = summarize_image_set(sets["sirst"])
    assert summary.images == 4 and summary.masks and summary.layout == "sirst-v1"
    assert summary.splits["test_NUAA-SIRST"] == 2 and summary.sequences is None
    assert summarize_image_set(sets["irdst"]).sequences == 2


def test_catalog_toml_declares_a_layout_and_a_path(root: Path, tmp_path_factory) -> None:
    elsewhere = make_basicirstd(tmp_path_factory.mktemp("outside") / "IRSTD-1k", name="IRSTD-1k")
    (root / "catalog.toml").write_text(
        f'[imagesets.irstd]\nlayout = "basicirstd"\npath = "{elsewhere}"\n[imagesets.irdst]\nlayout = "basicirstd"\n'
    )
    sets = image_set_layouts(root)
    assert sets["irstd"].root == elsewhere.resolve() and sets["irdst"].layout == "basicirstd"
    assert load_image_set("irstd", root, split="test_IRSTD-1k").names == ("000002",)
    (root / "catalog.toml").write_text('[imagesets.sirst]\nlayout = "sirst-v3"\n')
    with pytest.raises(
        DataError, match=r"image set 'sirst': Unknown image-set layout 'sirst-v3'\. Did you mean 'sirst-v2'"
    ):
        image_set_layouts(root)
    (root / "catalog.toml").write_text('[imagesets.sirst]\nlayuot = "sirst-v1"\n')
    with pytest.raises(DataError, match=r"unknown keys \['layuot'\]"):
        image_set_layouts(root)


def test_load_data_dispatches_and_checks_frames_and_split(root: Path) -> None:
    assert isinstance(load_data("sirst", root, split="test"), ImageSet)
    assert isinstance(load_data("daub/seqA", root), Sequence)
    assert isinstance(load_data("irdst/1", root), Sequence)
    with pytest.raises(InvalidParameterError, match="'sirst' is an image set: it has no frame range"):
        load_data("sirst", root, frames=(1, 2))
    with pytest.raises(InvalidParameterError, match="'daub/seqA' is a sequence: --split applies to image sets"):
        load_data("daub/seqA", root, split="test")


# --- bad inputs ----------------------------------------------------------------------------------------------


def test_unknown_split_lists_the_known_ones(root: Path) -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown split of image set 'sirst' 'tset'\. Did you mean 'test'"):
        load_image_set("sirst", root, split="tset")


def test_split_naming_an_absent_image(root: Path) -> None:
    write_split(root / "sirst" / "idx_427" / "val.txt", ["Misc_1", "Misc_20"])
    with pytest.raises(DataError, match=r"val\.txt' names image 'Misc_20' \(entry 2\) that images/ does not hold"):
        load_image_set("sirst", root, split="val")


def test_split_listing_an_image_twice(root: Path) -> None:
    write_split(root / "sirst" / "idx_427" / "val.txt", ["Misc_1", "", "Misc_1"])
    with pytest.raises(DataError, match=r"lists image 'Misc_1' twice \(lines 1 and 3\)"):
        load_image_set("sirst", root, split="val")


def test_split_file_forms(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_bytes(b"\xef\xbb\xbfa\r\n\r\n /b.png \rc\n\n")  # BOM, CRLF, blank lines, old-Mac CR, extension
    assert read_split(path) == ["a", "b", "c"]
    path.write_text("\n \n")
    with pytest.raises(DataError, match="lists no image"):
        read_split(path)


def test_missing_mask(root: Path) -> None:
    (root / "sirst" / "masks" / "Misc_2_pixels0.png").unlink()
    with pytest.raises(DataError, match=r"Misc_2\.png' has no mask: expected masks/Misc_2_pixels0\.png"):
        load_image_set("sirst", root)


def test_missing_mask_of_a_sirst_v2_target_image(root: Path) -> None:
    (root / "sirst2" / "annotations" / "masks" / "S1_4_pixels0.png").unlink()
    with pytest.raises(DataError, match=r"S1_4\.png' has no mask"):
        load_image_set("sirst2", root, split="test_full")


def test_mask_of_another_size(root: Path) -> None:
    save_mask(root / "sirst" / "masks" / "Misc_3_pixels0.png", 10, 10, slice(1, 2), slice(1, 2))
    with pytest.raises(DataError, match=r"mask .*Misc_3_pixels0\.png' is 10x10 \(W x H\) but its image is 26x22"):
        load_image_set("sirst", root)


def test_duplicate_image_name(root: Path) -> None:
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(root / "NUDT-SIRST" / "images" / "000002.bmp")
    with pytest.raises(DataError, match=r"holds two files named '000002'"):
        load_image_set("NUDT-SIRST", root)


def test_ambiguous_layout_asks_for_a_declaration(root: Path, caplog) -> None:
    save_mask(root / "NUDT-SIRST" / "masks" / "000002_pixels0.png", 12, 12, slice(1, 2), slice(1, 2))
    with pytest.raises(DataError, match=r"cannot tell the layout .* declare it in catalog\.toml"):
        load_image_set("NUDT-SIRST", root)
    assert load_sequence("daub/seqA", root).shape == (2, 8, 8)  # the other data still loads
    assert "cannot tell the layout" in caplog.text


def test_folder_that_is_no_image_set(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is no image set: expected images/ and masks/"):
        image_set_layout(tmp_path)
    with pytest.raises(UnknownNameError, match="Unknown image set 'nope'"):
        load_image_set("nope", tmp_path)


# --- the colour rules the loaders rely on --------------------------------------------------------------------


def test_equal_channel_shortcut_is_exact_for_every_value() -> None:
    for dtype, top in ((np.uint8, 255), (np.uint16, 65535)):
        x = np.arange(top + 1, dtype=dtype)
        rgb = np.stack([x, x, x], axis=-1)[None]
        np.testing.assert_array_equal(rgb2gray_matlab(rgb)[0], x)
        weighted = np.floor(
            rgb.astype(np.float64) @ np.array([0.298936021293775, 0.587043074451121, 0.114020904255103]) + 0.5
        )
        np.testing.assert_array_equal(weighted[0], x)  # what the weighted sum gives on equal channels


def test_float32_scaling_equals_the_float64_path_for_every_value() -> None:
    for dtype, top in ((np.uint8, 255), (np.uint16, 65535)):
        x = np.arange(top + 1, dtype=dtype)[None]
        np.testing.assert_array_equal(to_unit32(x), to_unit(x).astype(np.float32))


# --- the real sets in ../shared/data ---------------------------------------------------------------------------


def test_real_sirst(data_root: Path) -> None:
    layouts = image_set_layouts(data_root)
    assert {"sirst", "irdst-sample"} <= set(layouts) and layouts["sirst"].layout == "sirst-v1"
    splits = summarize_image_set(layouts["sirst"]).splits
    assert splits == {
        "test_NUAA-SIRST": 214,
        "train_NUAA-SIRST": 213,
        "test": 86,
        "train": 256,
        "trainval": 341,
        "val": 85,
    }
    test = load_image_set("sirst", data_root, split="test_NUAA-SIRST")
    assert len(test) == 214 and test.masks is not None
    sizes = {img.shape for img in test.images}
    assert len(sizes) > 20  # images of many sizes
    assert all(m.any() for m in test.masks)  # every SIRST image has a target


def test_real_irdst_sample(data_root: Path) -> None:
    s = load_image_set("irdst-sample", data_root)
    assert s.names == ("1(1)", "1(2)", "1(3)") and s.shapes == ((480, 720),) * 3
    seq = load_sequence("irdst-sample/1", data_root)
    assert seq.shape == (3, 480, 720) and all(len(p) == 1 for p in seq.points)


def test_cli_datasets_lists_image_sets(root: Path) -> None:
    res = CliRunner().invoke(main, ["datasets", "--data-root", str(root)])
    assert res.exit_code == 0, res.output
    assert "daub/seqA" in res.output and "sirst" in res.output and "test_NUAA-SIRST (2)" in res.output
    assert "4 image sets" in res.output
    res = CliRunner().invoke(main, ["datasets", "--data-root", str(root), "--json"])
    rows = json.loads(res.output)
    assert {r["name"] for r in rows if r["kind"] == "image set"} == {"irdst", "NUDT-SIRST", "sirst", "sirst2"}
    assert [r["name"] for r in rows if r["kind"] == "clip"] == ["daub/seqA"]
