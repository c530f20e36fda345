"""``dataclasses.asdict`` for the evaluation's result records, without its per-value ``deepcopy``.

The records hold numbers, texts, ``None``, tuples and lists of them and other such records; a bond
report turns a few thousand of them into dicts, and ``asdict``'s ``deepcopy`` of every float is
most of that cost. ``plain_asdict`` gives the same dict: records become dicts, tuples and lists
keep their type, immutable scalars are themselves (as ``deepcopy`` returns them), anything else is
copied as ``asdict`` copies it.
"""

from __future__ import annotations

import copy
from dataclasses import fields, is_dataclass
from functools import cache
from typing import Any

_SCALARS = (int, float, str, bool, type(None))


@cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def plain_asdict(record: Any) -> dict[str, Any]:
    """``dataclasses.asdict(record)``, see the module."""
    return {name: _plain(getattr(record, name)) for name in _names(type(record))}


def _plain(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return plain_asdict(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple, as asdict
        return type(value)(*[_plain(item) for item in value])
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return type(value)((_plain(key), _plain(item)) for key, item in value.items())
    return copy.deepcopy(value)
