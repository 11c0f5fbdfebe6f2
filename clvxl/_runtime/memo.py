"""Fits remembered by the content of what they were given.

A fitted model is a frozen value that depends on its inputs alone, so a process that is
asked for the same fit again (the workbook's button clicked after a change of horizon,
discount rate or margin, which no fit depends on) can hand back the model it fitted
before: the very object, so every number is the same to the last bit. The key is a
digest of every array's bytes, dtype and shape and of every other argument; a call with
anything else (a Python object column, an argument that cannot be compared) is simply
fitted again. Fits that raise are not remembered.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum
from typing import TypeVar

import numpy as np

__all__ = ["forget_all", "remembered"]

#: Fits kept per fitting function: the holdout's calibration fit and the full fit of
#: each model, with room for a few logs.
KEPT = 8

F = TypeVar("F", bound=Callable)

_ALL: list[OrderedDict] = []  # every remembering function's fits


def remembered(fit: F) -> F:
    """``fit`` that hands back its earlier result for arguments of the same content."""
    kept: OrderedDict[tuple, object] = OrderedDict()
    _ALL.append(kept)
    lock = threading.Lock()

    @functools.wraps(fit)
    def remembering(*args, **kwargs):
        key = _key(args, kwargs)
        if key is not None:
            with lock:
                if key in kept:
                    kept.move_to_end(key)
                    return kept[key]
        model = fit(*args, **kwargs)
        if key is not None:
            with lock:
                kept[key] = model
                while len(kept) > KEPT:
                    kept.popitem(last=False)
        return model

    return remembering  # type: ignore[return-value]


def forget_all() -> None:
    """Let go of every remembered fit (tests that count what a fit does start afresh)."""
    for kept in _ALL:
        kept.clear()


def _key(args: tuple, kwargs: dict) -> tuple | None:
    parts = [*map(_part, args), *(_part(kwargs[name]) for name in sorted(kwargs))]
    return None if None in parts else (tuple(parts), tuple(sorted(kwargs)))


def _part(value):
    """A hashable stand-in for one argument, or None when it cannot be one."""
    if value is None or isinstance(value, (bool, int, float, str, Enum)):
        return ("value", type(value).__name__, value)
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        return None
    digest = hashlib.blake2b(np.ascontiguousarray(array).data, digest_size=16).digest()
    return ("array", array.dtype.str, array.shape, digest)
