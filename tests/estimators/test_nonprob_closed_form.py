"""Chen, Li & Wu (2020) estimators with one binary covariate, where everything has a closed
form: the pseudo-likelihood score sum_A x = sum_B d pi(x) x solves to pi(x) = n_A(x) /
N_B(x) (the share of the estimated population in cell x that is in A), IPW is then the
post-stratified mean, and both outcome models (linear and logistic) fit the cell means of
A exactly, so DR = sum_x N_B(x) ybar_A(x) / N_B. The bootstrap is replayed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim_refugee.estimators.nonprob_ref import clw_estimate, clw_propensity


def _cells():
    # sample A: 6 rows with x = 0, 4 with x = 1; sample B: 5 rows, estimated N_B(0) = 30, N_B(1) = 70
    xa = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1], dtype=float)
    ya = np.array([1.0, 2.0, 0.0, 1.0, 3.0, 5.0, 4.0, 6.0, 2.0, 8.0])
    xb = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    db = np.array([10.0, 20.0, 20.0, 30.0, 20.0])
    return xa, ya, xb, db


def test_propensity_and_ipw_dr_in_closed_form():
    xa, ya, xb, db = _cells()
    theta, ok = clw_propensity(xa, xb, db)
    p0, p1 = 6 / 30, 4 / 70
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    np.testing.assert_allclose(theta, [logit(p0), logit(p1) - logit(p0)], rtol=1e-6)
    assert ok is True
    fit = clw_estimate(xa, ya, xb, db)
    w = np.where(xa == 1, 1 / p1, 1 / p0)
    assert fit.ipw == pytest.approx(float(w @ ya / w.sum()), rel=1e-6)
    dr = (30 * ya[:6].mean() + 70 * ya[6:].mean()) / 100
    assert fit.dr == pytest.approx(dr, rel=1e-6)
    assert fit.converged is True and math.isnan(fit.se_ipw) and math.isnan(fit.se_dr)
    np.testing.assert_allclose(fit.theta, theta, rtol=1e-12)
    # a 0/1 outcome with the logistic outcome model: the fitted m(x) are the cell shares
    yb = (ya > 2).astype(float)
    fit = clw_estimate(xa, yb, xb, db, outcome="logistic")
    assert fit.dr == pytest.approx((30 * yb[:6].mean() + 70 * yb[6:].mean()) / 100, rel=1e-6)
    # an outcome covariate of its own (x for the propensity, a constant-free 0/1 z for m)
    za, zb = 1 - xa, 1 - xb
    fit = clw_estimate(xa, ya, xb, db, outcome_xa=za, outcome_xb=zb)
    assert fit.dr == pytest.approx(dr, rel=1e-6)
    # covariates as (n, 1) columns: the same fit
    col = clw_estimate(xa[:, None], ya, xb[:, None], db)
    assert col.ipw == pytest.approx(float(w @ ya / w.sum()), rel=1e-6)
    assert col.dr == pytest.approx(dr, rel=1e-6)


def test_bootstrap_is_the_sd_of_replayed_resamples():
    xa, ya, xb, db = _cells()
    fit = clw_estimate(xa, ya, xb, db, n_boot=5, rng=np.random.default_rng(3))
    rng = np.random.default_rng(3)
    reps = []
    for _ in range(5):
        ia = rng.integers(0, len(xa), len(xa))
        ib = rng.integers(0, len(xb), len(xb))
        one = clw_estimate(xa[ia], ya[ia], xb[ib], db[ib])
        reps.append((one.ipw, one.dr))
    sd = np.std(np.array(reps), axis=0, ddof=1)
    assert fit.se_ipw == pytest.approx(sd[0], rel=1e-9)
    assert fit.se_dr == pytest.approx(sd[1], rel=1e-9)
    assert fit.ipw == clw_estimate(xa, ya, xb, db).ipw


def test_refusals():
    xa, ya, xb, db = _cells()
    msg = "sample A's x, y (and outcome x), and sample B's x, d (and outcome x) must have matching lengths"
    for kw in ({"outcome_xa": xa[:3]}, {"outcome_xb": xb[:2]}):
        with pytest.raises(ValueError) as err:
            clw_estimate(xa, ya, xb, db, **kw)
        assert str(err.value) == msg
    with pytest.raises(ValueError, match="matching lengths"):
        clw_estimate(xa, ya, xb, db[:4])
    with pytest.raises(ValueError) as err:
        clw_estimate(xa, np.where(xa == 1, np.nan, ya), xb, db)
    assert str(err.value) == "y must be finite and the design weights positive"
    with pytest.raises(ValueError, match="design weights positive"):
        clw_estimate(xa, ya, xb, np.where(xb == 1, 0.0, db))
    with pytest.raises(ValueError) as err:
        clw_estimate(xa, ya, xb, db, n_boot=2)
    assert str(err.value) == "a bootstrap needs rng"


def _ab(seed: int, na: int = 300, nb: int = 200):
    """Samples A and B with two covariates; B's design weights vary."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([15, 16, seed])))
    xa = np.column_stack([rng.normal(0.5, 1.0, na), rng.random(na) < 0.6]).astype(float)
    xb = np.column_stack([rng.normal(0.0, 1.0, nb), rng.random(nb) < 0.4]).astype(float)
    ya = (rng.random(na) < 1 / (1 + np.exp(-(0.3 + 0.8 * xa[:, 0] - 0.5 * xa[:, 1])))).astype(float)
    db = rng.uniform(5.0, 15.0, nb)
    return xa, ya, xb, db


