"""from_results: one design of an engine run as a Recovery, matching the diagnosis.

A toy-unit run with injected failures (replications 3 and 11 raise, 5 does not converge
for the OLS model): the Recovery built from the collected results must give the same
measures as ``diagnose`` (basis "successes") for the same design, including the counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim_refugee.diagnosis.measures import diagnose
from sim_refugee.engine import load_experiment, open_results, run_experiment
from sim_refugee.testing import from_results
from tests.engine.conftest import toy_config

PAIRS = {"n_ok": "n_sim", "bias": "bias", "emp_se": "emp_se", "mod_se": "mod_se",
         "coverage": "coverage", "rmse": "rmse", "failure_rate": "failure_rate"}


def test_from_results_matches_diagnose(tmp_path: Path) -> None:
    cfg = toy_config(tmp_path, reps=20, unit="fail_reps = [3, 11]\nnonconverge_reps = [5]")
    run_experiment(load_experiment(cfg), tmp_path / "out", progress=False)
    res = open_results(tmp_path / "out")
    diag = diagnose(res)
    for design in ("srs", "biased"):
        rec = from_results(res, design)
        assert rec.terms == ["mean:y", "mean:b", "ols:b"] and rec.reps == 20
        sel = diag.sel(condition="c000", design=design, basis="successes")
        for ours, theirs in PAIRS.items():
            for term in rec.terms:
                want = float(sel["value"].sel(model_term=term, measure=theirs))
                assert rec.measures.loc[term, ours] == pytest.approx(want, rel=1e-12), (ours, term)
                want_mc = float(sel["mcse"].sel(model_term=term, measure=theirs))
                got_mc = rec.mcse.loc[term, ours]
                assert got_mc == pytest.approx(want_mc, rel=1e-12) or (
                    np.isnan(want_mc) and np.isnan(got_mc)), (ours, term)
    srs = from_results(res, "srs")
    assert srs.failure_rate["ols:b"] == pytest.approx(3 / 20)
    srs.assert_unbiased()
    with pytest.raises(AssertionError, match=r"bias of 'mean:y'.*\n(.*\n)*.*root_seed=7"):
        from_results(res, "biased").assert_unbiased()
