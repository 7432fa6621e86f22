"""Descriptive tables: hand-counted cases, and agreement with the estimators' own
crosstab_by_gender / gender_chi2 (a second, independent implementation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import crosstab_by_gender, gender_chi2
from sim_refugee.suite.tables import TABLE_ITEMS, descriptive_tables, level_label


def _row(tables, item, level, group):
    r = tables[(tables["item"] == item) & (tables["level"] == level) & (tables["group"] == group)]
    assert len(r) == 1
    return r.iloc[0]


def test_hand_counted_camp_with_missing_answers(sample):
    tiny = sample.head(5).copy()
    tiny["female"] = [0, 0, 1, 1, 1]
    tiny["camp"] = [1, 0, 0, np.nan, 0]
    tables, tests, scal = descriptive_tables(tiny)
    male = _row(tables, "camp", "1", "male")
    assert (male["count"], male["valid_n"], male["pct"]) == (1, 2, 50.0)
    fem = _row(tables, "camp", "1", "female")
    assert (fem["count"], fem["valid_n"], fem["pct"]) == (0, 2, 0.0)
    tot = _row(tables, "camp", "1", "total")
    assert (tot["count"], tot["valid_n"], tot["pct"]) == (1, 4, 25.0)
    assert scal["share.camp.1.total"] == 0.25 and scal["valid_n.camp.female"] == 2
    # 2x2 table [[1,1],[0,2]] -> Pearson X2 = 4 * (1*2 - 1*0)^2 / (2*2*1*3) = 4/3
    t = tests.set_index("item").loc["camp"]
    assert t["statistic"] == pytest.approx(4 / 3) and t["df"] == 1 and t["nobs"] == 4


def test_table3_mean_sd_hand_counted(sample):
    tiny = sample.head(4).copy()
    tiny["female"] = [0, 0, 1, 1]
    tiny["anxious"] = [1, 3, 4, np.nan]
    _, _, scal = descriptive_tables(tiny)
    assert scal["mean.anxious.male"] == pytest.approx(2.0)
    assert scal["sd.anxious.male"] == pytest.approx(np.sqrt(2.0))  # (1-2)^2+(3-2)^2 over 1
    assert scal["mean.anxious.total"] == pytest.approx(8 / 3)
    assert scal["agree.anxious.total"] == pytest.approx(2 / 3)
    assert np.isnan(scal["sd.anxious.female"])  # one valid answer: SD undefined


def test_agrees_with_estimators_crosstab_and_chi2(sample):
    s = sample.copy()
    s.loc[s.index[:40], "female"] = np.nan  # 'total' keeps rows with missing gender
    tables, tests, _ = descriptive_tables(s)
    for ti in TABLE_ITEMS:
        if ti.optional:
            continue
        ref = crosstab_by_gender(s, ti.item, levels=list(ti.levels))
        ref["level"] = ref["level"].map(level_label)
        ours = tables[(tables["item"] == ti.item) & (tables["table"] != "3")]
        m = ours.merge(ref, on=["level", "group"], suffixes=("", "_ref"))
        assert len(m) == len(ours) == len(ti.levels) * 3
        np.testing.assert_array_equal(m["count"], m["count_ref"])
        np.testing.assert_array_equal(m["valid_n"], m["valid_n_ref"])
        np.testing.assert_allclose(m["pct"], m["pct_ref"], rtol=1e-12)
        t_ref = gender_chi2(s, ti.item)
        t = tests.set_index("item").loc[ti.item]
        assert t["statistic"] == pytest.approx(t_ref["statistic"], rel=1e-10)
        assert t["pvalue"] == pytest.approx(t_ref["pvalue"], rel=1e-8)
        assert t["nobs"] == t_ref["nobs"]


def test_means_agree_with_pandas(sample):
    _, _, scal = descriptive_tables(sample)
    for item in ("anxious", "hope"):
        by = sample.groupby("female")[item]
        assert scal[f"mean.{item}.female"] == pytest.approx(by.mean()[1])
        assert scal[f"sd.{item}.male"] == pytest.approx(by.std()[0])


def test_unknown_level_names_the_column(sample):
    s = sample.copy()
    s.loc[s.index[0], "dest"] = "mars"
    with pytest.raises(UserInputError, match="'dest'"):
        descriptive_tables(s)
    s = sample.copy()
    s.loc[s.index[0], "hope"] = 5
    with pytest.raises(UserInputError, match="'hope'"):
        descriptive_tables(s)


def test_table4_only_when_column_present(sample):
    tables, tests, scal = descriptive_tables(sample)
    assert "anxiety_reason" not in set(tables["item"])
    assert "share.anxiety_reason.arrest.female" not in scal
    s = sample.copy()
    s["anxiety_reason"] = np.where(s["female"] == 1, "arrest", "home")
    tables, tests, scal = descriptive_tables(s)
    assert scal["share.anxiety_reason.arrest.female"] == 1.0
    assert scal["share.anxiety_reason.home.male"] == 1.0
    assert tests.set_index("item").loc["anxiety_reason", "pvalue"] < 1e-10


def test_fixed_rows_whatever_the_sample(sample):
    a, _, _ = descriptive_tables(sample)
    sub = sample[sample["dest"] != "other"].head(200)  # a level absent: still its rows
    b, _, _ = descriptive_tables(sub)
    pd.testing.assert_frame_equal(a[["table", "item", "level", "group"]],
                                  b[["table", "item", "level", "group"]])


def test_weighted_shares_hand_counted_and_against_crosstab(sample):
    tiny = sample.head(4).copy()
    tiny["female"] = [0, 0, 1, 1]
    tiny["camp"] = [1, 0, 0, 1]
    w = np.array([3.0, 1.0, 1.0, np.nan])  # a missing weight counts as 0
    tables, tests, scal = descriptive_tables(tiny, w)
    assert scal["share.camp.1.male"] == pytest.approx(0.75)  # 3 / (3 + 1)
    assert scal["share.camp.1.female"] == pytest.approx(0.0)
    assert scal["share.camp.1.total"] == pytest.approx(0.6)  # 3 / 5
    assert _row(tables, "camp", "1", "total")["count"] == 2  # counts stay unweighted
    s = sample.copy()
    _, _, scal = descriptive_tables(s, s["weight"].to_numpy())
    ref = crosstab_by_gender(s, "dest", weights="weight")
    ref = ref[ref["group"] == "female"].set_index("level")["pct"]
    assert scal["share.dest.china.female"] == pytest.approx(ref["china"] / 100, rel=1e-12)
    wf = s["weight"].where(s["female"] == 1, 0.0)
    mean = float((s["hope"] * wf).sum() / wf[s["hope"].notna()].sum())
    assert scal["mean.hope.female"] == pytest.approx(mean, rel=1e-12)
