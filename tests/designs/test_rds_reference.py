"""RDS-II and Gile's SS weights (designs/rds.py) against computations nobody here wrote.

RDS-II (Volz & Heckathorn 2008, J Official Statistics 24:79): reference implementation
``rdstools`` (PyPI ``rdstools``, University of Michigan RDSTools, MIT licence). Its
``RDSdata`` turns an RDS data set (coupons, reported degrees) into the analysis frame
with ``WEIGHT`` = 1 / degree (after imputing missing and zero degrees), and ``RDSmean``
gives the weighted mean (printed to 3 decimals). On the package's own toy data (251 respondents), our
``rds2_weights`` of its imputed degrees must give the same weights up to scale and the
same RDS-II estimate of ``Outcome_cont``.

SS (Gile 2011, JASA 106:135): an independent computation of Gile's own algorithm. Gile
estimates the inclusion probability of each degree by *simulating* successive sampling
(degree-proportional, without replacement) from the current estimate of the
population's degree counts, then re-estimates the counts as n_k / pi_k, and repeats.
``ss_weights`` replaces the simulation by Rosen's (1997) order-sampling approximation
pi_k = 1 - exp(-d_k t). Here the simulation is run (exactly: successive sampling
proportional to size is ordering by Exp(1) / size) and the weights must agree within the
simulation's error plus the approximation's: about 1-1.6% at 2,000 simulated samples
(measured over seeds 0 and 1), so the bound is 4%, while RDS-II weights of the same
sample differ from SS by 15-55% at these sampling fractions (the test checks that too,
so the bound can tell the two apart).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim_refugee.designs.rds import rds2_weights, ss_weights


def test_rds2_weights_and_estimate_equal_rdstools():
    rdstools = pytest.importorskip("RDSTools")
    raw = rdstools.load_toy_data()
    data = rdstools.RDSdata(raw, unique_id="ID", redeemed_coupon="CouponR",
                            issued_coupons=["Coupon1", "Coupon2", "Coupon3"], degree="Degree",
                            # median, not the default hot deck: that one draws from numpy's
                            # unseeded global state, which made this reference flaky
                            zero_degree="median", NA_degree="median")
    deg = data["DEGREE_IMP"].to_numpy(float)
    ours = rds2_weights(deg, total=1.0)
    ref = data["WEIGHT"].to_numpy(float)
    np.testing.assert_allclose(ours, ref / ref.sum(), rtol=1e-12)
    ref_mean = rdstools.RDSmean(x="Outcome_cont", data=data, weight="WEIGHT")
    y = data["Outcome_cont"].to_numpy(float)
    ok = np.isfinite(y)
    our_mean = np.sum(ours[ok] * y[ok]) / np.sum(ours[ok])
    got = float(ref_mean.results["Mean"].iloc[0])  # rdstools rounds it to 3 decimals
    assert our_mean == pytest.approx(got, abs=0.5e-3 + 1e-12)
    assert our_mean != pytest.approx(np.mean(y[ok]), rel=1e-2)  # weighting matters here


def gile_ss_by_simulation(degree: np.ndarray, population_size: float, sims: int,
                          iterations: int, seed: int) -> np.ndarray:
    """Gile's SS weights with simulated inclusion probabilities (the reference)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([15, seed])))
    levels, inv, counts = np.unique(degree, return_inverse=True, return_counts=True)
    n = degree.size
    big_n = counts / levels
    big_n *= population_size / big_n.sum()
    for _ in range(iterations):
        units = np.maximum(np.rint(big_n).astype(np.int64), counts)
        unit_degree = np.repeat(levels, units)
        unit_level = np.repeat(np.arange(levels.size), units)
        hits = np.zeros(levels.size)
        for _ in range(sims):
            order_key = rng.exponential(size=unit_degree.size) / unit_degree
            drawn = np.argpartition(order_key, n)[:n]
            hits += np.bincount(unit_level[drawn], minlength=levels.size)
        pi = hits / sims / units
        big_n = counts / pi
        big_n *= population_size / big_n.sum()
    return (big_n / counts)[inv]


@pytest.mark.parametrize(("population_size", "seed"), [(1000.0, 0), (3000.0, 1)])
def test_ss_weights_equal_gile_simulation(population_size, seed):
    deg = np.random.default_rng(3).integers(1, 30, 300).astype(float)
    ours = ss_weights(deg, population_size)
    ref = gile_ss_by_simulation(deg, population_size, sims=2000, iterations=8, seed=seed)
    assert np.max(np.abs(ours / ref - 1)) < 0.04
    rds2 = rds2_weights(deg, population_size)
    assert np.max(np.abs(rds2 / ref - 1)) > 0.1
