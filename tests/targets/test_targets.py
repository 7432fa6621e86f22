"""The paper's numbers and the assumptions as data: complete, sourced, overridable by name."""

import pytest

from sim_refugee.errors import UserInputError
from sim_refugee.targets import (
    assumption_defaults,
    assumption_table,
    paper_margins,
    resolve_assumptions,
    table_cells,
)


def test_every_documented_margin_has_value_source_denominator():
    m = paper_margins()
    assert len(m) >= 25
    for row in m.itertuples():
        assert row.source and row.denominator, row.name
        assert row.group in ("all", "male", "female")
    vals = dict(zip(m["name"], m["value"], strict=True))
    # spot-check against the paper's text (sec. I, III, IV, VI), typed here by hand
    assert vals["female"] == 0.52 and vals["educ_elementary"] == 0.44
    assert vals["province_north_hamgyong"] == 0.57 and vals["province_south_hamgyong"] == 0.19
    assert (vals["death_men"], vals["death_women"]) == (0.23, 0.37)
    assert (vals["over_three_years_men"], vals["over_three_years_women"]) == (0.23, 0.41)
    assert vals["employed"] == 0.22 and vals["trafficking"] == 0.53
    assert (vals["dest_south_korea"], vals["dest_united_states"], vals["dest_china"]) == (
        0.64, 0.19, 0.14)


def test_gender_split_recorded_where_given():
    m = paper_margins().set_index("name")
    assert m.loc["death_men", "gender_split"] == {"male": 0.23, "female": 0.37}
    assert m.loc["over_three_years_women", "gender_split"] == {"male": 0.23, "female": 0.41}


def test_assumptions_named_defaulted_explained_unique():
    t = assumption_table()
    assert t["name"].is_unique
    assert t["why"].str.len().min() > 10 and t["affects"].str.len().min() > 0
    d = assumption_defaults()
    # every Table 7 cell is an explicit assumption: 12 regressors x 7 items
    assert sum(k.startswith("t7.") for k in d) == 84


def test_override_by_name_and_rejections():
    v = resolve_assumptions({"age.sd": 9, "items.anger.shares": [0.25, 0.25, 0.25, 0.25]})
    assert v["age.sd"] == 9.0 and v["items.anger.shares"] == [0.25] * 4
    with pytest.raises(UserInputError, match="no_such_thing"):
        resolve_assumptions({"no_such_thing": 1.0})
    with pytest.raises(UserInputError, match="items.anger.shares"):
        resolve_assumptions({"items.anger.shares": [0.5, 0.5]})
    with pytest.raises(UserInputError, match="age.sd"):
        resolve_assumptions({"age.sd": "eleven"})


def test_table_cells_parse_signs_and_stars():
    t7 = table_cells("table7")
    assert len(t7) == 84
    cell = t7[(t7.regressor == "student") & (t7.column == "concentrate")].iloc[0]
    assert (cell.sign, cell.magnitude, cell.stars) == (-1, "?.??", "***")
    cell = t7[(t7.regressor == "trafficking") & (t7.column == "concentrate")].iloc[0]
    assert (cell.sign, cell.stars) == (-1, "ns")
    t9 = table_cells("table9")
    nh = t9[(t9.regressor == "northeast") & t9.column.str.startswith("US")]
    assert list(nh.sign) == [-1] * 4 and set(nh.stars) <= {"**", "***"}
