"""Tiny image sets in every native layout, written into a test's tmp_path (the loaders' test data).

Each image has a bright square target on a dim, slightly textured background, and its
mask marks the square; sizes differ between images, and the image files use every
PNG colour mode the real SIRST has (grey, RGB with unequal channels, RGBA, palette).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# name -> (H, W, target rows, target cols, PNG mode)
SIRST_IMAGES = {
    "Misc_1": (20, 30, slice(5, 8), slice(10, 13), "L"),
    "Misc_2": (24, 18, slice(12, 14), slice(4, 6), "RGB"),
    "Misc_10": (16, 16, slice(2, 5), slice(9, 12), "RGBA"),
    "Misc_3": (22, 26, slice(15, 18), slice(18, 21), "P"),
}


def grey_image(h: int, w: int, rows: slice, cols: slice, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = (40 + rng.integers(0, 20, size=(h, w))).astype(np.uint8)
    img[rows, cols] = 220
    return img


def save_image(path: Path, grey: np.ndarray, mode: str) -> None:
    """Write ``grey`` in PNG/BMP ``mode``; what the loader must read back is ``expected_grey``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "L":
        Image.fromarray(grey).save(path)
    elif mode in ("RGB", "RGBA"):
        rgb = np.stack([grey, np.clip(grey.astype(int) + 9, 0, 255).astype(np.uint8), grey // 2], axis=-1)
        if mode == "RGBA":
            rgb = np.concatenate([rgb, np.full((*grey.shape, 1), 255, np.uint8)], axis=-1)
        Image.fromarray(rgb, mode).save(path)
    elif mode == "P":  # a grey palette that is not the identity: index i shows grey level 255 - i
        im = Image.fromarray((255 - grey).astype(np.uint8), "P")
        im.putpalette([v for i in range(256) for v in (255 - i,) * 3])
        im.save(path)
    elif mode == "RGB-equal":
        Image.fromarray(np.stack([grey] * 3, axis=-1), "RGB").save(path)
    else:
        raise ValueError(mode)


def expected_grey(grey: np.ndarray, mode: str) -> np.ndarray:
    """The 8-bit grey levels the loader reads from ``save_image(path, grey, mode)`` (MATLAB rgb2gray)."""
    if mode in ("RGB", "RGBA"):
        rgb = np.stack([grey, np.clip(grey.astype(int) + 9, 0, 255), grey // 2], axis=-1).astype(np.float64)
        return np.floor(rgb @ np.array([0.298936021293775, 0.587043074451121, 0.114020904255103]) + 0.5)
    return grey.astype(np.float64)


def save_mask(path: Path, h: int, w: int, rows: slice, cols: slice, value: int = 255) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    m = np.zeros((h, w), np.uint8)
    m[rows, cols] = value
    Image.fromarray(m).save(path)


def write_split(path: Path, names: list[str], newline: str = "\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(newline.join(names).encode() + newline.encode())


def make_sirst_v1(root: Path) -> Path:
    """SIRST v1: images/, masks/<name>_pixels0.png, idx_427/ splits, plus the BasicIRSTD 50/50 split."""
    for i, (name, (h, w, r, c, mode)) in enumerate(SIRST_IMAGES.items()):
        save_image(root / "images" / f"{name}.png", grey_image(h, w, r, c, i), mode)
        save_mask(root / "masks" / f"{name}_pixels0.png", h, w, r, c)
    write_split(root / "idx_427" / "trainval.txt", ["Misc_1", "Misc_10"])
    write_split(root / "idx_427" / "test.txt", ["Misc_3", "Misc_2"])
    # Windows line endings, a blank line and surrounding spaces: all accepted
    write_split(root / "img_idx" / "test_NUAA-SIRST.txt", ["Misc_2", "", "  Misc_1 "], newline="\r\n")
    write_split(root / "img_idx" / "train_NUAA-SIRST.txt", ["Misc_3", "Misc_10"])
    return root


def make_sirst_v2(root: Path) -> Path:
    """SIRST v2: mixed/, annotations/masks/<name>_pixels0.png, splits/, one background image without a mask."""
    items = {"Misc_1": (20, 30, slice(5, 8), slice(10, 13)), "S1_4": (18, 24, slice(3, 5), slice(3, 6))}
    for i, (name, (h, w, r, c)) in enumerate(items.items()):
        save_image(root / "mixed" / f"{name}.png", grey_image(h, w, r, c, i), "L")
        save_mask(root / "annotations" / "masks" / f"{name}_pixels0.png", h, w, r, c)
    bg = grey_image(14, 14, slice(0, 0), slice(0, 0), 7)
    bg[6:8, 6:8] = 200  # a bright spot that is no target: every detection on it is a false alarm
    save_image(root / "mixed" / "iraytek-5.png", bg, "L")
    write_split(root / "splits" / "trainval_full.txt", ["Misc_1", "iraytek-5"])
    write_split(root / "splits" / "test_full.txt", ["S1_4"])
    write_split(root / "splits" / "v2background.txt", ["iraytek-5"])
    return root


def make_basicirstd(root: Path, name: str = "NUDT-SIRST") -> Path:
    """BasicIRSTD layout: images/ and masks/ with the same names, img_idx/{train,test}_<NAME>.txt."""
    items = {"000001": (16, 20, slice(4, 7), slice(4, 7)), "000002": (12, 12, slice(8, 10), slice(2, 4))}
    items["000010"] = (14, 16, slice(1, 3), slice(12, 15))
    for i, (stem, (h, w, r, c)) in enumerate(items.items()):
        save_image(root / "images" / f"{stem}.png", grey_image(h, w, r, c, i), "L")
        save_mask(root / "masks" / f"{stem}.png", h, w, r, c, value=1 if stem == "000002" else 255)
    write_split(root / "img_idx" / f"train_{name}.txt", ["000001", "000010"])
    write_split(root / "img_idx" / f"test_{name}.txt", ["000002"])
    return root


def make_irdst(root: Path) -> Path:
    """IRDST: images/<seq>(<frame>).bmp and masks/ under the same names; sequence 1 has frames 1, 2, 10."""
    frames = {"1(1)": 3, "1(2)": 4, "1(10)": 5, "2(1)": 9, "2(2)": 10}
    for name, col in frames.items():
        r, c = slice(6, 8), slice(col, col + 2)
        save_image(root / "images" / f"{name}.bmp", grey_image(12, 16, r, c, col), "RGB-equal")
        save_mask(root / "masks" / f"{name}.bmp", 12, 16, r, c)
    write_split(root / "test.txt", ["2(2)", "1(10)"])
    return root
