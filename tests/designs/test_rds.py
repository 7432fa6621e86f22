"""The social network, RDS (RDS-II and SS weights) and snowball sampling.

Replicate studies run through sim_refugee.testing.recovery with the test's keyed seed.
Tolerance: with R replicate estimates, MCSE = sd / sqrt(R); unbiased means
|mean - truth| < 4 MCSE (false alarm 6e-5); biased means a gap above 10 MCSE.
"Where the theory holds": recruitment is random among contacts, degree is reported
exactly, seeds are drawn proportionally to degree (the random walk's equilibrium),
no homophily, sampling fraction 3%. The outcome (urban residence) raises degree, so
the unweighted mean is biased and RDS-II must undo it. The truth is the prevalence
among people with at least one tie (isolates are outside any chain-referral frame).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sim_refugee.designs import get_design
from sim_refugee.designs.rds import rds2_weights, report_degree, ss_weights
from sim_refugee.errors import UserInputError
from sim_refugee.seeds import child_rng
from sim_refugee.testing import recovery
from sim_refugee.world.network import NetworkParams, build_network

R = 200
NET = {"degree_by": {"urban_china": 0.8}, "homophily": {}, "degree_shape": 4.0, "mean_degree": 10.0}
HOLDS = {"degree_error_sd": 0.0, "seed_by_degree": True, "network": NET}


@pytest.fixture(scope="module")
def pop10k():
    from .conftest import make_population

    return make_population(10_000, seed=5)


def _run(pop, cfg, seed, reps=R, n=300):
    """RDS weighted and naive urban share over ``reps`` samples, keyed by ``seed``; the truth
    is the share among people with at least one tie."""
    rds = get_design("rds")
    params = rds.Params.model_validate(cfg)
    net = rds.prepare(pop, params, child_rng(seed, "prepare"))

    def shares(s):
        return pd.Series({"weighted": np.average(s["urban_china"], weights=s["weight"]),
                          "naive": s["urban_china"].mean()}), None

    truth = pop["urban_china"].to_numpy()[net.degree > 0].mean()
    res = recovery(lambda rng: rds.draw(pop, net, n, params, rng), shares,
                   {"weighted": truth, "naive": truth}, reps, seed)
    return res.assert_failure_rate()


def test_network_shape_and_homophily(small_pop):
    params = NetworkParams()
    net = build_network(small_pop, params, np.random.default_rng(0))
    adj = net.adj
    assert sp.isspmatrix_csr(adj) or isinstance(adj, sp.csr_matrix)
    assert (adj != adj.T).nnz == 0
    assert adj.diagonal().sum() == 0
    assert set(np.unique(adj.data)) == {1}
    # mean degree: Poisson edge counts, minus the few self/repeat ties (<2% here)
    assert abs(net.degree.mean() / params.mean_degree - 1) < 0.03
    r, c = adj.nonzero()
    site = small_pop["home_site"].to_numpy()
    same_site = (site[r] == site[c]).mean()
    random_net = build_network(small_pop, NetworkParams(homophily={}), np.random.default_rng(0))
    r0, c0 = random_net.adj.nonzero()
    base = (site[r0] == site[c0]).mean()
    # a share h of ties is within-site by construction; the rest match by chance (base)
    assert same_site == pytest.approx(0.4 + 0.6 * base, abs=0.03)
    # heterogeneous degree: variance well above a Poisson's
    assert net.degree.var() > 3 * net.degree.mean()
    # degree_by: urban residents have more ties (exp(0.3) = 1.35 times the propensity)
    urban = small_pop["urban_china"].to_numpy() == 1
    assert 1.2 < net.degree[urban].mean() / net.degree[~urban].mean() < 1.5


def test_rds_process_rules(pop10k):
    rds = get_design("rds")
    params = rds.Params()
    net = rds.prepare(pop10k, params, np.random.default_rng(1))
    s = rds.draw(pop10k, net, 500, params, np.random.default_rng(2))
    assert s["person_id"].is_unique  # no re-recruitment
    rec = s.loc[s["recruiter_id"] >= 0]
    assert rec["recruiter_id"].value_counts().max() <= 3  # 3 coupons
    # every recruit is a contact of the recruiter, one wave later
    adj = net.adj
    assert all(adj[a, b] == 1 for a, b in zip(rec["recruiter_id"], rec["person_id"], strict=True))
    wave = s.set_index("person_id")["wave"]
    np.testing.assert_array_equal(wave.loc[rec["recruiter_id"]].to_numpy() + 1, rec["wave"].to_numpy())
    assert (s.loc[s["recruiter_id"] < 0, "wave"] == 0).all()
    assert s["weight"].sum() == pytest.approx(len(pop10k))


def test_reported_degree_error():
    rng = np.random.default_rng(0)
    d = np.full(20_000, 20)
    rep = report_degree(d, 0.3, False, rng)
    # log(rep / d) ~ N(0, 0.3) up to rounding: SD within 5% (relative SE 1/sqrt(2m) = 0.5%)
    assert np.std(np.log(rep / d)) == pytest.approx(0.3, rel=0.05)
    heaped = report_degree(d, 0.3, True, rng)
    assert np.all((heaped <= 10) | (heaped % 5 == 0))
    assert np.all(report_degree(np.array([0, 1]), 0.0, False, rng) >= 1)


def test_rds2_weights_formula():
    w = rds2_weights(np.array([1.0, 2.0, 4.0]), total=7.0)
    np.testing.assert_allclose(w, [4.0, 2.0, 1.0])
    with pytest.raises(UserInputError, match="degree"):
        rds2_weights(np.array([0.0, 1.0]))


def test_ss_weights_limits():
    deg = np.random.default_rng(3).integers(1, 30, 500).astype(float)
    # huge population: successive sampling approaches sampling proportional to degree
    np.testing.assert_allclose(ss_weights(deg, 1e9) / 1e9, rds2_weights(deg, 1.0), rtol=1e-3)
    w = ss_weights(deg, 2000.0)
    assert w.sum() == pytest.approx(2000.0)
    # a sizeable sampling fraction: high-degree units are depleted, so SS weights are
    # flatter than RDS-II (weight ratio highest/lowest degree closer to 1)
    r2 = rds2_weights(deg, 2000.0)
    lo, hi = deg == deg.min(), deg == deg.max()
    assert w[lo][0] / w[hi][0] < r2[lo][0] / r2[hi][0]
    assert np.all(w >= 1.0 - 1e-12)  # inclusion probabilities are at most 1
    with pytest.raises(UserInputError, match="population_size_guess"):
        ss_weights(deg, 400.0)


def test_rds2_unbiased_where_theory_holds(pop10k, keyed_seed, recovery_reps):
    res = _run(pop10k, HOLDS, keyed_seed, reps=recovery_reps(R))
    res.assert_unbiased(z=4.0, terms="weighted")
    assert res.bias["naive"] > 10 * res.mcse.loc["naive", "bias"], res.summary()


def test_rds2_biased_under_differential_recruitment(pop10k, keyed_seed, recovery_reps):
    """Urban residents accept coupons far more readily (log-odds +2): RDS-II cannot see it."""
    res = _run(pop10k, {**HOLDS, "accept_by": {"urban_china": 2.0}}, keyed_seed,
               reps=recovery_reps(60))
    assert res.bias["weighted"] > 10 * res.mcse.loc["weighted", "bias"], res.summary()


def test_rds_population_size_guess_and_ss_estimator(pop10k):
    rds = get_design("rds")
    params = rds.Params.model_validate({**HOLDS, "estimator": "ss", "population_size_guess": 5000})
    s = rds.draw(pop10k, None, 300, params, np.random.default_rng(0))
    assert s["weight"].sum() == pytest.approx(5000)
    np.testing.assert_allclose(s["weight"], ss_weights(s["reported_degree"].to_numpy(), 5000))


def test_snowball_over_samples_high_degree(pop10k):
    snow = get_design("snowball")
    params = snow.Params()
    net = snow.prepare(pop10k, params, np.random.default_rng(0))
    s = snow.draw(pop10k, net, 400, params, np.random.default_rng(1))
    assert s["person_id"].is_unique
    assert s["weight"].isna().all()
    assert s["degree"].mean() > 1.3 * net.degree.mean()
    # no coupon limit: some respondent refers more than 3 people
    assert s.loc[s["recruiter_id"] >= 0, "recruiter_id"].value_counts().max() > 3


def test_ss_corrects_depletion_where_rds2_breaks(keyed_seed, recovery_reps):
    """Sampling fraction 30% (1,200 of 4,000): high-degree people are used up, so RDS-II
    (which assumes sampling with replacement) under-states the high-degree (urban)
    share; Gile's SS with the right population size removes the bias. Seen by hand at
    R = 150: RDS-II z = -24, SS z = -0.6; here R = 60 (MCSE about 0.002)."""
    from .conftest import make_population

    pop = make_population(4_000, seed=2)
    rds = get_design("rds")
    params = rds.Params.model_validate(HOLDS)
    net = rds.prepare(pop, params, child_rng(keyed_seed, "prepare"))
    connected = int((net.degree > 0).sum())
    truth = pop["urban_china"].to_numpy()[net.degree > 0].mean()

    def rds2_and_ss(s):
        deg, y = s["reported_degree"].to_numpy(), s["urban_china"].to_numpy()
        return pd.Series({"rds2": np.average(y, weights=rds2_weights(deg)),
                          "ss": np.average(y, weights=ss_weights(deg, connected))}), None

    res = recovery(lambda rng: rds.draw(pop, net, 1200, params, rng), rds2_and_ss,
                   {"rds2": truth, "ss": truth}, recovery_reps(60), keyed_seed)
    res.assert_failure_rate()
    assert -res.bias["rds2"] > 10 * res.mcse.loc["rds2", "bias"], res.summary()
    res.assert_unbiased(z=4.0, terms="ss")


def test_rds2_biased_with_outcome_homophily_and_few_seeds(pop10k, keyed_seed, recovery_reps):
    """Strong homophily on the outcome (90% of ties among same urban status) and 2 seeds,
    both urban (as are any fresh seeds): chains stay mostly urban; RDS-II cannot recover.

    The bias is large (about 0.25) but so is the spread between samples of two chains
    (sd 0.15-0.18), so at 40 replications the expected gap is only 9-11 MCSE (with the
    keyed seed it was 8.7); 80 replications put it near 12-15, clear of the 10 required."""
    cfg = {
        **HOLDS,
        "network": {**NET, "homophily": {"urban_china": 0.9}},
        "n_seeds": 2,
        "seed_pool": {"urban_china": 1},
    }
    res = _run(pop10k, cfg, keyed_seed, reps=recovery_reps(80))
    assert res.bias["weighted"] > 10 * res.mcse.loc["weighted", "bias"], res.summary()
