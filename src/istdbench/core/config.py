"""Typed method configurations: frozen dataclasses with validation and overrides.

A config is hashable (cache keys), picklable (Dask) and validated in
``__post_init__`` so that ``dataclasses.replace`` cannot bypass the checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from .errors import InvalidParameterError, unknown_name

C = TypeVar("C", bound="MethodConfig")


@dataclasses.dataclass(frozen=True)
class MethodConfig:
    """Base class of every method's configuration.

    Subclasses declare fields with types and the published defaults and may
    override :meth:`validate` to raise :class:`InvalidParameterError` for
    ranges. Choices are declared once, as ``Literal`` types: the base class
    checks them, so ``validate`` never repeats them.
    """

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):  # keep configs hashable
                object.__setattr__(self, f.name, tuple(value))
        self._check_choices()
        self.validate()

    def _check_choices(self) -> None:
        """Every ``Literal``-typed field (also inside ``X | None``) holds one of its declared values."""
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            choices = _literal_choices(hints[f.name])
            value = getattr(self, f.name)
            if choices is not None and value is not None and value not in choices:
                allowed = ", ".join(repr(c) for c in choices)
                self._require(f.name, False, f"one of {allowed}")

    def validate(self) -> None:
        """Raise `InvalidParameterError` for values outside the allowed range."""

    # --- helpers for subclasses' validate() ---
    def _require(self, name: str, ok: bool, allowed: str) -> None:
        if not ok:
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(self).__name__} must be {allowed}. "
                f"Got {getattr(self, name)!r} instead."
            )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def config_hash(self) -> str:
        """Stable short hash of the resolved values (for result rows and caches).

        Fields declared with ``metadata=ADDED`` are left out while they hold their
        default, so adding a switch to a config keeps the hash of every existing
        setting (and so the stored results and golden tables keyed by it).
        """
        values = self.to_dict()
        for f in dataclasses.fields(self):
            if f.metadata.get(_ADDED) and getattr(self, f.name) == f.default:
                del values[f.name]
        blob = json.dumps({"cls": type(self).__name__, **values}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_overrides(self: C, overrides: dict[str, Any]) -> C:
        """Return a copy with fields replaced; string values are parsed to the field type."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        hints = typing.get_type_hints(type(self))
        changes = {}
        for key, raw in overrides.items():
            if key not in fields:
                raise unknown_name(f"parameter of {type(self).__name__}", key, fields)
            changes[key] = parse_value(key, raw, hints[key]) if isinstance(raw, str) else raw
        return dataclasses.replace(self, **changes)


_ADDED = "istdbench_added_field"
ADDED: Mapping[str, bool] = MappingProxyType({_ADDED: True})
"""Field metadata of a switch added after results were stored under the config's hash
(``field(default=..., metadata=ADDED)``): see `MethodConfig.config_hash`."""


def _literal_choices(tp: Any) -> tuple[Any, ...] | None:
    """The values of a ``Literal[...]`` type, or of the Literal inside an optional; None otherwise."""
    if typing.get_origin(tp) is typing.Literal:
        return typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if typing.get_origin(arg) is typing.Literal:
                return typing.get_args(arg)
    return None


def _plain(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def parse_value(name: str, raw: str, tp: Any) -> Any:
    """Parse a ``--set key=value`` string into the annotated type of the field."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if raw.lower() in ("none", "null") and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return parse_value(name, raw, a)
            except InvalidParameterError:
                continue
        raise InvalidParameterError(f"Cannot parse {raw!r} for parameter {name!r} as {tp}.")
    if origin is typing.Literal:
        for a in args:
            if str(a) == raw:
                return a
        raise InvalidParameterError(f"Parameter {name!r} must be one of {list(args)}. Got {raw!r}.")
    if origin is tuple:
        parts = [p for p in raw.replace(" ", "").strip("()[]").split(",") if p]
        inner = args[0] if args else str
        return tuple(parse_value(name, p, inner) for p in parts)
    try:
        if tp is bool:
            low = raw.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if tp is int:
            return int(raw)
        if tp is float:
            return float(raw)
        if tp is str:
            return raw
    except ValueError:
        raise InvalidParameterError(f"Parameter {name!r} expects a value of type {tp.__name__}. Got {raw!r}.") from None
    raise InvalidParameterError(f"Parameter {name!r} of type {tp} cannot be set from the command line.")


def parse_assignments(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn ``["k=v", ...]`` into a dict, with a clear error for malformed items."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterError(f"--set expects key=value; got {item!r}.")
        out[key.strip()] = value.strip()
    return out
