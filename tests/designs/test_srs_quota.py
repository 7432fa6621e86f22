"""SRS (the oracle) and quota sampling.

Tolerances: a replicate mean of R estimates has Monte Carlo standard error
MCSE = sd(estimates) / sqrt(R); a design is called unbiased when
|mean - truth| < 4 MCSE (two-sided false-alarm probability 6e-5 under no bias) and
biased when the gap exceeds 10 MCSE. Seeds are fixed, so results are deterministic.
"""

from __future__ import annotations

import numpy as np

from sim_refugee.designs import get_design
from sim_refugee.designs.quota import allocate, cell_codes

R = 200


def _replicate(design, pop, params, n, stat, reps=R):
    state = design.prepare(pop, params, np.random.default_rng(100))
    return np.array(
        [stat(design.draw(pop, state, n, params, np.random.default_rng(1000 + r))) for r in range(reps)]
    )


def test_srs_probabilities(small_pop):
    srs = get_design("srs")
    s = srs.draw(small_pop, None, 500, srs.Params(), np.random.default_rng(0))
    np.testing.assert_allclose(s["incl_prob"], 500 / len(small_pop))
    np.testing.assert_allclose(s["weight"].sum(), len(small_pop))


def test_srs_means_unbiased(small_pop):
    cols = ["urban_china", "death", "anxious", "age"]
    srs = get_design("srs")
    est = _replicate(srs, small_pop, srs.Params(), 300, lambda s: s[cols].mean().to_numpy())
    for j, col in enumerate(cols):
        mcse = est[:, j].std(ddof=1) / np.sqrt(R)
        assert abs(est[:, j].mean() - small_pop[col].mean()) < 4 * mcse, col
        # the spread matches the SRS formula sd/sqrt(n) x fpc within 20%
        # (the SD of R=200 estimates has relative error about 1/sqrt(2R) = 5%; 20% = 4 SE)
        theory = small_pop[col].std() / np.sqrt(300) * np.sqrt(1 - 300 / len(small_pop))
        assert abs(est[:, j].std(ddof=1) / theory - 1) < 0.20, col


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


def test_quota_without_reach_is_unbiased_with_weights(small_pop):
    quota = get_design("quota")
    params = quota.Params(allocation="equal", reach={})
    est = _replicate(quota, small_pop, params, 400,
                     lambda s: np.average(s["urban_china"], weights=s["weight"]), reps=120)
    mcse = est.std(ddof=1) / np.sqrt(120)
    assert abs(est.mean() - small_pop["urban_china"].mean()) < 4 * mcse


def test_quota_selection_on_unobservables_biases(small_pop):
    """Reach by distress inside the cells: cells cannot remove it (distress is not a cell)."""
    quota = get_design("quota")
    params = quota.Params(reach={"distress": 1.0})
    est = _replicate(quota, small_pop, params, 400,
                     lambda s: np.average(s["distress"], weights=s["weight"]), reps=50)
    mcse = est.std(ddof=1) / np.sqrt(50)
    assert est.mean() - small_pop["distress"].mean() > 10 * mcse
