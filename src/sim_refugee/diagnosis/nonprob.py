"""Sensitivity diagnostics for nonprobability samples, as pure functions (docs/NONPROB.md).

Three diagnostics a survey statistician would compute on a convenience sample, which a
simulation can check against the truth:

* ``data_defect``: Meng's data defect correlation rho_{R,Y} and the identity
  ``ybar_R - Ybar_N = rho_{R,Y} * D_O * sigma_Y`` (Meng 2018, "Statistical paradises and
  paradoxes in big data (I): law of large populations, big data paradox, and the 2016
  US presidential election", Annals of Applied Statistics 12(2):685-726, eq. (2.3)).
  It needs R and Y for the whole population: computable only in a simulation.
* ``smub``: the standardized measure of unadjusted bias SMUB(phi) of a sample mean
  (Little, West, Boonstra & Hu 2020, "Measures of the degree of departure from
  ignorable sample selection", J. Survey Statistics and Methodology 8(5):932-964),
  from the sample's Y and auxiliaries Z and the population means of Z.
* ``mubp``: the measure of unadjusted bias for a proportion MUBP(phi) of a binary Y
  (Andridge, West, Little, Boonstra & Alvarado-Leiton 2019, "Indices of non-ignorable
  selection bias for proportions estimated from non-probability samples", J. Royal
  Statistical Society C (Applied Statistics) 68(5):1465-1483), maximum-likelihood
  version with the two-step estimate of the biserial correlation, as the authors'
  reference implementation ``prop_mle`` of the R package ppmm does.

phi in [0, 1] is the sensitivity parameter of the proxy pattern-mixture model:
selection depends on (1 - phi) X* + phi Y, X* the proxy rescaled to Y's variance;
phi = 0 is ignorable (MAR given Z), phi = 1 selection on Y alone. The range
phi in [0, 1] is the sensitivity interval.

Written here rather than taken from a library: no Python package implements these
measures (the authors' code is R). The OLS is numpy's least squares, the biserial
correlation's one-dimensional maximisation scipy's bounded Brent method; the probit is a
short Newton-Raphson here (``probit_newton``, checked against statsmodels' Probit in the
tests), because statsmodels' model objects cost more than the fit on every replication.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_ndtr, ndtr, ndtri

#: phi values of the sensitivity analysis (Little et al. 2020 report 0, 0.5 and 1)
PHIS: tuple[float, ...] = (0.0, 0.5, 1.0)
#: bounds of the two-step biserial correlation search (as ppmm's prop_mle)
RHO_BOUNDS: tuple[float, float] = (-0.99, 0.99)
#: Newton steps of the probit proxy fit (R's glm default maxit is 25)
PROBIT_MAXITER = 25


# ---------------------------------------------------------------------------
# Meng's data defect correlation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DataDefect:
    """Meng's decomposition of the error of a sample mean (all population moments with
    divisor N).

    rho: rho_{R,Y}, the population correlation of R and Y (data quality);
    d_o: sd_J(R) / mean_J(R), the data quantity term (sqrt((1 - f) / f) for a 0/1 R);
    sigma: sd_J(Y), the problem difficulty; error: rho * d_o * sigma, which equals
    ybar_R - Ybar_N exactly; f: n / N with n = sum(R); n_eff: the size of a simple
    random sample without replacement whose mean has variance error**2 (Meng's
    effective sample size, here from this sample's rho**2 instead of its expectation).
    """

    rho: float
    d_o: float
    sigma: float
    error: float
    f: float
    n_eff: float


def effective_n(rho2: float | np.ndarray, d_o2: float | np.ndarray, n_pop: int
                ) -> float | np.ndarray:
    """Meng's effective sample size: the n_s of an SRS (without replacement) from N
    whose mean has variance (1 - f_s)/n_s S^2 = rho2 * d_o2 * sigma^2 (S^2 = N/(N-1)
    sigma^2). With D = 1 / (rho2 d_o2 (N - 1)): f_s = D / (1 + D), n_eff = N f_s; for
    n_eff << N this is Meng's f / (1 - f) / E[rho^2]. Under SRS E[rho^2] = 1/(N-1), so
    n_eff = n."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_d = np.asarray(rho2, dtype=float) * np.asarray(d_o2, dtype=float) * (n_pop - 1)
        out = n_pop / (1.0 + inv_d)  # N D / (1 + D) = N / (1 + 1/D)
    return float(out) if np.ndim(out) == 0 else out


def data_defect(r: np.ndarray, y: np.ndarray) -> DataDefect:
    """Meng (2018, eq. 2.3): ybar_R - Ybar_N = rho_{R,Y} * sqrt((1 - f)/f) * sigma_Y.

    ``r``: per person of the population (length N), how often their Y is recorded: 0/1
    inclusion, or a count when a person was interviewed twice (a duplicate interview);
    ybar_R = sum(r y) / sum(r) is then the mean over interview rows, and the identity
    holds with the data quantity term D_O = sd_J(R) / mean_J(R) (Meng's general form,
    sqrt((1 - f + CV_W^2) / f) for weights W = R among the recorded). ``y``: the
    population values (length N). Raises ValueError on mismatched lengths, negative r,
    or an r with no variation (nobody or everybody recorded once).
    """
    r = np.asarray(r, dtype=float)
    y = np.asarray(y, dtype=float)
    if r.shape != y.shape or r.ndim != 1:
        raise ValueError(f"r and y must be 1-d of the same length, got {r.shape} and {y.shape}")
    if (r < 0).any() or not np.isfinite(r).all() or not np.isfinite(y).all():
        raise ValueError("r must be finite and >= 0 and y finite")
    big_n = r.size
    mu_r = r.mean()
    rc = r - mu_r
    yc = y - y.mean()
    var_r = float(rc @ rc) / big_n
    var_y = float(yc @ yc) / big_n
    if var_r == 0 or mu_r == 0:
        raise ValueError("R has no variation (nobody or everybody recorded): rho undefined")
    sd_r, sd_y = np.sqrt(var_r), np.sqrt(var_y)
    cov = float(rc @ yc) / big_n
    rho = cov / (sd_r * sd_y) if sd_y > 0 else 0.0
    d_o = sd_r / mu_r
    return DataDefect(rho=rho, d_o=d_o, sigma=sd_y, error=rho * d_o * sd_y,
                      f=float(r.sum()) / big_n, n_eff=effective_n(rho * rho, d_o * d_o, big_n))


# ---------------------------------------------------------------------------
# the proxy pattern-mixture measures
# ---------------------------------------------------------------------------


def g_phi(phi: float | np.ndarray, rho: float) -> np.ndarray:
    """(phi + (1 - phi) rho) / (phi rho + (1 - phi)): the PPMM multiplier (Little et al.
    2020, eq. 9; Andridge et al. 2019). rho at phi = 0, 1 at phi = 0.5, 1/rho at
    phi = 1. NaN where the denominator is <= 0 (rho <= 0 at phi = 1): the measure is
    unbounded there."""
    phi = np.asarray(phi, dtype=float)
    den = phi * rho + (1.0 - phi)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, (phi + (1.0 - phi) * rho) / den, np.nan)


