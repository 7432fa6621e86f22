"""The nonprob diagnostics through the engine: a tiny version of the shipped study
experiments/nonprob_diagnostics.toml on a small world (the study itself is for the
paper world), bit-identical across backends, equal to a hand-made replication, and
through diagnose and the report.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim_refugee.engine import open_results, run_experiment, validate_experiment
from sim_refugee.engine.config import load_toml

from .conftest import assert_bit_identical

STUDY = Path(__file__).resolve().parents[2] / "experiments" / "nonprob_diagnostics.toml"


def _tiny(**unit: Any) -> dict[str, Any]:
    """The shipped study, shrunk: world 2,000, n = 300, 2 replications, serial."""
    raw = copy.deepcopy(load_toml(STUDY))
    raw["experiment"].update(replications=2, chunk_size=1, root_seed=9)
    raw["world"]["size"] = 2000
    raw["sample"]["n"] = 300
    raw["backend"] = {"kind": "serial"}
    raw["unit"].update(unit)
    return raw


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nonprob") / "serial"
    run_experiment(validate_experiment(_tiny()), out, progress=False)
    return out


@pytest.mark.slow
def test_study_smoke_and_hand_replication(serial_run: Path) -> None:
    from sim_refugee.designs import get_design
    from sim_refugee.diagnosis.nonprob_sample import (
        nonprob_scalar_names,
        population_values,
        sample_diagnostics,
    )
    from sim_refugee.seeds import rng_for, seed_sequence
    from sim_refugee.world import WorldConfig, build_population

    res = open_results(serial_run)
    assert (res["rep_status"] == "ok").all(), res["rep_message"].values
    names = list(nonprob_scalar_names())
    got = res["scalars"].sel(scalar=names)
    for des in res["design"].values:
        bias = got.sel(design=des, scalar="nonprob.anxious_agree.bias").values
        mub = got.sel(design=des, scalar="nonprob.foodaid.mubp1").values
        assert np.isfinite(bias).all() and np.isfinite(mub).all(), des

    # replication 1 of paper_famine and the census record, by hand from the Contract 6 seeds
    pop = build_population(WorldConfig(size=2000), seed_sequence(9, "population", 0))
    design = get_design("paper")
    params = design.Params.model_validate({"reach": {"or_famine": 3.0}})
    state = design.prepare(pop, params, rng_for(9, "prepare", 0, "paper"))
    sample = design.draw(pop, state, 300, params, rng_for(9, "sample", 0, 1))
    np.testing.assert_array_equal(
        got.sel(condition="c000", population=0, design="paper_famine", replication=1).values,
        sample_diagnostics(sample, pop))
    np.testing.assert_array_equal(
        res["scalar_truth"].sel(condition="c000", population=0, scalar=names).values,
        population_values(pop))


@pytest.mark.slow
def test_loky_backend_is_bit_identical(serial_run: Path, tmp_path: Path) -> None:
    raw = _tiny()
    raw["backend"] = {"kind": "loky", "workers": 2}
    run_experiment(validate_experiment(raw), tmp_path / "loky", progress=False)
    assert_bit_identical(open_results(serial_run), open_results(tmp_path / "loky"))


@pytest.mark.slow
def test_diagnose_and_report(serial_run: Path) -> None:
    from sim_refugee.diagnosis import diagnose, write_diagnosis
    from sim_refugee.report import make_report

    d = diagnose(open_results(serial_run))
    assert "nonprob_value" in d
    assert list(d["design"].values) == ["srs", "paper", "paper_distress", "paper_border",
                                        "paper_famine"]
    n_sim = d["nonprob_value"].sel(nonprob_diagnostic="mub0", nonprob_measure="n_sim")
    assert (n_sim == 2).all()
    paths = write_diagnosis(d, serial_run)
    assert "Nonprobability-sample diagnostics" in paths["markdown"].read_text()
    text = make_report(serial_run, figures=False).read_text()
    assert "## Nonprobability-sample diagnostics against the truth" in text
    assert "### baseline / paper_famine" in text


@pytest.mark.slow
def test_switched_off(tmp_path: Path) -> None:
    raw = _tiny(nonprob=False)
    raw["designs"] = [{"name": "srs"}]
    raw["experiment"]["replications"] = 1
    run_experiment(validate_experiment(raw), tmp_path / "off", progress=False)
    res = open_results(tmp_path / "off")
    from sim_refugee.diagnosis import diagnose
    from sim_refugee.diagnosis.nonprob_sample import nonprob_scalar_names

    assert np.isnan(res["scalars"].sel(scalar=list(nonprob_scalar_names())).values).all()
    assert "nonprob_value" not in diagnose(res)


def test_bad_switch_is_refused() -> None:
    from sim_refugee.errors import UserInputError

    with pytest.raises(UserInputError, match="unit.nonprob"):
        validate_experiment(_tiny(nonprob="yes"))
