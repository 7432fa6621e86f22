"""The compiled SNP kernel equals the numpy formulation it replaced (issue 17), and the
shared Pearson chi-square equals scipy's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from sim_refugee.estimators.descriptive import chi2_pvalues, pearson_chi2
from sim_refugee.estimators.snp import _SNPLoglike
from sim_refugee.seeds import rng_for


@pytest.mark.parametrize("order,cut1,weighted,n_cat", [
    (3, -0.5, False, 4), (0, None, False, 4), (3, -0.5, True, 4), (2, None, False, 3),
    (4, -0.2, True, 5), (1, 0.1, False, 2),
])
def test_kernel_equals_numpy_evaluation(order, cut1, weighted, n_cat):
    rng = rng_for(17, "kernel", order, n_cat)
    n, m = 700, 6
    x = rng.normal(size=(n, m))
    x[:, :3] = x[:, :3] > 0
    y = rng.integers(0, n_cat, n)
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    ll = _SNPLoglike(x, y, w, n_cat, order, cut1)
    start = cut1 if cut1 is not None else -0.8
    cuts = start + np.cumsum(rng.uniform(0.3, 0.8, ll.ncut))
    params = np.concatenate([rng.normal(0, 0.2, m), cuts, rng.normal(0, 0.1, order)])
    llf, score, hess = ll.evaluate(params)
    llf0, score0, hess0 = ll.evaluate_numpy(params)
    assert llf == pytest.approx(llf0, rel=1e-13, abs=1e-10)
    np.testing.assert_allclose(score, score0, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hess, hess0, rtol=1e-10, atol=1e-9 * np.abs(hess0).max())
    _, grad, _ = ll.newton_eval(params)
    ww = np.ones(n) if w is None else w
    np.testing.assert_allclose(grad, ww @ score0, rtol=1e-10, atol=1e-10)
    # without the Hessian, and a zero-probability point (cuts out of order)
    assert ll.evaluate(params + 1e-3, hessian=False)[0] == pytest.approx(
        ll.evaluate_numpy(params + 1e-3, hessian=False)[0], rel=1e-13)
    if ll.ncut >= 2:
        bad = params.copy()
        bad[m: m + ll.ncut] = bad[m: m + ll.ncut][::-1] - np.arange(ll.ncut)
        assert ll.evaluate(bad)[1] is None and ll.evaluate_numpy(bad)[1] is None


def test_pearson_chi2_equals_scipy():
    rng = rng_for(17, "chi2")
    for _ in range(50):
        t = rng.integers(0, 30, size=(int(rng.integers(2, 6)), 2)).astype(float)
        stat, dof = pearson_chi2(t)
        u = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
        if min(u.shape) < 2:
            assert np.isnan(stat) and dof == 0
            continue
        ref = chi2_contingency(u, correction=False)
        assert stat == pytest.approx(ref[0], rel=1e-12)
        assert dof == ref[2]
        assert float(chi2_pvalues(stat, dof)) == pytest.approx(ref[1], rel=1e-10)


def test_cholesky_step_equals_numpy():
    from sim_refugee.estimators._optim import cholesky_step

    rng = rng_for(17, "cholesky")
    for p in (1, 3, 17, 25):
        m = rng.normal(size=(p + 5, p))
        a = m.T @ m + 0.1 * np.eye(p)
        g = rng.normal(size=p)
        ok, step, dec = cholesky_step(a, g)
        chol = np.linalg.cholesky(a)
        z = np.linalg.solve(chol, g)
        assert ok
        np.testing.assert_allclose(step, np.linalg.solve(a, g), rtol=1e-9)
        assert dec == pytest.approx(0.5 * float(z @ z), rel=1e-12)
    bad = -np.eye(3)
    assert not cholesky_step(bad, np.ones(3))[0]
    assert not cholesky_step(np.full((2, 2), np.nan), np.ones(2))[0]


@pytest.mark.parametrize("weighted", [False, True])
def test_probit_kernel_equals_numpy(weighted):
    from sim_refugee.estimators._snp_kernel import _log_ndtr, probit_evaluate
    from sim_refugee.estimators.probit import probit_loglike

    rng = rng_for(17, "probit", int(weighted))
    n, k = 500, 5
    x = np.column_stack([rng.normal(size=(n, k - 1)), np.ones(n)])
    y = (rng.random(n) < 0.4).astype(float)
    w = rng.uniform(0.2, 2.0, n) if weighted else None
    for scale, tol in ((0.3, 1e-9), (3.0, 1e-9), (30.0, 1e-6)):
        # the last reaches far into the tails, where lam + x'b cancels: both
        # formulations lose digits there (the numpy one uses scipy's log_ndtr)
        b = scale * rng.normal(size=k)
        llf0, score0, hess0 = probit_loglike(b, y, x, w)
        ww = np.ones(n) if w is None else w
        llf, grad, hess = probit_evaluate(y, x, ww, weighted, b)
        assert llf == pytest.approx(llf0, rel=1e-12)
        np.testing.assert_allclose(grad, ww @ score0, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(hess, hess0, rtol=tol, atol=tol * np.abs(hess0).max())
    from scipy.special import log_ndtr

    z = np.array([-60.0, -25.0, -20.0, -19.9, -8.0, -1.0, 0.0, 0.5, 5.9, 6.1, 12.0])
    np.testing.assert_allclose([_log_ndtr(v) for v in z], log_ndtr(z), rtol=1e-13)