def test_outcome_models_against_statsmodels():
    """The outcome regressions of the DR estimator: the logistic one (our IRLS) against
    statsmodels' Logit, the (weighted) least squares against statsmodels' WLS, and the
    collinear fallback against the minimum-norm lstsq solution."""
    import statsmodels.api as sm

    from sim_refugee.estimators.nonprob_ref import _design, _least_squares, _logistic_beta

    xa, ya, _, _ = _ab(1)
    X = _design(xa)
    ref = sm.Logit(ya, X).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(_logistic_beta(X, ya), ref.params, rtol=1e-8, atol=1e-10)
    w = np.linspace(0.5, 2.0, len(ya))
    np.testing.assert_allclose(_least_squares(X, ya), sm.OLS(ya, X).fit().params, rtol=1e-10)
    np.testing.assert_allclose(_least_squares(X, ya, w), sm.WLS(ya, X, weights=w).fit().params, rtol=1e-10)
    Xc = np.column_stack([X, X[:, 1]])  # a repeated column: the normal equations are singular
    sw = np.sqrt(w)
    np.testing.assert_allclose(_least_squares(Xc, ya, w),
                               np.linalg.pinv(Xc * sw[:, None]) @ (ya * sw), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(_least_squares(Xc, ya), np.linalg.pinv(Xc) @ ya, rtol=1e-8, atol=1e-12)
    # separated data: the iterations stop at max_iter, the predictions at the 0/1 values
    xs = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
    ys = (xs > 0).astype(float)
    pred = 1 / (1 + np.exp(-(_design(xs) @ _logistic_beta(_design(xs), ys))))
    np.testing.assert_allclose(pred, ys, atol=1e-3)


def test_dr_with_outcome_models_where_the_propensity_is_not_saturated():
    """With a propensity model that does not saturate the outcome covariates, DR depends on
    m(x): recomputed here from statsmodels' propensity-free pieces (Logit / OLS fits on A)
    and our propensity (itself checked against its score equation)."""
    import statsmodels.api as sm
    from scipy.special import expit

    xa, ya, xb, db = _ab(2)
    theta, ok = clw_propensity(xa[:, :1], xb[:, :1], db)
    assert ok
    XA, XB = np.column_stack([np.ones(len(xa)), xa[:, 0]]), np.column_stack([np.ones(len(xb)), xb[:, 0]])
    np.testing.assert_allclose(XA.sum(axis=0), XB.T @ (db * expit(XB @ theta)), rtol=1e-6)
    w = 1 / expit(XA @ theta)
    OA, OB = sm.add_constant(xa), sm.add_constant(xb)
    for kind, m in (("logistic", lambda f, o: f.predict(o)), ("linear", lambda f, o: o @ f.params)):
        f = sm.Logit(ya, OA).fit(disp=0, tol=1e-12) if kind == "logistic" else sm.OLS(ya, OA).fit()
        dr = w @ (ya - m(f, OA)) / w.sum() + db @ m(f, OB) / db.sum()
        fit = clw_estimate(xa[:, :1], ya, xb[:, :1], db, outcome_xa=xa, outcome_xb=xb, outcome=kind)
        assert fit.dr == pytest.approx(dr, rel=1e-7), kind
        assert fit.ipw == pytest.approx(w @ ya / w.sum(), rel=1e-7)


def test_a_propensity_fit_that_fails_is_reported_and_gets_no_bootstrap():
    """A and B separated by x (every A row above every B row): the pseudo-likelihood has no
    maximum, trust-exact stops at its iteration limit, and the fit says so (converged
    False, no bootstrap SEs) even though the estimates it returns are finite numbers."""
    xa = np.array([3.0, 3.5, 4.0, 4.5, 5.0])
    ya = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    xb = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
    db = np.full(6, 10.0)
    _, ok = clw_propensity(xa, xb, db)
    assert ok is False
    fit = clw_estimate(xa, ya, xb, db, n_boot=3, rng=np.random.default_rng(0))
    assert math.isfinite(fit.ipw) and math.isfinite(fit.dr)
    assert fit.converged is False and math.isnan(fit.se_ipw) and math.isnan(fit.se_dr)


def test_design_weights_below_one_and_a_single_bootstrap_draw():
    """Weights need only be positive: a weight below 1 (here 0.5 of cell x = 0's 30) is
    accepted, and with the cells' totals unchanged the estimates are too. Even one
    bootstrap draw needs an rng."""
    xa, ya, xb, db = _cells()
    frac = clw_estimate(xa, ya, xb, np.array([0.5, 29.5, 20.0, 30.0, 20.0]))
    big = clw_estimate(xa, ya, xb, db)
    assert frac.ipw == pytest.approx(big.ipw, rel=1e-6) and frac.dr == pytest.approx(big.dr, rel=1e-6)
    with pytest.raises(ValueError, match="a bootstrap needs rng"):
        clw_estimate(xa, ya, xb, db, n_boot=1)
