"""Method registry: ``@register("name")`` plus the ``istdbench.methods`` entry-point group.

Built-in methods register on import of `istdbench.methods`; third-party
packages expose their classes through entry points and are loaded lazily the
first time the registry is queried.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from .errors import IstdbenchError, unknown_name
from .method import Method

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "istdbench.methods"
_REGISTRY: dict[str, type[Method]] = {}
_loaded = False

M = TypeVar("M", bound=type[Method])


def register(name: str) -> Callable[[M], M]:
    """Class decorator that makes a `Method` subclass available under ``name``."""

    def deco(cls: M) -> M:
        if not (isinstance(cls, type) and issubclass(cls, Method)):
            raise TypeError(f"@register({name!r}) must decorate a subclass of istdbench.Method.")
        if not cls.presets:
            raise TypeError(f"Method {name!r} declares no presets; give at least a 'default' preset.")
        if cls.default_preset not in cls.presets:
            raise TypeError(f"Method {name!r}: default_preset {cls.default_preset!r} is not among its presets.")
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
            raise IstdbenchError(f"Method name {name!r} is already registered by {existing.__module__}.")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import istdbench.methods  # noqa: F401  (registers the built-ins)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the suite
            log.warning("could not load method plugin %r (%s): %s", ep.name, ep.value, exc)
            continue
        if isinstance(obj, type) and issubclass(obj, Method) and ep.name not in _REGISTRY:
            register(ep.name)(obj)


def list_methods(pattern: str = "*") -> list[str]:
    """Registered method names matching a shell-style wildcard, sorted."""
    _load_all()
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def get_method(name: str) -> type[Method]:
    _load_all()
    if name not in _REGISTRY:
        raise unknown_name("method", name, _REGISTRY)
    return _REGISTRY[name]


def create_method(
    name: str,
    preset: str | None = None,
    overrides: dict[str, Any] | None = None,
    device: str = "cpu",
    state_dir: str | Path | None = None,
) -> Method:
    """Instantiate a registered method from its name, a preset and overrides (``state_dir``: see `Method`)."""
    return get_method(name)(preset=preset, overrides=overrides, device=device, state_dir=state_dir)


def describe(name: str) -> dict[str, Any]:
    """Metadata of a method as plain data (for ``istdbench methods`` and reports)."""
    cls = get_method(name)
    return {
        "name": name,
        "kind": cls.kind,
        "presets": list(cls.presets),
        "default_preset": cls.default_preset,
        "gpu": cls.gpu_capable,
        "learned": cls.learned,
        "reconstructed": cls.reconstructed,
        "citation": cls.citation,
        "config": cls.presets[cls.default_preset].to_dict(),
    }
