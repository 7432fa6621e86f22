"""Compiled (numba) log-likelihood, score and Hessian of the SNP ordered probit.

Why a hand-written kernel: one suite run evaluates this function some 300 times on
n ~ 1,300 rows, and the numpy formulation (``_SNPLoglike.evaluate_numpy``, kept as the
reference the tests compare with) spends most of its ~1 ms per call in the overhead of
some 80 small numpy calls and their temporaries, not in arithmetic. No maintained
library offers this likelihood (statsmodels' OrderedModel has no SNP density and uses
numerical derivatives), so the per-row algebra is fused into one compiled loop here and
the two large products (the outer product of the scores and x'x-type blocks) go to BLAS
through ``np.dot``. The formulas are those of ``_SNPLoglike.evaluate_numpy`` line by
line (see its docstring for the derivation); ``cache=True`` keeps the compiled code
on disk, so only the very first call on a machine pays the compilation (a few seconds,
stated by the benchmarks).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRTH = math.sqrt(0.5)


@njit(cache=True)
def _phi_tail(t: float) -> float:
    """Phi(-|t|) as scipy's ``ndtr`` computes it (erf near 0, erfc in the tails)."""
    z = abs(t) * _SQRTH
    if z < _SQRTH:
        return 0.5 + 0.5 * math.erf(-z)
    return 0.5 * math.erfc(z)


