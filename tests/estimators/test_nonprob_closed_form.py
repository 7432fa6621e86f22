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
