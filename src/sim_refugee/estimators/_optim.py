"""A damped Newton maximiser for (near-)concave log-likelihoods.

Written by hand rather than taken from scipy because the ordered-probit start and the
probits are called thousands of times per simulation: with an analytic Hessian, a plain
Newton step with step-halving converges in a handful of iterations and avoids the
per-iteration overhead of ``scipy.optimize`` wrappers. The step itself (Cholesky and two
triangular solves of a p < 30 matrix) is compiled (``cholesky_step``). Non-concave problems (the SNP
model) use ``scipy.optimize.minimize(method="trust-exact")`` instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit


@njit(cache=True)
def cholesky_step(a: np.ndarray, grad: np.ndarray):
    """Newton step of a positive definite ``a``: ``(ok, step, decrement)`` with
    ``step = a^-1 grad`` and ``decrement = grad' a^-1 grad / 2`` via the Cholesky factor
    (``ok`` False, as LAPACK's potrf fails, on a pivot that is not positive or is NaN).
    Compiled: the matrices are tiny (p < 30) and numpy.linalg's per-call overhead was
    most of the cost of a Newton iteration."""
    p = a.shape[0]
    low = np.zeros((p, p))
    for j in range(p):
        d = a[j, j]
        for k in range(j):
            d -= low[j, k] * low[j, k]
        if not d > 0:
            return False, np.zeros(p), np.inf
        ljj = math.sqrt(d)
        low[j, j] = ljj
        for i in range(j + 1, p):
            v = a[i, j]
            for k in range(j):
                v -= low[i, k] * low[j, k]
            low[i, j] = v / ljj
    z = np.empty(p)
    for i in range(p):
        v = grad[i]
        for k in range(i):
            v -= low[i, k] * z[k]
        z[i] = v / low[i, i]
    step = np.empty(p)
    for i in range(p - 1, -1, -1):
        v = z[i]
        for k in range(i + 1, p):
            v -= low[k, i] * step[k]
        step[i] = v / low[i, i]
    dec = 0.0
    for i in range(p):
        dec += z[i] * z[i]
    return True, step, 0.5 * dec


@dataclass
class NewtonResult:
    x: np.ndarray
    llf: float
    grad: np.ndarray
    hess: np.ndarray
    converged: bool
    n_iter: int
    message: str


def newton_maximize(
    evaluate: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
    x0: np.ndarray,
    *,
    tol: float = 1e-10,
    maxiter: int = 100,
) -> NewtonResult:
    """Maximise ``llf`` given ``evaluate(x) -> (llf, grad, hess)``.

    Converged when the Newton decrement ``g' (-H)^-1 g / 2`` (the predicted gain in
    log-likelihood) falls below ``tol``. When ``-H`` is not positive definite a
    Levenberg shift is added; each step is halved until the log-likelihood improves.
    """
    x = np.asarray(x0, dtype=float).copy()
    llf, grad, hess = evaluate(x)
    if not np.isfinite(llf):
        return NewtonResult(x, llf, grad, hess, False, 0, "log-likelihood not finite at start")
    p = len(x)
    for it in range(1, maxiter + 1):
        a = np.ascontiguousarray(-hess)
        g = np.ascontiguousarray(grad, dtype=float)
        shift = 0.0
        for _ in range(30):
            ok, step, decrement = cholesky_step(a if shift == 0.0 else a + shift * np.eye(p), g)
            if ok:
                break
            shift = max(2 * shift, 1e-8 * max(1.0, float(np.abs(np.diag(a)).max())))
        else:
            return NewtonResult(x, llf, grad, hess, False, it, "could not regularise the Hessian")
        if decrement < tol:
            if shift == 0.0:
                return NewtonResult(x, llf, grad, hess, True, it - 1, "converged")
            evals = np.linalg.eigvalsh(0.5 * (a + a.T))
            if evals[0] >= -1e-9 * max(1.0, abs(evals[-1])):
                # a flat ridge (e.g. a regressor without variation): the maximum is
                # reached, the Hessian is singular; the caller reports that in status.
                return NewtonResult(x, llf, grad, hess, True, it - 1, "converged (singular Hessian)")
            return NewtonResult(x, llf, grad, hess, False, it - 1, "stationary point is not a maximum")
        s = 1.0
        while True:
            x_new = x + s * step
            llf_new, grad_new, hess_new = evaluate(x_new)
            if np.isfinite(llf_new) and llf_new >= llf - 1e-12 * abs(llf):
                break
            s *= 0.5
            if s < 1e-10:
                return NewtonResult(x, llf, grad, hess, False, it, "line search failed")
        x, llf, grad, hess = x_new, llf_new, grad_new, hess_new
    return NewtonResult(x, llf, grad, hess, False, maxiter, "iteration limit reached")
