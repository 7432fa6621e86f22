"""The shared validation rules: strict types, finite numbers, one error message, safe
names and paths, bounded sizes, and strict Python API entry points."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from sim_refugee.designs import get_design
from sim_refugee.designs.artefacts import ArtefactParams
from sim_refugee.designs.quota import QuotaParams
from sim_refugee.engine.config import validate_experiment
from sim_refugee.errors import UserInputError
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.targets import resolve_assumptions
from sim_refugee.validation import (
    check_int,
    check_name,
    check_output,
    inside,
    validate_model,
)
from sim_refugee.world import WorldConfig, build_population
from sim_refugee.world.network import NetworkParams, build_network
from sim_refugee.world.venues import VenueParams
from tests.validation.conftest import small_population


def test_arrays_are_accepted_for_tuple_fields() -> None:
    assert QuotaParams.model_validate({"age_cuts": [30, 45.5]}).age_cuts == (30.0, 45.5)
    art = ArtefactParams.model_validate({"nonresponse_items": ["anger", "fear"]})
    assert art.nonresponse_items == ("anger", "fear")


def test_an_int_is_a_float_but_nothing_is_coerced_to_an_int() -> None:
    assert ArtefactParams.model_validate({"interviewer_sd": 1}).interviewer_sd == 1.0
    for bad in (True, "48", 48.0):
        with pytest.raises(ValidationError):
            get_design("srs").Params.model_validate({"n_interviewers": bad})
    for bad in ("0.1", True):
        with pytest.raises(ValidationError):
            ArtefactParams.model_validate({"interviewer_sd": bad})
    with pytest.raises(ValidationError):
        get_design("rds").Params.model_validate({"degree_heaping": "yes"})


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_at_any_depth(value: float) -> None:
    with pytest.raises(UserInputError, match=r"'params\.network\.degree_by\.church_tie'"):
        validate_model(get_design("rds").Params,
                       {"network": {"degree_by": {"church_tie": value}}}, prefix="params")
    with pytest.raises(UserInputError, match=r"'world\.targets\.female'"):
        WorldConfig.from_dict({"targets": {"female": value}})


def test_message_names_the_key_not_the_union_member() -> None:
    raw = {"experiment": {"name": "t", "unit": "toy", "root_seed": 1, "replications": 1},
           "designs": [{"name": "srs"}], "sample": {"n": 10.0}}
    with pytest.raises(UserInputError) as info:
        validate_experiment(raw)
    assert info.value.key == "sample.n"
    assert "got 10.0" in str(info.value)


def test_message_lists_every_wrong_key() -> None:
    with pytest.raises(UserInputError) as info:
        WorldConfig.from_dict({"size": "big", "colour": "red", "effects": 1})
    msg = str(info.value)
    assert info.value.key == "world.size"
    assert "'world.colour'" in msg and "'world.effects'" in msg


def test_missing_and_unknown_keys_are_named() -> None:
    with pytest.raises(UserInputError, match="'experiment.root_seed': required key is missing"):
        validate_experiment({"experiment": {"name": "t", "unit": "toy", "replications": 1},
                             "designs": [{"name": "srs"}], "sample": {"n": 10}})
    with pytest.raises(UserInputError, match="'params.reach.or_urbn': unknown key"):
        validate_model(get_design("paper").Params, {"reach": {"or_urbn": 2}}, prefix="params")


@pytest.mark.parametrize("name", ["paper_d3", "e4_d-1.5", "A", "x" * 64])
def test_safe_names(name: str) -> None:
    assert check_name(name, "label") == name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "-x",
                                  "a\x00b", "x" * 65, "a b", 3])
def test_unsafe_names(name: object) -> None:
    with pytest.raises(UserInputError, match="label"):
        check_name(name, "label")


@pytest.mark.parametrize("value", [True, 1.0, "1", None, np.float64(2.0)])
def test_check_int_refuses_non_ints(value: object) -> None:
    with pytest.raises(UserInputError, match="--n"):
        check_int(value, "--n", 1)


def test_check_int_bounds() -> None:
    assert check_int(np.int64(5), "--n", 1, 10) == 5
    with pytest.raises(UserInputError, match=r"in \[1, 10\]"):
        check_int(11, "--n", 1, 10)


def test_output_paths(tmp_path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(UserInputError, match="not a folder"):
        check_output(tmp_path / "f", kind="dir")
    with pytest.raises(UserInputError, match="which is a file"):
        check_output(tmp_path / "f" / "x" / "y", kind="dir")
    with pytest.raises(UserInputError, match="is a folder"):
        check_output(tmp_path, kind="file")
    with pytest.raises(UserInputError, match="is a folder"):
        check_output(".", kind="file")
    assert check_output(".", kind="dir") == Path(".")
    with pytest.raises(UserInputError, match="longer than"):
        check_output(tmp_path / ("n" * 300), kind="file")
    assert check_output(tmp_path / "new" / "deeper", kind="dir") == tmp_path / "new" / "deeper"
    assert list(tmp_path.iterdir()) == [tmp_path / "f"]  # checking writes nothing


def test_inside(tmp_path) -> None:
    assert inside(tmp_path, "chunks/a.nc") == tmp_path / "chunks/a.nc"
    for bad in ("../a.nc", "chunks/../../a.nc", "/etc/passwd"):
        with pytest.raises(UserInputError, match="outside"):
            inside(tmp_path, bad)


def test_assumptions_are_finite_and_bounded() -> None:
    for bad in (math.nan, math.inf, 1e6, True, "3"):
        with pytest.raises(UserInputError, match="age.sd"):
            resolve_assumptions({"age.sd": bad})
    with pytest.raises(UserInputError, match="items.anger.shares"):
        resolve_assumptions({"items.anger.shares": [0.25, 0.25, True, 0.5]})


def test_python_entry_points_are_strict() -> None:
    with pytest.raises(UserInputError, match="seed"):
        seed_sequence(True, "population", 0)
    with pytest.raises(UserInputError, match="seed"):
        build_population(WorldConfig(size=1000), 1.5)
    with pytest.raises(UserInputError, match="world.size"):
        build_population({"size": "1000"}, 1)
    with pytest.raises(UserInputError, match="n must be a positive integer"):
        get_design("srs").draw(small_population(), None, True, get_design("srs").Params(),
                               rng_for(1, "sample", 0, 0))


def test_world_size_is_bounded() -> None:
    for bad in (999, 2_000_001, True):
        with pytest.raises(UserInputError, match="world.size"):
            WorldConfig.from_dict({"size": bad})


def test_network_sizes_and_overflow_are_refused() -> None:
    pop = small_population()
    rng = rng_for(1, "prepare", 0, "rds")
    with pytest.raises(UserInputError, match="network.mean_degree"):
        build_network(pop, NetworkParams(mean_degree=1e9), rng)
    with pytest.raises(UserInputError, match="network.degree_by"):
        build_network(pop, NetworkParams(degree_by={"church_tie": 1e300}), rng)
    with pytest.raises(ValidationError, match="per_site"):
        VenueParams.model_validate({"types": {"market": {"per_site": 10**9, "intercept": 0.0,
                                                         "slot_rate": 0.1}}})
