"""Run configurations: a TOML (or YAML) file parsed into frozen dataclasses.

A run config names the grid the runner expands into jobs: methods (with
presets and overrides), blocks of sequences (catalog names, folders or
synthetic specs, with a frame range and noise settings), seeds, metric
protocols, the threshold protocol and the device. Parsing checks structure and
types only and says which key is wrong; whether a method, sequence or protocol
exists is checked when the grid is planned (`istdbench.runners.jobs`).

Example
-------
::

    name = "quick"
    seeds = [0]
    protocols = ["tensoristd"]
    threshold = "ratio:0.5"

    [methods]
    tophat = {}
    neurstt = [{ preset = "paper", set = { iterations = 150 } }, { preset = "authors" }]

    [[sequences]]
    refs = ["synthetic:h=64,w=64,t=20,seed=0"]
    noise = ["none", "gaussian:snr=5"]

``methods`` may also be ``"all"`` (every registered method, default preset) or
a list of names. A method entry may also carry ``label`` (the variant's name in
the results' ``label`` column, e.g. ``label = "L=10"``; part of the job's
identity, so a setting shared by two configs with the same label is one job)
and ``binarize``: a threshold rule (or a list; ``"none"`` is the raw maps)
whose 0/1 maps its ROC protocols score, as the toolbox scores the PNGs that
rule writes (protocol ``tensoristd+bin(chunk-max:0.4)``; ``chunk-max:R``
without a chunk length takes the method's ``chunk_length``). A top-level
``binarize`` is the default of every method entry (default ``"none"``).
``[display]`` and ``[labels]`` say how reports name and order things
(`istdbench.core.display`); they change no job.

A method entry's ``checkpoints = [500, 1000, 2000]`` also scores an iterative
fit's maps after those step counts (`Method.detect_checkpoints`: one fit gives
them all); their rows carry the step count in the ``checkpoint`` column and
report tables of final results leave them out. A sequences block's
``crop = [row0, row1, col0, col1]`` (zero-based, ends exclusive) fits and
scores only that window of every frame; the sequence's name says so
(``daub/sequence2[32:160,36:164]``) and it is part of the job's identity.

``on_bad_data = "skip"`` leaves out a clip that cannot be loaded (a bad
annotation file, unreadable frames) with a warning, instead of refusing the
whole run (``"fail"``, the default).

A sequences block may name image sets (``refs = ["sirst"]``) with a ``split``
(``split = "test_NUAA-SIRST"``; default the whole set); only single-frame
methods run on them. ``gt = "derived:RULE"`` (per block, or top-level as the
default of every block) scores the block against masks grown from its points
(`istdbench.datasets.derived`); the rows say so in their ``gt`` column.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from istdbench.core.display import Presentation, parse_presentation
from istdbench.core.errors import InvalidParameterError, unknown_name

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
TOP_KEYS = (
    "name",
    "description",
    "methods",
    "sequences",
    "noise",
    "frames",
    "seeds",
    "protocols",
    "threshold",
    "device",
    "maps",
    "threads",
    "binarize",
    "display",
    "labels",
    "report",
    "on_bad_data",
    "gt",
)
BLOCK_KEYS = ("refs", "frames", "noise", "split", "gt", "crop")
METHOD_KEYS = ("preset", "set", "label", "binarize", "checkpoints")
MAPS_CHOICES = ("target", "all", "none")
BAD_DATA_CHOICES = ("fail", "skip")
"""``on_bad_data``: a clip that cannot be loaded stops the run before it starts (``fail``) or is left out."""
REPORT_KEYS = ("roc", "visual", "max_figures", "summary")
DEFAULT_MAX_FIGURES = 8


@dataclass(frozen=True)
class MethodSpec:
    """One method variant of the grid: a registered name, a preset (None: its default) and overrides."""

    name: str
    preset: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()
    label: str = ""
    binarize: tuple[str, ...] | None = None  # None: the config's top-level rule(s)
    checkpoints: tuple[int, ...] = ()  # earlier step counts of an iterative fit also scored

    @property
    def override_dict(self) -> dict[str, Any]:
        return dict(self.overrides)

    @property
    def setting(self) -> tuple[str, str | None, tuple[tuple[str, Any], ...]]:
        """What the method computes (name, preset, overrides): label and scoring aside."""
        return (self.name, self.preset, self.overrides)


@dataclass(frozen=True)
class SequenceBlock:
    """Sequences sharing a frame range (1-based inclusive, None: all) and a list of noise settings.

    ``split``: the named split of the block's image sets (None: the whole set; sequences take none).
    ``gt``: the ground-truth source, ``""`` for the data's own annotations or a ``derived:...`` spec.
    """

    refs: tuple[str, ...]
    frames: tuple[int, int] | None = None
    noise: tuple[str, ...] = ("none",)
    split: str | None = None
    gt: str = ""
    crop: tuple[int, int, int, int] | None = None  # row0, row1, col0, col1 (zero-based, ends exclusive)


@dataclass(frozen=True)
class ReportSpec:
    """Which figures ``istdbench report`` draws (the ``[report]`` section); None: the default.

    ``roc`` and ``visual`` are ``"all"``, ``"none"`` or sequence / group names
    (shell wildcards allowed) for the per-sequence 3-D ROC figures and the rows
    of the visual grids; by default each group's first ``max_figures``
    sequences are drawn. ``summary`` draws one mean-ROC figure per group (by
    default where the per-sequence figures leave sequences of the group out).
    """

    roc: str | tuple[str, ...] | None = None
    visual: str | tuple[str, ...] | None = None
    max_figures: int = DEFAULT_MAX_FIGURES
    summary: bool | None = None


@dataclass(frozen=True)
class RunConfig:
    """A parsed run config; `methods` may be the string ``"all"``."""

    name: str
    methods: tuple[MethodSpec, ...] | str
    sequences: tuple[SequenceBlock, ...]
    seeds: tuple[int, ...] = (0,)
    protocols: tuple[str, ...] = ("tensoristd",)
    threshold: str | None = None  # None: each protocol's own (ratio:0.5; minmax:0.5 for basicirstd)
    device: str = "cpu"
    maps: str = "target"
    threads: int | None = None
    description: str = ""
    binarize: tuple[str, ...] = ("none",)
    presentation: Presentation = field(default_factory=Presentation)
    report: ReportSpec = field(default_factory=ReportSpec)
    on_bad_data: str = "fail"
    source: str = field(default="", compare=False)


def select_methods(cfg: RunConfig, names: tuple[str, ...]) -> RunConfig:
    """The part of `cfg` whose method variants are named (by method name or label), for running a config in parts."""
    if cfg.methods == "all":
        raise InvalidParameterError(f"{cfg.source or cfg.name} runs every method: name them in [methods] to select.")
    specs = cast(tuple[MethodSpec, ...], cfg.methods)
    known = {spec.name for spec in specs} | {spec.label for spec in specs if spec.label}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidParameterError(
            f"{cfg.source or cfg.name} has no method {', '.join(map(repr, unknown))}; "
            f"it has {', '.join(sorted(known))}."
        )
    chosen = tuple(spec for spec in specs if spec.name in names or (spec.label and spec.label in names))
    return replace(cfg, methods=chosen)


def shipped_configs() -> list[str]:
    """Names of the configs shipped with the package (``quick``, ``paper``, ...)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))


