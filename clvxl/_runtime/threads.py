"""Thread pools: the model fits run with one BLAS thread."""

from __future__ import annotations

from contextlib import AbstractContextManager

__all__ = ["one_blas_thread"]


def one_blas_thread() -> AbstractContextManager:
    """A context in which numpy's and scipy's BLAS use one thread.

    The fits' vector products are far too small to gain from threads, and numpy's and
    scipy's separate OpenBLAS pools spinning against each other made every optimizer
    step ten times slower on a two-core machine.

    Returns
    -------
    context manager
        threadpoolctl's limit, undone on leaving the ``with`` block.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
