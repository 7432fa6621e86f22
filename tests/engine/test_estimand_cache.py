"""Conditions that share the world and unit params share one census fit per process."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim_refugee.engine import load_experiment, open_results, run_experiment
from sim_refugee.engine.tasks import clear_caches


def test_sample_size_conditions_share_the_census_fit(toy, tmp_path: Path) -> None:
    clear_caches()
    cfg = toy(n="[50, 100]", reps=4, chunk=4)
    run_experiment(load_experiment(cfg), tmp_path / "out", progress=False)
    res = open_results(tmp_path / "out")
    assert res.sizes["condition"] == 2
    est = res["estimand"].values
    np.testing.assert_array_equal(est[0], est[1])  # the same estimand for both n
    fit_time = res["estimand_timings"].sel(stage="fit").values.ravel()
    assert fit_time[0] > 0 and fit_time[1] == 0.0, fit_time  # computed once, then reused
