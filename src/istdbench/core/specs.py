"""The one parser of ``kind:key=value,...`` spec strings (noise models, synthetic data, derived masks).

Several parts of the suite name a parametrised thing in one string that result
tables record (``gaussian:snr=5``, ``synthetic:h=64,w=64``,
``derived:peak-fraction=0.5``). They share the item syntax, the checks and
the error wording through `parse_items`; each caller owns its table of keys
and types and its canonical spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .config import parse_value
from .errors import InvalidParameterError, unknown_name


def parse_items(body: str, types: Mapping[str, Any], what: str, text: str, noun: str) -> dict[str, Any]:
    """Parse ``key=value,key=value`` into ``{key: typed value}`` (empty items are skipped).

    Parameters
    ----------
    body : str
        The part after ``kind:`` (or the whole spec where there is no kind).
    types : mapping
        Allowed key -> type annotation (parsed with `istdbench.core.config.parse_value`).
    what : str
        What the keys are, for messages (``"parameter of 'cross' noise"``).
    text : str
        The whole spec, quoted in messages.
    noun : str
        The kind of spec (``"noise"``, ``"synthetic"``), for messages.

    Raises
    ------
    InvalidParameterError
        An item without ``=``, an unknown key (with the closest known one), a key
        given twice, or a value of the wrong type.
    """
    values: dict[str, Any] = {}
    for item in (s.strip() for s in body.split(",")):
        if not item:
            continue
        key, sep, raw = (s.strip() for s in item.partition("="))
        if not sep or not key:
            raise InvalidParameterError(f"{noun} spec items must be key=value; got {item!r} in {text!r}.")
        if key not in types:
            raise InvalidParameterError(str(unknown_name(what, key, types)))
        if key in values:
            raise InvalidParameterError(f"{noun} spec key {key!r} is given twice in {text!r}.")
        values[key] = parse_value(key, raw, types[key])
    return values
