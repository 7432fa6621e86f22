"""Time-location sampling: venues, weights, unbiasedness where TLS theory holds, bias where not.

Replicates run through sim_refugee.testing.recovery with the test's keyed seed.
Tolerance: with R replicate estimates, MCSE = sd / sqrt(R); unbiased means
|mean - truth| < 4 MCSE (false alarm 6e-5); biased means the gap exceeds 10 MCSE
(6 MCSE for the misreported-frequency case, a smaller bias: still a two-sided
p < 2e-9 were the design unbiased).
The weighted prevalence is a ratio (Hajek) estimator, whose O(1/n) bias (n = 400) is
far below the MCSE here (about 0.003), and screening out repeat intercepts adds an
error of the order of the sampling fraction (2%), also below it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.designs import get_design
from sim_refugee.designs.tls import tls_weights
from sim_refugee.seeds import child_rng
from sim_refugee.testing import recovery
from sim_refugee.world.venues import VenueParams, build_venues

R = 150


def _run(pop, cfg, seed, reps=R, n=400):
    """Weighted (Hajek) and naive urban share over ``reps`` TLS samples, keyed by ``seed``."""
    tls = get_design("tls")
    params = tls.Params.model_validate(cfg)
    state = tls.prepare(pop, params, child_rng(seed, "prepare"))

    def shares(s):
        return pd.Series({"weighted": np.average(s["urban_china"], weights=s["weight"]),
                          "naive": s["urban_china"].mean()}), None

    truth = pop["urban_china"].mean()
    res = recovery(lambda rng: tls.draw(pop, state, n, params, rng), shares,
                   {"weighted": truth, "naive": truth}, reps, seed)
    return res.assert_failure_rate()


def test_venue_structure(small_pop):
    ven = build_venues(small_pop, VenueParams(), np.random.default_rng(0))
    n_sites = small_pop["home_site"].nunique() - 1
    assert len(ven.venues) == n_sites * (4 + 3 + 6)
    assert ven.n_units == len(ven.venues) * 14 * 3
    # outsiders never attend; attenders' frequency is the sum of their rates x slots
    outside = (small_pop["home_site"] == "none").to_numpy()
    assert np.all(ven.visit_frequency[outside] == 0)
    expect = np.bincount(ven.link_person, weights=ven.link_rate, minlength=len(small_pop)) * 42
    np.testing.assert_allclose(ven.visit_frequency, expect)
    # each venue's links are contiguous and belong to the venue's site
    sites = small_pop["home_site"].to_numpy()
    for v in range(0, len(ven.venues), 7):
        lo, hi = ven.venue_start[v], ven.venue_start[v + 1]
        assert np.all(sites[ven.link_person[lo:hi]] == ven.venues.loc[v, "site"])
    # church ties drive church attendance (a named assumption of the default types)
    church = ven.venues["type"].to_numpy()[ven.link_venue] == "church"
    tie = small_pop["church_tie"].to_numpy()[ven.link_person[church]]
    assert tie.mean() > 2 * small_pop["church_tie"].mean()
    all_ = build_venues(small_pop, VenueParams(attend_all=True), np.random.default_rng(0))
    assert np.all(all_.visit_frequency > 0)


def test_weight_formula():
    np.testing.assert_allclose(tls_weights(0.1, np.array([0.5, 1.0]), np.array([2.0, 4.0])),
                               [1 / (0.1 * 0.5 * 2.0), 1 / (0.1 * 1.0 * 4.0)])


def test_tls_unbiased_when_everyone_attends(small_pop, keyed_seed, recovery_reps):
    res = _run(small_pop, {"venues": {"attend_all": True}}, keyed_seed, reps=recovery_reps(R))
    res.assert_unbiased(z=4.0, terms="weighted")
    # the unweighted mean is badly biased (urban residents frequent markets more)
    assert res.bias["naive"] > 10 * res.mcse.loc["naive", "bias"], res.summary()


@pytest.mark.parametrize(
    "cfg",
    [
        # non-attenders exist: everyone outside a catchment (rarely urban) is unreachable
        {},
        # everyone attends, but visit frequency is reported compressed (frequent,
        # mostly urban, attenders under-report), so weights under-correct
        {"venues": {"attend_all": True}, "frequency_report_power": 0.3},
    ],
    ids=["non_attenders", "frequency_misreported"],
)
def test_tls_biased_when_assumptions_break(small_pop, cfg, keyed_seed, recovery_reps):
    # the biases are large: 60 replications keep the MCSE near 0.005
    res = _run(small_pop, cfg, keyed_seed, reps=recovery_reps(60))
    assert res.bias["weighted"] > (6 if cfg else 10) * res.mcse.loc["weighted", "bias"], res.summary()
