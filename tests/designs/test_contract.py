"""The contract every design keeps (docs/ARCHITECTURE.md, Contract 1), run over every
design there is: the package's (found by ``sim_refugee.designs``) and every design a
module of tests/designs/extra/ registers, so a new design is tested by adding its file.

The population is the real generator's, uncalibrated and small (5,000 people), which
has every column any design reads.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pydantic
import pytest

import sim_refugee.designs as designs_pkg
from sim_refugee.designs import DESIGN_NAMES, design_names, get_design, register_design
from sim_refugee.designs.artefacts import effective_n
from sim_refugee.designs.base import SAMPLE_EXTRA_COLUMNS, BaseDesign
from sim_refugee.designs.weighting import margins_from
from sim_refugee.errors import UserInputError
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.world import WorldConfig, build_population

EXTRA = Path(__file__).parent / "extra"


def _import_extra_designs() -> None:
    """Import each module of tests/designs/extra once (each registers its design)."""
    for path in sorted(EXTRA.glob("*.py")):
        mod_name = f"_sim_refugee_test_design_{path.stem}"
        if mod_name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)


_import_extra_designs()
ALL = design_names()
N = 300


@pytest.fixture(scope="module")
def pop() -> pd.DataFrame:
    return build_population(WorldConfig(size=5_000, calibration="none"),
                            seed_sequence(15, "population", 0))


@pytest.fixture(scope="module")
def states(pop):
    out = {}
    for name in ALL:
        d = get_design(name)
        out[name] = d.prepare(pop, d.Params(), rng_for(15, "prepare", 0, name))
    return out


def _draw(name, pop, states, params=None, n=N, key=0):
    d = get_design(name)
    p = d.Params.model_validate(params or {})
    state = states[name] if params is None else d.prepare(pop, p, rng_for(15, "prepare", 0, name))
    return d.draw(pop, state, n, p, rng_for(15, "sample", 0, key, name))


def test_the_registry_holds_every_package_design_and_the_test_ones():
    assert {"paper", "srs", "quota", "tls", "rds", "snowball"} <= set(DESIGN_NAMES)
    assert "test_systematic" in ALL and "test_systematic" not in DESIGN_NAMES
    for name in DESIGN_NAMES:  # package designs are named after their module
        assert get_design(name).__module__ == f"sim_refugee.designs.{name}"
    with pytest.raises(UserInputError, match=r"unknown design 'nope'; known designs: .*paper"):
        get_design("nope")
    with pytest.raises(ValueError, match="'srs' is already taken"):
        register_design(type("Clash", (BaseDesign,), {"name": "srs"})())
    assert set(designs_pkg.INFRASTRUCTURE) == {"base", "artefacts", "weighting"}


@pytest.mark.parametrize("name", ALL)
def test_draw_returns_contract_columns(name, pop, states):
    design = get_design(name)
    assert isinstance(design, BaseDesign) and design.name == name
    s = _draw(name, pop, states)
    assert len(s) == N
    for col in SAMPLE_EXTRA_COLUMNS:
        assert col in s, col
    assert (s["design"] == name).all()
    assert set(pop.columns) <= set(s.columns)
    assert s["person_id"].is_unique  # no duplicates unless the artefact asks
    # rows are real population rows, unchanged where no artefact touches them
    merged = s[["person_id", "age", "female"]].merge(pop[["person_id", "age", "female"]],
                                                     on="person_id", validate="1:1")
    np.testing.assert_array_equal(merged["age_x"], merged["age_y"])
    np.testing.assert_array_equal(merged["female_x"], merged["female_y"])
    w, p = s["weight"].to_numpy(float), s["incl_prob"].to_numpy(float)
    np.testing.assert_array_equal(np.isnan(w), np.isnan(p))
    fin = np.isfinite(w)
    assert (w[fin] > 0).all()
    np.testing.assert_allclose(w[fin] * p[fin], 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_same_rng_same_sample_other_rng_other_sample(name, pop, states):
    a = _draw(name, pop, states, key=1)
    b = _draw(name, pop, states, key=1)
    c = _draw(name, pop, states, key=2)
    assert a.equals(b)
    assert set(a["person_id"]) != set(c["person_id"])


@pytest.mark.parametrize("name", ALL)
def test_params_are_strict(name):
    params = get_design(name).Params
    for bad, key in (({"no_such_key": 1}, "no_such_key"),
                     ({"artefacts": {"no_such_artefact": 0.1}}, "no_such_artefact"),
                     ({"weighting": {"rake_on": ["female"]}}, "rake_on"),
                     ({"weighting": {"trim_quantile": 1.5}}, "trim_quantile")):
        with pytest.raises(pydantic.ValidationError, match=key):
            params.model_validate(bad)
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        params().artefacts = None


@pytest.mark.parametrize("name", ALL)
def test_bad_n_is_a_user_error_naming_n(name, pop, states):
    design = get_design(name)
    params = design.Params()
    state = states[name]
    rng = np.random.default_rng(0)
    for bad in (0, -3, True, 2.0, "10"):
        with pytest.raises(UserInputError, match=rf"^n must be a positive integer, got {bad!r}$") as e:
            design.draw(pop, state, bad, params, rng)
        assert e.value.key == "n"
    with pytest.raises(UserInputError, match=rf"^n={len(pop) + 1} exceeds the population size "
                                             rf"{len(pop)}$") as e:
        design.draw(pop, state, len(pop) + 1, params, rng)
    assert e.value.key == "n"


@pytest.mark.parametrize("name", ALL)
def test_artefacts_are_applied(name, pop, states):
    s = _draw(name, pop, states, {"artefacts": {"duplicate_rate": 0.2, "item_nonresponse": "none",
                                                "nonresponse_rate": 0.3}})
    eff = effective_n(s)
    assert eff["rows"] == N
    # about 20% repeats and 30% blanks: far from 0 at n = 300 (binomial SD about 8)
    assert 20 < eff["rows"] - eff["persons"] < 100
    assert 50 < eff["rows"] - eff["valid_anxious"] < 150


@pytest.mark.parametrize("name", ALL)
def test_weighting_rakes_every_design_to_the_population_margins(name, pop, states):
    plain = _draw(name, pop, states)
    s = _draw(name, pop, states, {"weighting": {"rake_columns": ["female", "northeast"]}})
    # the weighting step changes the weights only, never who was drawn
    assert s["person_id"].tolist() == plain["person_id"].tolist()
    np.testing.assert_array_equal(s["design_weight"].to_numpy(float),
                                  plain["weight"].to_numpy(float))
    target = margins_from(pop.astype({"female": str, "northeast": str}), ["female", "northeast"])
    got = margins_from(s.astype({"female": str, "northeast": str}), ["female", "northeast"],
                       weights=s["weight"])
    for col in ("female", "northeast"):
        for level, share in target[col].items():
            assert got[col][level] == pytest.approx(share, abs=1e-9), (col, level)
    assert s["weight"].sum() == pytest.approx(len(pop), rel=1e-12)


def test_weighting_is_off_by_default_for_every_design():
    for name in ALL:
        params = get_design(name).Params()
        assert not params.weighting.active, name


def test_missing_column_named(pop):
    design = get_design("quota")
    with pytest.raises(UserInputError, match="province"):
        design.prepare(pop.drop(columns=["province"]), design.Params(), np.random.default_rng(0))
    rds = get_design("rds")
    with pytest.raises(UserInputError, match="home_site"):
        rds.prepare(pop.drop(columns=["home_site"]), rds.Params(), np.random.default_rng(0))
