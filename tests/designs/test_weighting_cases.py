"""Raking, trimming and the weighting option on small cases worked out by hand: the
exact errors (message and key) for bad input, the boundaries of every check, and what
``apply_weighting`` keeps and replaces. Written so that a changed comparison, factor or
argument in designs/weighting.py changes an asserted value (mutation testing, README
"Testing")."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sim_refugee.designs.weighting import (
    WeightingParams,
    apply_weighting,
    margins_from,
    rake,
    trim,
)
from sim_refugee.errors import UserInputError


def raises(message: str, key: str):
    """pytest.raises for a UserInputError with exactly this message and key."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(UserInputError, match="^" + re.escape(message) + "$")
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            out = self.ctx.__exit__(*exc)
            assert self.info.value.key == key, (self.info.value.key, key)
            return out
    return _Check()


FRAME = pd.DataFrame({"sex": ["f", "m", "m", "f", "m", "m"],
                      "region": ["a", "a", "b", "b", "b", "c"]})


# --------------------------------------------------------------------- margins ---

def test_margins_from_by_hand():
    got = margins_from(FRAME, ["sex", "region"], weights=np.array([1, 1, 1, 1, 2, 4.0]))
    assert got == {"sex": {"f": 2 / 10, "m": 8 / 10},
                   "region": {"a": 2 / 10, "b": 4 / 10, "c": 4 / 10}}
    assert margins_from(FRAME, ["sex"]) == {"sex": {"f": 2 / 6, "m": 4 / 6}}
    with raises("frame (margins_from) is missing required column(s): 'age'", "age"):
        margins_from(FRAME, ["sex", "age"])


def test_rake_errors_name_the_margin_exactly():
    with raises("margin 'sex': shares must be finite and >= 0", "sex"):
        rake(FRAME, {"sex": {"f": -0.1, "m": 1.1}})
    with raises("margin 'sex': shares must be finite and >= 0", "sex"):
        rake(FRAME, {"sex": {"f": np.nan, "m": 1.0}})
    with raises("margin 'sex': shares sum to 1.1, not 1", "sex"):
        rake(FRAME, {"sex": {"f": 0.5, "m": 0.6}})
    with raises("margin 'region': sample level(s) ['c'] have no target share", "region"):
        rake(FRAME, {"region": {"a": 0.5, "b": 0.5}})
    with raises("margin 'region': level(s) ['d'] have a target share but no sample rows "
                "(a continuous column cannot be raked on)", "region"):
        rake(FRAME, {"region": {"a": 0.3, "b": 0.3, "c": 0.2, "d": 0.2}})
    rake(FRAME, {"region": {"a": 0.4, "b": 0.3, "c": 0.3, "d": 0.0}})  # share 0: fine
    five = pd.DataFrame({"x": [f"l{i}" for i in range(6)]})
    with raises("margin 'x': sample level(s) ['l1', 'l2', 'l3', 'l4', 'l5'] have no target "
                "share", "x"):
        rake(five, {"x": {"l0": 1.0}})
    with raises("frame (raking margins) is missing required column(s): 'age'", "age"):
        rake(FRAME, {"age": {"young": 1.0}})
    many = pd.DataFrame({"x": [f"l{i}" for i in range(7)]})
    with raises("margin 'x': sample level(s) ['l1', 'l2', 'l3', 'l4', 'l5', ... (6 in all)] "
                "have no target share", "x"):
        rake(many, {"x": {"l0": 1.0}})
    gap = FRAME.assign(sex=["f", None, "m", "f", "m", "m"])
    with raises("margin 'sex': column has missing values", "sex"):
        rake(gap, {"sex": {"f": 0.5, "m": 0.5}})
    with raises("base_weights must be finite and >= 0", "base_weights"):
        rake(FRAME, {"sex": {"f": 0.5, "m": 0.5}}, base_weights=np.array([1, 1, 1, 1, 1, -1.0]))
    with raises("base_weights must be finite and >= 0", "base_weights"):
        rake(FRAME, {"sex": {"f": 0.5, "m": 0.5}},
             base_weights=np.array([1, 1, 1, 1, 1, np.inf]))


def test_rake_by_hand_and_its_total():
    # one margin: post-stratification, f 2 rows -> 0.5 / 2 each, m 4 rows -> 0.5 / 4 each
    w = rake(FRAME, {"sex": {"f": 0.5, "m": 0.5}}, total=12.0)
    np.testing.assert_allclose(w, [3.0, 1.5, 1.5, 3.0, 1.5, 1.5], rtol=1e-12)
    assert w.name == "weight" and list(w.index) == list(FRAME.index)
    # default total: the base weights' sum (7); a zero base weight stays 0; f has base
    # 2 of 7 -> 1.75, factor 0.875; m has 5 -> 5.25, factor 1.05
    base = np.array([1.0, 2.0, 0.0, 1.0, 2.0, 1.0])
    w = rake(FRAME, {"sex": {"f": 0.25, "m": 0.75}}, base_weights=base)
    assert w.sum() == pytest.approx(7.0, rel=1e-12)
    np.testing.assert_allclose(w, [0.875, 2.1, 0.0, 0.875, 2.1, 1.05], rtol=1e-12)


