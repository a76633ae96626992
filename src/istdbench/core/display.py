"""Presentation metadata: how methods, sequences and noise settings are named in tables and figures.

Result tables record raw names (``neurstt (paper)``, ``daub/sequence1``,
``gaussian:snr=5``); a paper prints "NeurSTT", "Seq. 1" and "Gaussian 5 dB",
with methods in a fixed order and cited. This module is the one place that
maps the first to the second, so that every table and figure agrees:

- methods: ``display_name``, ``cite_key``, ``paper_order`` and ``category``
  class attributes of the registered class (unknown methods keep their name);
- sequences: ``Seq. 1`` ... numbered in natural order over the run;
- noise: generated from the spec (`noise_label`);
- a run config's ``[labels]`` (raw name -> label, for any of the three) and
  ``[display]`` sections override all of it (`parse_presentation`).

Example run config sections::

    [display]
    decimals = { table8 = 4, table9 = 2 }   # or one integer for every table
    highlight = "neurstt"                    # drawn emphasised in figures
    reference = "neurstt"                    # Table 11's "x fewer" ratio
    cite = true                              # \\cite{key} after names in LaTeX
    order = ["mpcm", "ipi"]                  # these first, the rest by paper order
    frame = 40                               # the visual comparison's frame (1-based; default: automatic)
    compare = ["neurstt", "3dstpm"]          # the methods of Fig. 12(b, c) (default: all)
    [display.methods.neurstt]
    name = "NeurSTT (ours)"

    [labels]
    "daub/sequence1" = "Seq. 1"
    "gaussian:snr=5" = "5 dB"
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidParameterError, unknown_name
from .sorting import natural_key

DISPLAY_KEYS = ("decimals", "highlight", "reference", "cite", "order", "frame", "compare", "methods")
METHOD_KEYS = ("name", "cite_key", "order", "category")
TABLE_DECIMALS = {"table8": 4, "table9": 2, "table10": 3, "table11": 3, "table12": 2}
"""Decimals per table in the paper: AUCs 4, IoU/F1 in percent 2, s/frame 3, parameters in M 3."""

UNORDERED = 10_000
"""Paper order of a method that declares none: after every method that does."""

_NOISE_NAMES = {"none": "Clean", "gaussian": "Gaussian", "cross": "Cross", "vline": "Vertical lines"}


@dataclass(frozen=True)
class MethodInfo:
    """How one method is shown: name, citation key, rank in the paper's order, category, scene."""

    name: str
    display_name: str
    cite_key: str = ""
    order: int = UNORDERED
    category: str = ""
    scene: str = ""


def registry_info(name: str) -> MethodInfo:
    """A method's presentation attributes from its registered class (its bare name if not registered)."""
    from .registry import find_method

    cls = find_method(name)
    if cls is None:
        return MethodInfo(name, name)
    scene = {"single-frame": "Single", "multi-frame": "Multi."}.get(cls.kind, "")
    return MethodInfo(
        name,
        cls.display_name or name,
        cls.cite_key,
        cls.paper_order,
        cls.category,
        scene,
    )


def noise_label(spec: str) -> str:
    """``gaussian:snr=5`` -> ``Gaussian 5 dB``; ``cross`` -> ``Cross``; other parameters in parentheses."""
    kind, _, body = spec.partition(":")
    params = dict(p.split("=", 1) for p in body.split(",") if "=" in p)
    head = _NOISE_NAMES.get(kind, kind)
    if kind == "gaussian" and "snr" in params:
        head = f"Gaussian {params.pop('snr')} dB"
    rest = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{head} ({rest})" if rest else head


@dataclass(frozen=True)
class Presentation:
    """The display settings of one report; `Presentation()` is the default (registry, automatic labels)."""

    labels: tuple[tuple[str, str], ...] = ()
    methods: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    decimals: tuple[tuple[str, int], ...] = ()
    highlight: str = ""
    reference: str = "neurstt"
    cite: bool = True
    order: tuple[str, ...] = ()
    frame: int = 0  # frame number of the visual comparison; 0: chosen automatically
    compare: tuple[str, ...] = ()  # methods of Fig. 12(b, c); (): all
    sequences: tuple[str, ...] = field(default=(), compare=False)

    def with_sequences(self, sequences: Iterable[str]) -> Presentation:
        """The same settings with the run's sequences, which numbers the automatic ``Seq. k`` labels."""
        ordered = tuple(sorted(set(sequences), key=natural_key))
        return Presentation(**{**self.__dict__, "sequences": ordered})

    def table_decimals(self, table: str) -> int:
        """Decimals of a table family (``table8``, ...): the config's setting, else the paper's."""
        return dict(self.decimals).get(table, TABLE_DECIMALS.get(table, 4))

    def method(self, name: str) -> MethodInfo:
        """Registry attributes of a method with the config's overrides applied."""
        info = registry_info(name)
        over = dict(dict(self.methods).get(name, ()))
        return MethodInfo(
            name,
            over.get("name", info.display_name),
            over.get("cite_key", info.cite_key),
            over.get("order", info.order),
            over.get("category", info.category),
            info.scene,
        )

    def method_rank(self, name: str) -> tuple[int, int, tuple]:
        """Sort key of a method: the config's ``order`` first, then the paper order, then the name."""
        first = self.order.index(name) if name in self.order else len(self.order)
        return (first, self.method(name).order, natural_key(name))

    def variant_rank(self, variant: str, method: str) -> tuple[tuple[int, int, tuple], tuple]:
        """Sort key of a method variant: its method's rank, then the variant's name (variants of one method)."""
        return (self.method_rank(method), natural_key(variant))

    def variant(self, variant: str, method: str) -> str:
        """Row label of a method variant: ``neurstt (paper)`` -> ``NeurSTT (paper)``, unless relabelled."""
        given = dict(self.labels)
        if variant in given:
            return given[variant]
        shown = self.method(method).display_name
        return shown + variant[len(method) :] if variant.startswith(method) else variant

    def sequence(self, sequence: str) -> str:
        """Short label of a sequence: the config's, else ``Seq. k`` by its place among the run's sequences."""
        given = dict(self.labels)
        if sequence in given:
            return given[sequence]
        if sequence in self.sequences:
            return f"Seq. {self.sequences.index(sequence) + 1}"
        return sequence

    def noise(self, spec: str) -> str:
        """Label of a noise setting: the config's, else generated from the spec."""
        return dict(self.labels).get(spec, noise_label(spec))

    def sequence_key(self) -> str:
        """``Seq. 1: daub/sequence1; ...`` for sequences whose label differs from their name (for captions)."""
        pairs = [(self.sequence(s), s) for s in self.sequences if self.sequence(s) != s]
        return "; ".join(f"{label}: {raw}" for label, raw in pairs)


