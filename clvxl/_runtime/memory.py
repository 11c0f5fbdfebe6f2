"""Handing freed memory back to the operating system between the stages of a recalculation.

A long log passes through three allocators: numpy's (the C library's ``malloc``),
Arrow's memory pool and DuckDB's. Each keeps what its stage freed, for reuse, but the
next stage allocates mostly from another one, so without this the process carries one
stage's leftovers into the next: at 10,000,000 rows that is about 600 MB, and the peak
is 1.27 GB instead of 1.17 GB (measured with ``benchmarks/``'s 10,000,000-row log).

Only a batch job hands memory back: ``clvxl recalc`` asks for it with
:func:`prompt_release`. A long-lived process (the Excel add-in's Python, a notebook)
keeps freed pages for its next call instead: handing them back made every click of the
workbook's button fault them in again (about 0.1 s of 1.5 s at 1,000,000 rows). The
batch job also switches Arrow's allocator: its default (mimalloc) keeps freed pages
resident, which at 10,000,000 rows added 60-90 MiB to the peak (about 1,000 MiB instead
of 920 MiB when measured); jemalloc returning them after 0.1 s does not, at the same
speed. (Returning them at once, a decay of 0, saved 20 MiB more but made the
10,000,000-row run 10 % slower.)
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

import pyarrow as pa

__all__ = ["prompt_release", "release_memory", "run_stages"]

#: Whether this process is a batch job that hands freed memory back (:func:`prompt_release`).
_HANDING_BACK = {"on": False}


def release_memory() -> None:
    """In a batch job, return the memory Arrow's pool and the C library hold unused to
    the system; elsewhere nothing (see the module docstring).

    Takes milliseconds and changes no data; where the C library has no ``malloc_trim``
    (Windows, macOS, musl) only Arrow's pool is asked.
    """
    if not _HANDING_BACK["on"]:
        return
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def run_stages(value: object, *stages: Callable[[object], object]) -> object:
    """Run ``stages`` one after the other, each on what the one before returned.

    Each stage's input is let go of as soon as the stage returns, and freed memory is
    handed back in a batch job (:func:`release_memory`) before the next stage starts, so a stage's
    leftovers never add to the next one's peak. A stage should return only what the next
    one needs.

    Parameters
    ----------
    value : object
        The first stage's input.
    *stages : callable
        Each takes the previous stage's result.

    Returns
    -------
    object
        The last stage's result.

    Examples
    --------
    >>> run_stages(3, lambda x: x + 1, lambda x: x * 10)
    40
    """
    for stage in stages:
        value = stage(value)
        release_memory()
    return value


def prompt_release() -> None:
    """Make this process a batch job: freed memory goes back to the system, for the rest
    of the process.

    :func:`release_memory` then hands it back between the stages, and Arrow's default
    pool becomes jemalloc with a decay time of 0.1 s where pyarrow has jemalloc (Linux
    and macOS wheels) and the user has not chosen a pool with
    ``ARROW_DEFAULT_MEMORY_POOL``. A long-running process gains from reusing freed pages
    instead.
    """
    _HANDING_BACK["on"] = True
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        return
    pa.set_memory_pool(pool)
    pa.jemalloc_set_decay_ms(100)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None (also in Pyodide, which has no C library to load)."""
    if sys.platform == "emscripten":
        return None
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