def test_rake_reports_non_convergence():
    # no rows with f in region c and no m in a: these margins cannot both hold
    frame = pd.DataFrame({"sex": ["f", "f", "m", "m"], "region": ["a", "a", "c", "c"]})
    with raises("raking did not converge in 50 sweeps (max share error 0.4); the margins "
                "may be incompatible with the sample's cells", "margins"):
        rake(frame, {"sex": {"f": 0.5, "m": 0.5}, "region": {"a": 0.1, "c": 0.9}},
             max_iter=50)
    with raises("raking did not converge in 1000 sweeps (max share error 0.4); the margins "
                "may be incompatible with the sample's cells", "margins"):
        rake(frame, {"sex": {"f": 0.5, "m": 0.5}, "region": {"a": 0.1, "c": 0.9}})


def test_rake_keeps_the_frames_index():
    frame = FRAME.set_axis([7, 3, 9, 1, 5, 8])
    w = rake(frame, {"sex": {"f": 0.5, "m": 0.5}})
    assert list(w.index) == [7, 3, 9, 1, 5, 8]
    np.testing.assert_allclose(w.loc[[7, 1]], 1.5)


# ------------------------------------------------------------------------ trim ---

def test_trim_errors_exactly():
    for kw in ({}, {"cap_quantile": 0.9, "cap_median_multiple": 2.0}):
        with raises("give exactly one of cap_quantile and cap_median_multiple",
                    "cap_quantile"):
            trim(np.ones(3), **kw)
    with raises("weights must be finite and >= 0", "weights"):
        trim(np.array([1.0, -1.0, 2.0]), cap_quantile=1.0)
    with raises("weights must be finite and >= 0", "weights"):
        trim(np.array([1.0, np.nan, 2.0]), cap_quantile=1.0)
    for q in (0.0, 1.01, 2.0):
        with raises("cap_quantile must be in (0, 1]", "cap_quantile"):
            trim(np.ones(3), cap_quantile=q)
    for mult in (0.0, -1.0):
        with raises("cap_median_multiple must be > 0", "cap_median_multiple"):
            trim(np.ones(3), cap_median_multiple=mult)
    with raises("cap 1 is below the mean weight: no trimmed weights can keep the sum",
                "cap_median_multiple"):
        trim(np.array([1.0, 1.0, 1.0, 7.0]), cap_median_multiple=1.0)
    with raises("cap 1 is below the mean weight: no trimmed weights can keep the sum",
                "cap_quantile"):
        trim(np.array([1.0, 1.0, 1.0, 7.0]), cap_quantile=0.5)


def test_trim_boundaries_by_hand():
    # zero weights are allowed; quantile 1 caps at the maximum: nothing changes
    w = np.array([0.0, 1.0, 2.0, 5.0])
    np.testing.assert_allclose(trim(w, cap_quantile=1.0), w)
    # a multiple below 1 is allowed when the cap stays above the mean: median 1 > mean
    t = trim(np.array([1.0, 1.0, 1.0, 1.0, 0.2]), cap_median_multiple=0.9)
    np.testing.assert_allclose(t, [0.9, 0.9, 0.9, 0.9, 0.6], rtol=1e-12)
    # cap x n equal to the total: every weight ends at the cap
    np.testing.assert_allclose(trim(np.array([1.0, 3.0]), cap_median_multiple=1.0), [2.0, 2.0])
    # a weight that lands exactly on the cap after scaling is not capped again
    t = trim(np.array([4.0, 2.0, 1.0, 1.0]), cap_median_multiple=2.0)  # cap 3
    np.testing.assert_allclose(t, [3.0, 2.5, 1.25, 1.25], rtol=1e-12)
    t = trim(np.array([5.0, 1.0, 0.0, 0.0]), cap_median_multiple=6.0)  # cap 3, zeros stay 0
    np.testing.assert_allclose(t, [3.0, 3.0, 0.0, 0.0])
    np.testing.assert_array_equal(trim(np.zeros(3), cap_quantile=0.5), np.zeros(3))
    # cap 3 (1.2 x median 2.5): both 5s must fall to 3, but the rest is all zero and
    # cannot take the excess; this used to return the weights untrimmed
    with raises("cap 3: every weight below the cap is 0, so the excess of the 2 capped "
                "weight(s) cannot be spread (zero weights stay zero)", "cap_median_multiple"):
        trim(np.array([5.0, 5.0, 0.0, 0.0]), cap_median_multiple=1.2)
    with raises("cap 5.4: every weight below the cap is 0, so the excess of the 1 capped "
                "weight(s) cannot be spread (zero weights stay zero)", "cap_quantile"):
        trim(np.array([9.0, 0.0, 0.0, 0.0, 0.0]), cap_quantile=0.9)
    s = trim(pd.Series([1.0, 1.0, 1.0, 1.0, 1.0, 5.0], index=list("abcdef")),
             cap_median_multiple=2.0)
    assert list(s.index) == list("abcdef") and s.name == "weight"
    np.testing.assert_allclose(s, [1.6, 1.6, 1.6, 1.6, 1.6, 2.0])
    assert trim([1, 1, 1, 1, 1, 5], cap_median_multiple=2.0).dtype == float


