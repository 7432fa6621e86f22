"""Thread pools of the numerical libraries: pinned per process, limited per fit.

The matrices here are tiny (n x p with p < 30); OpenBLAS nevertheless starts threads for
some shapes, and on a busy machine (the simulation runs one worker per core) that made
an SNP fit 10-20 times slower in our measurements. So:

- ``pin_threads(n)`` limits BLAS and OpenMP to ``n`` threads in this process for good
  (the engine calls it once in every worker and around a serial run);
- ``blas_limit(n)`` / ``single_blas_thread()`` limit BLAS around one fit for callers
  outside the engine, and cost nothing when the process is already pinned to ``n``.

``threadpoolctl``'s controller is built once (about 0.1 ms per use afterwards instead of
about 2 ms for ``threadpool_limits``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

#: Set to False to leave the BLAS thread count alone.
LIMIT_BLAS_THREADS = True
_controller = None
#: The thread count this process is pinned to (None: not pinned).
_pinned: int | None = None


def _get_controller():
    global _controller
    if _controller is None:
        import numpy  # noqa: F401 - load the BLAS libraries first, so the controller sees them
        import scipy.linalg  # noqa: F401
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def pinned() -> int | None:
    """The thread count this process is pinned to, or None."""
    return _pinned


@contextlib.contextmanager
def threads_pinned(n: int | None) -> Iterator[None]:
    """BLAS and OpenMP pools limited to ``n`` threads inside (restored afterwards);
    ``None`` or 0 leaves them as they are. Fits inside skip their own limits."""
    global _pinned
    if not n:
        yield
        return
    before = _pinned
    with _get_controller().limit(limits=int(n)):
        _pinned = int(n)
        try:
            yield
        finally:
            _pinned = before


def pin_threads(n: int | None) -> None:
    """Pin BLAS and OpenMP to ``n`` threads for the rest of this process (a worker);
    ``None`` or 0 leaves them. Idempotent."""
    global _pinned
    if not n or _pinned == int(n):
        return
    _get_controller().limit(limits=int(n))  # not used as a context: stays in force
    _pinned = int(n)


@contextlib.contextmanager
def blas_limit(n: int | None) -> Iterator[None]:
    """BLAS limited to ``n`` threads inside (``None``: unchanged); free when the process
    is already pinned to ``n``."""
    if n is None or not LIMIT_BLAS_THREADS or _pinned == int(n):
        yield
        return
    with _get_controller().limit(limits=int(n), user_api="blas"):
        yield


def single_blas_thread():
    """Context manager: BLAS limited to one thread inside, restored afterwards."""
    return blas_limit(1)
