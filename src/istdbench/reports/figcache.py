"""The figure cache: a figure is redrawn only when what it is drawn from changed.

Every figure is a pure function of its inputs (curves, map frames, labels) and
of the drawing code. Its key hashes those inputs with the matplotlib version
the report style and `DRAW_VERSION`; the files are kept as ``<report>/.figure-cache/<key>.<fmt>``
and hard-linked (copied where links are impossible) into ``figures/``. A new
report starts its cache from the figures it uses, so the cache never outgrows
the report, and a figure that the previous report had is linked, not drawn.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .drawing import FIGURE_RC

log = logging.getLogger(__name__)

CACHE_DIR = ".figure-cache"
SOURCES_FILE = "sources.json"
DRAW_VERSION = "1"
"""Raise when a drawing function changes what it draws for the same inputs: every cached figure is redrawn."""


def _feed(digest: Any, value: Any) -> None:
    """Hash ``value`` by type and content (arrays by dtype, shape and bytes), so equal inputs give equal keys."""
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        digest.update(f"nd{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(f"dc{type(value).__name__}".encode())
        for f in dataclasses.fields(value):
            _feed(digest, (f.name, getattr(value, f.name)))
    elif isinstance(value, pd.DataFrame):
        digest.update(b"df")
        _feed(digest, (list(value.index), list(value.columns), value.to_numpy(dtype=object).tolist()))
    elif isinstance(value, dict):
        digest.update(f"d{len(value)}".encode())
        for k, v in value.items():
            _feed(digest, k)
            _feed(digest, v)
    elif isinstance(value, list | tuple):
        digest.update(f"l{len(value)}".encode())
        for v in value:
            _feed(digest, v)
    elif value is None or isinstance(value, str | int | float | bool | np.generic):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    else:
        raise TypeError(f"cannot key a figure input of type {type(value).__name__}")


def figure_key(kind: str, inputs: Any, formats: Iterable[str]) -> str:
    """The cache key of a figure of ``kind`` drawn from ``inputs`` and saved in ``formats``.

    It also covers the drawing code's version, matplotlib's and the report style (`drawing.FIGURE_RC`).
    """
    digest = hashlib.sha256()
    style = repr(sorted(FIGURE_RC.items()))
    _feed(digest, (DRAW_VERSION, version("matplotlib"), style, kind, tuple(formats)))
    _feed(digest, inputs)
    return digest.hexdigest()[:32]


def link_or_copy(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` as a hard link, or a copy where the file system cannot link."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def source_stamp(files: Iterable[Path], root: Path) -> list[tuple[str, int, int] | tuple[str]]:
    """Name (relative to ``root``), size and modification time of each file: what a source fingerprint hashes."""
    stamps: list[tuple[str, int, int] | tuple[str]] = []
    for path in files:
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        try:
            st = path.stat()
        except OSError:
            stamps.append((name,))
            continue
        stamps.append((name, st.st_size, st.st_mtime_ns))
    return stamps


class FigureCache:
    """The previous report's cache (read) and the new report's (written), both keyed by `figure_key`.

    Besides the content keys, ``sources.json`` maps a *source fingerprint* (the
    figure's parameters and the size and modification time of the job files it
    is read from, `source_stamp`) to the content key, so that an unchanged
    figure is found without reading its files again.
    """

    def __init__(self, previous: Path, current: Path) -> None:
        self.previous = previous
        self.current = current
        self._old_sources = self._read_sources(previous / SOURCES_FILE)
        self.sources: dict[str, str] = {}

    @staticmethod
    def _read_sources(path: Path) -> dict[str, str]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return {}
        ok = isinstance(data, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in data.items())
        return data if ok else {}

    def by_sources(self, fingerprint: str, formats: Iterable[str]) -> str | None:
        """The key of the previous report's figure with this source fingerprint, brought over; else None."""
        key = self._old_sources.get(fingerprint)
        if key is None or not self.reuse(key, formats):
            return None
        self.sources[fingerprint] = key
        return key

    def save_sources(self) -> None:
        """Write the new report's fingerprint -> key map beside its cached figures."""
        self.current.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.sources, indent=0, sort_keys=True)
        (self.current / SOURCES_FILE).write_text(text + "\n", encoding="utf-8")

    def path(self, key: str, fmt: str) -> Path:
        """Where the new report keeps the ``fmt`` file of figure ``key``."""
        return self.current / f"{key}.{fmt}"

    def reuse(self, key: str, formats: Iterable[str]) -> bool:
        """Bring figure ``key`` over from the previous report's cache; False when any format is missing."""
        formats = tuple(formats)
        if all(self.path(key, f).is_file() for f in formats):
            return True
        old = [self.previous / f"{key}.{f}" for f in formats]
        if not all(p.is_file() for p in old):
            return False
        try:
            for src, fmt in zip(old, formats, strict=True):
                link_or_copy(src, self.path(key, fmt))
        except OSError as exc:
            log.warning("cannot reuse cached figure %s (%s); it is drawn again", key, exc)
            for fmt in formats:  # a redraw replaces whole files, but leave no half-reused set behind
                self.path(key, fmt).unlink(missing_ok=True)
            return False
        return True
