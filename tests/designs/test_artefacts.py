"""Artefacts: only the paper's item nonresponse is on by default, and each artefact
changes what it should by the amount it should (the others are tested with item
nonresponse off, so each is seen alone).

Binomial tolerances: a count X ~ Binomial(m, p) is checked against |X - m p| < 4 sd,
sd = sqrt(m p (1 - p)) (false alarm 6e-5 per check); seeds are fixed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.designs import get_design
from sim_refugee.designs.artefacts import (
    LIKERT_ITEMS,
    QUESTION_COLUMNS,
    ArtefactParams,
    apply_artefacts,
    effective_n,
    paper_nonresponse_shares,
)


def P(**kw) -> ArtefactParams:
    """Artefact params with the default item nonresponse switched off."""
    return ArtefactParams(item_nonresponse="none", **kw)


@pytest.fixture(scope="module")
def base_sample(small_pop):
    srs = get_design("srs")
    params = srs.Params.model_validate({"artefacts": {"item_nonresponse": "none"}})
    return srs.draw(small_pop, None, 2000, params, np.random.default_rng(4))


def _within(x, m, p):
    return abs(x - m * p) < 4 * np.sqrt(m * p * (1 - p))


def test_everything_but_item_nonresponse_off_by_default(base_sample, small_pop):
    out = apply_artefacts(base_sample, small_pop, P(), np.random.default_rng(0))
    pd.testing.assert_frame_equal(out, base_sample)
    for params in (ArtefactParams(), None):  # the default: the paper's blanks, nothing else
        out = apply_artefacts(base_sample, small_pop, params, np.random.default_rng(0))
        shares = paper_nonresponse_shares()
        checked = 0
        for q, cols in QUESTION_COLUMNS.items():
            if cols[0] not in out:  # the test population lacks some questions
                continue
            checked += 1
            blank = out[cols[0]].isna()
            assert blank.sum() == round(shares[q] * len(base_sample)), q
            for c in cols:  # answered cells untouched
                assert (out.loc[~blank, c].to_numpy() == base_sample.loc[~blank, c].to_numpy()).all()
        assert checked >= len(LIKERT_ITEMS)
        assert out["age"].equals(base_sample["age"])


def test_duplicates_shrink_distinct_persons(base_sample, small_pop):
    p = P(duplicate_rate=0.1, duplicate_mode="copy")
    out = apply_artefacts(base_sample, small_pop, p, np.random.default_rng(1))
    eff = effective_n(out)
    assert eff["rows"] == len(base_sample)
    n_dup = int(out["duplicate"].sum())
    assert _within(n_dup, len(base_sample), 0.1)
    assert eff["persons"] == len(base_sample) - n_dup
    # copies carry the original's answers and weight exactly
    dups = out[out["duplicate"] == 1]
    orig = out[out["duplicate"] == 0].set_index("person_id")
    for col in [*LIKERT_ITEMS, "age", "weight"]:
        np.testing.assert_array_equal(dups[col].to_numpy(), orig.loc[dups["person_id"], col].to_numpy())
    # base sample untouched
    assert base_sample["person_id"].is_unique


def test_redrawn_duplicates_differ_at_the_error_rate(base_sample, small_pop):
    p = P(duplicate_rate=0.2, duplicate_mode="redraw", duplicate_redraw_error=0.3)
    out = apply_artefacts(base_sample, small_pop, p, np.random.default_rng(2))
    dups = out[out["duplicate"] == 1]
    orig = out[out["duplicate"] == 0].set_index("person_id").loc[dups["person_id"]]
    a = dups[list(LIKERT_ITEMS)].to_numpy()
    b = orig[list(LIKERT_ITEMS)].to_numpy()
    assert np.all(np.abs(a - b) <= 1)  # adjacent categories only
    assert _within(int((a != b).sum()), a.size, 0.3)


def test_memorised_answers_misclassify_adjacent(base_sample, small_pop):
    p = P(memorised_rate=0.5, memorised_error=0.2)
    out = apply_artefacts(base_sample, small_pop, p, np.random.default_rng(3))
    memo = out["memorised"].to_numpy() == 1
    assert _within(memo.sum(), len(out), 0.5)
    before = base_sample[list(LIKERT_ITEMS)].to_numpy(float)
    after = out[list(LIKERT_ITEMS)].to_numpy(float)
    assert np.all(before[~memo] == after[~memo])
    assert np.all(np.abs(before - after) <= 1) and after.min() >= 1 and after.max() <= 4
    assert _within(int((before[memo] != after[memo]).sum()), before[memo].size, 0.2)
    # avgpsych follows the reported items
    np.testing.assert_allclose(out["avgpsych"], after.mean(axis=1))


def test_mcar_nonresponse_shrinks_valid_n(base_sample, small_pop):
    p = P(nonresponse_rate=0.15)
    out = apply_artefacts(base_sample, small_pop, p, np.random.default_rng(5))
    eff = effective_n(out)
    for item in LIKERT_ITEMS:
        missing = len(out) - eff[f"valid_{item}"]
        assert _within(missing, len(out), 0.15), item
    assert eff["persons"] == len(out)
    # avgpsych is the mean of the answered items
    block = out[list(LIKERT_ITEMS)].to_numpy(float)
    np.testing.assert_allclose(out["avgpsych"], np.nanmean(block, axis=1))


def test_mnar_value_removes_high_answers(base_sample, small_pop):
    p = P(nonresponse_rate=0.1, nonresponse_mechanism="mnar_value", nonresponse_slope=1.5)
    out = apply_artefacts(base_sample, small_pop, p, np.random.default_rng(6))
    before = base_sample["anxious"].to_numpy(float)
    miss = out["anxious"].isna().to_numpy()
    assert miss[before == 4].mean() > 3 * miss[before == 1].mean()
    # so the observed mean is biased down: the MNAR signature
    assert out["anxious"].mean() < base_sample["anxious"].mean()


def test_mnar_distress(base_sample, small_pop):
    p = P(nonresponse_rate=0.1, nonresponse_mechanism="mnar_distress", nonresponse_slope=1.0)
    out = apply_artefacts(base_sample, small_pop, p, np.random.default_rng(7))
    miss = out["hope"].isna()
    assert out.loc[miss, "distress"].mean() > out.loc[~miss, "distress"].mean() + 0.3


def test_interviewer_effect_creates_clustering(base_sample, small_pop):
    def icc_share(frame):
        # share of item variance between interviewers (one-way ANOVA R^2)
        g = frame.groupby("interviewer")["anxious"]
        between = (g.transform("mean") - frame["anxious"].mean()).pow(2).sum()
        return between / (frame["anxious"] - frame["anxious"].mean()).pow(2).sum()

    none = apply_artefacts(base_sample, small_pop, P(), np.random.default_rng(8))
    some = apply_artefacts(base_sample, small_pop, P(interviewer_sd=0.5),
                           np.random.default_rng(8))
    # without effect R^2 ~ (groups-1)/(n-1) = 47/1999 = 0.024; with sd 0.5 on the latent
    # scale the between share is roughly 0.25 / (1 + 0.25) = 0.2 of the latent variance
    assert icc_share(none) < 0.05
    assert icc_share(some) > 0.10
    # the marginal distribution stays on 1..4
    assert set(np.unique(some["anxious"])) <= {1.0, 2.0, 3.0, 4.0}


def test_zero_shift_keeps_answers(base_sample, small_pop):
    from sim_refugee.designs.artefacts import _interviewer_shift

    s = base_sample.copy()
    _interviewer_shift(s, small_pop, LIKERT_ITEMS, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(s[list(LIKERT_ITEMS)].to_numpy(float),
                                  base_sample[list(LIKERT_ITEMS)].to_numpy(float))


def test_artefacts_switchable_on_every_design(small_pop):
    cfg = {"artefacts": {"duplicate_rate": 0.1, "nonresponse_rate": 0.2}}
    for name in ["srs", "quota", "tls", "rds", "snowball"]:
        design = get_design(name)
        params = design.Params.model_validate(cfg)
        s = design.draw(small_pop, None, 300, params, np.random.default_rng(9))
        eff = effective_n(s)
        assert eff["persons"] < eff["rows"], name
        assert eff["valid_anxious"] < eff["rows"], name
