"""The designs on the project's real world generator (Contract 2), and the suite's N.

The world is built uncalibrated (calibration="none") at 20,000 people to stay fast;
the designs only rely on Contract-1 columns, which calibration does not change.
Tolerances as elsewhere: |mean - truth| < 4 MCSE for "unbiased" (through
sim_refugee.testing), binomial 4-SD bounds for counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.designs import DESIGN_NAMES, get_design
from sim_refugee.designs.artefacts import LIKERT_ITEMS, effective_n
from sim_refugee.designs.base import SAMPLE_EXTRA_COLUMNS
from sim_refugee.designs.srs import replicate_statistic
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.testing import Recovery

world = pytest.importorskip("sim_refugee.world")


@pytest.fixture(scope="module")
def world_pop():
    cfg = world.WorldConfig(size=20_000, calibration="none")
    return world.build_population(cfg, seed_sequence(3, "population", 0))


@pytest.mark.parametrize("name", DESIGN_NAMES)
def test_every_design_on_the_world(world_pop, name):
    design = get_design(name)
    params = design.Params.model_validate(
        {"artefacts": {"duplicate_rate": 0.05, "nonresponse_rate": 0.05, "memorised_rate": 0.2,
                       "interviewer_sd": 0.2}}
    )
    state = design.prepare(world_pop, params, rng_for(3, "prepare", 0, name))
    s = design.draw(world_pop, state, 600, params, rng_for(3, "sample", 0, 0))
    assert len(s) == 600
    for col in SAMPLE_EXTRA_COLUMNS:
        assert col in s
    eff = effective_n(s)
    assert eff["persons"] < 600
    assert eff["valid_anxious"] < 600
    if name in ("tls", "rds"):
        assert np.isfinite(s["weight"]).all()


SEEDS = "root 3 (Contract 6: sample r from rng_for(3, 'sample', 0, r))"


def test_srs_unbiased_for_population_means_on_the_world(world_pop, recovery_reps):
    cols = ["death", "arrest", "urban_china", "job", "prefer_us", "avgpsych"]
    est = replicate_statistic("srs", world_pop, 400, recovery_reps(150),
                              lambda s: s[cols].mean(), root=3)
    res = Recovery.from_arrays(pd.DataFrame(est, columns=cols), None, world_pop[cols].mean(),
                               seed=SEEDS)
    res.assert_failure_rate().assert_unbiased(z=4.0)


def test_tls_on_the_world_weights_undo_frequency(world_pop, recovery_reps):
    """Everyone attends (TLS theory holds): weighted urban share unbiased; unweighted not."""
    params = {"venues": {"attend_all": True}}
    est = replicate_statistic(
        "tls", world_pop, 400, recovery_reps(100),
        lambda s: [np.average(s["urban_china"], weights=s["weight"]), s["urban_china"].mean()],
        root=3, params=params,
    )
    truth = world_pop["urban_china"].mean()
    res = Recovery.from_arrays(pd.DataFrame(est, columns=["weighted", "naive"]), None, truth,
                               seed=SEEDS)
    res.assert_failure_rate().assert_unbiased(z=4.0, terms="weighted")
    assert res.bias["naive"] > 10 * res.mcse.loc["naive", "bias"], res.summary()


def test_nonresponse_and_duplicates_change_the_suites_n(world_pop):
    suite = pytest.importorskip("sim_refugee.suite")
    srs = get_design("srs")
    clean = srs.draw(world_pop, None, 600,
                     srs.Params.model_validate({"artefacts": {"item_nonresponse": "none"}}),
                     rng_for(3, "sample", 0, 1))
    params = srs.Params.model_validate(
        {"artefacts": {"nonresponse_rate": 0.2, "duplicate_rate": 0.1,
                       "item_nonresponse": "none"}}
    )
    dirty = srs.draw(world_pop, None, 600, params, rng_for(3, "sample", 0, 1))
    res_clean = suite.run_suite(clean, include_variants=False)
    res_dirty = suite.run_suite(dirty, include_variants=False)
    eff = effective_n(dirty)
    for item in LIKERT_ITEMS:
        rows = res_dirty.tables.query("item == @item and group == 'total'")
        assert (rows["valid_n"] == eff[f"valid_{item}"]).all(), item
        clean_rows = res_clean.tables.query("item == @item and group == 'total'")
        assert (clean_rows["valid_n"] == 600).all()
        missing = 600 - eff[f"valid_{item}"]
        assert abs(missing - 120) < 4 * np.sqrt(600 * 0.2 * 0.8), item
        # the item's Table 7 model is fitted on fewer rows
        est = res_dirty.estimates
        nobs = est.loc[est["model"] == f"t7_{item}", "nobs"].iloc[0]
        assert nobs <= eff[f"valid_{item}"]
    # duplicates: rows stay 600, distinct persons (the effective N) are fewer, and the
    # suite reports both
    assert eff["rows"] == 600 and eff["persons"] < 600
    assert res_dirty.scalars["sample.rows"] == 600
    assert res_dirty.scalars["sample.persons"] == eff["persons"]
    assert res_clean.scalars["sample.persons"] == 600
    assert abs((600 - eff["persons"]) - 60) < 4 * np.sqrt(600 * 0.1 * 0.9)
