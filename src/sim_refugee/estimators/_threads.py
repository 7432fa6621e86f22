"""Run the estimators' small dense linear algebra on one BLAS thread.

The matrices here are tiny (n x p with p < 30); OpenBLAS nevertheless starts threads for
some shapes, and on a busy machine (the simulation runs one worker per core) that made
an SNP fit 10-20 times slower in our measurements. Fits therefore limit BLAS to one
thread while they run. ``threadpoolctl``'s controller is built once (about 0.1 ms per
use afterwards instead of about 2 ms for ``threadpool_limits``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

#: Set to False to leave the BLAS thread count alone.
LIMIT_BLAS_THREADS = True
_controller = None


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Context manager: BLAS limited to one thread inside, restored afterwards."""
    global _controller
    if not LIMIT_BLAS_THREADS:
        yield
        return
    if _controller is None:
        import scipy.linalg  # noqa: F401 - load scipy's BLAS too, so the controller sees it
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