@njit(cache=True)
def snp_evaluate(x, y, w, weighted, cuts, b, g, r, mu, first_free, want_hess,
                 want_score):
    """``(ok, llf, score_obs, grad, hess)`` of the SNP ordered probit (order K = len(g)).

    x: n x M regressors; y: category codes 0..J-1 (int64); w: weights (ignored unless
    ``weighted``); cuts: all J-1 cuts (the first fixed when ``first_free`` is 1);
    b: slopes; g: g_1..g_K; r, mu: ``a_coefficients(2K)``, ``normal_moments(2K)`` (any
    1 x 1 arrays when K = 0). Free parameters: b, cuts[first_free:], g. ``ok`` is False
    when some observation has zero probability (llf is then -inf, the rest empty).
    ``score_obs`` is unweighted (n x p; empty unless ``want_score``: Newton needs only
    the gradient); ``grad`` and ``hess`` are weighted. The Hessian is assembled as
    x' diag(cb) x and x' R (BLAS) for the slope rows and accumulated per row for the few
    cut and g parameters, instead of the outer product of the whole score matrix.
    """
    n, m = x.shape
    k_ord = g.shape[0]
    n_cat = cuts.shape[0] + 1
    ncut = n_cat - 1 - first_free
    p = m + ncut + k_ord
    nk = 2 * k_ord + 1
    # polynomial pieces (constant over rows)
    gfull = np.empty(k_ord + 1)
    gfull[0] = 1.0
    for k in range(k_ord):
        gfull[k + 1] = g[k]
    c = np.zeros(nk)
    for i in range(k_ord + 1):
        for j in range(k_ord + 1):
            c[i + j] += gfull[i] * gfull[j]
    theta = 1.0
    rc = np.zeros(nk)
    rmg2 = np.zeros((nk, k_ord))
    theta_k = np.zeros(k_ord)
    if k_ord > 0:
        theta = 0.0
        for j in range(nk):
            theta += c[j] * mu[j]
        for j in range(nk):
            acc = 0.0
            for mm in range(nk):
                acc += r[j, mm] * c[mm]
            rc[j] = acc
        # mg[k + l, k - 1] = g_l (l = 0..K); theta_k = 2 mu @ mg; rmg2 = 2 r @ mg
        for k in range(1, k_ord + 1):
            acc = 0.0
            for ll in range(k_ord + 1):
                acc += mu[k + ll] * gfull[ll]
            theta_k[k - 1] = 2.0 * acc
            for j in range(nk):
                acc = 0.0
                for ll in range(k_ord + 1):
                    acc += r[j, k + ll] * gfull[ll]
                rmg2[j, k - 1] = 2.0 * acc
    # row-invariant factors of dF/dg_k and df/dg_k (as the numpy formulation groups them)
    tk2 = np.empty(k_ord)
    tkt = np.empty(k_ord)
    for k in range(k_ord):
        tk2[k] = theta_k[k] / theta**2
        tkt[k] = theta_k[k] / theta
    two_theta = 2.0 / theta
    nr = ncut + k_ord  # the non-slope parameters: free cuts, then g
    score = np.zeros((n, p)) if want_score else np.zeros((0, p))
    grad_b = np.zeros(m)
    grad_r = np.zeros(nr)
    # Hessian pieces: H_bb = x' diag(cb) x, H_b,rest = x' R, H_rest,rest accumulated here
    xc = np.empty((n, m)) if want_hess else np.empty((0, m))
    rmat = np.empty((n, nr)) if want_hess else np.empty((0, nr))
    hrr = np.zeros((nr, nr))
    v = np.zeros(nk)
    srest = np.empty(nr)
    pw = np.empty(nk)
    dk = np.empty((2, k_ord))
    hk = np.empty((2, k_ord))
    f2 = np.empty(2)
    fp2 = np.empty(2)
    low2 = np.empty(2)
    up2 = np.empty(2)
    t2 = np.empty(2)
    phi2 = np.empty(2)
    tf2 = np.empty(2)
    llf = 0.0
    for i in range(n):
        xb = 0.0
        for j in range(m):
            xb += x[i, j] * b[j]
        yi = y[i]
        t2[0] = (cuts[yi] - xb) if yi <= n_cat - 2 else np.inf
        t2[1] = (cuts[yi - 1] - xb) if yi >= 1 else -np.inf
        for s in range(2):
            t = t2[s]
            fin = np.isfinite(t)
            tf = t if fin else 0.0
            phi = math.exp(-0.5 * tf * tf) * _INV_SQRT_2PI if fin else 0.0
            tail = _phi_tail(t)
            if t <= 0:
                cdf_t, cdf_mt = tail, 1.0 - tail
            else:
                cdf_t, cdf_mt = 1.0 - tail, tail
            tf2[s] = tf
            phi2[s] = phi
            if k_ord == 0:
                low2[s] = cdf_t
                up2[s] = cdf_mt
                f2[s] = phi
                fp2[s] = -tf * phi
            else:
                pw[0] = 1.0
                for j in range(1, nk):
                    pw[j] = pw[j - 1] * tf
                sv = 0.0
                for j in range(nk):
                    sv += rc[j] * pw[j]
                pk = 0.0
                for j in range(k_ord + 1):
                    pk += gfull[j] * pw[j]
                pkd = 0.0
                for j in range(k_ord):
                    pkd += (j + 1) * g[j] * pw[j]
                f = pk * pk * phi / theta
                f2[s] = f
                fp2[s] = (2 * pk * pkd - tf * pk * pk) * phi / theta
                phis = phi * sv / theta
                low2[s] = cdf_t - phis
                up2[s] = cdf_mt + phis
                for k in range(k_ord):
                    skv = 0.0
                    for j in range(nk):
                        skv += rmg2[j, k] * pw[j]
                    dk[s, k] = -phi * (skv / theta - tk2[k] * sv)
                    hk[s, k] = two_theta * (phi * pk) * pw[k + 1] - tkt[k] * f
        th, tl = t2[0], t2[1]
        if th <= 0:
            prob = low2[0] - low2[1]
        elif tl >= 0:
            prob = up2[1] - up2[0]
        else:
            prob = 1.0 - low2[1] - up2[0]
        if not prob > 0:
            return False, -np.inf, np.empty((0, p)), np.empty(0), np.empty((0, 0))
        wi = w[i] if weighted else 1.0
        llf += wi * math.log(prob)
        inv = 1.0 / prob
        fh, fl = f2[0] * inv, f2[1] * inv
        u = fl - fh  # the slopes' score is x_i u
        hi_col = yi - first_free
        lo_col = yi - 1 - first_free
        hi_ok = yi <= n_cat - 2 and hi_col >= 0
        lo_ok = lo_col >= 0
        for q in range(nr):
            srest[q] = 0.0
        if hi_ok:
            srest[hi_col] = fh
        if lo_ok:
            srest[lo_col] = -fl
        for k in range(k_ord):
            srest[ncut + k] = (dk[0, k] - dk[1, k]) * inv
        for j in range(m):
            grad_b[j] += wi * (x[i, j] * u)
        for q in range(nr):
            grad_r[q] += wi * srest[q]
        if want_score:
            for j in range(m):
                score[i, j] = x[i, j] * u
            for q in range(nr):
                score[i, m + q] = srest[q]
        if want_hess:
            ws = wi * inv
            af_h = ws * fp2[0]
            af_l = -ws * fp2[1]
            # slope block: f' terms minus the outer product of the scores
            cb = (af_h + af_l) - wi * u * u
            for j in range(m):
                xc[i, j] = x[i, j] * cb
            # slope x (cuts, g): minus the outer product, the f' and df/dg terms
            for q in range(nr):
                rmat[i, q] = -wi * u * srest[q]
            if hi_ok:
                rmat[i, hi_col] -= af_h
                hrr[hi_col, hi_col] += af_h
            if lo_ok:
                rmat[i, lo_col] -= af_l
                hrr[lo_col, lo_col] += af_l
            for k in range(k_ord):
                ah_h = hk[0, k] * ws
                ah_l = -hk[1, k] * ws
                rmat[i, ncut + k] -= ah_h + ah_l
                if hi_ok:
                    hrr[hi_col, ncut + k] += ah_h
                    hrr[ncut + k, hi_col] += ah_h
                if lo_ok:
                    hrr[lo_col, ncut + k] += ah_l
                    hrr[ncut + k, lo_col] += ah_l
            # (cuts, g) x (cuts, g): minus the outer product of the scores
            for q in range(nr):
                wq = wi * srest[q]
                for r2 in range(q, nr):
                    hrr[q, r2] -= wq * srest[r2]
            if k_ord > 0:
                a_h = ws * phi2[0]
                a_l = -ws * phi2[1]
                ph, pl = 1.0, 1.0
                for j in range(nk):
                    v[j] += a_h * ph + a_l * pl
                    ph *= tf2[0]
                    pl *= tf2[1]
    grad = np.empty(p)
    grad[:m] = grad_b
    grad[m:] = grad_r
    hess = np.zeros((p, p))
    if not want_hess:
        return True, llf, score, grad, hess
    hess[:m, :m] = np.dot(x.T, xc)
    hbr = np.dot(x.T, rmat)
    for j in range(m):
        for q in range(nr):
            hess[j, m + q] = hbr[j, q]
            hess[m + q, j] = hbr[j, q]
    # hrr: the outer-product part was accumulated in the upper triangle only
    for q in range(nr):
        for r2 in range(q + 1, nr):
            # the lower triangle holds only the cross terms added symmetrically above
            hrr[r2, q] = hrr[q, r2]
    for q in range(nr):
        for r2 in range(nr):
            hess[m + q, m + r2] = hrr[q, r2]
    if k_ord > 0:
        gs = m + ncut
        sum_a = np.zeros(nk)
        for mm in range(nk):
            for j in range(nk):
                sum_a[mm] += v[j] * r[j, mm]
        sum_s = 0.0
        for j in range(nk):
            sum_s += v[j] * rc[j]
        sum_sk = np.zeros(k_ord)
        for k in range(k_ord):
            for j in range(nk):
                sum_sk[k] += v[j] * rmg2[j, k]
        for a in range(k_ord):
            for bb in range(k_ord):
                kj = a + bb + 2
                gg = (2.0 * sum_a[kj] / theta
                      - (sum_sk[a] * theta_k[bb] + theta_k[a] * sum_sk[bb]) / theta**2
                      - sum_s * 2.0 * mu[kj] / theta**2
                      + 2.0 * sum_s * theta_k[a] * theta_k[bb] / theta**3)
                hess[gs + a, gs + bb] -= gg
    return True, llf, score, grad, hess


