"""A damped Newton maximiser for (near-)concave log-likelihoods.

Written by hand rather than taken from scipy because the ordered-probit start and the
probits are called thousands of times per simulation: with an analytic Hessian, a plain
Newton step with step-halving converges in a handful of iterations and avoids the
per-iteration overhead of ``scipy.optimize`` wrappers. Non-concave problems (the SNP
model) use ``scipy.optimize.minimize(method="trust-exact")`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


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
        a = -hess
        shift = 0.0
        for _ in range(30):
            try:
                chol = np.linalg.cholesky(a if shift == 0.0 else a + shift * np.eye(p))
                break
            except np.linalg.LinAlgError:
                shift = max(2 * shift, 1e-8 * max(1.0, float(np.abs(np.diag(a)).max())))
        else:
            return NewtonResult(x, llf, grad, hess, False, it, "could not regularise the Hessian")
        z = np.linalg.solve(chol, grad)
        step = np.linalg.solve(chol.T, z)
        decrement = 0.5 * float(z @ z)
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
