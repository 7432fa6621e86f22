"""The per-sample diagnostics of diagnosis.nonprob_sample on real designs and a small world.

Meng's identity must hold exactly for every outcome whose recorded answers are the
population's (duplicate interviews counted as R_i = 2), the bias must be the answered
mean minus the population mean, and the census record must carry the population means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.designs import get_design
from sim_refugee.diagnosis.nonprob import data_defect, mubp, smub
from sim_refugee.diagnosis.nonprob_sample import (
    OUTCOME_NAMES,
    OUTCOMES,
    STATS,
    auxiliary_matrix,
    benchmark_for,
    nonprob_scalar_names,
    outcome_values,
    population_values,
    sample_diagnostics,
)
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.world import WorldConfig, build_population


@pytest.fixture(scope="module")
def pop() -> pd.DataFrame:
    return build_population(WorldConfig(size=4000), seed_sequence(31, "population", 0))


def _draw(pop: pd.DataFrame, design: str, n: int = 600, rep: int = 0, **params) -> pd.DataFrame:
    d = get_design(design)
    p = d.Params.model_validate(params)
    state = d.prepare(pop, p, rng_for(31, "prepare", 0, design))
    return d.draw(pop, state, n, p, rng_for(31, "sample", 0, rep))


def _table(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(values.reshape(len(OUTCOMES), len(STATS)), index=list(OUTCOME_NAMES),
                        columns=list(STATS))


def test_names_and_layout() -> None:
    names = nonprob_scalar_names()
    assert len(names) == len(set(names)) == len(OUTCOMES) * len(STATS)
    assert names[0] == f"nonprob.{OUTCOMES[0].name}.mean"


def test_paper_sample_bias_and_meng_identity(pop: pd.DataFrame) -> None:
    sample = _draw(pop, "paper")  # item nonresponse on (the default)
    t = _table(sample_diagnostics(sample, pop))
    for o in OUTCOMES:
        y = outcome_values(sample, o)
        ans = np.isfinite(y)
        assert t.loc[o.name, "n"] == ans.sum()
        assert t.loc[o.name, "mean"] == pytest.approx(y[ans].mean(), rel=1e-14)
        truth = outcome_values(pop, o).mean()
        assert t.loc[o.name, "bias"] == pytest.approx(y[ans].mean() - truth, abs=1e-14)
        if o.name != "avgpsych":  # avgpsych is re-averaged over the answered items
            assert t.loc[o.name, "meng_error"] == pytest.approx(t.loc[o.name, "bias"],
                                                                 rel=1e-9, abs=1e-13)
        for s in ("rho_ry", "n_eff", "rho_xy", "mub0", "mub05", "mub1"):
            assert np.isfinite(t.loc[o.name, s]), (o.name, s)
        binary = o.kind == "binary"
        for s in ("rho_xu", "mubp0", "mubp05", "mubp1"):
            assert np.isfinite(t.loc[o.name, s]) == binary, (o.name, s)


def test_values_equal_the_formulas_on_the_answered_cases(pop: pd.DataFrame) -> None:
    sample = _draw(pop, "paper", rep=1)
    t = _table(sample_diagnostics(sample, pop))
    bench = benchmark_for(pop)
    z = auxiliary_matrix(sample)
    o = next(o for o in OUTCOMES if o.name == "prefer_us")
    y = outcome_values(sample, o)
    ans = np.isfinite(y)
    assert (pop["person_id"].to_numpy() == np.arange(len(pop))).all()  # ids are positions
    r = np.bincount(sample["person_id"].to_numpy()[ans], minlength=len(pop))
    assert t.loc["prefer_us", "rho_ry"] == data_defect(r, outcome_values(pop, o)).rho
    np.testing.assert_array_equal(t.loc["prefer_us", ["mub0", "mub05", "mub1"]].to_numpy(),
                                  smub(y[ans], z[ans], z_pop_mean(pop)).mub)
    np.testing.assert_array_equal(
        t.loc["prefer_us", ["mubp0", "mubp05", "mubp1"]].to_numpy(),
        mubp(y[ans], z[ans], bench.zbar, bench.zcov, len(pop)).mubp)


def z_pop_mean(pop: pd.DataFrame) -> np.ndarray:
    return auxiliary_matrix(pop).mean(axis=0)


def test_duplicates_count_twice_and_keep_the_identity(pop: pd.DataFrame) -> None:
    sample = _draw(pop, "srs", artefacts={"duplicate_rate": 0.15, "duplicate_mode": "copy",
                                           "item_nonresponse": "none"})
    assert sample["person_id"].duplicated().any()
    t = _table(sample_diagnostics(sample, pop))
    np.testing.assert_allclose(t["meng_error"], t["bias"], rtol=1e-9, atol=1e-13)
    assert (t["n"] == len(sample)).all()


def test_census_record_and_cache(pop: pd.DataFrame) -> None:
    assert benchmark_for(pop) is benchmark_for(pop)
    t = _table(population_values(pop))
    for o in OUTCOMES:
        assert t.loc[o.name, "mean"] == outcome_values(pop, o).mean()
        assert t.loc[o.name, "n"] == len(pop)
    assert t.drop(columns=["mean", "sd", "n"]).isna().all().all()


def test_foreign_sample_is_refused(pop: pd.DataFrame) -> None:
    sample = _draw(pop, "srs").copy()
    sample.loc[0, "person_id"] = 10**9
    with pytest.raises(ValueError, match="person_ids"):
        sample_diagnostics(sample, pop)
