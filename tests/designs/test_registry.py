"""Every design is selectable by name, validates its params strictly, and returns Contract-1 samples."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest

from sim_refugee.designs import get_design
from sim_refugee.designs.base import SAMPLE_EXTRA_COLUMNS
from sim_refugee.errors import UserInputError

MINE = ["srs", "quota", "tls", "rds", "snowball"]


@pytest.mark.parametrize("name", MINE)
def test_draw_returns_contract_columns(name, small_pop):
    design = get_design(name)
    assert design.name == name
    params = design.Params()
    state = design.prepare(small_pop, params, np.random.default_rng(1))
    sample = design.draw(small_pop, state, 400, params, np.random.default_rng(2))
    assert len(sample) == 400
    for col in SAMPLE_EXTRA_COLUMNS:
        assert col in sample, col
    assert (sample["design"] == name).all()
    assert set(small_pop.columns) <= set(sample.columns)
    # no one is drawn twice when duplicates are off
    assert sample["person_id"].is_unique
    # rows are real population rows
    merged = sample[["person_id", "age"]].merge(small_pop[["person_id", "age"]], on="person_id")
    np.testing.assert_array_equal(merged["age_x"], merged["age_y"])
    if name in ("srs", "quota", "tls", "rds"):
        assert np.isfinite(sample["weight"]).all() and (sample["weight"] > 0).all()
        np.testing.assert_allclose(sample["incl_prob"] * sample["weight"], 1.0, rtol=1e-12)
    else:
        assert sample["weight"].isna().all() and sample["incl_prob"].isna().all()


@pytest.mark.parametrize("name", MINE)
def test_same_rng_same_sample_and_unknown_keys_rejected(name, small_pop):
    design = get_design(name)
    params = design.Params()
    state = design.prepare(small_pop, params, np.random.default_rng(1))
    a = design.draw(small_pop, state, 200, params, np.random.default_rng(5))
    b = design.draw(small_pop, state, 200, params, np.random.default_rng(5))
    assert a.equals(b)
    with pytest.raises(pydantic.ValidationError, match="no_such_key"):
        design.Params.model_validate({"no_such_key": 1})
    with pytest.raises(pydantic.ValidationError, match="no_such_artefact"):
        design.Params.model_validate({"artefacts": {"no_such_artefact": 0.1}})


@pytest.mark.parametrize("name", MINE)
def test_bad_n_is_user_error(name, small_pop):
    design = get_design(name)
    params = design.Params()
    with pytest.raises(UserInputError, match="n"):
        design.draw(small_pop, None, len(small_pop) + 1, params, np.random.default_rng(0))
    with pytest.raises(UserInputError, match="n"):
        design.draw(small_pop, None, 0, params, np.random.default_rng(0))


def test_missing_column_named(small_pop):
    design = get_design("quota")
    with pytest.raises(UserInputError, match="province"):
        design.prepare(small_pop.drop(columns=["province"]), design.Params(), np.random.default_rng(0))
    rds = get_design("rds")
    with pytest.raises(UserInputError, match="home_site"):
        rds.prepare(small_pop.drop(columns=["home_site"]), rds.Params(), np.random.default_rng(0))
