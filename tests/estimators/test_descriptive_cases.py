"""Descriptive tables, edge cases: the messages that name the failing input, the result of
a degenerate chi-square test, and weighted percentages against pandas' own crosstab."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import crosstab_by_gender, gender_chi2


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "female": [0, 0, 0, 1, 1, 1, 1, np.nan],
        "fear": [1, 2, 2, 1, 1, 2, np.nan, 2],
        "w": [1.0, 2.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0],
    })


def test_missing_columns_are_named_with_the_function(frame):
    with pytest.raises(UserInputError) as err:
        crosstab_by_gender(frame, "fear", weights="wt")
    assert str(err.value) == "crosstab_by_gender input is missing required column(s): 'wt'"
    with pytest.raises(UserInputError) as err:
        gender_chi2(frame, "anger")
    assert str(err.value) == "gender_chi2 input is missing required column(s): 'anger'"


def test_degenerate_chi2_result(frame):
    out = gender_chi2(frame.assign(female=1.0), "fear")  # one gender only: 7 valid answers
    assert set(out) == {"statistic", "df", "pvalue", "nobs"}
    assert math.isnan(out["statistic"]) and math.isnan(out["pvalue"])
    assert out["df"] == 0 and out["nobs"] == 7


def test_chi2_equals_scipy_and_weighted_pct_equals_pandas(frame):
    out = gender_chi2(frame, "fear")
    both = frame.dropna(subset=["female", "fear"])
    table = pd.crosstab(both["fear"], both["female"]).to_numpy()
    stat, p, dof, _ = chi2_contingency(table, correction=False)
    assert out == pytest.approx({"statistic": stat, "df": dof, "pvalue": p, "nobs": 6}, rel=1e-12)
    assert isinstance(out["df"], int)
    tab = crosstab_by_gender(frame, "fear", weights="w").set_index(["level", "group"])
    ref = pd.crosstab(both["fear"], both["female"], values=both["w"], aggfunc="sum",
                      normalize="columns") * 100
    for code, group in ((0.0, "male"), (1.0, "female")):
        for level in (1, 2):
            assert tab.loc[(level, group), "pct"] == pytest.approx(ref.loc[level, code], rel=1e-12)
    valid = frame.dropna(subset=["fear"])
    total = valid.groupby("fear")["w"].sum() / valid["w"].sum() * 100
    assert tab.loc[(2, "total"), "pct"] == pytest.approx(total[2], rel=1e-12)
    assert tab.loc[(2, "total"), "count"] == 4 and tab.loc[(2, "total"), "valid_n"] == 7


def test_bad_weights_and_gender_are_refused(frame):
    with pytest.raises(UserInputError, match="weights column 'w' must be finite and non-negative"):
        crosstab_by_gender(frame.assign(w=-1.0), "fear", weights="w")
    with pytest.raises(UserInputError, match="'female' must be 0/1"):
        crosstab_by_gender(frame.assign(female="x"), "fear")
    # a weight is only required where the item is valid (row 6 has no answer)
    ok = crosstab_by_gender(frame.assign(w=frame["w"].where(frame["fear"].notna())), "fear", weights="w")
    assert ok["pct"].notna().all()


def test_weights_below_one_zero_and_text_and_a_group_without_answers(frame):
    small = crosstab_by_gender(frame.assign(w=0.1), "fear", weights="w").set_index(["level", "group"])
    plain = crosstab_by_gender(frame, "fear").set_index(["level", "group"])
    np.testing.assert_allclose(small["pct"], plain["pct"], rtol=1e-12)  # a common scale cancels
    zero = crosstab_by_gender(frame.assign(w=[0.0, 1, 1, 1, 1, 1, 1, 1]), "fear", weights="w")
    assert zero.set_index(["level", "group"]).loc[(2, "male"), "pct"] == pytest.approx(100.0)
    with pytest.raises(UserInputError) as err:
        crosstab_by_gender(frame.assign(w=["1", "x", "1", "1", "1", "1", "1", "1"]), "fear", weights="w")
    assert err.value.key == "w"
    with pytest.raises(UserInputError, match="weights column 'w'"):
        crosstab_by_gender(frame.assign(w=frame["w"].where(frame.index != 0)), "fear", weights="w")
    # no man answered: the men's percentages are NaN (float), with no warning shown
    women = frame.assign(fear=frame["fear"].where(frame["female"] != 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tab = crosstab_by_gender(women, "fear", weights="w")
    assert tab["pct"].dtype == float
    men = tab[tab["group"] == "male"]
    assert men["pct"].isna().all() and (men["valid_n"] == 0).all()


def test_level_labels_keep_their_type():
    frame = pd.DataFrame({"female": [0, 1, 1, 0], "camp": ["none", 3, 3, "none"]})
    tab = crosstab_by_gender(frame, "camp", levels=["none", 3])
    assert list(tab["level"]) == ["none"] * 3 + [3] * 3
    assert tab.set_index(["level", "group"]).loc[(3, "female"), "count"] == 2


def test_pearson_chi2_drops_empty_rows_and_columns_as_scipy_sees_them():
    from sim_refugee.estimators.descriptive import chi2_pvalues, pearson_chi2

    cases = [
        (np.array([[1, 5, 0], [0, 3, 0], [4, 2, 0]]), np.array([[1, 5], [0, 3], [4, 2]])),
        (np.array([[2, 0, 7], [0, 0, 0], [5, 3, 1]]), np.array([[2, 0, 7], [5, 3, 1]])),
        (np.array([[3, 1, 4], [1, 5, 9], [2, 6, 5]]), np.array([[3, 1, 4], [1, 5, 9], [2, 6, 5]])),
        (np.array([[1, 5], [0, 3], [0, 2]]), np.array([[1, 5], [0, 3], [0, 2]])),  # a column of 1
    ]
    for table, reduced in cases:
        stat, dof = pearson_chi2(table)
        ref = chi2_contingency(reduced, correction=False)
        assert stat == pytest.approx(ref[0], rel=1e-12) and dof == ref[2]
        assert float(chi2_pvalues(stat, dof)) == pytest.approx(ref[1], rel=1e-10)
    stat, dof = pearson_chi2(np.array([[4, 0], [0, 0]]))
    assert np.isnan(stat) and dof == 0.0


def test_gender_counts_stacks_items_like_separate_calls():
    from sim_refugee.estimators.descriptive import gender_counts

    rng = np.random.Generator(np.random.PCG64(15))
    gender = np.where(rng.random(40) < 0.1, np.nan, (rng.random(40) < 0.5).astype(float))
    levels = np.array([3, 2, 4])
    codes = np.stack([rng.integers(-1, k, 40) for k in levels])
    w = rng.uniform(0.5, 2.0, 40)
    cnt, wsum = gender_counts(codes, levels, gender, w)
    for j, k in enumerate(levels):
        c1, w1 = gender_counts(codes[j], int(k), gender, w)
        rows = slice(int(levels[:j].sum()), int(levels[: j + 1].sum()))
        np.testing.assert_array_equal(cnt[rows], c1)
        np.testing.assert_allclose(wsum[rows], w1, rtol=1e-14)
        # by hand for one item: men's count of level 0
        assert c1[0, 0] == np.sum((codes[j] == 0) & (gender == 0))
        assert c1[0, 2] == np.sum(codes[j] == 0)
    assert cnt.dtype == np.int64 and cnt.shape == (9, 3)


def test_default_levels_sorted_counts_integer_and_nullable_gender():
    frame = pd.DataFrame({"female": pd.array([1, 0, None, 1], dtype="Int64"), "dest": ["usa", "korea", "usa", "china"]})
    tab = crosstab_by_gender(frame, "dest")
    assert list(tab["level"].unique()) == ["china", "korea", "usa"]
    assert tab["count"].dtype == np.int64
    assert tab.set_index(["level", "group"]).loc[("usa", "total"), "count"] == 2
    with pytest.raises(UserInputError) as err:
        gender_chi2(frame.assign(female=["a", "b", "c", "d"]), "dest")
    assert err.value.key == "female" and str(err.value) == "column 'female' must be 0/1 (or missing)"
    with pytest.raises(UserInputError) as err:
        gender_chi2(frame.assign(female=[0, 1, 2, 1]), "dest")
    assert err.value.key == "female" and str(err.value) == "column 'female' must be 0/1 (or missing)"
