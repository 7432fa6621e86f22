"""SRS (the oracle) and quota sampling.

Tolerances: a replicate mean of R estimates has Monte Carlo standard error
MCSE = sd(estimates) / sqrt(R); a design is called unbiased when
|mean - truth| < 4 MCSE (two-sided false-alarm probability 6e-5 under no bias) and
biased when the gap exceeds 10 MCSE. Replicate studies run through
sim_refugee.testing.recovery with the test's keyed seed, so results are deterministic
and a failure names the seed.
"""

from __future__ import annotations

import numpy as np

from sim_refugee.designs import get_design
from sim_refugee.designs.quota import allocate, cell_codes
from sim_refugee.seeds import child_rng
from sim_refugee.testing import recovery

R = 200


def _study(design, pop, params, n, estimate, truth, reps, seed):
    """``reps`` samples of ``n`` under ``design``, each keyed by (seed, "recovery", r)."""
    state = design.prepare(pop, params, child_rng(seed, "prepare"))
    return recovery(lambda rng: design.draw(pop, state, n, params, rng), estimate, truth, reps, seed)


def test_srs_probabilities(small_pop):
    srs = get_design("srs")
    s = srs.draw(small_pop, None, 500, srs.Params(), np.random.default_rng(0))
    np.testing.assert_allclose(s["incl_prob"], 500 / len(small_pop))
    np.testing.assert_allclose(s["weight"].sum(), len(small_pop))


def test_srs_means_unbiased(small_pop, keyed_seed, recovery_reps):
    cols = ["urban_china", "death", "anxious", "age"]
    n, N = 300, len(small_pop)
    fpc = 1 - n / N

    def means(s):
        return s[cols].mean(), s[cols].std() / np.sqrt(n) * np.sqrt(fpc)

    srs = get_design("srs")
    res = _study(srs, small_pop, srs.Params(), n, means, small_pop[cols].mean(),
                 recovery_reps(R), keyed_seed)
    res.assert_failure_rate().assert_unbiased(z=4.0)
    # the spread matches the SRS formula sd/sqrt(n) x fpc within 20%
    # (the SD of R=200 estimates has relative error about 1/sqrt(2R) = 5%; 20% = 4 SE)
    theory = small_pop[cols].std() / np.sqrt(n) * np.sqrt(fpc)
    assert (abs(res.emp_se / theory - 1) < 0.20).all(), res.emp_se / theory
    # and the SE estimated in each sample is calibrated and its intervals cover
    res.assert_se_calibrated(z=3.0).assert_coverage(level=0.95, z=3.0)


def test_allocate_exact_and_capped():
    q = allocate(10, np.array([0.5, 0.3, 0.2]), np.array([100, 100, 100]))
    np.testing.assert_array_equal(q, [5, 3, 2])
    q = allocate(10, np.array([0.8, 0.1, 0.1]), np.array([3, 100, 100]))
    assert q[0] == 3 and sorted(q[1:].tolist()) == [3, 4]
    q = allocate(7, np.array([1.0, 1.0, 1.0]), np.array([1, 2, 10]))
    assert q.sum() == 7 and q[0] <= 1 and q[1] <= 2


def test_quota_fills_cells_proportionally(small_pop):
    quota = get_design("quota")
    params = quota.Params()
    s = quota.draw(small_pop, None, 600, params, np.random.default_rng(3))
    codes, labels = cell_codes(small_pop, params.age_cuts)
    pop_share = np.bincount(codes) / len(codes)
    got = s["stratum"].value_counts().reindex(labels, fill_value=0).to_numpy()
    # largest-remainder quotas are within 1 of n x share in every cell
    assert np.all(np.abs(got - 600 * pop_share) < 1.0 + 1e-9)
    assert got.sum() == 600
    # nominal probabilities: quota / cell size
    sizes = dict(zip(labels, np.bincount(codes), strict=True))
    counts = s["stratum"].value_counts()
    expect = s["stratum"].map(lambda c: counts[c] / sizes[c])
    np.testing.assert_allclose(s["incl_prob"], expect)


def test_quota_equal_allocation(small_pop):
    quota = get_design("quota")
    params = quota.Params(allocation="equal")
    s = quota.draw(small_pop, None, 400, params, np.random.default_rng(3))
    counts = s["stratum"].value_counts()
    assert counts.max() - counts.min() <= 1  # every cell is larger than its quota here


def _weighted_mean(col):
    def estimate(s):
        return np.average(s[col], weights=s["weight"]), None
    return estimate


def test_quota_without_reach_is_unbiased_with_weights(small_pop, keyed_seed, recovery_reps):
    quota = get_design("quota")
    params = quota.Params(allocation="equal", reach={})
    res = _study(quota, small_pop, params, 400, _weighted_mean("urban_china"),
                 small_pop["urban_china"].mean(), recovery_reps(120), keyed_seed)
    res.assert_failure_rate().assert_unbiased(z=4.0)


def test_quota_selection_on_unobservables_biases(small_pop, keyed_seed, recovery_reps):
    """Reach by distress inside the cells: cells cannot remove it (distress is not a cell)."""
    quota = get_design("quota")
    params = quota.Params(reach={"distress": 1.0})
    res = _study(quota, small_pop, params, 400, _weighted_mean("distress"),
                 small_pop["distress"].mean(), recovery_reps(50), keyed_seed)
    res.assert_failure_rate()
    assert res.bias["theta"] > 10 * res.mcse.loc["theta", "bias"], res.summary()
