"""The population frame: Contract 1 columns and codings, determinism, CRN, config errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim_refugee.errors import UserInputError
from sim_refugee.seeds import seed_sequence
from sim_refugee.world import SITES, WorldConfig, build_population

ITEMS = ["anxious", "fear", "fearfamily", "anger", "concentrate", "attain", "hope"]
VARIABLES_MD = [
    "person_id", "female", "age", "educ", "occupation", "province", "northeast", "pyongyang",
    "urban_origin", "death", "foodaid", "family_missing", "arrest", "camp", "trafficking",
    "years_in_china", "china_spell", "urban_china", "children", *ITEMS, "avgpsych", "job",
    "dest", "prefer_us", "prefer_sk",
]
CONTRACT1_EXTRA = [
    "home_site", "korean_chinese_host", "church_tie", "distress", "age_decades",
    "elementary", "secondary", "postsecondary", "farmer", "trader", "student", "other_job",
]
BINARY = [
    "female", "northeast", "pyongyang", "urban_origin", "death", "foodaid", "family_missing",
    "arrest", "camp", "trafficking", "urban_china", "children", "job", "prefer_us", "prefer_sk",
    "korean_chinese_host", "church_tie", "elementary", "secondary", "postsecondary", "farmer",
    "trader", "student", "other_job",
]


def test_all_columns_present(default_pop):
    missing = [c for c in VARIABLES_MD + CONTRACT1_EXTRA if c not in default_pop]
    assert missing == []
    assert default_pop["person_id"].is_unique


def test_codings(default_pop):
    p = default_pop
    for c in BINARY:
        assert pd.api.types.is_integer_dtype(p[c]) and set(p[c].unique()) <= {0, 1}, c
    for c in ITEMS:
        assert pd.api.types.is_integer_dtype(p[c]) and set(p[c].unique()) == {1, 2, 3, 4}, c
    np.testing.assert_allclose(p["avgpsych"], p[ITEMS].mean(axis=1))
    assert set(p["educ"]) == {"elementary", "secondary", "postsecondary"}
    assert set(p["occupation"]) == {"worker", "farmer", "trader", "student", "other"}
    assert set(p["dest"]) == {"south_korea", "united_states", "china", "north_korea", "other"}
    assert set(p["china_spell"]) == {"<6m", "6-12m", "1-2y", "2-3y", ">3y"}
    assert set(p["home_site"]) == set(SITES) | {"none"}
    # derived columns agree with their sources
    ne = p["province"].isin(["north_hamgyong", "south_hamgyong", "ryanggang"])
    assert (p["northeast"] == ne).all()
    assert (p["pyongyang"] == (p["province"] == "pyongyang")).all()
    assert (p["prefer_us"] == (p["dest"] == "united_states")).all()
    assert (p["prefer_sk"] == (p["dest"] == "south_korea")).all()
    assert (p["elementary"] == (p["educ"] == "elementary")).all()
    assert (p["postsecondary"] == (p["educ"] == "postsecondary")).all()
    assert (p["other_job"] == (p["occupation"] == "other")).all()
    np.testing.assert_allclose(p["age_decades"], p["age"] / 10)
    assert ((p["years_in_china"] > 3) == (p["china_spell"] == ">3y")).all()
    assert ((p["years_in_china"] < 0.5) == (p["china_spell"] == "<6m")).all()
    assert abs(p["distress"].mean()) < 1e-9 and abs(p["distress"].std() - 1) < 1e-3
    assert p["age"].between(16, 80).all()


def test_same_seed_same_population_different_seed_differs():
    cfg = WorldConfig(size=8_000, calibration="population")
    a = build_population(cfg, seed_sequence(5, "population", 0))
    b = build_population(cfg, seed_sequence(5, "population", 0))
    c = build_population(cfg, seed_sequence(6, "population", 0))
    pd.testing.assert_frame_equal(a, b)
    assert not a[ITEMS].equals(c[ITEMS])
    assert (a["female"] != c["female"]).mean() > 0.3  # independent draws, not a shift


def test_common_random_numbers_across_conditions():
    """Changing a distress coefficient leaves every upstream draw untouched, and the
    items of people whose regressor is 0 barely move (their latent values are identical)."""
    ss = seed_sequence(9, "population", 0)
    base = build_population(WorldConfig(size=5_000, calibration="none"), ss)
    alt = build_population(
        WorldConfig(size=5_000, calibration="none", assumptions={"t7.foodaid.anger": 2.0}), ss)
    for col in ["female", "age", "province", "death", "foodaid", "camp", "years_in_china",
                "home_site", "anxious", "fear"]:
        pd.testing.assert_series_equal(base[col], alt[col])
    assert not base["anger"].equals(alt["anger"])


def test_null_effects_zero_the_experiential_paths():
    """Under effects='null', distress is unrelated to the five experiences in the
    population: OLS of avgpsych on the Table 7 regressors gives ~0 for each. Tolerance:
    OLS SE at n=30,000 is <= 0.01 for every binary here (sd(avgpsych) ~0.6); 0.04 is 4 SE
    plus room for the omitted family_missing (tied to the regressors only via northeast)."""
    pop = build_population(WorldConfig(size=30_000, effects="null", calibration="population"),
                           seed_sequence(4, "population", 0))
    regs = ["foodaid", "camp", "arrest", "trafficking", "death", "female", "age_decades",
            "elementary", "farmer", "trader", "student", "other_job"]
    x = np.column_stack([np.ones(len(pop))] + [pop[r].to_numpy(float) for r in regs])
    coef = np.linalg.lstsq(x, pop["avgpsych"].to_numpy(float), rcond=None)[0]
    exp_coef = dict(zip(regs, coef[1:], strict=True))
    for r in ["foodaid", "camp", "arrest", "trafficking", "death"]:
        assert abs(exp_coef[r]) < 0.04, (r, exp_coef[r])
    # the demographic paths stay (e.g. trader/student effects are large in Table 7)
    assert exp_coef["trader"] > 0.2 and exp_coef["student"] < -0.1


@pytest.mark.parametrize(
    "data, key",
    [
        ({"size": -5}, "size"),
        ({"size": 10, "colour": "red"}, "colour"),
        ({"assumptions": {"no_such_assumption": 1.0}}, "no_such_assumption"),
        ({"assumptions": {"reach.or_urban": 3.0}}, "selection.or_urban"),
        ({"targets": {"femal": 0.5}}, "femal"),
        ({"targets": {"female": 1.5}}, "female"),
        ({"selection": {"or_urban": -1}}, "or_urban"),
        ({"effects": "maybe"}, "effects"),
        ({"assumptions": {"items.anger.shares": [0.5, 0.5, 0.5, 0.5]}}, "items.anger.shares"),
        ({"assumptions": {"church_tie.share": 1.5}}, "church_tie.share"),
    ],
)
def test_bad_config_names_the_key(data, key):
    with pytest.raises(ValidationError, match=key):
        WorldConfig.model_validate(data)
    with pytest.raises(UserInputError, match=key):
        WorldConfig.from_dict(data)
