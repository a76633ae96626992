"""Method registry: ``@register("name")`` plus the ``istdbench.methods`` entry-point group.

Built-in methods register on import of their module in `istdbench.methods`.
Asking for one name imports only the module whose source registers it (found by
reading the ``@register`` lines), so a report of a top-hat run does not import
torch for the networks; a name no built-in registers loads the third-party
packages' entry points, and listing the registry imports everything.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import logging
import pkgutil
import re
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from .errors import IstdbenchError, unknown_name
from .method import Method

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "istdbench.methods"
BUILTIN_PACKAGE = "istdbench.methods"
_REGISTER_LINE = re.compile(r"^@register\(\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_REGISTRY: dict[str, type[Method]] = {}
_loaded = False
_plugins_loaded = False

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
    for module in sorted(set(_builtin_modules().values())):
        importlib.import_module(module)
    _load_plugins()


def _load_plugins() -> None:
    """Register the classes of the ``istdbench.methods`` entry points (once; a broken plugin is a warning)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the suite
            log.warning("could not load method plugin %r (%s): %s", ep.name, ep.value, exc)
            continue
        if isinstance(obj, type) and issubclass(obj, Method) and ep.name not in _REGISTRY:
            register(ep.name)(obj)


@functools.cache
def _builtin_modules() -> dict[str, str]:
    """Registered name -> module of every built-in method, from the ``@register("name")`` lines of their sources."""
    package = importlib.import_module(BUILTIN_PACKAGE)
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = f"{BUILTIN_PACKAGE}.{info.name}"
        source = Path(package.__path__[0], f"{info.name}.py")
        names = _REGISTER_LINE.findall(source.read_text(encoding="utf-8")) if source.is_file() else []
        for name in names or [f"?{module}"]:  # a module with no readable @register line loads with the rest
            found[name] = module
    return found


def _load(name: str) -> None:
    """Register ``name`` if a built-in (its module only) or a plugin provides it."""
    if name in _REGISTRY:
        return
    module = _builtin_modules().get(name)
    if module is not None:
        importlib.import_module(module)
    if name not in _REGISTRY:
        _load_plugins()


def list_methods(pattern: str = "*") -> list[str]:
    """Registered method names matching a shell-style wildcard, sorted."""
    _load_all()
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def find_method(name: str) -> type[Method] | None:
    """The class registered as ``name``, or None; loads no other built-in (for display metadata)."""
    _load(name)
    return _REGISTRY.get(name)


def get_method(name: str) -> type[Method]:
    """The class registered as ``name``; an unknown name is an error that lists every method."""
    cls = find_method(name)
    if cls is None:
        _load_all()
        if name not in _REGISTRY:
            raise unknown_name("method", name, _REGISTRY)
        cls = _REGISTRY[name]
    return cls


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