def parse_presentation(display: Any = None, labels: Any = None, where: str = "run config") -> Presentation:
    """Check a run config's ``[display]`` and ``[labels]`` sections and build a `Presentation`."""
    display = {} if display is None else display
    labels = {} if labels is None else labels
    if not isinstance(display, Mapping):
        raise InvalidParameterError(f"[display] in {where} must be a table of settings. Got {display!r}.")
    if not isinstance(labels, Mapping) or not all(isinstance(v, str) for v in labels.values()):
        raise InvalidParameterError(f"[labels] in {where} must map names to label strings. Got {labels!r}.")
    for key in display:
        if key not in DISPLAY_KEYS:
            raise unknown_name(f"key of [display] in {where}:", key, DISPLAY_KEYS)
    decimals = display.get("decimals", {})
    if isinstance(decimals, int) and not isinstance(decimals, bool):
        decimals = dict.fromkeys(TABLE_DECIMALS, decimals)
    if not isinstance(decimals, Mapping) or not all(_small_int(v) for v in decimals.values()):
        raise InvalidParameterError(
            f"'decimals' in [display] of {where} must be an integer 0-8 or a table of them per table "
            f"({', '.join(TABLE_DECIMALS)}). Got {decimals!r}."
        )
    for key in decimals:
        if key not in TABLE_DECIMALS:
            raise unknown_name(f"table in [display] decimals of {where}:", key, TABLE_DECIMALS)
    for key in ("order", "compare"):
        names = display.get(key, [])
        if not isinstance(names, list) or not all(isinstance(o, str) for o in names):
            raise InvalidParameterError(
                f"'{key}' in [display] of {where} must be a list of method names. Got {names!r}."
            )
    for key in ("highlight", "reference"):
        if not isinstance(display.get(key, ""), str):
            raise InvalidParameterError(f"'{key}' in [display] of {where} must be a method name. Got {display[key]!r}.")
    frame = display.get("frame", 0)
    if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
        raise InvalidParameterError(f"'frame' in [display] of {where} must be a frame number >= 1. Got {frame!r}.")
    if not isinstance(display.get("cite", True), bool):
        raise InvalidParameterError(f"'cite' in [display] of {where} must be true or false. Got {display['cite']!r}.")
    return Presentation(
        labels=tuple(sorted((str(k), v) for k, v in labels.items())),
        methods=_method_overrides(display.get("methods", {}), where),
        decimals=tuple(sorted(decimals.items())),
        highlight=display.get("highlight", ""),
        reference=display.get("reference", "neurstt"),
        cite=display.get("cite", True),
        order=tuple(display.get("order", [])),
        frame=frame,
        compare=tuple(display.get("compare", [])),
    )


def _small_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 8


def _method_overrides(value: Any, where: str) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    if not isinstance(value, Mapping):
        raise InvalidParameterError(f"[display.methods] in {where} must be a table per method. Got {value!r}.")
    out = []
    for name, over in sorted(value.items()):
        if not isinstance(over, Mapping):
            raise InvalidParameterError(f"[display.methods.{name}] in {where} must be a table. Got {over!r}.")
        for key, v in over.items():
            if key not in METHOD_KEYS:
                raise unknown_name(f"key of [display.methods.{name}] in {where}:", key, METHOD_KEYS)
            if not isinstance(v, int if key == "order" else str) or isinstance(v, bool):
                kind = "an integer" if key == "order" else "a string"
                raise InvalidParameterError(f"'{key}' of [display.methods.{name}] in {where} must be {kind}.")
        out.append((str(name), tuple(sorted(over.items()))))
    return tuple(out)


def presentation_from_config(config: Mapping[str, Any] | None) -> Presentation:
    """The `Presentation` of a run's ``run.json`` config (``presentation`` as written by the runner, or none)."""
    stored = (config or {}).get("presentation")
    if not isinstance(stored, Mapping):
        return Presentation()
    try:
        return Presentation(
            labels=tuple((str(k), str(v)) for k, v in stored.get("labels", ())),
            methods=tuple((str(n), tuple((str(k), v) for k, v in over)) for n, over in stored.get("methods", ())),
            decimals=tuple((str(k), int(v)) for k, v in stored.get("decimals", ())),
            highlight=str(stored.get("highlight", "")),
            reference=str(stored.get("reference", "neurstt")),
            cite=bool(stored.get("cite", True)),
            order=tuple(str(o) for o in stored.get("order", ())),
            frame=int(stored.get("frame", 0)),
            compare=tuple(str(o) for o in stored.get("compare", ())),
        )
    except (TypeError, ValueError):
        raise InvalidParameterError(f"The display settings stored in run.json are malformed: {stored!r}.") from None
