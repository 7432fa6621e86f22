"""A convenience sample plus a probability reference sample: inverse-probability weighting
with estimated propensities and the doubly robust estimator of Chen, Li & Wu (2020),
"Doubly Robust Inference With Nonprobability Survey Samples", JASA 115(532), 2011-2021.

Setting: sample A (convenience) has the outcome y and covariates x; sample B (probability
sample, design weights d) has x only. The propensity of being in A is modelled as
pi(x) = expit(x' theta) and theta is estimated from the pseudo log-likelihood (CLW
eq. 3) l(theta) = sum_A x' theta - sum_B d log(1 + exp(x' theta)), whose score
sum_A x - sum_B d pi(x) x = 0 replaces the population sum of the census log-likelihood by
its Horvitz-Thompson estimate from B.

* IPW (CLW's mu_IPW2, Hajek form): sum_A y / pi / sum_A 1 / pi.
* DR (CLW's mu_DR2): (1 / N_A) sum_A (y - m(x)) / pi + (1 / N_B) sum_B d m(x), with
  N_A = sum_A 1/pi, N_B = sum_B d and m(x) the outcome regression fitted on A (linear, or
  logistic for a 0/1 outcome). Consistent if either the propensity model or the outcome
  model is right.

Own code, not a library's: no well-kept Python package implements the CLW pseudo-
likelihood (R's ``nonprobsvy`` does); the maximisation uses scipy's trust-region Newton
(the pseudo log-likelihood is concave), the logistic outcome model Newton-Raphson on the
normal equations (``_logistic_beta``; statsmodels' GLM gave the same coefficients but
was most of the time of a bootstrap). Standard
errors: ``bootstrap`` resamples A and B independently with replacement (B as a simple
random sample: a conservative stand-in for its design; CLW's Section 4 gives analytic
variances, not implemented here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize
from scipy.special import expit

Outcome = Literal["linear", "logistic"]


@dataclass(frozen=True)
class CLWFit:
    """IPW and DR estimates of the population mean of y, the propensity coefficients,
    and bootstrap SEs (NaN without a bootstrap)."""

    ipw: float
    dr: float
    theta: np.ndarray
    converged: bool
    se_ipw: float = math.nan
    se_dr: float = math.nan


def _design(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, float)
    x = x[:, None] if x.ndim == 1 else x
    return np.column_stack([np.ones(len(x)), x])


def clw_propensity(xa: np.ndarray, xb: np.ndarray, db: np.ndarray) -> tuple[np.ndarray, bool]:
    """theta maximising the CLW pseudo log-likelihood (x gets an intercept here)."""
    XA, XB, d = _design(xa), _design(xb), np.asarray(db, float)
    scale = float(d.sum())  # per head of the estimated population: a size-free tolerance
    sa = XA.sum(axis=0) / scale
    d = d / scale

    def neg(theta: np.ndarray) -> float:
        return float(-(sa @ theta) + d @ np.logaddexp(0.0, XB @ theta))

    def grad(theta: np.ndarray) -> np.ndarray:
        return -sa + XB.T @ (d * expit(XB @ theta))

    def hess(theta: np.ndarray) -> np.ndarray:
        p = expit(XB @ theta)
        return (XB * (d * p * (1 - p))[:, None]).T @ XB

    start = np.zeros(XA.shape[1])
    start[0] = math.log(len(XA) / max(scale - len(XA), 1.0))
    res = optimize.minimize(neg, start, jac=grad, hess=hess, method="trust-exact",
                            options={"gtol": 1e-8, "maxiter": 50})
    return np.asarray(res.x, float), bool(res.success)


def _least_squares(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """(Weighted) least squares by the normal equations (lstsq if they are singular)."""
    Xw = X if w is None else X * w[:, None]
    try:
        return np.linalg.solve(Xw.T @ X, Xw.T @ y)
    except np.linalg.LinAlgError:
        sw = np.ones(len(y)) if w is None else np.sqrt(w)
        return np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]


def _logistic_beta(X: np.ndarray, y: np.ndarray, max_iter: int = 50) -> np.ndarray:
    """Logistic regression coefficients by Newton-Raphson (IRLS) on the normal equations:
    the log-likelihood is concave, so Newton converges from zero unless the data are
    separated (then the iterations stop at max_iter with large coefficients, which
    still predict the separated 0/1 values)."""
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        p = expit(X @ beta)
        w = np.maximum(p * (1 - p), 1e-10)
        step = _least_squares(X, (y - p) / w, w)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-9 * (1 + np.max(np.abs(beta))):
            break
    return beta


def _outcome_fit(xa: np.ndarray, ya: np.ndarray, kind: Outcome):
    XA = _design(xa)
    if kind == "linear":
        beta = _least_squares(XA, ya)
        return lambda x: _design(x) @ beta
    beta = _logistic_beta(XA, ya)
    return lambda x: expit(_design(x) @ beta)


def _point(xa, ya, xb, db, oa, ob, kind) -> tuple[float, float, np.ndarray, bool]:
    theta, ok = clw_propensity(xa, xb, db)
    pi = expit(_design(xa) @ theta)
    m = _outcome_fit(oa, ya, kind)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = 1.0 / pi  # pi underflows to 0 only in a diverged fit: NaN estimates
        ipw = float(w @ ya / w.sum())
        dr = float(w @ (ya - m(oa)) / w.sum() + db @ m(ob) / db.sum())
    return ipw, dr, theta, ok and math.isfinite(ipw) and math.isfinite(dr)


def clw_estimate(xa: np.ndarray, ya: np.ndarray, xb: np.ndarray, db: np.ndarray, *,
                 outcome_xa: np.ndarray | None = None, outcome_xb: np.ndarray | None = None,
                 outcome: Outcome = "linear", n_boot: int = 0,
                 rng: np.random.Generator | None = None) -> CLWFit:
    """IPW and DR means from convenience sample A (xa, ya) and reference sample B (xb,
    design weights db). The propensity model uses x; the outcome model ``outcome_x``
    (default: x too). ``n_boot`` > 0 adds bootstrap SEs (needs ``rng``), unless the
    propensity fit did not converge (separation, too small a sample: SEs NaN)."""
    xa, xb = np.asarray(xa, float), np.asarray(xb, float)
    ya, db = np.asarray(ya, float), np.asarray(db, float)
    oa = xa if outcome_xa is None else np.asarray(outcome_xa, float)
    ob = xb if outcome_xb is None else np.asarray(outcome_xb, float)
    if len(xa) != len(ya) or len(xb) != len(db) or len(oa) != len(xa) or len(ob) != len(xb):
        raise ValueError("sample A's x, y (and outcome x), and sample B's x, d (and outcome "
                         "x) must have matching lengths")
    if not (np.all(np.isfinite(ya)) and np.all(db > 0)):
        raise ValueError("y must be finite and the design weights positive")
    ipw, dr, theta, ok = _point(xa, ya, xb, db, oa, ob, outcome)
    se_i = se_d = math.nan
    if n_boot > 0 and ok:  # no SEs around a fit that did not converge
        if rng is None:
            raise ValueError("a bootstrap needs rng")
        reps = np.empty((n_boot, 2))
        for b in range(n_boot):
            ia = rng.integers(0, len(xa), len(xa))
            ib = rng.integers(0, len(xb), len(xb))
            reps[b] = _point(xa[ia], ya[ia], xb[ib], db[ib], oa[ia], ob[ib], outcome)[:2]
        se_i, se_d = (float(s) for s in reps.std(axis=0, ddof=1))
    return CLWFit(ipw, dr, theta, ok, se_i, se_d)
