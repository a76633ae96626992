"""Error types of the suite: one family per kind of user mistake.

Every message names the offending thing, what was expected and what was given,
so that a user never has to read a traceback from inside numpy to find out.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class IstdbenchError(Exception):
    """Base class of every error the suite raises on purpose."""


class InvalidParameterError(IstdbenchError, ValueError):
    """A configuration value, preset, option or CLI argument is not allowed."""


class DataError(IstdbenchError, ValueError):
    """Input data (frames, annotations, maps, files) is missing or malformed."""


class ConfigWarning(UserWarning):
    """A configuration that runs but has a setting without effect, or one outside what it was designed for."""


class UnknownNameError(IstdbenchError, KeyError):
    """A method, preset, sequence or protocol name is not known."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def unknown_name(kind: str, name: str, known: Iterable[str]) -> UnknownNameError:
    """Build an `UnknownNameError` that suggests the closest known names."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(known) if known else "(none)"
    return UnknownNameError(f"Unknown {kind} {name!r}.{hint} Known: {listing}.")
