"""Chen, Li & Wu (2020) IPW and doubly robust estimators (estimators/nonprob_ref.py).

Known answers on superpopulations where each working model is right or wrong by
construction: x ~ N(0, 1), N = 20,000; convenience sample A by Poisson sampling with
propensity pi(x); reference sample B a simple random sample of 300 (d = N / 300). Both
working models (propensity logit and outcome regression) are linear in x. E[y] = 1 in
every case:

* propensity right: logit pi = -2.5 + 0.5 x (linear: the working model is right);
* propensity wrong: logit pi = -4 + 0.8 x^2 + 0.5 x (the working model misses x^2);
* outcome right: y = 1 + x + e; outcome wrong: y = x^2 + e (mean 1).

The DR estimator is unbiased (within 3 MCSE) when either model is right and biased
(more than 5 MCSE) when both are wrong: selection on x^2 raises the mean of x^2 in A,
which neither working model can see.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.estimators.nonprob_ref import clw_estimate, clw_propensity
from sim_refugee.testing import recovery

N, N_B = 20_000, 300


def _draw(prop_right: bool, outcome_right: bool):
    def draw(rng: np.random.Generator):
        x = rng.standard_normal(N)
        e = rng.standard_normal(N)
        y = 1 + x + e if outcome_right else x**2 + e
        eta = -2.5 + 0.5 * x if prop_right else -4 + 0.8 * x**2 + 0.5 * x
        a = rng.random(N) < 1 / (1 + np.exp(-eta))
        b = rng.choice(N, N_B, replace=False)
        return x[a], y[a], x[b], np.full(N_B, N / N_B)
    return draw


def _dr(data):
    xa, ya, xb, db = data
    fit = clw_estimate(xa, ya, xb, db)
    return pd.Series({"dr": fit.dr, "ipw": fit.ipw}), None


def _run(prop_right: bool, outcome_right: bool, seed, reps: int):
    res = recovery(_draw(prop_right, outcome_right), _dr, truth={"dr": 1.0, "ipw": 1.0}, reps=reps,
                   seed=seed)
    return res


@pytest.mark.parametrize(("prop_right", "outcome_right"),
                         [(True, False), (False, True), (True, True)])
def test_dr_unbiased_when_one_model_is_right(prop_right, outcome_right, keyed_seed,
                                             recovery_reps):
    res = _run(prop_right, outcome_right, keyed_seed, recovery_reps(200))
    assert res.failure_rate.max() == 0
    res.assert_unbiased(z=3.0, terms="dr")


def test_dr_biased_when_both_models_are_wrong(keyed_seed, recovery_reps):
    res = _run(False, False, keyed_seed, recovery_reps(200))
    bias, mcse = res.bias["dr"], res.mcse["bias"]["dr"]
    assert bias > 5 * mcse, res.summary()


def test_ipw_unbiased_with_the_right_propensity_and_biased_without(keyed_seed,
                                                                   recovery_reps):
    right = _run(True, False, keyed_seed, recovery_reps(200))
    right.assert_unbiased(z=3.0, terms="ipw")
    wrong = _run(False, False, keyed_seed, recovery_reps(200))
    assert wrong.bias["ipw"] > 5 * wrong.mcse["bias"]["ipw"], wrong.summary()


def test_propensity_recovers_theta_on_a_large_sample(keyed_rng):
    """The pseudo-likelihood estimate of (-3, 1) with a census-sized reference sample."""
    x = keyed_rng.standard_normal(200_000)
    a = keyed_rng.random(len(x)) < 1 / (1 + np.exp(3 - x))
    theta, ok = clw_propensity(x[a], x, np.ones(len(x)))
    assert ok
    # SE of each coefficient about 0.02 at this size: 0.1 is 5 SEs
    np.testing.assert_allclose(theta, [-3.0, 1.0], atol=0.1)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="lengths"):
        clw_estimate(np.zeros(3), np.zeros(2), np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="weights"):
        clw_estimate(np.zeros(3), np.zeros(3), np.zeros(4), np.zeros(4))