def _check_phi(phi: float | np.ndarray) -> np.ndarray:
    p = np.atleast_1d(np.asarray(phi, dtype=float))
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"phi must be in [0, 1], got {phi!r}")
    return p


def _design(z: np.ndarray, n_rows: int) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    if z.shape[0] != n_rows:
        raise ValueError(f"z has {z.shape[0]} rows, y has {n_rows}")
    if not np.isfinite(z).all():
        raise ValueError("z must be finite (use the answered cases only)")
    return z


def independent_columns(z: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Indices of the columns of z kept for a regression on [1, z]: in order, each column
    whose centered values are not (numerically) in the span of the kept ones: constant
    columns (e.g. a province absent from the sample) and exact collinearities are
    dropped, the later column of a collinear set going. Greedy Gram-Schmidt on the
    centered cross-product matrix: a column goes when its squared residual on the kept
    ones is below ``tol`` times its squared norm. A dropped auxiliary carries no
    information in the sample: its coefficient is 0 in the proxy, and the proxy's fitted
    values do not depend on which one goes.

    The residuals are the diagonal of the Schur complement of the kept columns, updated
    by one symmetric elimination step per kept column (k rank-one updates of a k x k
    matrix rather than a linear solve per column: the same decisions, far fewer calls)."""
    z = np.asarray(z, dtype=float)
    n, k = z.shape
    zc = z - z.mean(axis=0)
    g = zc.T @ zc
    scale = np.maximum(1.0, np.abs(z).max(axis=0, initial=0.0)) ** 2 * n
    s = g.copy()  # Schur complement of the kept columns (their rows/columns zeroed)
    keep: list[int] = []
    for j in range(k):
        if g[j, j] <= 1e-24 * scale[j]:  # constant in the sample
            continue
        d0 = s[j, j]
        if d0 > tol * g[j, j]:
            keep.append(j)
            col = s[:, j].copy()
            s -= np.outer(col, col / d0)
    return np.array(keep, dtype=np.int64)


@dataclass(frozen=True)
class Smub:
    """SMUB(phi) and MUB(phi) = SMUB(phi) * s_y for each phi.

    rho: corr(X, Y) in the sample (X the proxy, OLS fitted values of Y on Z);
    d: (xbar_s - Xbar_pop) / s_x, the standardized selection on the proxy;
    xbar_s, xbar_pop: proxy means in the sample and the population (benchmark);
    s_x, s_y: sample SDs (divisor n - 1, as ppmm's means_mle)."""

    phi: np.ndarray
    smub: np.ndarray
    mub: np.ndarray
    rho: float
    d: float
    xbar_s: float
    xbar_pop: float
    s_x: float
    s_y: float


def proxy_ols(y_s: np.ndarray, z_s: np.ndarray, *, cols: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS of y on [1, z] over the sample: (fitted values X, intercept-first coefficients
    of the kept columns, kept column indices of z)."""
    y = np.asarray(y_s, dtype=float)
    z = _design(z_s, y.size)
    cols = independent_columns(z) if cols is None else cols
    a = np.column_stack([np.ones(y.size), z[:, cols]])
    beta, *_ = np.linalg.lstsq(a, y, rcond=None)
    return a @ beta, beta, cols


def smub(y_s: np.ndarray, z_s: np.ndarray, zbar_pop: np.ndarray,
         phi: float | np.ndarray = PHIS, *, cols: np.ndarray | None = None) -> Smub:
    """SMUB(phi) = g(phi, rho) (xbar_s - Xbar_pop) / s_x (Little et al. 2020, eq. 10).

    X = the best proxy of Y: the fitted values of the OLS of Y on [1, Z] in the sample
    (an analyst's regression); Xbar_pop = [1, Zbar_pop] beta from the population means
    of Z (the auxiliary benchmark, e.g. a census); rho = corr(X, Y) in the sample;
    g(phi, rho) = (phi + (1 - phi) rho) / (phi rho + (1 - phi)). MUB(phi) = SMUB(phi) s_y
    is the bias of the sample mean in Y units that the model implies: MUB(0) is the
    sample mean minus the regression (MAR) estimate of the population mean, MUB(0.5) =
    (xbar_s - Xbar_pop) s_y / s_x, MUB(1) = MUB(0) / rho^2. ``y_s`` and ``z_s`` are the
    answered cases only (finite); ``zbar_pop`` has one mean per column of ``z_s``.
    """
    phis = _check_phi(phi)
    y = np.asarray(y_s, dtype=float)
    if y.ndim != 1 or y.size < 3 or not np.isfinite(y).all():
        raise ValueError("y_s must be a finite 1-d array of at least 3 answers")
    z = _design(z_s, y.size)
    zbar = np.atleast_1d(np.asarray(zbar_pop, dtype=float))
    if zbar.shape != (z.shape[1],):
        raise ValueError(f"zbar_pop must have {z.shape[1]} entries, got {zbar.shape}")
    x, beta, cols = proxy_ols(y, z, cols=cols)
    xbar_s = float(x.mean())
    xbar_pop = float(beta[0] + zbar[cols] @ beta[1:])
    s_x = float(np.std(x, ddof=1))
    s_y = float(np.std(y, ddof=1))
    nan = np.full(phis.shape, np.nan)
    if s_x == 0 or s_y == 0:  # no proxy (or no variation in Y): undefined
        return Smub(phis, nan, nan, np.nan, np.nan, xbar_s, xbar_pop, s_x, s_y)
    rho = float(np.corrcoef(x, y)[0, 1])
    d = (xbar_s - xbar_pop) / s_x
    sm = g_phi(phis, rho) * d
    return Smub(phis, sm, sm * s_y, rho, d, xbar_s, xbar_pop, s_x, s_y)


@dataclass(frozen=True)
class Mubp:
    """MUBP(phi) for a binary Y and the pieces of the normal PPMM on (X, U).

    rho: the two-step ML biserial correlation of X and U in the sample; ybar_s: the
    sample proportion; ybar_ns: the implied proportion among the non-selected;
    mu_y: the implied population proportion; pi: n / N; x moments of the probit proxy
    (divisor n in the sample, as ppmm's prop_mle); converged: the probit fit's flag
    (see ``probit_proxy``)."""

    phi: np.ndarray
    mubp: np.ndarray
    ybar_ns: np.ndarray
    mu_y: np.ndarray
    rho: float
    ybar_s: float
    pi: float
    xbar_s: float
    xbar_ns: float
    var_x_s: float
    var_x_ns: float
    converged: bool


def probit_newton(y: np.ndarray, a: np.ndarray, maxiter: int = PROBIT_MAXITER,
                  tol: float = 1e-8) -> tuple[np.ndarray, bool]:
    """Maximum likelihood probit of binary y on the design matrix a by Newton-Raphson
    with step halving, from beta = 0; converged when no coefficient moves by more than
    ``tol`` (statsmodels' Newton rule). Gradient sum lam_i a_i and information
    sum lam_i (lam_i + eta_i) a_i a_i', lam_i = q phi(q eta) / Phi(q eta), q = 2y - 1
    (the probit's, as statsmodels' Probit.score/hessian; the tests compare with it).
    Written here because statsmodels' model and results objects cost more than the fit
    itself on every replication's nine outcomes. Returns (beta, converged)."""
    q = 2.0 * y - 1.0

    def loglik(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        eta = a @ b
        lp = log_ndtr(q * eta)
        return float(lp.sum()), eta, lp

    beta = np.zeros(a.shape[1])
    llf, eta, lp = loglik(beta)
    for _ in range(maxiter):
        # the accepted step's predictor and log Phi(q eta) are reused, not recomputed
        lam = q * np.exp(-0.5 * eta**2 - 0.5 * np.log(2 * np.pi) - lp)
        info = (a * (lam * (lam + eta))[:, None]).T @ a
        step = np.linalg.solve(info, a.T @ lam)
        t = 1.0
        while True:  # step halving keeps every step uphill
            new = beta + t * step
            llf_new, eta_new, lp_new = loglik(new)
            if llf_new >= llf - 1e-12 * abs(llf) or t < 1e-6:
                break
            t *= 0.5
        beta, llf, eta, lp = new, llf_new, eta_new, lp_new
        if np.max(np.abs(t * step)) < tol:
            return beta, True
    return beta, False


def probit_proxy(y_s: np.ndarray, z_s: np.ndarray, *, cols: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Probit of binary y on [1, z] (``probit_newton``, at most ``PROBIT_MAXITER`` steps):
    (linear predictor X, intercept-first coefficients, kept column indices, converged).
    As R's glm (which ppmm's prop_mle uses), a fit that stops without converging is kept
    when its coefficients are finite: under quasi-separation (say a rare occupation
    whose sampled members all agree) one coefficient drifts upwards while the rest of the
    proxy is settled; ``converged`` reports it."""
    y = np.asarray(y_s, dtype=float)
    z = _design(z_s, y.size)
    cols = independent_columns(z) if cols is None else cols
    a = np.column_stack([np.ones(y.size), z[:, cols]])
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            beta, ok = probit_newton(y, a)
    except np.linalg.LinAlgError as exc:  # singular information matrix
        raise FloatingPointError(f"probit fit failed: {exc}") from None
    if not np.isfinite(beta).all():
        raise FloatingPointError("probit fit diverged")
    return a @ beta, beta, cols, ok


def biserial_two_step(y_s: np.ndarray, x_s: np.ndarray) -> float:
    """Two-step ML biserial correlation of binary y with the normal proxy x: the cut
    point is fixed at w = Phi^-1(1 - ybar), then rho maximises
    sum y log Phi(eta) + (1 - y) log Phi(-eta), eta = (-w + rho (x - xbar)/s_x) /
    sqrt(1 - rho^2), over ``RHO_BOUNDS`` (Olsson, Drasgow & Dorans 1982, Psychometrika
    47:337-347; as ppmm's prop_mle; s_x with divisor n)."""
    y = np.asarray(y_s, dtype=float)
    x = np.asarray(x_s, dtype=float)
    w = float(ndtri(1.0 - y.mean()))
    xs = (x - x.mean()) / np.sqrt(x.var())
    pos = y == 1
    x1, x0 = xs[pos], xs[~pos]  # split once: nll runs a few dozen times

    def nll(rho: float) -> float:
        s = np.sqrt(1.0 - rho * rho)
        return -float(log_ndtr((-w + rho * x1) / s).sum() + log_ndtr(-((-w + rho * x0) / s)).sum())

    res = minimize_scalar(nll, bounds=RHO_BOUNDS, method="bounded",
                          options={"xatol": 1e-10, "maxiter": 500})
    return float(res.x)


def nonselected_moments(zbar_pop: np.ndarray, zcov_pop: np.ndarray, n_pop: int,
                        z_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (divisor N - n) of Z among the N - n people not in the sample,
    from the population's (divisor N) by removing the sample's sums. Exact when the
    sample is n distinct people of the population; with duplicate interviews it
    removes n rows, an approximation of order n / N."""
    z = np.asarray(z_s, dtype=float)
    n = z.shape[0]
    m = n_pop - n
    if m <= 0:
        raise ValueError(f"the sample ({n}) must be smaller than the population ({n_pop})")
    zbar = np.asarray(zbar_pop, dtype=float)
    m2_pop = np.asarray(zcov_pop, dtype=float) + np.outer(zbar, zbar)
    mean_ns = (n_pop * zbar - z.sum(axis=0)) / m
    m2_ns = (n_pop * m2_pop - z.T @ z) / m
    return mean_ns, m2_ns - np.outer(mean_ns, mean_ns)


def mubp(y_s: np.ndarray, z_s: np.ndarray, zbar_pop: np.ndarray, zcov_pop: np.ndarray,
         n_pop: int, phi: float | np.ndarray = PHIS, *, cols: np.ndarray | None = None
         ) -> Mubp:
    """MUBP(phi) = ybar_s - mu_Y(phi) (Andridge et al. 2019, sec. 3; ML version).

    X = the linear predictor of the probit of Y on [1, Z] in the sample; U the latent
    normal with Y = 1{U > 0}, standardized in the sample to mean -w = Phi^-1(ybar_s) and
    variance 1; rho the two-step biserial correlation of (X, U) in the sample
    (``biserial_two_step``). The non-selected moments of X come from the benchmark:
    xbar_ns = [1, zbar_ns] beta, s_xx_ns = beta' Sigma_ns beta (``nonselected_moments``
    of the population means ``zbar_pop`` and covariance ``zcov_pop``, divisor N). With
    g = g(phi, rho):
        mu_U_ns = -w + g (xbar_ns - xbar_s) / s_x,
        s_UU_ns = 1 + g^2 (s_xx_ns - s_xx) / s_xx   (floored at machine epsilon),
        ybar_ns = Phi(mu_U_ns / sqrt(s_UU_ns)),  mu_Y = pi ybar_s + (1 - pi) ybar_ns,
    pi = n / N. NaN when the sample has only 0s or only 1s, or the probit fails.
    """
    phis = _check_phi(phi)
    y = np.asarray(y_s, dtype=float)
    if y.ndim != 1 or y.size < 3 or not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_s must be a 1-d array of at least 3 answers, each 0 or 1")
    z = _design(z_s, y.size)
    zbar = np.atleast_1d(np.asarray(zbar_pop, dtype=float))
    zcov = np.atleast_2d(np.asarray(zcov_pop, dtype=float))
    k = z.shape[1]
    if zbar.shape != (k,) or zcov.shape != (k, k):
        raise ValueError(f"zbar_pop must have {k} entries and zcov_pop be {k} x {k}")
    n = y.size
    ybar = float(y.mean())
    nan = np.full(phis.shape, np.nan)
    pi = n / n_pop

    def empty(conv: bool) -> Mubp:
        return Mubp(phis, nan, nan, nan, np.nan, ybar, pi, np.nan, np.nan, np.nan, np.nan, conv)

    if ybar in (0.0, 1.0):
        return empty(False)
    try:
        x, beta, cols, ok = probit_proxy(y, z, cols=cols)
    except FloatingPointError:
        return empty(False)
    var_x = float(x.var())  # divisor n
    if var_x <= 0:
        return empty(ok)
    mean_ns, cov_ns = nonselected_moments(zbar, zcov, n_pop, z)
    b = beta[1:]
    xbar_s = float(x.mean())
    xbar_ns = float(beta[0] + mean_ns[cols] @ b)
    var_x_ns = float(b @ cov_ns[np.ix_(cols, cols)] @ b)
    rho = biserial_two_step(y, x)
    g = g_phi(phis, rho)
    w = float(ndtri(1.0 - ybar))
    mu_u_ns = -w + g * (xbar_ns - xbar_s) / np.sqrt(var_x)
    var_u_ns = np.maximum(1.0 + g**2 * (var_x_ns - var_x) / var_x, np.finfo(float).eps)
    ybar_ns = ndtr(mu_u_ns / np.sqrt(var_u_ns))
    mu_y = pi * ybar + (1.0 - pi) * ybar_ns
    return Mubp(phis, ybar - mu_y, ybar_ns, mu_y, rho, ybar, pi, xbar_s, xbar_ns, var_x,
                var_x_ns, ok)
