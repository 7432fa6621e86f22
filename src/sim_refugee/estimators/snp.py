"""Semi-nonparametric (SNP) ordered probit in the normalisation of Stata's ``sneop``.

Model (../shared/design/ESTIMATORS.md section 1): ``y* = x'b + e`` without intercept,
``y = j`` when ``a_{j-1} <= y* < a_j``; the error density is ``P_K(u)^2 phi(u) / theta``
with ``P_K(u) = sum_k g_k u^k`` and ``g_0 = 1``. The first cut is fixed at the plain
ordered-probit estimate; free parameters are ``b``, ``a_2..a_{J-1}``, ``g_1..g_K``.
``order=0`` is the ordinary ordered probit (all cuts free).

Everything is evaluated on the (n x 2) matrix of ``t_hi, t_lo`` at once: the
polynomial pieces are products of the matrix of powers of ``t`` with constant
coefficient matrices, so one likelihood/score/Hessian call is a few dense numpy
products. The log-likelihood, score and Hessian are analytic (formulas in
ESTIMATORS.md; the Hessian's derivation is in :meth:`_SNPLoglike.evaluate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import ndtr

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import _data
from sim_refugee.estimators._optim import newton_maximize
from sim_refugee.estimators._snp_kernel import snp_evaluate
from sim_refugee.estimators._threads import single_blas_thread
from sim_refugee.estimators.covariance import check_psd, invert_neg_hessian, sandwich
from sim_refugee.estimators.probit import ProbitFit
from sim_refugee.estimators.results import EstimationResults, failed_results, worst_status

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

#: Default start of the SNP coefficients g_1..g_K: slightly off 0, because the
#: information matrix is singular at g = 0 (ESTIMATORS.md). Deterministic, no randomness.
DEFAULT_START_G = 0.01
# Alternative starts for the Hermite coefficients when fit(n_starts > 1): the SNP
# likelihood is multimodal (a single start near g = 0, as sneop does, stops at a lower
# local maximum in about half of n = 1,346 samples of the default world). Deterministic
# offsets of +-START_OFFSET on one coefficient at a time, the scale (g2) first.
START_OFFSET = 0.15


def alternative_starts(order: int) -> list[np.ndarray]:
    """The deterministic start vectors for g (the first is sneop's near-zero start)."""
    base = np.full(order, DEFAULT_START_G)
    starts = [base]
    for k in sorted(range(order), key=lambda j: (j != 1, j)):  # g2 (scale) first
        for sign in (-1.0, 1.0):
            g = base.copy()
            g[k] = sign * START_OFFSET
            starts.append(g)
    return starts
#: Convergence: the Newton decrement (lnL a further Newton step would gain) below this.
NEWTON_TOL = 1e-10


# ---------------------------------------------------------------------------------------
# closed-form pieces (public for tests and for the suite's estimands)
# ---------------------------------------------------------------------------------------
def normal_moments(m_max: int) -> np.ndarray:
    """Standard-normal raw moments ``mu_0..mu_{m_max}`` (mu_m = (m-1) mu_{m-2})."""
    return _normal_moments(int(m_max)).copy()


@lru_cache(maxsize=32)
def _normal_moments(m_max: int) -> np.ndarray:
    mu = np.zeros(m_max + 1)
    mu[0] = 1.0
    for m in range(2, m_max + 1):
        mu[m] = (m - 1) * mu[m - 2]
    return mu


def a_coefficients(m_max: int) -> np.ndarray:
    """Matrix R with ``A_m(t) = sum_j t^j R[j, m]`` for m = 0..m_max.

    ``A_0 = 0, A_1 = 1, A_m = t^{m-1} + (m-1) A_{m-2}``, so that
    ``int_{-inf}^t u^m phi(u) du = mu_m Phi(t) - A_m(t) phi(t)``.
    """
    r = np.zeros((m_max + 1, m_max + 1))
    for m in range(1, m_max + 1):
        r[m - 1, m] = 1.0
        if m >= 2:
            r[:, m] += (m - 1) * r[:, m - 2]
    return r


def _poly_pieces(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    gfull = np.concatenate([[1.0], np.asarray(g, dtype=float)])
    c = np.convolve(gfull, gfull)
    mu = _normal_moments(len(c) - 1)
    return gfull, c, float(c @ mu)


def snp_pdf(t, g) -> np.ndarray:
    """SNP error density ``P_K(t)^2 phi(t) / theta`` (``g`` = g_1..g_K)."""
    t = np.asarray(t, dtype=float)
    gfull, _, theta = _poly_pieces(g)
    fin = np.isfinite(t)
    tf = np.where(fin, t, 0.0)
    poly = np.polynomial.polynomial.polyval(tf, gfull)
    return np.where(fin, poly**2 * np.exp(-0.5 * tf**2) * _INV_SQRT_2PI / theta, 0.0)


def snp_cdf(t, g) -> np.ndarray:
    """Closed-form SNP CDF; upper-tail form for t > 0 to avoid cancellation."""
    t = np.asarray(t, dtype=float)
    _, c, theta = _poly_pieces(g)
    r = a_coefficients(len(c) - 1)
    fin = np.isfinite(t)
    tf = np.where(fin, t, 0.0)
    s = np.polynomial.polynomial.polyval(tf, r @ c)
    phi = np.where(fin, np.exp(-0.5 * tf**2) * _INV_SQRT_2PI, 0.0)
    lower = ndtr(t) - phi * s / theta
    upper = ndtr(-t) + phi * s / theta
    return np.where(t > 0, 1.0 - upper, lower)


def snp_dcdf_dg(t, g) -> np.ndarray:
    """``dF(t)/dg_k`` for k = 1..K (last axis), the closed form of ESTIMATORS.md."""
    t = np.asarray(t, dtype=float)
    gfull, c, theta = _poly_pieces(g)
    k_ord = len(gfull) - 1
    r = a_coefficients(2 * k_ord)
    mu = normal_moments(2 * k_ord)
    mg = _shift_matrix(gfull)
    fin = np.isfinite(t)
    tf = np.where(fin, t, 0.0)
    pw = tf[..., None] ** np.arange(2 * k_ord + 1)
    phi = np.where(fin, np.exp(-0.5 * tf**2) * _INV_SQRT_2PI, 0.0)
    s = pw @ (r @ c)
    inner = pw @ (r @ mg) - (s / theta)[..., None] * (mu @ mg)
    return -(2 * phi / theta)[..., None] * inner


def snp_moments(g) -> dict[str, float]:
    """Mean, variance, sd, skewness and kurtosis of the SNP error distribution."""
    _, c, theta = _poly_pieces(g)
    mu = _normal_moments(len(c) + 4).tolist()
    cl = c.tolist()
    raw = [float(sum(cl[m] * mu[m + r] for m in range(len(cl))) / theta) for r in range(5)]
    m1, m2, m3, m4 = raw[1:5]
    var = m2 - m1**2
    sd = math.sqrt(var) if var > 0 else float("nan")
    skew = (m3 - 3 * m1 * m2 + 2 * m1**3) / sd**3
    kurt = (m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4) / sd**4
    return {"mean": m1, "variance": var, "sd": sd, "skewness": skew, "kurtosis": kurt}


def _shift_matrix(gfull: np.ndarray) -> np.ndarray:
    """(2K+1) x K matrix with ``[k+l, k-1] = g_l``: column k gives sum_l g_l X_{k+l}."""
    k_ord = len(gfull) - 1
    mg = np.zeros((2 * k_ord + 1, k_ord))
    for k in range(1, k_ord + 1):
        mg[k : k + k_ord + 1, k - 1] = gfull
    return mg


# ---------------------------------------------------------------------------------------
# the likelihood
# ---------------------------------------------------------------------------------------
class _SNPLoglike:
    """Log-likelihood, per-observation score and Hessian of the SNP ordered probit.

    Parameter vector: ``b`` (M), free cuts (all J-1 when ``cut1`` is None, else
    a_2..a_{J-1}), ``g_1..g_K``. ``y`` holds category codes 0..J-1.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, n_cat: int, order: int, cut1: float | None):
        self.x = x
        self.y = y
        self.w = np.ones(len(y)) if w is None else w
        self.sw = float(self.w.sum())
        self.J = n_cat
        self.K = order
        self.M = x.shape[1]
        self.cut1 = cut1
        self.ncut = n_cat - 1 if cut1 is None else n_cat - 2
        self.p = self.M + self.ncut + order
        first_free = 0 if cut1 is None else 1
        self.unweighted = w is None
        if order > 0:
            self.r = a_coefficients(2 * order)
            self.mu = normal_moments(2 * order)
            kk = np.arange(1, order + 1)
            self.kj = kk[:, None] + kk[None, :]  # k + j for the gg block
        self._cache_key: bytes | None = None
        self._cache = None
        self._cache_hess = False
        self._cache_score = False
        # inputs of the compiled kernel (``_snp_kernel.snp_evaluate``)
        self._kx = np.ascontiguousarray(x, dtype=float)
        self._ky = np.ascontiguousarray(y, dtype=np.int64)
        self._kw = np.ascontiguousarray(self.w, dtype=float)
        self._kr = self.r if order > 0 else np.zeros((1, 1))
        self._kmu = self.mu if order > 0 else np.zeros(1)
        self._first_free = first_free

    def _index_arrays(self) -> None:
        """Row/column index arrays of the numpy formulation (built on first use: the
        compiled kernel does not need them)."""
        if hasattr(self, "onehot_hi"):
            return
        y, n, first_free = self.y, len(self.y), self._first_free
        self.rows = np.arange(n)
        hi_idx, lo_idx = y, y - 1  # index into the J-1 cuts of a_{y}, a_{y-1}
        self.hi_ok = (hi_idx <= self.J - 2) & (hi_idx >= first_free)
        self.lo_ok = (lo_idx >= first_free)
        hi_col = self.M + hi_idx - first_free
        lo_col = self.M + lo_idx - first_free
        self.rows_hi, self.hi_col_ok = self.rows[self.hi_ok], hi_col[self.hi_ok]
        self.rows_lo, self.lo_col_ok = self.rows[self.lo_ok], lo_col[self.lo_ok]
        # dt/d(free cuts) for t_hi and t_lo (dt/db = -x): constant in the parameters
        self.onehot_hi = np.zeros((n, self.ncut))
        self.onehot_hi[self.rows_hi, self.hi_col_ok - self.M] = 1.0
        self.onehot_lo = np.zeros((n, self.ncut))
        self.onehot_lo[self.rows_lo, self.lo_col_ok - self.M] = 1.0

    def split(self, params: np.ndarray):
        b = params[: self.M]
        cf = params[self.M : self.M + self.ncut]
        g = params[self.M + self.ncut :]
        cuts = cf if self.cut1 is None else np.concatenate([[self.cut1], cf])
        return b, cuts, g

    def _kernel(self, params: np.ndarray, hessian: bool, score: bool = False):
        """The compiled evaluation, cached on the parameter vector:
        ``(llf, score_obs, grad, hess)``; score_obs and hess are None unless asked for,
        and everything but llf is None where some probability is 0."""
        key = params.tobytes()
        if (self._cache_key == key and (self._cache_hess or not hessian)
                and (self._cache_score or not score)):
            return self._cache
        b, cuts, g = self.split(np.asarray(params, dtype=float))
        ok, llf, sc, grad, hess = snp_evaluate(
            self._kx, self._ky, self._kw, not self.unweighted, np.ascontiguousarray(cuts),
            np.ascontiguousarray(b), np.ascontiguousarray(g), self._kr, self._kmu,
            self._first_free, hessian, score)
        if not ok:
            out = (-np.inf, None, None, None)
            hessian = score = True  # nothing more to compute at this point
        else:
            out = (llf, sc if score else None, grad, hess if hessian else None)
        self._cache_key, self._cache = key, out
        self._cache_hess, self._cache_score = hessian, score
        return out

    def evaluate(self, params: np.ndarray, hessian: bool = True):
        """Return ``(llf, score_obs, hess)``; ``score_obs`` is unweighted, n x p.

        Computed by the compiled kernel (``_snp_kernel``); ``evaluate_numpy`` is the
        same in numpy, kept as the reference the tests compare the kernel with.
        """
        llf, score, _, hess = self._kernel(params, hessian, score=True)
        return llf, score, hess

    def evaluate_numpy(self, params: np.ndarray, hessian: bool = True):
        """Return ``(llf, score_obs, hess)``; ``score_obs`` is unweighted, n x p.

        ``t`` is held flat (first n entries t_hi, last n t_lo) and its powers as the
        rows of a (2K+1) x 2n matrix, so every polynomial is one small matrix product.
        Hessian of ln P_i with P = F(t_hi) - F(t_lo), t = a - x'b (linear in b, a):
        d2 P = sum_s sign_s [f'(t_s) z_s z_s' + z_s h_s' + h_s z_s' + D_gg(t_s)], with
        z_s = dt_s/d(b, a) (constant), h_s = df(t_s)/dg, D_gg = d2F/dg dg'; then
        d2 ln P = d2 P / P - dP dP' / P^2.
        """
        self._index_arrays()
        K, M, n = self.K, self.M, len(self.y)
        b, cuts, g = self.split(params)
        a_ext = np.concatenate([[-np.inf], cuts, [np.inf]])
        xb = self.x @ b
        t = np.concatenate([a_ext[self.y + 1] - xb, a_ext[self.y] - xb])
        fin = np.isfinite(t)
        tf = np.where(fin, t, 0.0)
        phi = np.where(fin, np.exp(-0.5 * tf * tf) * _INV_SQRT_2PI, 0.0)
        # one ndtr call: Phi(-|t|) is accurate in both tails; Phi(t) and Phi(-t) follow
        tail = ndtr(-np.abs(t))
        neg = t <= 0
        cdf_t = np.where(neg, tail, 1.0 - tail)
        cdf_mt = np.where(neg, 1.0 - tail, tail)
        if K == 0:
            low, up = cdf_t, cdf_mt
            f = phi
            fprime = -tf * phi
        else:
            gfull = np.concatenate([[1.0], g])
            c = np.convolve(gfull, gfull)
            theta = float(c @ self.mu)
            mg = _shift_matrix(gfull)
            pw = np.empty((2 * K + 1, 2 * n))
            pw[0] = 1.0
            for j in range(1, 2 * K + 1):
                np.multiply(pw[j - 1], tf, out=pw[j])
            rc = self.r @ c
            s = rc @ pw
            pk = gfull @ pw[: K + 1]
            pkd = (np.arange(1, K + 1) * g) @ pw[:K]
            f = pk * pk * phi / theta
            fprime = (2 * pk * pkd - tf * pk * pk) * phi / theta
            phis = phi * s / theta
            low = cdf_t - phis
            up = cdf_mt + phis
            theta_k = 2.0 * (self.mu @ mg)  # d theta / d g_k
            rmg2 = 2.0 * (self.r @ mg)
            s_k = rmg2.T @ pw  # K x 2n: d S / d g_k
            dk = -phi * (s_k / theta - np.outer(theta_k / theta**2, s))
        lo_h, lo_l = low[:n], low[n:]
        up_h, up_l = up[:n], up[n:]
        th, tl = t[:n], t[n:]
        prob = np.where(th <= 0, lo_h - lo_l, np.where(tl >= 0, up_l - up_h, 1.0 - lo_l - up_h))
        if not np.all(prob > 0):
            return -np.inf, None, None
        llf = float(self.w @ np.log(prob))
        inv = 1.0 / prob
        fh, fl = f[:n] * inv, f[n:] * inv
        score = np.zeros((n, self.p))
        score[:, :M] = self.x * (fl - fh)[:, None]
        score[self.rows_hi, self.hi_col_ok] = fh[self.hi_ok]
        score[self.rows_lo, self.lo_col_ok] = -fl[self.lo_ok]
        if K > 0:
            score[:, M + self.ncut :] = ((dk[:, :n] - dk[:, n:]) * inv).T
        hess = None
        if hessian:
            ws = inv if self.unweighted else self.w * inv
            wscore = score if self.unweighted else score * self.w[:, None]
            hess = -(wscore.T @ score)
            a2 = np.concatenate([ws, -ws])
            af = a2 * fprime
            # sum_s z_s z_s' a f'_s with z_s = (-x, onehot_s, 0), block by block
            bs, cs = slice(0, M), slice(M, M + self.ncut)
            af_h, af_l = af[:n], af[n:]
            hess[bs, bs] += self.x.T @ (self.x * (af_h + af_l)[:, None])
            bc = -(self.x.T @ (self.onehot_hi * af_h[:, None] + self.onehot_lo * af_l[:, None]))
            hess[bs, cs] += bc
            hess[cs, bs] += bc.T
            hess[cs, cs] += np.diag(
                np.bincount(self.hi_col_ok - M, af_h[self.hi_ok], self.ncut)
                + np.bincount(self.lo_col_ok - M, af_l[self.lo_ok], self.ncut)
            )
            if K > 0:
                gs = slice(M + self.ncut, None)
                hk = (2.0 / theta) * (phi * pk) * pw[1 : K + 1] - np.outer(theta_k / theta, f)  # K x 2n
                ah = hk * a2
                ah_h, ah_l = ah[:, :n].T, ah[:, n:].T
                cross_b = -(self.x.T @ (ah_h + ah_l))
                cross_c = self.onehot_hi.T @ ah_h + self.onehot_lo.T @ ah_l
                hess[bs, gs] += cross_b
                hess[gs, bs] += cross_b.T
                hess[cs, gs] += cross_c
                hess[gs, cs] += cross_c.T
                v = pw @ (a2 * phi)  # sum_i a phi t^j over both sides
                sum_a = v @ self.r  # sum_i a phi A_m
                sum_s = float(v @ rc)
                sum_sk = v @ rmg2
                gg = (
                    2.0 * sum_a[self.kj] / theta
                    - (np.outer(sum_sk, theta_k) + np.outer(theta_k, sum_sk)) / theta**2
                    - sum_s * 2.0 * self.mu[self.kj] / theta**2
                    + 2.0 * sum_s * np.outer(theta_k, theta_k) / theta**3
                )
                hess[gs, gs] -= gg
        return llf, score, hess

    # scipy-minimize adaptors on the mean negative log-likelihood
    def nll(self, params):
        llf = self._kernel(params, True)[0]
        return -llf / self.sw if np.isfinite(llf) else np.inf

    def nll_grad(self, params):
        return -self._kernel(params, True)[2] / self.sw

    def nll_hess(self, params):
        return -self._kernel(params, True)[3] / self.sw

    def newton_eval(self, params):
        llf, _, grad, hess = self._kernel(params, True)
        if grad is None:
            return llf, None, None
        return llf, grad, hess


# ---------------------------------------------------------------------------------------
# model and results
# ---------------------------------------------------------------------------------------
class SNPOrderedProbitResults(EstimationResults):
    """Results of :class:`SNPOrderedProbit`.

    Extra attributes: ``order``, ``cuts`` (all J-1 cuts, the first fixed when order > 0),
    ``moments`` (error mean/variance/sd/skewness/kurtosis), ``standardized_params``
    (slopes b/sd and cuts (a_j - m_1)/sd: the ordered-probit scale) with delta-method
    ``standardized_bse`` (cut 1, fixed, gets NaN), ``llf_oprobit``,
    ``levels`` (the outcome values in order), ``cut1_fixed``.
    """

    model_name = "SNP ordered probit"

    def lr_test(self) -> dict[str, float]:
        """LR test against the ordered probit; df = K - 2 as reported by sneop.

        The parameter count difference is K - 1 (cut 1 fixed, g_1..g_K free) but g_1
        and g_2 only mimic location and scale near g = 0, so sneop uses K - 2; the null
        sits where the information is singular, so the chi-square is approximate.
        """
        stat = 2.0 * (self.llf - self.llf_oprobit)
        df = self.order - 2
        pval = float(stats.chi2.sf(stat, df)) if df > 0 else float("nan")
        return {"statistic": float(stat), "df": float(df), "pvalue": pval}

    def marginal_effects(self, exog_row) -> pd.DataFrame:
        """dP(y=j)/dx_k at one exog row: -b_k [f(a_j - x'b) - f(a_{j-1} - x'b)]."""
        x = np.asarray(exog_row, dtype=float)
        b = self.params.iloc[: len(self.exog_names)].to_numpy()
        g = self.params.iloc[len(self.params) - self.order :].to_numpy() if self.order else np.zeros(0)
        a_ext = np.concatenate([[-np.inf], self.cuts.to_numpy(), [np.inf]])
        dens = np.nan_to_num(snp_pdf(a_ext - x @ b, g))
        diff = dens[1:] - dens[:-1]
        return pd.DataFrame(-np.outer(b, diff), index=self.exog_names, columns=self.levels)

    def _summary_header(self) -> list[str]:
        lines = super()._summary_header()
        mom = self.moments
        lines.append(
            f"Order K={self.order}  cut1 fixed at {self.cut1_fixed:.4f}  error mean {mom['mean']:.3f} "
            f"sd {mom['sd']:.3f} skew {mom['skewness']:.3f} kurt {mom['kurtosis']:.3f}  BIC {self.bic:.2f}"
            if self.order
            else f"Order K=0 (ordered probit)  BIC {self.bic:.2f}"
        )
        return lines


class SNPOrderedProbit:
    """SNP ordered probit (Stewart 2004, Stata ``sneop``); ``order=0`` is the ordered probit.

    ``endog``: ordered integer outcome (any increasing codes); ``exog``: DataFrame of
    regressors WITHOUT a constant. ``levels`` fixes the outcome categories (so the cut
    names are the same in every sample); a listed level absent from the data makes the
    fit ``'failed'`` (its cut is not identified) rather than silently renaming cuts. ``weights`` makes the fit a pseudo-likelihood;
    ``weights`` or ``groups`` make the default covariance the cluster sandwich.
    """

    def __init__(
        self, endog, exog, order: int = 3, weights=None, groups=None, missing: str = "drop", levels=None
    ):
        if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or order < 0:
            raise UserInputError(f"order must be a non-negative integer, got {order!r}", key="order")
        y = _data.as_series(endog, "endog", "y")
        x = _data.as_frame(exog, "exog")
        _data.reject_constant(x)
        cleaned = _data.clean({"endog": y}, {"exog": x}, weights, groups, missing)
        self.order = int(order)
        self.endog_name = y.name
        self.exog_names = list(x.names)
        yv = cleaned.series["endog"].values
        if np.any(yv != np.round(yv)):
            raise UserInputError("endog must hold integer category codes", key="endog")
        self.unobserved: list = []
        if levels is None:
            self.levels, codes = np.unique(yv, return_inverse=True)
        else:
            self.levels = np.asarray(levels, dtype=float)
            if self.levels.ndim != 1 or np.any(np.diff(self.levels) <= 0):
                raise UserInputError("levels must be increasing outcome values", key="levels")
            codes = np.searchsorted(self.levels, yv)
            codes = np.minimum(codes, len(self.levels) - 1)
            outside = self.levels[codes] != yv
            if outside.any():
                raise UserInputError(
                    f"endog {y.name!r} has values outside levels: {sorted({float(v) for v in yv[outside]})[:5]}",
                    key=y.name,
                )
            seen = np.bincount(codes, minlength=len(self.levels)) > 0
            self.unobserved = [float(v) for v in self.levels[~seen]]
        self.codes = codes.astype(np.intp)
        self.exog = cleaned.frames["exog"].values
        self.weights = cleaned.weights
        self.groups = cleaned.groups
        self.nobs = cleaned.nobs
        self.n_cat = len(self.levels)

    # -- names --------------------------------------------------------------------
    def param_names(self, order: int | None = None) -> list[str]:
        k = self.order if order is None else order
        first = 1 if k == 0 else 2
        cuts = [f"cut{j}" for j in range(first, max(self.n_cat, 2))]
        return self.exog_names + cuts + [f"g{j}" for j in range(1, k + 1)]

    def _cov_type(self, cov_type: str) -> str:
        if cov_type == "auto":
            if self.groups is not None:
                return "cluster"
            return "robust" if self.weights is not None else "nonrobust"
        if cov_type not in ("nonrobust", "robust", "cluster"):
            raise UserInputError(f"cov_type must be auto/nonrobust/robust/cluster, got {cov_type!r}", key="cov_type")
        if cov_type == "cluster" and self.groups is None:
            raise UserInputError("cov_type='cluster' needs groups", key="groups")
        return cov_type

    # -- fitting ------------------------------------------------------------------
    def fit(
        self,
        start_params=None,
        cov_type: str = "auto",
        maxiter: int = 200,
        gtol: float = 1e-8,
        start_g: float | np.ndarray = DEFAULT_START_G,
        oprobit=None,
        n_starts: int = 1,
    ) -> SNPOrderedProbitResults:
        """Fit by maximum (pseudo-)likelihood.

        The ordered probit (order 0) is fitted first by Newton; for order K > 0 its
        first cut is fixed and its solution (with ``g = start_g``) is the start unless
        ``start_params`` (free parameters in ``param_names()`` order) is given. The SNP
        problem is solved by damped Newton on the analytic score and Hessian (converged:
        Newton decrement < NEWTON_TOL with a negative definite Hessian); if that fails,
        ``scipy.optimize.minimize(method="trust-exact")`` takes over from where Newton
        stopped, with ``gtol`` on the mean negative log-likelihood scale. ``oprobit`` passes an already fitted (order-0) result on the same
        data to reuse (ignored, and refitted, if it failed or does not match).
        ``n_starts`` > 1 also starts from the first ``n_starts - 1`` of
        ``alternative_starts(order)[1:]`` and keeps the highest log-likelihood (converged
        fits first): the SNP likelihood is multimodal. Ignored with ``start_params``.
        """
        if n_starts < 1:
            raise UserInputError(f"n_starts must be >= 1, got {n_starts}", key="n_starts")
        cov_type = self._cov_type(cov_type)
        names = self.param_names()
        extra_fail = {
            "order": self.order, "exog_names": self.exog_names, "levels": self.levels,
            "llf_oprobit": float("nan"), "cut1_fixed": float("nan"),
            "moments": dict.fromkeys(("mean", "variance", "sd", "skewness", "kurtosis"), float("nan")),
            "standardized_params": pd.Series(dtype=float), "standardized_bse": pd.Series(dtype=float),
            "cuts": pd.Series(dtype=float),
        }
        if self.unobserved:
            return failed_results(
                SNPOrderedProbitResults, names, self.nobs,
                f"outcome level(s) {self.unobserved} not observed: their cuts are not identified",
                **extra_fail,
            )
        if self.n_cat < 2 or self.nobs == 0:
            return failed_results(
                SNPOrderedProbitResults, names, self.nobs,
                f"outcome has {self.n_cat} observed categor{'y' if self.n_cat == 1 else 'ies'}; need at least 2",
                **extra_fail,
            )
        try:
            with single_blas_thread():
                return self._fit(start_params, cov_type, maxiter, gtol, start_g, oprobit, n_starts)
        except UserInputError:  # bad input (a ValueError too) raises, as documented
            raise
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:  # numerical failure
            return failed_results(SNPOrderedProbitResults, names, self.nobs, f"{type(exc).__name__}: {exc}", **extra_fail)

    def _fit(self, start_params, cov_type, maxiter, gtol, start_g, oprobit, n_starts=1):
        usable = (
            oprobit is not None
            and getattr(oprobit, "status", "failed") != "failed"
            and len(getattr(oprobit, "_free_params", ())) == self.exog.shape[1] + self.n_cat - 1
        )
        op = None
        if usable and self.order > 0:
            op = OProbitStart(oprobit._free_params, oprobit.llf, oprobit.converged,
                              oprobit.status_message)
        fit = fit_snp_arrays(
            self.exog, self.codes, self.n_cat, self.order, self.weights, self.groups,
            cov_type=cov_type, start_params=start_params, maxiter=maxiter, gtol=gtol,
            start_g=start_g, oprobit=op, n_starts=n_starts,
        )
        names = self.param_names()
        if fit.score_failed:
            return failed_results(SNPOrderedProbitResults, names, self.nobs, "zero probability at the estimate")
        K = self.order
        cut_names = [f"cut{j}" for j in range(1, self.n_cat)]
        std_index = self.exog_names + cut_names
        return SNPOrderedProbitResults(
            pd.Series(fit.params, index=names), fit.cov, nobs=self.nobs, llf=fit.llf,
            converged=fit.converged, status=fit.status, status_message=fit.message,
            cov_type=cov_type, n_iter=fit.n_iter,
            extra={
                "order": K, "exog_names": self.exog_names, "levels": self.levels,
                "cuts": pd.Series(fit.cuts, index=cut_names), "moments": fit.moments,
                "standardized_params": pd.Series(fit.std_params, index=std_index),
                "standardized_bse": pd.Series(fit.std_bse, index=std_index),
                "llf_oprobit": float(fit.op_llf),
                "cut1_fixed": float(fit.cuts[0]) if K > 0 else float("nan"),
                "_free_params": fit.params.copy(), "_oprobit_params": fit.op_params.copy(),
            },
        )


@dataclass
class OProbitStart:
    """An ordered-probit (order 0) solution on the same data, to fix the first cut of an
    SNP fit and start it: free parameters (b, all J-1 cuts), lnL, convergence, message."""

    params: np.ndarray
    llf: float
    converged: bool
    message: str = ""


@dataclass
class SNPFit(ProbitFit):
    """An SNP ordered-probit fit as plain arrays (no pandas): what the suite needs.

    The array fit's fields (``ProbitFit``: params, cov, llf, status, ``bse``...) plus:
    ``params``: free parameters (b, free cuts, g); ``cuts``: all J-1 cuts;
    ``std_params``/``std_bse``: b / sd and (cuts - mean) / sd with delta-method SEs
    (NaN for the fixed cut 1); ``op``: the ordered-probit pre-fit (reusable as a start).
    """

    cuts: np.ndarray
    moments: dict
    std_params: np.ndarray
    std_bse: np.ndarray
    op_params: np.ndarray
    op_llf: float
    op: OProbitStart | None = None
    score_failed: bool = False


def fit_oprobit_arrays(exog: np.ndarray, codes: np.ndarray, n_cat: int,
                       weights: np.ndarray | None = None, start: np.ndarray | None = None):
    """Ordered probit by Newton (a concave problem: one optimum whatever the start).

    Default start: zero slopes and the cuts of the marginal proportions; ``start`` (b,
    all J-1 cuts), e.g. a related model's solution, only saves iterations.
    Returns (log-likelihood object, NewtonResult).
    """
    if start is None:
        w = np.ones(len(codes)) if weights is None else weights
        counts = np.bincount(codes, weights=w, minlength=n_cat)
        cum = np.clip(np.cumsum(counts)[:-1] / counts.sum(), 1e-6, 1 - 1e-6)
        start = np.concatenate([np.zeros(exog.shape[1]), stats.norm.ppf(cum)])
    ll = _SNPLoglike(exog, codes, weights, n_cat, 0, None)
    return ll, newton_maximize(ll.newton_eval, np.asarray(start, dtype=float))


def fit_snp_arrays(
    exog: np.ndarray, codes: np.ndarray, n_cat: int, order: int,
    weights: np.ndarray | None = None, groups: np.ndarray | None = None, *,
    cov_type: str = "nonrobust", start_params: np.ndarray | None = None, maxiter: int = 200,
    gtol: float = 1e-8, start_g: float | np.ndarray = DEFAULT_START_G,
    oprobit: OProbitStart | None = None, oprobit_start: np.ndarray | None = None,
    n_starts: int = 1,
) -> SNPFit:
    """The SNP fit of ``SNPOrderedProbit.fit`` on arrays (codes 0..n_cat-1, every level
    observed, rows complete): the shared core of the model class and the suite.

    ``oprobit``: a finished ordered-probit fit on the same data to reuse; else it is
    fitted here, from ``oprobit_start`` if given (the ordered probit is concave, so a
    start changes only the number of iterations). ``start_params`` starts the SNP
    problem itself (which is multimodal: the start can choose the optimum); default is
    sneop's (the ordered-probit solution with ``g = start_g``). ``cov_type``:
    'nonrobust', 'robust' or 'cluster' (with ``groups``). Numerical failure raises
    (LinAlgError, ValueError, FloatingPointError); the callers turn it into a status.
    """
    K, M = order, exog.shape[1]
    with np.errstate(all="ignore"):
        if oprobit is None or K == 0:
            ll0, res0 = fit_oprobit_arrays(exog, codes, n_cat, weights, oprobit_start)
            oprobit = OProbitStart(res0.x, res0.llf, res0.converged, res0.message)
            op_iter = res0.n_iter
        else:
            op_iter = 0
        op_params, op_llf, op_ok, op_msg = (oprobit.params, oprobit.llf, oprobit.converged,
                                            oprobit.message)
        if K == 0:
            ll, x_hat, llf, converged, message, n_iter = ll0, op_params, op_llf, op_ok, op_msg, op_iter
        else:
            cut1 = float(op_params[M])
            ll = _SNPLoglike(exog, codes, weights, n_cat, K, cut1)
            if start_params is None:
                g0 = np.broadcast_to(np.asarray(start_g, dtype=float), (K,))
                x0 = np.concatenate([op_params[:M], op_params[M + 1 :], g0])
            else:
                x0 = np.asarray(start_params, dtype=float)
                if x0.shape != (ll.p,):
                    raise UserInputError(f"start_params must have length {ll.p}", key="start_params")
            x_hat, converged, n_iter, message = _maximize_snp(ll, x0, maxiter, gtol)
            if start_params is None and n_starts > 1:
                best = (converged, ll._kernel(x_hat, False)[0])
                for g_alt in alternative_starts(K)[1:n_starts]:
                    x_alt = np.concatenate([op_params[:M], op_params[M + 1 :], g_alt])
                    cand = _maximize_snp(ll, x_alt, maxiter, gtol)
                    key = (cand[1], ll._kernel(cand[0], False)[0])
                    if np.isfinite(key[1]) and key > best:
                        best = key
                        x_hat, converged, n_iter, message = cand
            if not op_ok:
                converged = False
                message = f"ordered-probit start did not converge ({op_msg}); {message}"
            llf = ll._kernel(x_hat, True)[0]
        llf_fin, score, grad, hess = ll._kernel(x_hat, True, score=cov_type != "nonrobust")
    status = "ok" if converged else "not_converged"
    msg = "" if converged else message
    nan = np.full(0, np.nan)
    if grad is None:
        return SNPFit(x_hat, np.full((ll.p, ll.p), np.nan), llf, False, "failed",
                      "zero probability at the estimate", n_iter, nan, {}, nan, nan,
                      np.asarray(op_params), float(op_llf), oprobit, score_failed=True)
    if cov_type == "nonrobust":
        cov, cstat, cmsg = invert_neg_hessian(hess)
    else:
        wscore = score if weights is None else score * weights[:, None]
        cov, cstat, cmsg = sandwich(hess, wscore, groups if cov_type == "cluster" else None)
    if cstat != "ok":
        status = worst_status(status, cstat)
        msg = "; ".join(m for m in (msg, cmsg) if m)
    if status == "ok" and cov.size:
        psd, min_eig = check_psd(cov)
        if not psd:  # as EstimationResults does
            status = "non_psd_cov"
            msg = f"covariance not positive semi-definite (min eigenvalue {min_eig:.3g})"
    b, cuts, g = ll.split(x_hat)
    mom = snp_moments(g)
    std = np.concatenate([b / mom["sd"], (cuts - mom["mean"]) / mom["sd"]])
    std_cov = _standardized_cov(x_hat, cov, M, n_cat, K, cuts[0] if K > 0 else None)
    dvar = np.diag(std_cov)
    std_bse = np.sqrt(np.clip(dvar, 0, None))
    std_bse[~(dvar > 0)] = np.nan
    if K > 0:
        # cut 1 is fixed at the ordered-probit estimate, whose sampling variance the SNP
        # covariance does not carry: no honest SE for it, so none is reported
        std_bse[M] = np.nan
    return SNPFit(np.asarray(x_hat, dtype=float), cov, float(llf), bool(converged), status, msg,
                  int(n_iter), np.asarray(cuts, dtype=float), mom, std, std_bse,
                  np.asarray(op_params, dtype=float), float(op_llf), oprobit)


def _standardized_cov(params, cov, m, n_cat, order, cut1) -> np.ndarray:
    """Delta-method covariance of the standardized estimates (b / sd, (a - m_1) / sd).

    The Jacobian is analytic in b and the cuts; the derivatives of the error mean and sd
    with respect to g come from central differences of the closed-form moments (K small).
    """
    n_free = n_cat - 1 if order == 0 else n_cat - 2
    b = params[:m]
    cf = params[m : m + n_free]
    cuts = cf if order == 0 else np.concatenate([[cut1], cf])
    g = params[m + n_free :]
    mom = snp_moments(g)
    sd, mean = mom["sd"], mom["mean"]
    p = len(params)
    jac = np.zeros((m + n_cat - 1, p))
    jac[:m, :m] = np.eye(m) / sd
    first = 0 if order == 0 else 1  # the fixed first cut has no column of its own
    for j in range(n_free):
        jac[m + first + j, m + j] = 1.0 / sd
    if order > 0:
        h = 1e-6
        dsd, dmean = np.empty(order), np.empty(order)
        for k in range(order):
            e = np.zeros(order)
            e[k] = h
            up, down = snp_moments(g + e), snp_moments(g - e)
            dsd[k] = (up["sd"] - down["sd"]) / (2 * h)
            dmean[k] = (up["mean"] - down["mean"]) / (2 * h)
        gs = slice(m + n_free, p)
        jac[:m, gs] = -np.outer(b, dsd) / sd**2
        jac[m:, gs] = -(dmean[None, :] / sd) - np.outer(cuts - mean, dsd) / sd**2
    return jac @ cov @ jac.T


def _newton_decrement(ll: _SNPLoglike, x: np.ndarray) -> float:
    """Predicted gain ``g' (-H)^-1 g / 2`` in lnL; inf unless -H is positive definite."""
    llf, grad, hess = ll.newton_eval(x)
    if grad is None:
        return np.inf
    try:
        chol = np.linalg.cholesky(-hess)
    except np.linalg.LinAlgError:
        return np.inf
    z = np.linalg.solve(chol, grad)
    return 0.5 * float(z @ z)


def _maximize_snp(ll: _SNPLoglike, x0: np.ndarray, maxiter: int, gtol: float):
    """Damped Newton (fast: analytic Hessian), then trust-exact if Newton fails.

    Converged means: at the end point ``-H`` is positive definite and the Newton
    decrement (the lnL still to gain by a Newton step) is below ``NEWTON_TOL``.
    """
    nr = newton_maximize(ll.newton_eval, x0, tol=NEWTON_TOL, maxiter=maxiter)
    if nr.converged:
        return nr.x, True, nr.n_iter, ""
    if not np.isfinite(nr.llf):  # a zero probability at the start: nowhere to go from
        return nr.x, False, nr.n_iter, f"Newton: {nr.message}"
    opt = optimize.minimize(
        ll.nll, nr.x, jac=ll.nll_grad, hess=ll.nll_hess, method="trust-exact",
        options={"gtol": gtol, "maxiter": maxiter},
    )
    n_iter = nr.n_iter + int(opt.nit)
    if opt.success or _newton_decrement(ll, opt.x) < 10 * NEWTON_TOL:
        return opt.x, True, n_iter, ""
    return opt.x, False, n_iter, f"Newton: {nr.message}; trust-exact: {opt.message}"


def select_snp_order(
    endog, exog, max_order: int = 4, criterion: str = "bic", weights=None, groups=None, missing: str = "drop",
    min_order: int = 0,
) -> dict:
    """Fit K = 0..max_order, each warm-started from K-1, and pick K by BIC, AIC or LR.

    Warm start: the order-(K-1) solution with ``g_K = 0.01``; if that ends below the
    order-(K-1) log-likelihood, it is refitted from ``g_K = 0`` exactly (same likelihood
    as order K-1), so lnL never decreases in K. ``criterion="lr"`` picks the largest K
    whose LR test against order K-1 (1 df) is significant at 5%.
    Returns ``{"order": K, "table": DataFrame(order, llf, df_model, aic, bic, status), "fits": {K: results}}``.
    """
    if criterion not in ("bic", "aic", "lr"):
        raise UserInputError(f"criterion must be 'bic', 'aic' or 'lr', got {criterion!r}", key="criterion")
    if not isinstance(max_order, (int, np.integer)) or max_order < 0:
        raise UserInputError(f"max_order must be a non-negative integer, got {max_order!r}", key="max_order")
    fits: dict[int, SNPOrderedProbitResults] = {}
    base = SNPOrderedProbit(endog, exog, order=0, weights=weights, groups=groups, missing=missing)
    fits[0] = base.fit()
    prev = fits[0]
    for k in range(1, max_order + 1):
        model = SNPOrderedProbit(endog, exog, order=k, weights=weights, groups=groups, missing=missing)
        if prev.status == "failed":
            fits[k] = model.fit(oprobit=fits[0])
        else:
            p = prev._free_params
            if k == 1:  # drop the (now fixed) first cut of the ordered probit
                m = len(model.exog_names)
                p = np.concatenate([p[:m], p[m + 1 :]])
            res = model.fit(start_params=np.concatenate([p, [DEFAULT_START_G]]), oprobit=fits[0])
            if not (res.llf >= prev.llf - 1e-9):
                res0 = model.fit(start_params=np.concatenate([p, [0.0]]), oprobit=fits[0])
                if res0.llf > res.llf or not np.isfinite(res.llf):
                    res = res0
            fits[k] = res
        prev = fits[k]
    rows = [
        {"order": k, "llf": r.llf, "df_model": r.df_model, "aic": r.aic, "bic": r.bic, "status": r.status}
        for k, r in fits.items()
    ]
    table = pd.DataFrame(rows)
    ok = table[table["order"] >= min_order]
    if criterion in ("bic", "aic"):
        chosen = int(ok.loc[ok[criterion].idxmin(), "order"])
    else:
        chosen = int(ok["order"].iloc[0])
        crit = stats.chi2.ppf(0.95, 1)
        for k in range(max(min_order, 1), max_order + 1):
            if 2 * (fits[k].llf - fits[k - 1].llf) > crit:
                chosen = k
    return {"order": chosen, "table": table, "fits": fits}