# ----------------------------------------------------------- apply_weighting ---

SAMPLE = pd.DataFrame({"female": [1, 0, 0, 1, 0, 0], "region": ["a", "a", "b", "b", "b", "c"],
                       "weight": [2.0, 2.0, 1.0, 1.0, 1.0, 1.0]}, index=[10, 11, 12, 13, 14, 15])
POP = pd.DataFrame({"female": [1] * 6 + [0] * 4, "region": list("aaabbbbccc")})


def test_apply_weighting_off_returns_the_sample_itself():
    assert apply_weighting(SAMPLE, POP, None) is SAMPLE
    assert apply_weighting(SAMPLE, POP, WeightingParams()) is SAMPLE
    assert not WeightingParams().active
    assert WeightingParams(rake_columns=("female",)).active
    assert WeightingParams(trim_quantile=0.9).active
    assert WeightingParams(trim_median_multiple=3.0).active


def test_apply_weighting_rakes_design_weights_to_the_true_margins():
    out = apply_weighting(SAMPLE, POP, WeightingParams(rake_columns=("female",)))
    assert SAMPLE.columns.tolist() == ["female", "region", "weight"]  # input untouched
    np.testing.assert_array_equal(out["design_weight"], SAMPLE["weight"])
    assert list(out.index) == list(SAMPLE.index)
    # female: design weights 2 + 1 = 3 of 8 -> population share 0.6 of N = 10, i.e. 6;
    # male: 2 + 1 + 1 + 1 = 5 -> 4
    np.testing.assert_allclose(out["weight"], [4.0, 1.6, 0.8, 2.0, 0.8, 0.8], rtol=1e-12)


def test_apply_weighting_given_margins_and_nan_design_weights():
    s = SAMPLE.assign(weight=np.nan)
    params = WeightingParams(rake_columns=("female", "region"),
                             margins={"female": {"0": 0.5, "1": 0.5}})
    out = apply_weighting(s, POP.drop(columns=["female"]), params)  # female not needed
    assert out["design_weight"].isna().all()
    got = margins_from(out.astype({"female": str}), ["female", "region"], out["weight"])
    assert got["female"] == pytest.approx({"0": 0.5, "1": 0.5}, abs=1e-12)
    assert got["region"] == pytest.approx({"a": 0.3, "b": 0.4, "c": 0.3}, abs=1e-12)
    assert out["weight"].sum() == pytest.approx(10.0)
    with raises("sample (weighting.rake_columns) is missing required column(s): 'age'", "age"):
        apply_weighting(s, POP, WeightingParams(rake_columns=("age",)))
    with raises("population (weighting.rake_columns) is missing required column(s): 'region'",
                "region"):
        apply_weighting(s, POP.drop(columns=["region"]),
                        WeightingParams(rake_columns=("female", "region"),
                                        margins={"female": {"0": 0.5, "1": 0.5}}))


def test_apply_weighting_trims_after_raking_or_alone():
    raked = apply_weighting(SAMPLE, POP, WeightingParams(rake_columns=("female",)))
    both = apply_weighting(SAMPLE, POP, WeightingParams(rake_columns=("female",),
                                                        trim_median_multiple=1.5))
    np.testing.assert_allclose(both["weight"],
                               trim(raked["weight"], cap_median_multiple=1.5), rtol=1e-12)
    # cap 1.5 x median 1: the two 2s -> 1.5, their excess 1 spread over the four 1s
    only = apply_weighting(SAMPLE, POP, WeightingParams(trim_median_multiple=1.5))
    np.testing.assert_allclose(only["weight"], [1.5, 1.5, 1.25, 1.25, 1.25, 1.25])
    q = apply_weighting(SAMPLE, POP, WeightingParams(trim_quantile=0.9))  # cap 2: no change
    np.testing.assert_allclose(q["weight"], SAMPLE["weight"])
    np.testing.assert_array_equal(only["design_weight"], SAMPLE["weight"])
