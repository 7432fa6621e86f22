"""Binary probit: statsmodels when unweighted and unclustered, pseudo-likelihood otherwise.

statsmodels' ``Probit`` takes no survey weights, so weighted (or clustered) fits use our
own pseudo-likelihood ``sum_i w_i ln Phi(q_i x_i'b)`` (q = 2y - 1), maximised by Newton
with the analytic Hessian, and the cluster sandwich of :mod:`.covariance`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import log_ndtr

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import _data
from sim_refugee.estimators._optim import newton_maximize
from sim_refugee.estimators._threads import single_blas_thread
from sim_refugee.estimators.covariance import check_psd, invert_neg_hessian, sandwich
from sim_refugee.estimators.results import EstimationResults, failed_results, worst_status

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)
SEPARATION = "perfect separation: the MLE does not exist"


class ProbitResults(EstimationResults):
    """Results of :class:`Probit` (``llnull``: log-likelihood of the constant-only model)."""

    model_name = "Probit"


def probit_loglike(params: np.ndarray, y: np.ndarray, x: np.ndarray, w: np.ndarray | None = None):
    """``(llf, score_obs, hess)`` of the (weighted) probit; ``score_obs`` unweighted, n x k."""
    q = 2.0 * y - 1.0
    xb = x @ params
    z = q * xb
    logcdf = log_ndtr(z)
    lam = q * np.exp(-0.5 * z * z - _LOG_SQRT_2PI - logcdf)  # q phi(z) / Phi(z)
    ww = np.ones(len(y)) if w is None else w
    llf = float(ww @ logcdf)
    score = x * lam[:, None]
    hess = -(x * (ww * lam * (lam + xb))[:, None]).T @ x
    return llf, score, hess


def fit_probit_arrays(y: np.ndarray, x: np.ndarray, w: np.ndarray | None = None, start=None):
    """Newton fit of the (weighted) probit on arrays; returns the NewtonResult and score_obs."""
    from sim_refugee.estimators._snp_kernel import probit_evaluate

    ww = None if w is None else w
    yk = np.ascontiguousarray(y, dtype=float)
    xk = np.ascontiguousarray(x, dtype=float)
    wk = np.ones(len(yk)) if w is None else np.ascontiguousarray(w, dtype=float)

    def evaluate(b):  # compiled (``_snp_kernel.probit_evaluate``): same formulas
        return probit_evaluate(yk, xk, wk, ww is not None, np.ascontiguousarray(b, dtype=float))

    x0 = np.zeros(x.shape[1]) if start is None else np.asarray(start, dtype=float)
    with np.errstate(all="ignore"):
        res = newton_maximize(evaluate, x0, tol=1e-12)
        score = probit_loglike(res.x, y, x, ww)[1]
    return res, score


def _separation(y: np.ndarray, x: np.ndarray, b: np.ndarray) -> bool:
    """Perfect or quasi-perfect prediction at the estimate (the MLE does not exist)."""
    p = np.exp(log_ndtr((2 * y - 1) * (x @ b)))
    return bool(np.all(p > 1 - 1e-8))


def probit_verdict(res, y: np.ndarray, x: np.ndarray) -> tuple[bool, str]:
    """Whether a Newton probit fit (``fit_probit_arrays``) is a usable MLE, and if not why:
    separation (checked after convergence too: the MLE does not exist), else Newton's
    message. The one rule of every probit fitted on arrays (this module, the 2SPLS)."""
    if _separation(y, x, res.x):
        return False, SEPARATION
    return (True, "") if res.converged else (False, res.message)


def _llnull(y: np.ndarray, w: np.ndarray | None) -> float:
    """Log-likelihood of the constant-only model (closed form: the weighted share)."""
    w = np.ones(len(y)) if w is None else w
    pbar = float(w @ y / w.sum())
    return float(w @ (y * np.log(pbar) + (1 - y) * np.log1p(-pbar)))


class Probit:
    """Probit of a 0/1 ``endog`` on ``exog`` (exog WITH the caller's ``const`` column).

    Unweighted and ungrouped fits delegate to ``statsmodels`` ``Probit`` (Newton);
    with ``weights`` or ``groups`` the pseudo-likelihood is maximised here and the
    covariance is the sandwich A^-1 B A^-1 with factor G/(G-1) (each observation its
    own cluster when only weights are given).
    """

    def __init__(self, endog, exog, weights=None, groups=None, missing: str = "drop"):
        y = _data.as_series(endog, "endog", "y")
        x = _data.as_frame(exog, "exog")
        if not x.names:
            raise UserInputError("exog of a probit has no columns (pass at least the constant)", key="exog")
        cleaned = _data.clean({"endog": y}, {"exog": x}, weights, groups, missing)
        self.endog_name = y.name
        self.exog_names = x.names
        self.endog = cleaned.series["endog"].values
        if not np.all(np.isin(self.endog, (0.0, 1.0))):
            raise UserInputError(f"endog {y.name!r} of a probit must be 0/1", key=y.name)
        self.exog = cleaned.frames["exog"].values
        self.weights = cleaned.weights
        self.groups = cleaned.groups
        self.nobs = cleaned.nobs

    def fit(self, cov_type: str = "auto") -> ProbitResults:
        """Fit; ``cov_type`` 'auto' (nonrobust unless weights/groups), 'nonrobust', 'robust', 'cluster'."""
        if cov_type == "auto":
            cov_type = "cluster" if self.groups is not None else ("robust" if self.weights is not None else "nonrobust")
        if cov_type not in ("nonrobust", "robust", "cluster"):
            raise UserInputError(f"cov_type must be auto/nonrobust/robust/cluster, got {cov_type!r}", key="cov_type")
        if cov_type == "cluster" and self.groups is None:
            raise UserInputError("cov_type='cluster' needs groups", key="groups")
        names = self.exog_names
        if self.nobs == 0 or len(np.unique(self.endog)) < 2:
            return failed_results(ProbitResults, names, self.nobs, "endog has fewer than two distinct values")
        with single_blas_thread():
            if self.weights is None and self.groups is None and cov_type == "nonrobust":
                return self._fit_statsmodels()
            return self._fit_own(cov_type)

    def _fit_statsmodels(self) -> ProbitResults:
        import statsmodels.api as sm
        from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

        names = self.exog_names
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                sm_res = sm.Probit(self.endog, self.exog).fit(method="newton", disp=0, maxiter=100)
            except np.linalg.LinAlgError as exc:
                return self._singular(f"statsmodels Newton: {exc}")
            except ValueError as exc:
                return failed_results(ProbitResults, names, self.nobs, f"{type(exc).__name__}: {exc}")
        params = pd.Series(np.asarray(sm_res.params), index=names)
        converged = bool(sm_res.mle_retvals.get("converged", False))
        status, msg = ("ok", "") if converged else ("not_converged", "statsmodels Newton did not converge")
        if any(issubclass(w.category, PerfectSeparationWarning) for w in caught) or _separation(
            self.endog, self.exog, params.to_numpy()
        ):
            status, msg, converged = "not_converged", SEPARATION, False
        with np.errstate(all="ignore"):
            hess = sm_res.model.hessian(params.to_numpy())
        cov, cstat, cmsg = invert_neg_hessian(hess)
        if cstat != "ok":
            status, msg = worst_status(status, cstat), "; ".join(m for m in (msg, cmsg) if m)
        return ProbitResults(
            params, cov, nobs=self.nobs, llf=float(sm_res.llf), converged=converged, status=status,
            status_message=msg, cov_type="nonrobust", n_iter=int(sm_res.mle_retvals.get("iterations", -1)),
            extra={"llnull": _llnull(self.endog, None), "backend": "statsmodels"},
        )

    def _singular(self, message: str) -> ProbitResults:
        """Result for a singular information matrix: our Newton's ridge point, NaN SEs."""
        res, _ = fit_probit_arrays(self.endog, self.exog, self.weights)
        p = len(self.exog_names)
        return ProbitResults(
            pd.Series(res.x, index=self.exog_names), np.full((p, p), np.nan), nobs=self.nobs, llf=res.llf,
            converged=res.converged, status="singular_hessian", status_message=message, cov_type="nonrobust",
            n_iter=res.n_iter, extra={"llnull": _llnull(self.endog, self.weights), "backend": "sim_refugee"},
        )

    def _fit_own(self, cov_type: str) -> ProbitResults:
        fit = fit_probit_model(self.endog, self.exog, self.weights, self.groups, cov_type)
        return ProbitResults(
            pd.Series(fit.params, index=self.exog_names), fit.cov, nobs=self.nobs, llf=fit.llf,
            converged=fit.converged, status=fit.status, status_message=fit.message,
            cov_type=cov_type, n_iter=fit.n_iter,
            extra={"llnull": _llnull(self.endog, self.weights), "backend": "sim_refugee"},
        )


@dataclass
class ProbitFit:
    """A probit fit as plain arrays (no pandas): estimates, covariance, lnL, status."""

    params: np.ndarray
    cov: np.ndarray
    llf: float
    converged: bool
    status: str
    message: str
    n_iter: int

    @property
    def bse(self) -> np.ndarray:
        """Standard errors (NaN where the variance is not positive)."""
        d = np.diag(self.cov)
        with np.errstate(invalid="ignore"):
            return np.where(d > 0, np.sqrt(np.where(d > 0, d, 0.0)), np.nan)


def fit_probit_model(y: np.ndarray, x: np.ndarray, w: np.ndarray | None = None,
                     groups: np.ndarray | None = None, cov_type: str = "nonrobust") -> ProbitFit:
    """Probit by our Newton on arrays (x with its constant column), with the status
    rules of :class:`Probit` (separation -> not_converged; singular or non-PSD
    covariance flagged) and the covariance ``cov_type`` ('nonrobust', 'robust',
    'cluster'). The suite's fitting path: no pandas, no statsmodels (whose Newton
    reaches the same MLE; tests/estimators/test_probit.py compares them)."""
    if len(y) == 0 or len(np.unique(y)) < 2:
        k = x.shape[1]
        return ProbitFit(np.full(k, np.nan), np.full((k, k), np.nan), float("nan"), False,
                         "failed", "endog has fewer than two distinct values", 0)
    res, score = fit_probit_arrays(y, x, w)
    converged, why = probit_verdict(res, y, x)
    status, msg = ("ok", "") if converged else ("not_converged", why)
    if cov_type == "nonrobust":
        cov, cstat, cmsg = invert_neg_hessian(res.hess)
    else:
        wscore = score if w is None else score * w[:, None]
        cov, cstat, cmsg = sandwich(res.hess, wscore, groups if cov_type == "cluster" else None)
    if cstat != "ok":
        status, msg = worst_status(status, cstat), "; ".join(m for m in (msg, cmsg) if m)
    if status == "ok" and cov.size:
        psd, min_eig = check_psd(cov)
        if not psd:  # as EstimationResults does
            status = "non_psd_cov"
            msg = f"covariance not positive semi-definite (min eigenvalue {min_eig:.3g})"
    return ProbitFit(res.x, cov, float(res.llf), bool(converged), status, msg, int(res.n_iter))