def resolve_config_path(ref: str | Path) -> Path:
    """A config file path, or the file of a shipped config named ``ref``."""
    path = Path(ref)
    if path.is_file():
        return path
    if path.suffix or path.parent != Path("."):
        raise InvalidParameterError(f"Run config file {str(ref)!r} does not exist.")
    shipped = CONFIG_DIR / f"{ref}.toml"
    if shipped.is_file():
        return shipped
    raise unknown_name("run config", str(ref), shipped_configs())


def load_config(ref: str | Path) -> RunConfig:
    """Read and parse a run config from a path or a shipped config name."""
    path = resolve_config_path(ref)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(f"Cannot read run config {path}: {exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        data = _parse_yaml(text, path)
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidParameterError(f"Run config {path} is not valid TOML: {exc}") from None
    return parse_config(data, source=str(path), default_name=path.stem)


def _parse_yaml(text: str, path: Path) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        raise InvalidParameterError(
            f"Run config {path} is YAML but PyYAML is not installed; install it or use TOML."
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidParameterError(f"Run config {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidParameterError(f"Run config {path} must be a mapping at the top level.")
    return data


def parse_config(data: dict[str, Any], source: str = "<dict>", default_name: str = "run") -> RunConfig:
    """Check the structure of a config mapping and build a `RunConfig`."""
    where = f"run config {source}"
    for key in data:
        if key not in TOP_KEYS:
            raise unknown_name(f"key in {where}:", key, TOP_KEYS)
    if "methods" not in data:
        raise InvalidParameterError(f'{where} names no methods: add a [methods] table or methods = "all".')
    if "sequences" not in data:
        raise InvalidParameterError(f"{where} names no sequences: add at least one [[sequences]] block.")
    default_noise = _str_list(data.get("noise", ["none"]), "noise", where)
    default_frames = _frames(data.get("frames"), "frames", where)
    default_gt = _typed(data.get("gt", ""), str, "gt", where)
    maps = _typed(data.get("maps", "target"), str, "maps", where)
    if maps not in MAPS_CHOICES:
        raise InvalidParameterError(f"'maps' in {where} must be one of {list(MAPS_CHOICES)}. Got {maps!r}.")
    on_bad_data = _typed(data.get("on_bad_data", "fail"), str, "on_bad_data", where)
    if on_bad_data not in BAD_DATA_CHOICES:
        raise InvalidParameterError(
            f"'on_bad_data' in {where} must be one of {list(BAD_DATA_CHOICES)}. Got {on_bad_data!r}."
        )
    threads = data.get("threads")
    if threads is not None and (_typed(threads, int, "threads", where) < 1):
        raise InvalidParameterError(f"'threads' in {where} must be a positive integer. Got {threads!r}.")
    seeds = data.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(_is_int(s) for s in seeds):
        raise InvalidParameterError(f"'seeds' in {where} must be a non-empty list of integers. Got {seeds!r}.")
    return RunConfig(
        name=_typed(data.get("name", default_name), str, "name", where),
        description=_typed(data.get("description", ""), str, "description", where),
        methods=_methods(data["methods"], where),
        sequences=_sequences(data["sequences"], default_frames, default_noise, default_gt, where),
        seeds=tuple(dict.fromkeys(seeds)),
        protocols=_str_list(data.get("protocols", ["tensoristd"]), "protocols", where),
        threshold=_typed(data["threshold"], str, "threshold", where) if "threshold" in data else None,
        device=_typed(data.get("device", "cpu"), str, "device", where),
        maps=maps,
        threads=threads,
        binarize=_str_list(data.get("binarize", ["none"]), "binarize", where),
        presentation=parse_presentation(data.get("display"), data.get("labels"), where),
        report=report_spec(data.get("report", {}), where),
        on_bad_data=on_bad_data,
        source=source,
    )


def report_spec(value: Any, where: str) -> ReportSpec:
    """Check a ``[report]`` mapping (from a run config or its copy in ``run.json``) and build a `ReportSpec`."""
    if not isinstance(value, dict):
        raise InvalidParameterError(f"'report' in {where} must be a table like {{ roc = \"all\" }}. Got {value!r}.")
    for key in value:
        if key not in REPORT_KEYS:
            raise unknown_name(f"key of 'report' in {where}:", key, REPORT_KEYS)
    max_figures = value.get("max_figures", DEFAULT_MAX_FIGURES)
    if _typed(max_figures, int, "report.max_figures", where) < 0:
        raise InvalidParameterError(f"'report.max_figures' in {where} must be >= 0. Got {max_figures!r}.")
    summary = value.get("summary")
    if summary is not None:
        _typed(summary, bool, "report.summary", where)
    return ReportSpec(
        roc=_figure_choice(value.get("roc"), "report.roc", where),
        visual=_figure_choice(value.get("visual"), "report.visual", where),
        max_figures=max_figures,
        summary=summary,
    )


def _figure_choice(value: Any, label: str, where: str) -> str | tuple[str, ...] | None:
    if value is None or value in ("all", "none"):
        return value
    if isinstance(value, tuple):  # command-line values
        value = list(value)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise InvalidParameterError(
            f'\'{label}\' in {where} must be "all", "none" or a non-empty list of sequence or group names. '
            f"Got {value!r}."
        )
    return tuple(dict.fromkeys(value))


def _methods(value: Any, where: str) -> tuple[MethodSpec, ...] | str:
    if value == "all":
        return "all"
    if isinstance(value, list):
        if not value or not all(isinstance(v, str) for v in value):
            raise InvalidParameterError(f"'methods' in {where} must be \"all\", a list of names or a table.")
        return tuple(MethodSpec(v) for v in dict.fromkeys(value))
    if not isinstance(value, dict) or not value:
        raise InvalidParameterError(
            f"'methods' in {where} must be \"all\", a non-empty list of names or a table. Got {value!r}."
        )
    specs: list[MethodSpec] = []
    for name, entry in value.items():
        entries = entry if isinstance(entry, list) else [entry]
        for item in entries:
            specs.append(_method_entry(name, item, where))
    if len({s.setting for s in specs}) != len(specs):
        raise InvalidParameterError(
            f"'methods' in {where} lists the same method variant twice (give one entry its label and binarize rules)."
        )
    labels = [(s.name, s.label) for s in specs if s.label]
    if len(set(labels)) != len(labels):
        raise InvalidParameterError(f"'methods' in {where} gives two variants of one method the same label.")
    return tuple(specs)


def _method_entry(name: str, item: Any, where: str) -> MethodSpec:
    label = f"methods.{name}"
    if not isinstance(item, dict):
        raise InvalidParameterError(
            f"'{label}' in {where} must be a table like {{ preset = \"...\", set = {{...}} }}. Got {item!r}."
        )
    for key in item:
        if key not in METHOD_KEYS:
            raise unknown_name(f"key of '{label}' in {where}:", key, METHOD_KEYS)
    preset = item.get("preset")
    if preset is not None:
        _typed(preset, str, f"{label}.preset", where)
    overrides = item.get("set", {})
    if not isinstance(overrides, dict):
        raise InvalidParameterError(f"'{label}.set' in {where} must be a table of parameter values. Got {overrides!r}.")
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in overrides.items()))
    variant = _typed(item.get("label", ""), str, f"{label}.label", where)
    rules = _str_list(item["binarize"], f"{label}.binarize", where) if "binarize" in item else None
    marks = _int_list(item.get("checkpoints", []), f"{label}.checkpoints", where)
    return MethodSpec(
        name=name, preset=preset, overrides=frozen, label=variant.strip(), binarize=rules, checkpoints=marks
    )


def _sequences(
    value: Any, default_frames: tuple[int, int] | None, default_noise: tuple[str, ...], default_gt: str, where: str
) -> tuple[SequenceBlock, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(b, dict) for b in value):
        raise InvalidParameterError(f"'sequences' in {where} must be one or more [[sequences]] blocks.")
    blocks = []
    for i, block in enumerate(value, start=1):
        label = f"sequences block {i}"
        for key in block:
            if key not in BLOCK_KEYS:
                raise unknown_name(f"key of {label} in {where}:", key, BLOCK_KEYS)
        if "refs" not in block:
            raise InvalidParameterError(f"{label} in {where} has no 'refs' list of sequence names.")
        blocks.append(
            SequenceBlock(
                refs=_str_list(block["refs"], f"{label}: refs", where),
                frames=_frames(block["frames"], f"{label}: frames", where) if "frames" in block else default_frames,
                noise=_str_list(block["noise"], f"{label}: noise", where) if "noise" in block else default_noise,
                split=_typed(block["split"], str, f"{label}: split", where) if "split" in block else None,
                gt=_typed(block.get("gt", default_gt), str, f"{label}: gt", where),
                crop=_crop(block["crop"], f"{label}: crop", where) if "crop" in block else None,
            )
        )
    return tuple(blocks)


def _frames(value: Any, label: str, where: str) -> tuple[int, int] | None:
    if value is None:
        return None
    ok = isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)
    if not ok or not (1 <= value[0] <= value[1]):
        raise InvalidParameterError(
            f"'{label}' in {where} must be [first, last], 1-based inclusive with first <= last. Got {value!r}."
        )
    return (value[0], value[1])


def _crop(value: Any, label: str, where: str) -> tuple[int, int, int, int]:
    ok = isinstance(value, list) and len(value) == 4 and all(_is_int(v) for v in value)
    if not ok or not (0 <= value[0] < value[1] and 0 <= value[2] < value[3]):
        raise InvalidParameterError(
            f"'{label}' in {where} must be [row0, row1, col0, col1], zero-based with ends exclusive "
            f"(row0 < row1, col0 < col1). Got {value!r}."
        )
    return (value[0], value[1], value[2], value[3])


def _int_list(value: Any, label: str, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(_is_int(v) and v >= 1 for v in value):
        raise InvalidParameterError(f"'{label}' in {where} must be a list of positive integers. Got {value!r}.")
    return tuple(sorted(set(value)))


def _str_list(value: Any, label: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise InvalidParameterError(f"'{label}' in {where} must be a non-empty list of strings. Got {value!r}.")
    return tuple(dict.fromkeys(value))


def _typed(value: Any, tp: type, label: str, where: str) -> Any:
    if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise InvalidParameterError(f"'{label}' in {where} must be a {tp.__name__}. Got {value!r}.")
    return value


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
