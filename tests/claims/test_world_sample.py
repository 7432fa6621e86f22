"""The descriptive suite on samples of the DEFAULT world (issue 11): every table of the
paper (1-6, 8) and the text's numbers, each with valid N and a gender test; every claim
evaluable; the sample shares of the new variables hit the printed numbers in
expectation (Monte Carlo over paper-design samples)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.claims import CLAIM_IDS, evaluate_claims
from sim_refugee.designs import get_design
from sim_refugee.seeds import rng_for
from sim_refugee.suite import run_suite
from sim_refugee.suite.tables import descriptive_tables
from sim_refugee.world import WorldConfig, build_population

SEED = 20261127


@pytest.fixture(scope="module")
def pop() -> pd.DataFrame:
    return build_population(WorldConfig(), 0)


@pytest.fixture(scope="module")
def paper_state(pop):
    d = get_design("paper")
    return d.prepare(pop, d.Params(), rng_for(SEED, "prepare", 0))


def _paper_sample(pop: pd.DataFrame, state, rep: int) -> pd.DataFrame:
    d = get_design("paper")
    return d.draw(pop, state, 1346, d.Params(), rng_for(SEED, "sample", 0, rep))


@pytest.fixture(scope="module")
def one(pop, paper_state):
    sample = _paper_sample(pop, paper_state, 0)
    return sample, run_suite(sample, include_variants=True)


def test_every_claim_evaluable_on_a_default_sample(one):
    _, res = one
    out = evaluate_claims(res)
    assert list(out.index) == list(CLAIM_IDS)
    assert out.notna().all(), list(out[out.isna()].index)
    assert out["women_more_arrest_fear"] is not pd.NA


def test_every_paper_table_with_valid_n_and_gender_test(one):
    sample, res = one
    tests = res.tests
    assert {"1", "2", "4", "5", "6", "8", "text"} <= set(tests["table"])
    assert np.isfinite(tests["statistic"]).all() and (tests["nobs"] > 0).all()
    t3 = res.tables[res.tables["table"] == "3"]
    assert set(t3["item"]) == {"anxious", "fear", "fearfamily", "anger", "concentrate",
                               "attain", "hope", "badthings", "unsure_future"}
    # a sub-question's valid N is its subgroup's (counted here with pandas): those who
    # answered 'yes' to the parent question (a blank parent blanks its follow-ups)
    s = res.scalars
    camp_yes = int((sample["camp"] == 1).sum())
    assert s["valid_n.witness_starvation.total"] == camp_yes
    assert sample["witness_starvation"].isin(["yes", "no"]).sum() == camp_yes
    assert 0 < camp_yes < 0.2 * len(sample)
    assert s["valid_n.family_missing_why.total"] == int((sample["family_missing"] == 1).sum())
    # the text's students: the by-student table counts students apart
    assert s["valid_n.plan_return.by_student.student"] == int((sample["student"] == 1).sum())


def test_new_shares_hit_the_papers_numbers_in_expectation(pop, paper_state):
    """Mean over 12 paper-design samples of 1,346 against the PRINTED number (not the
    calibration's): within 4 Monte Carlo SEs plus 0.005 (the calibration tolerance and
    the finite population's own noise)."""
    keys = {  # scalar -> the paper's number
        "share.anxiety_reason.arrest.total": 0.67,
        "share.anxiety_reason.home.total": 0.15,
        "share.witness_starvation.yes.total": 0.90,
        "share.children_separated.1.total": 0.79,
        "share.returned_nk.1.total": 0.20,
        "share.wage.fair.total": 0.13,
        "share.plan_return.by_student.1.student": 0.31,
        "share.family_missing_why.crossing.total": 0.59,
    }
    vals = np.array([[descriptive_tables(_paper_sample(pop, paper_state, r))[2][k] for k in keys]
                     for r in range(1, 13)])
    mean = vals.mean(axis=0)
    mcse = vals.std(axis=0, ddof=1) / np.sqrt(len(vals))
    for (k, want), m, se in zip(keys.items(), mean, mcse, strict=True):
        assert abs(m - want) < 4 * se + 0.005, (k, m, se, want)