@njit(cache=True)
def _log_ndtr(z: float) -> float:
    """log Phi(z): ``log1p(-Phi(-z))`` above 0, ``log(Phi(z))`` down to -20, the
    asymptotic series below (as cephes' ``log_ndtr``)."""
    if z > -20.0:
        tail = _phi_tail(z)
        return math.log(tail) if z <= 0 else math.log1p(-tail)
    log_lhs = -0.5 * z * z - math.log(-z) - 0.5 * math.log(2 * math.pi)
    last, rhs, numerator, denom_factor, sign, i = 0.0, 1.0, 1.0, 1.0, 1.0, 0
    denom_cons = 1.0 / (z * z)
    while abs(last - rhs) > 2.220446049250313e-16:
        i += 1
        last = rhs
        sign = -sign
        denom_factor *= denom_cons
        numerator *= 2 * i - 1
        rhs += sign * numerator * denom_factor
    return log_lhs + math.log(rhs)


@njit(cache=True)
def probit_evaluate(y, x, w, weighted, params):
    """``(llf, grad, hess)`` of the (weighted) probit ``sum w ln Phi(q x'b)``, q = 2y - 1:
    the formulas of ``probit.probit_loglike`` in one compiled pass (Newton needs no
    per-observation score matrix)."""
    n, k = x.shape
    grad = np.zeros(k)
    xc = np.empty((n, k))
    llf = 0.0
    for i in range(n):
        xb = 0.0
        for j in range(k):
            xb += x[i, j] * params[j]
        q = 2.0 * y[i] - 1.0
        z = q * xb
        logcdf = _log_ndtr(z)
        lam = q * math.exp(-0.5 * z * z - 0.5 * math.log(2 * math.pi) - logcdf)
        wi = w[i] if weighted else 1.0
        llf += wi * logcdf
        c = wi * lam * (lam + xb)
        for j in range(k):
            grad[j] += wi * x[i, j] * lam
            xc[i, j] = x[i, j] * c
    hess = -np.dot(x.T, xc)
    return llf, grad, hess
