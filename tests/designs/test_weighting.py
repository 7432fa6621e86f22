"""Raking reproduces its target margins exactly; trimming respects its cap and the total."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.designs.weighting import margins_from, rake, trim
from sim_refugee.errors import UserInputError


@pytest.fixture()
def frame():
    rng = np.random.default_rng(7)
    n = 800
    return pd.DataFrame(
        {
            "female": rng.binomial(1, 0.7, n),
            "province": rng.choice(["NH", "SH", "RG", "PY", "other"], n, p=[0.5, 0.2, 0.1, 0.05, 0.15]),
            "urban_china": rng.binomial(1, 0.8, n),
        }
    )


MARGINS = {
    "female": {0: 0.45, 1: 0.55},
    "province": {"NH": 0.3, "SH": 0.25, "RG": 0.15, "PY": 0.1, "other": 0.2},
    "urban_china": {0: 0.5, 1: 0.5},
}


def test_rake_hits_margins_exactly(frame):
    base = np.random.default_rng(1).uniform(0.5, 2.0, len(frame))
    w = rake(frame, MARGINS, base_weights=base, total=10_000)
    assert w.sum() == pytest.approx(10_000, rel=1e-12)
    got = margins_from(frame, list(MARGINS), w)
    for col, target in MARGINS.items():
        for level, share in target.items():
            assert abs(got[col][level] - share) < 1e-8, (col, level)
    assert (w > 0).all()


def test_rake_to_own_margins_changes_nothing(frame):
    own = margins_from(frame, ["female", "province"])
    w = rake(frame, own)
    np.testing.assert_allclose(w, 1.0, atol=1e-10)


def test_rake_single_margin_is_poststratification(frame):
    w = rake(frame, {"female": {0: 0.45, 1: 0.55}}, total=1.0)
    counts = frame["female"].value_counts()
    expect = frame["female"].map({0: 0.45 / counts[0], 1: 0.55 / counts[1]})
    np.testing.assert_allclose(w, expect, rtol=1e-12)


def test_wrong_margins_move_the_estimate(frame):
    """Raking to wrong (e.g. South Korean arrival) margins is allowed and shifts estimates."""
    right = rake(frame, {"urban_china": {0: 0.2, 1: 0.8}})
    wrong = rake(frame, {"urban_china": {0: 0.6, 1: 0.4}})
    assert np.average(frame["urban_china"], weights=right) == pytest.approx(0.8, abs=1e-8)
    assert np.average(frame["urban_china"], weights=wrong) == pytest.approx(0.4, abs=1e-8)


def test_rake_bad_margins_named(frame):
    with pytest.raises(UserInputError, match="province"):
        rake(frame, {"province": {"NH": 0.5, "SH": 0.5}})  # sample levels without target
    with pytest.raises(UserInputError, match="female"):
        rake(frame, {"female": {0: 0.5, 1: 0.6}})  # shares do not sum to 1
    with pytest.raises(UserInputError, match="nope"):
        rake(frame, {"nope": {0: 1.0}})
    with pytest.raises(UserInputError, match="female"):
        rake(frame, {"female": {0: 0.4, 1: 0.4, 2: 0.2}})  # level with share but no rows


def test_trim_caps_and_keeps_total():
    w = pd.Series(np.random.default_rng(3).lognormal(0, 1.2, 2000))
    t = trim(w, cap_median_multiple=3.0)
    cap = 3.0 * np.median(w)
    assert t.max() <= cap * (1 + 1e-12)
    assert t.sum() == pytest.approx(w.sum(), rel=1e-12)
    # uncapped weights are scaled by one common factor (>1), order preserved
    below = t < cap * (1 - 1e-9)
    ratio = (t[below] / w[below]).to_numpy()
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    assert ratio[0] > 1
    t2 = trim(w, cap_quantile=0.95)
    assert t2.max() <= np.quantile(w, 0.95) * (1 + 1e-12)
    assert t2.sum() == pytest.approx(w.sum(), rel=1e-12)


def test_trim_small_case_by_hand():
    # weights 1,1,1,7 (sum 10), cap 2 x median(=1) = 2: the 7 becomes 2 and the excess 5
    # is spread over the three 1s (-> 8/3 each), which then exceed the cap too, so all
    # four are capped... infeasible (4 x 2 < 10): must raise.
    with pytest.raises(UserInputError, match="cap"):
        trim(np.array([1.0, 1.0, 1.0, 7.0]), cap_median_multiple=2.0)
    # weights 1,1,1,1,1,5 (sum 10), cap 2 x 1 = 2: 5 -> 2, the five 1s share 3 -> 1.6 each
    t = trim(np.array([1.0, 1.0, 1.0, 1.0, 1.0, 5.0]), cap_median_multiple=2.0)
    np.testing.assert_allclose(t, [1.6, 1.6, 1.6, 1.6, 1.6, 2.0])


def test_trim_needs_one_cap():
    with pytest.raises(UserInputError):
        trim(np.ones(3))
    with pytest.raises(UserInputError):
        trim(np.ones(3), cap_quantile=0.9, cap_median_multiple=2)


# --- the weighting remedy as a design option -------------------------------------


def test_design_rakes_to_true_population_margins(small_pop):
    from sim_refugee.designs import get_design

    quota = get_design("quota")
    params = quota.Params.model_validate(
        {"allocation": "equal", "weighting": {"rake_columns": ["female", "province"]}}
    )
    s = quota.draw(small_pop, None, 500, params, np.random.default_rng(0))
    assert "design_weight" in s
    got = margins_from(s, ["female", "province"], s["weight"])
    true = margins_from(small_pop, ["female", "province"])
    for col in ("female", "province"):
        for level, share in true[col].items():
            assert abs(got[col][level] - share) < 1e-8
    assert s["weight"].sum() == pytest.approx(len(small_pop))
    # equal allocation over-represents small cells; raking undoes it for northeast,
    # a function of province, exactly
    assert np.average(s["northeast"], weights=s["weight"]) == pytest.approx(
        small_pop["northeast"].mean(), abs=1e-8)
    assert abs(s["northeast"].mean() - small_pop["northeast"].mean()) > 0.05


def test_design_rakes_to_wrong_margins_and_trims(small_pop):
    from sim_refugee.designs import get_design

    snow = get_design("snowball")  # no design weights: raking starts from 1
    params = snow.Params.model_validate(
        {"weighting": {"rake_columns": ["female"], "margins": {"female": {"0": 0.2, "1": 0.8}},
                       "trim_median_multiple": 3.0}}
    )
    s = snow.draw(small_pop, None, 400, params, np.random.default_rng(1))
    assert s["design_weight"].isna().all()
    raked_only = snow.Params.model_validate(
        {"weighting": {"rake_columns": ["female"], "margins": {"female": {"0": 0.2, "1": 0.8}}}}
    )
    r = snow.draw(small_pop, None, 400, raked_only, np.random.default_rng(1))
    assert np.average(r["female"], weights=r["weight"]) == pytest.approx(0.8, abs=1e-8)
    assert s["weight"].max() <= 3.0 * np.median(r["weight"]) * (1 + 1e-12)
    assert s["weight"].sum() == pytest.approx(r["weight"].sum())


def test_weighting_params_validated():
    import pydantic

    from sim_refugee.designs.weighting import WeightingParams

    with pytest.raises(pydantic.ValidationError, match="not in rake_columns"):
        WeightingParams(margins={"female": {"0": 1.0}})
    with pytest.raises(pydantic.ValidationError, match="at most one"):
        WeightingParams(trim_quantile=0.9, trim_median_multiple=3)
    assert not WeightingParams().active
