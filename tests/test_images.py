"""Frame reading: natural order, bit depths, MATLAB rgb2gray, palette indices, and the bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from istdbench.core.errors import DataError
from istdbench.core.sorting import natural_key
from istdbench.datasets import images
from istdbench.datasets.images import (
    frames_hash,
    image_size,
    list_frames,
    read_frame,
    read_frames,
    read_masks,
    rgb2gray_matlab,
    to_unit,
)


def _save(path: Path, arr: np.ndarray, mode: str | None = None) -> Path:
    Image.fromarray(arr, mode=mode).save(path) if mode else Image.fromarray(arr).save(path)
    return path


def test_natural_order(tmp_path: Path) -> None:
    for name in ["10.png", "2.png", "1.png", "notes.txt"]:
        if name.endswith(".png"):
            _save(tmp_path / name, np.zeros((4, 4), np.uint8))
        else:
            (tmp_path / name).write_text("x")
    assert [p.name for p in list_frames(tmp_path)] == ["1.png", "2.png", "10.png"]
    assert sorted(["img10", "img9", "IMG1"], key=natural_key) == ["IMG1", "img9", "img10"]


def test_8bit_and_16bit_scaling(tmp_path: Path) -> None:
    a8 = np.array([[0, 128], [255, 3]], np.uint8)
    a16 = np.array([[0, 1000], [65535, 7]], np.uint16)
    np.testing.assert_allclose(read_frame(_save(tmp_path / "a.png", a8)), a8 / 255.0, rtol=0, atol=1e-15)
    for ext in ("png", "tif"):
        got = read_frame(_save(tmp_path / f"b.{ext}", a16))
        np.testing.assert_allclose(got, a16 / 65535.0, rtol=0, atol=1e-15)


def test_bmp_and_jpg_are_read(tmp_path: Path) -> None:
    arr = np.full((8, 8), 100, np.uint8)
    assert read_frame(_save(tmp_path / "a.bmp", arr))[0, 0] == pytest.approx(100 / 255)
    assert read_frame(_save(tmp_path / "a.jpg", arr))[0, 0] == pytest.approx(100 / 255, abs=2 / 255)


def test_rgb_uses_matlab_weights_and_rounding(tmp_path: Path) -> None:
    # (177, 10, 208): MATLAB's weights give 82.498 -> 82; PIL's 0.299/0.587/0.114 give 83.
    rgb = np.array([[[177, 10, 208], [10, 20, 30]], [[255, 255, 255], [0, 0, 0]]], np.uint8)
    expected = np.array([[82, 18], [255, 0]], np.uint8)
    np.testing.assert_array_equal(rgb2gray_matlab(rgb), expected)
    np.testing.assert_allclose(read_frame(_save(tmp_path / "c.png", rgb)), expected / 255.0, rtol=0, atol=1e-15)
    rgba = np.concatenate([rgb, np.full((2, 2, 1), 7, np.uint8)], axis=2)
    np.testing.assert_allclose(read_frame(_save(tmp_path / "d.png", rgba)), expected / 255.0, rtol=0, atol=1e-15)


def test_rgb2gray_rejects_float() -> None:
    with pytest.raises(DataError, match="8- or 16-bit integers"):
        rgb2gray_matlab(np.zeros((2, 2, 3), np.float32))


def test_palette_image_is_read_as_indices(tmp_path: Path) -> None:
    im = Image.fromarray(np.array([[0, 1], [2, 3]], np.uint8), mode="P")
    im.putpalette([255, 255, 255, 0, 0, 0, 10, 10, 10, 200, 0, 0] + [0] * (256 * 3 - 12))
    im.save(tmp_path / "p.png")
    np.testing.assert_allclose(read_frame(tmp_path / "p.png"), np.array([[0, 1], [2, 3]]) / 255.0, atol=1e-15)


def test_float_tiff_in_unit_range_is_kept(tmp_path: Path) -> None:
    arr = np.array([[0.0, 0.25], [0.5, 1.0]], np.float32)
    np.testing.assert_allclose(read_frame(_save(tmp_path / "f.tif", arr)), arr, rtol=0, atol=0)


def test_float_tiff_out_of_range_or_nan_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"float frames must lie in \[0, 1\]"):
        read_frame(_save(tmp_path / "big.tif", np.array([[0.0, 2.0]], np.float32)))
    with pytest.raises(DataError, match="NaN or inf"):
        read_frame(_save(tmp_path / "nan.tif", np.array([[0.0, np.nan]], np.float32)))


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        list_frames(tmp_path / "nope")


def test_folder_without_frames(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(DataError, match="holds no frames"):
        list_frames(tmp_path)


def test_mixed_formats_rejected(tmp_path: Path) -> None:
    _save(tmp_path / "1.png", np.zeros((2, 2), np.uint8))
    _save(tmp_path / "2.bmp", np.zeros((2, 2), np.uint8))
    with pytest.raises(DataError, match="mixes image formats"):
        list_frames(tmp_path)


def test_corrupt_image(tmp_path: Path) -> None:
    bad = tmp_path / "0001.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not a png")
    with pytest.raises(DataError, match="cannot read image"):
        read_frame(bad)
    with pytest.raises(DataError, match="cannot read image"):
        image_size(bad)


def test_frames_of_different_sizes(tmp_path: Path) -> None:
    a = _save(tmp_path / "1.png", np.zeros((4, 4), np.uint8))
    b = _save(tmp_path / "2.png", np.zeros((4, 5), np.uint8))
    with pytest.raises(DataError, match="frames differ in size"):
        read_frames([a, b])
    with pytest.raises(DataError, match="no frames to read"):
        read_frames([])


def test_read_frames_stack(tmp_path: Path) -> None:
    paths = [_save(tmp_path / f"{i}.png", np.full((3, 4), i * 50, np.uint8)) for i in range(3)]
    out = read_frames(paths)
    assert out.dtype == np.float32 and out.shape == (3, 3, 4)
    np.testing.assert_allclose(out[:, 0, 0], np.array([0, 50, 100]) / 255.0, rtol=1e-6)
    assert image_size(paths[0]) == (3, 4)


def test_masks_binary_and_size_checked(tmp_path: Path) -> None:
    m = _save(tmp_path / "m.png", np.array([[0, 255], [1, 0]], np.uint8))
    np.testing.assert_array_equal(read_masks([m], (2, 2))[0], [[False, True], [True, False]])
    with pytest.raises(DataError, match="but the frames are"):
        read_masks([m], (3, 3))


def test_frames_hash_is_stable_and_sensitive() -> None:
    a = np.zeros((2, 3, 3), np.float32)
    b = a.copy()
    b[1, 2, 2] = 1e-3
    assert frames_hash(a) == frames_hash(a.copy())
    assert frames_hash(a) != frames_hash(b)
    assert frames_hash(a) != frames_hash(a.reshape(3, 2, 3))
    assert len(frames_hash(a)) == 16


def test_grey_with_alpha_drops_alpha(tmp_path: Path) -> None:
    la = np.dstack([np.array([[10, 20]], np.uint8), np.array([[255, 0]], np.uint8)])
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")
    np.testing.assert_allclose(read_frame(tmp_path / "la.png"), [[10 / 255, 20 / 255]], rtol=0, atol=1e-15)


def test_32bit_integer_frames_must_fit_16_bits() -> None:
    np.testing.assert_allclose(to_unit(np.array([[0, 65535]], np.int32)), [[0.0, 1.0]], rtol=0, atol=0)
    with pytest.raises(DataError, match=r"values in \[0, 70000\], outside the 16-bit range"):
        to_unit(np.array([[0, 70000]], np.int32), "x.png")


def test_unknown_multichannel_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class Odd:
        mode = "XYZ"

        def __array__(self, dtype=None, copy=None) -> np.ndarray:
            return np.zeros((2, 2, 2), np.uint8)

    monkeypatch.setattr(images, "_open", lambda path: Odd())
    with pytest.raises(DataError, match=r"unsupported layout \(2, 2, 2\) \(mode XYZ\)"):
        read_frame(tmp_path / "odd.png")
