"""The population schema: one rule per generator column, a generated population passes,
and each kind of rule refuses what it should, naming the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.errors import MissingColumnError, UserInputError
from sim_refugee.world import COLUMNS
from sim_refugee.world.schema import POPULATION_SCHEMA, check_population
from tests.validation.conftest import small_population


def test_every_generator_column_has_a_rule() -> None:
    assert list(POPULATION_SCHEMA) == list(COLUMNS)


def test_a_generated_population_passes() -> None:
    check_population(small_population())


def test_equivalent_dtypes_pass() -> None:
    pop = small_population().copy()
    pop["female"] = pop["female"].astype("Int64")  # nullable integers without missing values
    pop["province"] = pop["province"].astype("category")
    pop["educ"] = pop["educ"].astype(object)
    pop["extra"] = "anything"  # more columns are welcome
    check_population(pop)


def test_every_missing_column_is_named() -> None:
    with pytest.raises(MissingColumnError) as info:
        check_population(small_population().drop(columns=["female", "anger"]))
    assert info.value.columns == ["female", "anger"]


def _set(col: str, value: object, dtype: object = None):
    def f(pop: pd.DataFrame) -> pd.DataFrame:
        if dtype is not None:
            pop[col] = pop[col].astype(dtype)
        pop.loc[7, col] = value
        return pop
    return f


CASES = [
    ("binary out of range", _set("camp", 2), "camp", "out of range"),
    ("binary as bool", lambda p: p.assign(job=p["job"] == 1), "job", "dtype"),
    ("binary as float", lambda p: p.assign(job=p["job"].astype(float)), "job", "dtype"),
    ("item 0", _set("hope", 0), "hope", "out of range"),
    ("item missing", _set("hope", pd.NA, "Int8"), "hope", "missing"),
    ("negative id", _set("person_id", -4), "person_id", "out of range"),
    ("age too old", _set("age", 500), "age", "out of range"),
    ("distress NaN", _set("distress", np.nan), "distress", "missing"),
    ("avgpsych as strings", lambda p: p.assign(avgpsych=p["avgpsych"].astype(str)),
     "avgpsych", "dtype"),
    ("category as numbers", lambda p: p.assign(dest=np.arange(len(p)) % 3), "dest", "dtype"),
    ("category missing", _set("home_site", None, object), "home_site", "missing"),
    ("unknown site", _set("home_site", "Beijing"), "home_site", "unknown"),
]


@pytest.mark.parametrize("case,mutate,column,problem", CASES, ids=[c[0] for c in CASES])
def test_rule_refuses(case, mutate, column, problem) -> None:
    pop = mutate(small_population().copy())
    with pytest.raises(UserInputError, match=rf"column '{column}' .*{problem}"):
        check_population(pop)


def test_empty_population_and_duplicate_columns() -> None:
    with pytest.raises(UserInputError, match="no rows"):
        check_population(small_population().iloc[:0])
    pop = small_population()
    dup = pd.concat([pop, pop[["female"]]], axis=1)
    with pytest.raises(UserInputError, match="'female' appears twice"):
        check_population(dup)


def test_attrs_are_checked() -> None:
    pop = small_population().copy()
    pop.attrs = {**pop.attrs, "site_quotas": {"Beijing": 1.0}}
    with pytest.raises(UserInputError, match="site_quotas"):
        check_population(pop)
