"""Descriptive tables: counts/percentages by gender with valid N, Pearson chi-square."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import crosstab_by_gender, gender_chi2


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "female": [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, np.nan],
            "fear": [1, 2, 2, np.nan, 1, 1, 1, 2, 3, np.nan, 3],
            "w": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 4.0, 1.0, 1.0],
        }
    )


def test_crosstab_counts_pct_and_valid_n(frame):
    tab = crosstab_by_gender(frame, "fear").set_index(["level", "group"])
    # by hand: men answered 1,2,2 (valid 3); women 1,1,1,2,3 (valid 5); total adds the
    # respondent with missing gender (3): valid 9
    assert tab.loc[(1, "male"), "count"] == 1 and tab.loc[(1, "male"), "valid_n"] == 3
    assert tab.loc[(1, "female"), "count"] == 3 and tab.loc[(1, "female"), "valid_n"] == 5
    assert tab.loc[(3, "total"), "count"] == 2 and tab.loc[(3, "total"), "valid_n"] == 9
    assert tab.loc[(2, "male"), "pct"] == pytest.approx(200 / 3)
    assert tab.loc[(3, "male"), "count"] == 0 and tab.loc[(3, "male"), "pct"] == 0
    for group in ("male", "female", "total"):
        assert tab.xs(group, level="group")["pct"].sum() == pytest.approx(100)
    assert list(crosstab_by_gender(frame, "fear").columns) == ["level", "group", "count", "pct", "valid_n"]


def test_crosstab_fixed_levels_and_weights(frame):
    tab = crosstab_by_gender(frame, "fear", levels=[1, 2, 3, 4], weights="w").set_index(["level", "group"])
    assert tab.loc[(4, "female"), "count"] == 0
    # weighted women: levels 1,1,1,2,3 with weights 1,1,1,1,4 -> level 3 is 4/8
    assert tab.loc[(3, "female"), "pct"] == pytest.approx(50.0)
    assert tab.loc[(3, "female"), "count"] == 1  # counts stay unweighted


def test_gender_chi2_matches_pearson_formula(frame):
    out = gender_chi2(frame, "fear")
    observed = np.array([[1, 3], [2, 1], [0, 1]], dtype=float)  # levels 1..3 x (male, female)
    expected = observed.sum(1, keepdims=True) * observed.sum(0, keepdims=True) / observed.sum()
    stat = ((observed - expected) ** 2 / expected).sum()
    assert out["statistic"] == pytest.approx(stat)
    assert out["df"] == 2 and out["nobs"] == 8
    assert 0 < out["pvalue"] < 1


def test_gender_chi2_degenerate_and_bad_input(frame):
    one_level = frame.assign(fear=1.0)
    assert np.isnan(gender_chi2(one_level, "fear")["statistic"])
    with pytest.raises(UserInputError, match="'anger'"):
        crosstab_by_gender(frame, "anger")
    with pytest.raises(UserInputError, match="female"):
        gender_chi2(frame.assign(female=2), "fear")


def test_string_items_and_levels_order():
    frame = pd.DataFrame({"female": [0, 1, 1, 0], "dest": ["south_korea", "united_states", "south_korea", None]})
    tab = crosstab_by_gender(frame, "dest", levels=["united_states", "south_korea", "china"])
    assert list(tab["level"].unique()) == ["united_states", "south_korea", "china"]
    total = tab[tab["group"] == "total"].set_index("level")
    assert total.loc["south_korea", "count"] == 2 and total.loc["south_korea", "valid_n"] == 3
    assert total.loc["china", "pct"] == 0
    assert gender_chi2(frame, "dest")["nobs"] == 3
