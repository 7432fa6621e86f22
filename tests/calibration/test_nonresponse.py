"""Item nonresponse gives every Table 7 and Table 9 fit its printed valid N."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim_refugee.calibration.cells import N_PATTERNS, n_matches
from sim_refugee.calibration.nonresponse import PAPER_VALID_N, solve_shares, valid_n
from sim_refugee.designs import get_design
from sim_refugee.designs.artefacts import ArtefactParams, paper_nonresponse_shares
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.suite import run_suite
from sim_refugee.world import WorldConfig, build_population


def test_shipped_shares_are_the_solvers():
    """The defaults in assumptions.yaml are what the documented solve gives."""
    assert solve_shares() == pytest.approx(paper_nonresponse_shares(), abs=0)


def test_every_chosen_n_prints_as_the_paper():
    shares = paper_nonresponse_shares()
    for model, (target, _, _) in PAPER_VALID_N.items():
        assert valid_n(model, shares, 1346) == target
        assert n_matches(target, N_PATTERNS[model]), model
    assert valid_n("t9_2spls_job", shares, 1346) < 1000  # 'fitted on under 1,000'


@pytest.fixture(scope="module")
def pop():
    return build_population(WorldConfig(size=20_000), seed_sequence(5, "population", 0))


@pytest.mark.parametrize("design", ["paper", "srs"])
def test_suite_valid_ns_on_real_samples(pop, design):
    """Drawn and analysed: each fit's N is the chosen one, in every sample (monotone)."""
    d = get_design(design)
    params = d.Params()
    state = d.prepare(pop, params, rng_for(5, "prepare", 0, design))
    for rep in range(2):
        sample = d.draw(pop, state, 1346, params, rng_for(5, "sample", 0, rep))
        res = run_suite(sample, include_variants=False)
        nobs = res.estimates.groupby("model")["nobs"].first()
        for model, (target, _, _) in PAPER_VALID_N.items():
            # a probit drops the rows of a dummy that predicts the outcome perfectly (as
            # Stata does; the 2SPLS's rare trader dummy may): the N falls by exactly those
            dropped = sum(int(m) for m in re.findall(r"and (\d+) rows dropped",
                                                     res.messages.get(model, "")))
            assert nobs[model] == target - dropped, (design, rep, model)


def test_independent_pattern_has_the_same_blanks_per_question(pop):
    d = get_design("srs")
    params = d.Params.model_validate({"artefacts": {"item_nonresponse_pattern": "independent"}})
    sample = d.draw(pop, None, 1346, params, rng_for(6, "sample", 0, 0))
    shares = paper_nonresponse_shares()
    for q in ("anxious", "camp", "job", "children"):
        assert sample[q].isna().sum() == round(shares[q] * 1346)
    # not nested: some interview misses camp but answers anxious
    assert (sample["camp"].isna() & sample["anxious"].notna()).any()


def test_distress_tilt_makes_nonresponse_mnar(pop):
    """With a positive distress slope the blanks come from the distressed."""
    d = get_design("srs")
    p = d.Params.model_validate({"artefacts": {"item_nonresponse_distress": 2.0}})
    s = d.draw(pop, None, 1346, p, rng_for(7, "sample", 0, 0))
    blank = s["concentrate"].isna().to_numpy()
    dist = s["distress"].to_numpy()
    assert dist[blank].mean() - dist[~blank].mean() > 0.5


def test_none_switches_it_off(pop):
    d = get_design("srs")
    p = d.Params.model_validate({"artefacts": {"item_nonresponse": "none"}})
    s = d.draw(pop, None, 1346, p, rng_for(8, "sample", 0, 0))
    assert not s[["anxious", "job", "dest", "children"]].isna().any().any()
    assert ArtefactParams(item_nonresponse="none").nonresponse_shares() == {}
    assert np.isclose(ArtefactParams().nonresponse_shares()["children"], 399 / 1346, atol=1e-6)
