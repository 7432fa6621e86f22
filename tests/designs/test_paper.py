"""The paper's convenience design on the real world generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim_refugee.designs import get_design
from sim_refugee.designs import paper as paper_mod
from sim_refugee.errors import UserInputError
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.targets import assumption_defaults
from sim_refugee.world import SITES, ReachParams, WorldConfig, build_population, reach_propensity

DESIGN = get_design("paper")


@pytest.fixture(scope="module")
def world_pop():
    return build_population(WorldConfig(size=60_000), seed_sequence(21, "population", 0))


def quota_weights(pop, reach):
    """Each person's expected share of the sample (site quota x reach share in site)."""
    d = assumption_defaults()
    r = reach_propensity(pop, reach)
    w = np.zeros(len(pop))
    for s in SITES:
        m = (pop["home_site"] == s).to_numpy()
        w[m] = d[f"site.share.{s}"] * r[m] / r[m].sum()
    return w / w.sum()


def test_registry_and_params():
    assert DESIGN is paper_mod.DESIGN and DESIGN.name == "paper"
    with pytest.raises(ValidationError, match="quota_size"):
        DESIGN.Params.model_validate({"quota_size": 3})
    with pytest.raises(ValidationError, match="Beijing"):
        DESIGN.Params.model_validate({"site_quota": {"Beijing": 1.0}})
    with pytest.raises(ValidationError, match="or_urban"):
        DESIGN.Params.model_validate({"reach": {"or_urban": 0}})


@pytest.mark.parametrize("n", [100, 1346, 20_000])
def test_draw_any_n(world_pop, n):
    params = DESIGN.Params()
    state = DESIGN.prepare(world_pop, params, rng_for(1, "prepare", 0, "paper"))
    s = DESIGN.draw(world_pop, state, n, params, rng_for(1, "sample", 0, n))
    assert len(s) == n and s["person_id"].is_unique
    for c in ("site", "interviewer", "incl_prob", "weight", "design", "true_incl_prob"):
        assert c in s
    assert s["incl_prob"].isna().all() and s["weight"].isna().all()
    assert (s["design"] == "paper").all()
    assert (s["site"] == s["home_site"]).all() and set(s["site"]) <= set(SITES)
    assert s["true_incl_prob"].between(0, 1, inclusive="right").all()
    # interviewers are nested in sites
    assert (s.groupby("interviewer")["site"].nunique() == 1).all()
    assert s["interviewer"].between(0, 47).all()
    # site sizes follow the quota shares (largest-remainder rounding: within 1 interview)
    d = assumption_defaults()
    q = pd.Series({st: d[f"site.share.{st}"] for st in SITES})
    counts = s["site"].value_counts().reindex(SITES, fill_value=0)
    assert (abs(counts - n * q / q.sum()) <= 1).all()
    if n >= 1346:
        assert s["interviewer"].nunique() == 48
        # interviewers within a site share its interviews equally (quotas)
        per = s.groupby(["site", "interviewer"]).size().groupby("site").agg(["min", "max"])
        assert (per["max"] - per["min"] <= 1).all()


def test_bad_n_is_a_user_error(world_pop):
    params = DESIGN.Params()
    for bad in (0, -3):
        with pytest.raises(UserInputError, match=rf"^n must be a positive integer, got {bad}$") as e:
            DESIGN.draw(world_pop, None, bad, params, rng_for(1, "x"))
        assert e.value.key == "n"
    with pytest.raises(UserInputError, match=r"^n=10000000 exceeds the population size 60000$"):
        DESIGN.draw(world_pop, None, 10_000_000, params, rng_for(1, "x"))
    # more than the sites can reach, though fewer than the population: the design's own check
    state = DESIGN.prepare(world_pop, params, rng_for(1, "prepare"))
    reachable = int(((state.reach > 0) & (state.site >= 0)).sum())
    assert reachable < len(world_pop)
    with pytest.raises(UserInputError,
                       match=rf"^n={reachable + 1} exceeds the {reachable} people the paper design can reach$"):
        DESIGN.draw(world_pop, state, reachable + 1, params, rng_for(1, "x"))


def test_same_seed_same_sample(world_pop):
    params = DESIGN.Params()
    a = DESIGN.draw(world_pop, None, 500, params, rng_for(7, "sample", 0, 0))
    b = DESIGN.draw(world_pop, None, 500, params, rng_for(7, "sample", 0, 0))
    c = DESIGN.draw(world_pop, None, 500, params, rng_for(7, "sample", 0, 1))
    pd.testing.assert_frame_equal(a, b)
    assert len(set(a["person_id"]) & set(c["person_id"])) < 100


