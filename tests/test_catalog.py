"""The catalog: data-root resolution, layout discovery, loading by name/folder/spec, and the real clips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from istdbench.cli import main
from istdbench.core.errors import DataError, UnknownNameError
from istdbench.datasets.catalog import (
    DATA_ENV,
    discover,
    find_clip,
    group_formats,
    load_sequence,
    resolve_data_root,
    summarize,
)
from istdbench.datasets.folder import layout_of
from istdbench.datasets.images import frames_hash

SHAPE = (24, 32)  # H, W: not square, so a swapped column order would be caught


def _clip(root: Path, group: str, clip: str, n: int = 3, spots: list[tuple[int, int]] | None = None) -> Path:
    folder = root / group / clip
    folder.mkdir(parents=True)
    for i in range(n):
        img = np.full(SHAPE, 60, np.uint8)
        if spots:
            img[spots[i]] = 250
        Image.fromarray(img).save(folder / f"{i + 1:04d}.png")
    return folder


def _anno(root: Path, group: str, clip: str, text: str) -> None:
    (root / group / "anno").mkdir(parents=True, exist_ok=True)
    (root / group / "anno" / f"{clip}.txt").write_text(text, encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    spots = [(5, 20), (6, 21), (7, 22)]  # zero-based (row, col)
    _clip(tmp_path, "daub", "seqA", spots=spots)
    _anno(tmp_path, "daub", "seqA", "21\t6\n22\t7\n23\t8\n")
    _clip(tmp_path, "city", "c1", spots=spots)
    _anno(tmp_path, "city", "c1", "6,21\n7,22\n8,23\n")
    _clip(tmp_path, "easy", "e1", spots=spots)
    _anno(tmp_path, "easy", "e1", "21.50\t6.25\nNone\n23.00\t8.00\n\n")
    _clip(tmp_path, "mine", "x1", spots=spots)
    _anno(tmp_path, "mine", "x1", "5 20\n6 21\n7 22\n")
    (tmp_path / "catalog.toml").write_text('[groups.mine]\norder = "row,col"\ndelimiter = "space"\nbase = 0\n')
    _clip(tmp_path, "unknown", "u1", spots=spots)
    _anno(tmp_path, "unknown", "u1", "6;21\n7;22\n8;23\n")  # declared nowhere: sniffed
    _clip(tmp_path, "masked", "m1", n=2)
    mdir = tmp_path / "masked" / "masks" / "m1"
    mdir.mkdir(parents=True)
    for i in range(2):
        m = np.zeros(SHAPE, np.uint8)
        m[10 : 12 + i, 3:5] = 255
        Image.fromarray(m).save(mdir / f"{i + 1:04d}.png")
    _clip(tmp_path, "plain", "p1", n=2)
    return tmp_path


def test_resolve_data_root(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_ENV, raising=False)
    assert resolve_data_root(root) == root
    with pytest.raises(DataError, match=f"pass --data-root DIR .* {DATA_ENV}=DIR"):
        resolve_data_root(None)
    monkeypatch.setenv(DATA_ENV, str(root))
    assert resolve_data_root(None) == root
    with pytest.raises(DataError, match="does not exist or is not a folder"):
        resolve_data_root(root / "missing")


def test_discover_finds_every_layout(root: Path) -> None:
    names = [c.name for c in discover(root)]
    assert names == ["city/c1", "daub/seqA", "easy/e1", "masked/m1", "mine/x1", "plain/p1", "unknown/u1"]


@pytest.mark.parametrize("name", ["daub/seqA", "city/c1", "mine/x1", "unknown/u1"])
def test_every_annotation_convention_gives_the_same_points(root: Path, name: str) -> None:
    seq = load_sequence(name, root)
    assert seq.name == name and seq.shape == (3, *SHAPE)
    assert [p.tolist() for p in seq.points] == [[[5.0, 20.0]], [[6.0, 21.0]], [[7.0, 22.0]]]
    assert seq.provenance.source == str((root / name).resolve())
    assert seq.provenance.data_hash == frames_hash(seq.frames)


def test_decimals_none_and_trailing_blank(root: Path) -> None:
    seq = load_sequence("easy/e1", root)
    np.testing.assert_allclose(seq.points[0], [[5.25, 20.5]], rtol=0, atol=1e-12)
    assert len(seq.points[1]) == 0


def test_masks_give_points(root: Path) -> None:
    seq = load_sequence("masked/m1", root)
    assert seq.masks is not None and seq.masks.sum() == 4 + 6
    np.testing.assert_allclose(seq.points[1], [[11.0, 3.5]], rtol=0, atol=1e-12)


def test_unannotated_clip_loads_without_truth(root: Path) -> None:
    seq = load_sequence("plain/p1", root)
    assert seq.points is None and seq.masks is None


def test_load_by_folder_and_env(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_ENV, raising=False)
    by_path = load_sequence(str(root / "city" / "c1"))
    assert by_path.name == "city/c1" and len(by_path.points[2]) == 1
    monkeypatch.setenv(DATA_ENV, str(root))
    assert load_sequence("mine/x1").points[0].tolist() == [[5.0, 20.0]]


def test_frame_range(root: Path) -> None:
    seq = load_sequence("daub/seqA", root, frames=(2, 3))
    assert seq.provenance.frame_numbers == (2, 3)
    assert [p.tolist() for p in seq.points] == [[[6.0, 21.0]], [[7.0, 22.0]]]
    assert seq.provenance.data_hash == frames_hash(seq.frames)
    with pytest.raises(DataError, match=r"frame range 2:5 is outside 1:3"):
        load_sequence("daub/seqA", root, frames=(2, 5))
    with pytest.raises(DataError, match="frame range must be two integers"):
        load_sequence("daub/seqA", root, frames=("a", 2))  # type: ignore[arg-type]


def test_synthetic_reference_with_range() -> None:
    seq = load_sequence("synthetic:h=32,w=32,t=6,seed=1,size_max=3", frames=(2, 4))
    assert seq.name == "synthetic/h=32,w=32,t=6,seed=1,size_max=3"
    assert seq.provenance.frame_numbers == (2, 3, 4)
    assert seq.provenance.data_hash == frames_hash(seq.frames)
    full = load_sequence("synthetic:h=32,w=32,t=6,seed=1,size_max=3")
    np.testing.assert_array_equal(seq.frames, full.frames[1:4])


def test_unknown_name_suggests(root: Path) -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown sequence 'daub/seqB'\. Did you mean 'daub/seqA'"):
        find_clip("daub/seqB", root)


def test_catalog_name_without_root_says_how_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_ENV, raising=False)
    with pytest.raises(DataError, match=f"no data root given: pass --data-root DIR .* {DATA_ENV}"):
        load_sequence("daub/sequence1")
    with pytest.raises(UnknownNameError, match="Unknown sequence 'daub/seqZ'"):
        load_sequence("daub/seqZ", Path(__file__).parent)


def test_local_folder_wins_when_not_in_the_catalog(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root / "city")
    seq = load_sequence("./c1", root / "daub")  # a data root is set, but './c1' is not one of its clips
    assert seq.name == "city/c1" and seq.points[0].tolist() == [[5.0, 20.0]]


def test_unresolvable_reference(root: Path) -> None:
    with pytest.raises(DataError, match="cannot resolve sequence 'no_such_thing'"):
        load_sequence("no_such_thing", root)


def test_missing_frames_folder_given_as_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot resolve sequence"):
        load_sequence(str(tmp_path / "a" / "b" / "c"))


def test_annotation_length_mismatch_through_catalog(root: Path) -> None:
    _anno(root, "daub", "seqA", "21\t6\n22\t7\n")
    with pytest.raises(DataError, match="shorter than the sequence: 2 lines for 3 frames"):
        load_sequence("daub/seqA", root)


def test_out_of_image_annotation_through_catalog(root: Path) -> None:
    _anno(root, "city", "c1", "6,21\n7,99\n8,23\n")
    with pytest.raises(DataError, match=r"line 2: point \(row=7, col=99\)"):
        load_sequence("city/c1", root)


def test_mask_count_mismatch(root: Path) -> None:
    (root / "masked" / "masks" / "m1" / "0002.png").unlink()
    with pytest.raises(DataError, match="has 1 images for 2 frames"):
        load_sequence("masked/m1", root)


def test_bad_catalog_toml(root: Path) -> None:
    (root / "catalog.toml").write_text('[groups.mine]\norderr = "row,col"\n')
    with pytest.raises(DataError, match=r"group 'mine': unknown keys \['orderr'\]"):
        group_formats(root)
    (root / "catalog.toml").write_text('[groups.mine]\norder = "x"\n')
    with pytest.raises(DataError, match="order must be"):
        group_formats(root)


def test_catalog_toml_syntax_error(root: Path) -> None:
    (root / "catalog.toml").write_text("[groups.mine\n")
    with pytest.raises(DataError, match=r"cannot read .*catalog\.toml"):
        group_formats(root)


def test_layout_of_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"sequence folder .* does not exist"):
        layout_of(tmp_path / "gone")


def test_unreadable_annotation_through_catalog(root: Path) -> None:
    (root / "daub" / "anno" / "seqA.txt").write_bytes(b"\xff\xfe\xfa\n")
    with pytest.raises(DataError, match="cannot read annotation file"):
        load_sequence("daub/seqA", root)


def test_corrupt_frame_through_catalog(root: Path) -> None:
    (root / "daub" / "seqA" / "0002.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"cannot read image .*0002\.png"):
        load_sequence("daub/seqA", root)


def test_frames_of_different_sizes_through_catalog(root: Path) -> None:
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(root / "daub" / "seqA" / "0003.png")
    with pytest.raises(DataError, match="frames differ in size"):
        load_sequence("daub/seqA", root)


def test_summarize(root: Path) -> None:
    rows = {s.name: s for s in (summarize(c) for c in discover(root))}
    assert (rows["easy/e1"].frames, rows["easy/e1"].height, rows["easy/e1"].width) == (3, 24, 32)
    assert rows["easy/e1"].targets == 2
    assert rows["plain/p1"].targets is None and rows["plain/p1"].annotation == "none"
    assert rows["masked/m1"].annotation == "masks"


def test_cli_lists_clips(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["datasets", "--data-root", str(root)])
    assert res.exit_code == 0, res.output
    assert "daub/seqA" in res.output and "32x24" in res.output and "7 clips" in res.output
    res = runner.invoke(main, ["datasets", "--data-root", str(root), "--json"])
    assert {r["name"] for r in json.loads(res.output)} >= {"city/c1", "unknown/u1"}
    monkeypatch.delenv(DATA_ENV, raising=False)
    res = runner.invoke(main, ["datasets"])
    assert res.exit_code == 2 and DATA_ENV in res.output


# --- the real clips in ../shared/data ---------------------------------------------------------------

REAL = {
    **{f"daub/sequence{i}": (100, 256, 256) for i in range(1, 9)},
    "easy/easy1": (40, 128, 128),
    "easy/easy2": (30, 200, 256),
    "easy/easy3": (50, 240, 320),
    "easy/easy4": (100, 240, 320),
    "city/city1": (80, 512, 640),
    "city/city2": (70, 512, 640),
    "city/city3": (80, 512, 640),
}


def test_real_root_lists_all_clips(data_root: Path) -> None:
    assert {c.name for c in discover(data_root)} == set(REAL)


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_clip_loads_by_name(data_root: Path, name: str) -> None:
    seq = load_sequence(name, data_root)
    assert seq.shape == REAL[name]
    assert [len(p) for p in seq.points] == [1] * REAL[name][0]
    # the annotated points sit on local bright spots (a swapped row/col order would not)
    contrast = []
    for frame, pts in zip(seq.frames, seq.points, strict=True):
        r, c = np.rint(pts[0]).astype(int)
        contrast.append(frame[r - 1 : r + 2, c - 1 : c + 2].max() - np.median(frame[r - 5 : r + 6, c - 5 : c + 6]))
    assert np.mean(contrast) > 0.1


def test_real_annotation_conventions(data_root: Path) -> None:
    assert load_sequence("daub/sequence1", data_root, frames=(1, 1)).points[0].tolist() == [[89.0, 99.0]]
    assert load_sequence("city/city1", data_root, frames=(1, 1)).points[0].tolist() == [[355.0, 564.0]]
    np.testing.assert_allclose(
        load_sequence("easy/easy1", data_root, frames=(1, 1)).points[0], [[44.25, 52.98]], rtol=0, atol=1e-12
    )
