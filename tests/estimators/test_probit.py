"""Probit: statsmodels delegation, weighted pseudo-likelihood, cluster sandwich, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import Probit
from sim_refugee.estimators.results import EstimationResults
from sim_refugee.testing import recovery

BETA = np.array([0.4, -0.5, 0.3, -0.2])  # const, a, b, c


def _rng(*key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(key))))


def _data(rng, n=1000):
    x = pd.DataFrame(
        {"const": 1.0, "a": rng.normal(size=n), "b": (rng.random(n) < 0.3).astype(float), "c": rng.normal(size=n)}
    )
    y = pd.Series((x.to_numpy() @ BETA + rng.normal(size=n) > 0).astype(int), name="prefer_us")
    return y, x


def test_unweighted_equals_statsmodels():
    y, x = _data(_rng(1))
    res = Probit(y, x).fit()
    ref = sm.Probit(y, x).fit(disp=0)
    assert res.status == "ok" and res.backend == "statsmodels"
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=1e-6)
    np.testing.assert_allclose(res.pvalues, ref.pvalues, rtol=1e-5, atol=1e-12)
    assert res.llf == pytest.approx(ref.llf, rel=1e-12)


def test_own_newton_with_unit_weights_equals_statsmodels():
    y, x = _data(_rng(2))
    res = Probit(y, x, weights=np.ones(len(y))).fit(cov_type="nonrobust")
    ref = sm.Probit(y, x).fit(disp=0)
    assert res.backend == "sim_refugee"
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=1e-6)
    assert res.llnull == pytest.approx(ref.llnull, rel=1e-10)


def test_cluster_sandwich_matches_statsmodels_pieces():
    y, x = _data(_rng(3))
    groups = np.arange(len(y)) // 10
    res = Probit(y, x, groups=groups).fit()
    ref = sm.Probit(y, x).fit(disp=0)
    # A^-1 B A^-1 * G/(G-1) from statsmodels' own Hessian and per-observation scores
    bread = np.linalg.inv(-ref.model.hessian(ref.params.to_numpy()))
    scores = ref.model.score_obs(ref.params.to_numpy())
    summed = pd.DataFrame(scores).groupby(groups).sum().to_numpy()
    n_g = len(np.unique(groups))
    cov = n_g / (n_g - 1) * bread @ summed.T @ summed @ bread
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(res.cov_params().to_numpy(), cov, rtol=1e-6, atol=1e-12)
    # statsmodels' own cluster SEs differ only by its extra (N-1)/(N-K) factor (about 0.3%)
    smc = sm.Probit(y, x).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(res.bse, smc.bse, rtol=0.01)


def test_frequency_duplication_equals_integer_weights():
    y, x = _data(_rng(4), 500)
    w = _rng(5).integers(1, 4, len(y))
    weighted = Probit(y, x, weights=w).fit(cov_type="nonrobust")
    rep = np.repeat(np.arange(len(y)), w)
    dup = Probit(y.iloc[rep], x.iloc[rep]).fit()
    np.testing.assert_allclose(weighted.params, dup.params, rtol=1e-8)
    np.testing.assert_allclose(weighted.bse, dup.bse, rtol=1e-6)


G, M = 100, 8  # clusters, persons per cluster
GROUPS = np.repeat(np.arange(G), M)


def _clustered(rng):
    x = np.column_stack([np.ones(G * M), rng.normal(size=G * M), (rng.random(G * M) < 0.3), rng.normal(size=G * M)])
    ystar = x @ BETA + 0.5 * rng.normal(size=G)[GROUPS] + rng.normal(size=G * M)
    return (ystar > 0).astype(float), x, rng.uniform(0.5, 2.0, G * M)


def _weighted_clustered_fit(data):
    y, x, w = data
    res = Probit(y, x, weights=w, groups=GROUPS).fit()
    return res.params.to_numpy(), res.bse.to_numpy()


def test_weighted_clustered_coverage(keyed_seed, recovery_reps):
    """Weighted pseudo-ML + cluster sandwich: 95% CI coverage over 400 samples.

    Clustered latent shocks c_g ~ N(0, 0.5^2): the marginal model is a probit with
    coefficients BETA / sqrt(1.25), the truth here. Non-informative weights. 100 clusters of 8.
    MCSE of a coverage rate = sqrt(.95 * .05 / 400) = 0.011: assert_coverage(z=3) accepts
    0.95 +- 0.033 (it was a fixed +- 0.035); every fit must succeed.
    """
    truth = pd.Series(BETA / np.sqrt(1.25), index=["const", "a", "b", "c"])
    res = recovery(_clustered, _weighted_clustered_fit, truth, recovery_reps(400), keyed_seed)
    res.assert_failure_rate().assert_coverage(level=0.95, z=3.0)


def test_separation_and_failure_are_reported():
    x = pd.DataFrame({"const": 1.0, "a": np.arange(20.0)})
    y = (x["a"] > 9.5).astype(int)
    for kwargs in ({}, {"weights": np.ones(20)}):
        res = Probit(y, x, **kwargs).fit()
        assert res.status != "ok" and not res.converged, res.status
    res = Probit(np.zeros(20), x).fit()
    assert res.status == "failed"


def test_non_psd_covariance_is_flagged():
    res = EstimationResults(pd.Series([1.0, 2.0], index=["a", "b"]), np.array([[1.0, 2.0], [2.0, 1.0]]), nobs=10)
    assert res.status == "non_psd_cov" and "semi-definite" in res.status_message
    assert res.cov_psd is False
    assert np.isnan(res.bse).sum() == 0  # diagonal positive: SEs shown, but flagged


def test_bad_input():
    y, x = _data(_rng(7), 50)
    with pytest.raises(UserInputError, match="0/1"):
        Probit(y * 2, x)
    with pytest.raises(UserInputError, match="'b'"):
        Probit(y, x.assign(b="x"))
    with pytest.raises(UserInputError, match="groups"):
        Probit(y, x, groups=np.arange(10))
    with pytest.raises(UserInputError, match="cov_type"):
        Probit(y, x).fit(cov_type="hc7")
