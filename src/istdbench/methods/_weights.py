"""Finding and loading a network's trained weights: local files only, never a download.

A network's config names its weights file. An absolute path, or a relative one
that exists from the current folder, is used as given; any other relative path
is looked up in the *weights folder*:

1. ``$ISTDBENCH_WEIGHTS`` when set, else
2. the per-user cache folder ``$XDG_CACHE_HOME/istdbench/weights`` (by default
   ``~/.cache/istdbench/weights``).

The folder keeps the layout of the shared copy of the authors' releases
(``rpcanet/RPCANet_SIRST.pkl``, ``rdian/best.pth``, ...), so the presets name
files relative to it and a run config stays portable between machines. The
suite never fetches a file: a missing one is an error that says where it
looked and how to point it elsewhere.

Loading checks the file before the network sees it: a `DataError` names the
file for a missing or unreadable file, for a pickle that is not a
``state_dict`` (a mapping of parameter names to tensors), and for keys or
shapes that do not fit the network (the first missing, unexpected and
mismatched keys, and a hint when the keys are those of another network).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import nn

from istdbench.core.errors import DataError

log = logging.getLogger(__name__)

WEIGHTS_ENV = "ISTDBENCH_WEIGHTS"
SHOWN_KEYS = 3
"""How many missing/unexpected/mismatched keys an error message lists."""


def weights_folder() -> Path:
    """``$ISTDBENCH_WEIGHTS``, else the per-user cache folder ``$XDG_CACHE_HOME/istdbench/weights``."""
    env = os.environ.get(WEIGHTS_ENV, "")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "istdbench" / "weights"


def resolve_weights(spec: str) -> Path:
    """The file a config's ``weights`` names (see the module docstring for the lookup order).

    Raises
    ------
    DataError
        When no file exists at any of the places looked at; the message lists them.
    """
    given = Path(spec).expanduser()
    candidates = [given] if given.is_absolute() else [given, weights_folder() / given]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    source = f"${WEIGHTS_ENV}" if os.environ.get(WEIGHTS_ENV) else f"the per-user folder (${WEIGHTS_ENV} unset)"
    looked = " and ".join(repr(str(p)) for p in dict.fromkeys(candidates))
    raise DataError(
        f"weights file {spec!r} not found (looked at {looked}; the weights folder is {source}). "
        f"The suite never downloads weights: pass --set weights=PATH or set {WEIGHTS_ENV}=DIR to the folder "
        f"that holds the authors' files (e.g. rpcanet/RPCANet_SIRST.pkl, rdian/best.pth)."
    )


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (read in blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A ``state_dict`` from ``path``, on the CPU, without running any pickled code.

    Checkpoints that wrap the ``state_dict`` under a ``"state_dict"`` key (as
    BasicIRSTD saves them) are unwrapped, and the ``module.`` prefix that
    ``nn.DataParallel`` adds is stripped, both with a log line.
    """
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and torch errors all mean "not a weights file we can read"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"weights file {str(path)!r} is not a PyTorch state_dict torch can read: {first}") from None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        log.info("%s: using the 'state_dict' entry of the checkpoint", path)
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        what = type(obj).__name__ if not isinstance(obj, Mapping) else "a mapping whose values are not all tensors"
        raise DataError(
            f"weights file {str(path)!r} is not a state_dict (a mapping of parameter names to tensors); "
            f"it holds {what}."
        )
    state = {str(k): v for k, v in obj.items()}
    if all(k.startswith("module.") for k in state):
        log.info("%s: stripping the 'module.' prefix of nn.DataParallel", path)
        state = {k.removeprefix("module."): v for k, v in state.items()}
    return state


def key_mismatch(state: Mapping[str, torch.Tensor], network: nn.Module) -> str:
    """What keeps ``state`` from loading strictly into ``network`` ('' when it fits)."""
    expected = network.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
        if items:
            more = f", ... ({len(items)} in all)" if len(items) > SHOWN_KEYS else ""
            parts.append(f"{label}: {', '.join(items[:SHOWN_KEYS])}{more}")
    return "; ".join(parts)


def load_network(
    network: nn.Module, spec: str, name: str, other_networks: Mapping[str, Callable[[], nn.Module]] | None = None
) -> Path:
    """Load the weights named by ``spec`` into ``network`` strictly; return the file used.

    Parameters
    ----------
    network : nn.Module
        The freshly built network (its keys and shapes are the reference).
    spec : str
        The config's ``weights`` entry.
    name : str
        The method name, for messages.
    other_networks : mapping of str to callable
        Builders of other networks; when the file fits one of them, the error
        says whose weights it holds.

    Raises
    ------
    DataError
        Missing file, not a state_dict, or keys/shapes that do not fit.
    """
    path = resolve_weights(spec)
    state = read_state_dict(path)
    problem = key_mismatch(state, network)
    if problem:
        owner = next((n for n, build in (other_networks or {}).items() if not key_mismatch(state, build())), None)
        hint = f" It holds {owner}'s weights, not {name}'s." if owner else ""
        raise DataError(f"weights file {str(path)!r} does not fit {name}.{hint} {problem}.")
    network.load_state_dict(state, strict=True)
    return path