def test_expected_sample_by_large_draws(world_pop):
    """The expected sample used by calibration (successive-sampling inclusion
    probabilities, world.reach.expected_sample_weights) against the design's actual
    draws at a large n: 3 draws of n = 20,000 from 60,000 (a third of each catchment, so
    depletion matters: the n << N formula is off by ~0.03 for urban_china here).
    MC SE of a share over 60,000 interviews <= sqrt(0.25/60000) = 0.002 (less: without
    replacement); tolerance 4 SE + 0.002 for the approximation of pi."""
    from sim_refugee.world.reach import expected_sample_weights

    params = DESIGN.Params()
    state = DESIGN.prepare(world_pop, params, None)
    d = assumption_defaults()
    quotas = {s: d[f"site.share.{s}"] for s in SITES}
    r = reach_propensity(world_pop, ReachParams())
    w = expected_sample_weights(r, world_pop["home_site"], quotas, 20_000)
    w_limit = expected_sample_weights(r, world_pop["home_site"], quotas, None)
    cols = {"female": ("female", 1), "elementary": ("educ", "elementary"), "job": ("job", 1),
            "urban_china": ("urban_china", 1), "us": ("dest", "united_states"),
            "northeast": ("northeast", 1), "church": ("church_tie", 1)}
    draws = pd.concat([DESIGN.draw(world_pop, state, 20_000, params, rng_for(3, "sample", 0, r))
                       for r in range(3)])
    for k, (c, lv) in cols.items():
        y = (world_pop[c] == lv).to_numpy()
        answered = draws[c].notna()  # a share of the valid answers (item nonresponse: MCAR)
        got = (draws.loc[answered, c] == lv).mean()
        assert abs(got - np.sum(w * y)) < 4 * 0.002 + 0.002, (k, got, np.sum(w * y))
    y = world_pop["urban_china"].to_numpy()
    assert np.sum(w_limit * y) - np.sum(w * y) > 0.01  # depletion is real at this n
    # the true_incl_prob column is the same pi
    one = DESIGN.draw(world_pop, state, 20_000, params, rng_for(3, "sample", 0, 9))
    pi = w * 20_000
    np.testing.assert_allclose(one["true_incl_prob"], pi[one["person_id"].to_numpy()],
                               rtol=1e-6)


def test_selection_channels_shift_the_sample(world_pop):
    """OR = 1 everywhere: the sample mirrors the catchment population (quota-weighted);
    OR_urban = 4: urban residents are over-represented."""
    none = DESIGN.Params(reach=ReachParams.none())
    urban = DESIGN.Params(reach=ReachParams.none().model_copy(update={"or_urban": 4.0}))
    s0 = DESIGN.draw(world_pop, None, 5000, none, rng_for(4, "a"))
    s1 = DESIGN.draw(world_pop, None, 5000, urban, rng_for(4, "a"))
    in_catch = world_pop[world_pop["home_site"] != "none"]
    d = assumption_defaults()
    q = {s: d[f"site.share.{s}"] for s in SITES}
    pop_share = sum(q[s] * in_catch.loc[in_catch.home_site == s, "urban_china"].mean()
                    for s in SITES) / sum(q.values())
    se = np.sqrt(0.25 / 5000)
    assert abs(s0["urban_china"].mean() - pop_share) < 4 * se
    assert s1["urban_china"].mean() > pop_share + 0.1


def test_population_selection_is_the_default_reach(world_pop):
    """The design uses the selection the world was calibrated under unless told otherwise."""
    assert world_pop.attrs["selection"] == ReachParams().model_dump()
    pop = world_pop.copy()
    pop.attrs = {**world_pop.attrs, "selection": {**ReachParams().model_dump(), "or_urban": 4.0}}
    st = DESIGN.prepare(pop, DESIGN.Params(), None)
    np.testing.assert_allclose(st.reach, reach_propensity(pop, ReachParams(or_urban=4.0)))


def test_artefacts_hook_is_applied(world_pop):
    params = DESIGN.Params.model_validate({"artefacts": {"duplicate_rate": 0.2}})
    s = DESIGN.draw(world_pop, None, 1000, params, rng_for(5, "b"))
    assert len(s) == 1000 and not s["person_id"].is_unique


def test_famine_channel_over_samples_the_exposed(world_pop):
    """OR_famine = 4 per exposure (foodaid + death): the exposed are over-represented
    against the same draw with the channel off (paired seeds; 4 binomial SEs)."""
    none = DESIGN.Params(reach=ReachParams.none())
    famine = DESIGN.Params(reach=ReachParams.none().model_copy(update={"or_famine": 4.0}))
    s0 = DESIGN.draw(world_pop, None, 5000, none, rng_for(5, "a"))
    s1 = DESIGN.draw(world_pop, None, 5000, famine, rng_for(5, "a"))
    se = np.sqrt(0.25 / 5000)
    for col in ("foodaid", "death"):
        assert s1[col].mean() > s0[col].mean() + 4 * se, col
    assert abs(s1["urban_china"].mean() - s0["urban_china"].mean()) < 0.05  # not a channel
