"""Injected failures are recorded (status, message, seed key), counted, never lost."""

from __future__ import annotations

import numpy as np

from sim_refugee.diagnosis import diagnose
from sim_refugee.engine import load_experiment, open_results, run_experiment


def test_injected_failures_are_counted(toy, tmp_path) -> None:
    cfg = toy(reps=40, chunk=20, designs=("srs",),
              unit="fail_reps = [3, 11]\nnonconverge_reps = [5]")
    out = tmp_path / "out"
    run_experiment(load_experiment(cfg), out, progress=False)
    res = open_results(out).sel(condition="c000", design="srs", population=0)
    st = res["rep_status"].values
    assert list(np.flatnonzero(st != "ok")) == [3, 11]
    msg = str(res["rep_message"].sel(replication=3).values)
    assert "injected failure in replication 3" in msg
    assert str(res["seed_key"].sel(replication=3).values) == "sample/0/3"
    assert str(res["model_status"].sel(replication=5, model="ols").values) == "not_converged"
    assert str(res["model_status"].sel(replication=5, model="mean").values) == "ok"
    assert np.isnan(res["estimates"].sel(replication=3).values).all()
    assert len(res["replication"]) == 40  # nothing vanished

    d = diagnose(open_results(out)).sel(condition="c000", design="srs")
    fr = d["failure_rate"]
    assert float(fr.sel(model="mean")) == 2 / 40
    assert float(fr.sel(model="ols")) == 3 / 40
    v = d["value"]
    assert float(v.sel(model_term="mean:y", measure="n_sim", basis="successes")) == 38
    assert float(v.sel(model_term="ols:b", measure="n_sim", basis="successes")) == 37
    # the non-converged fit still has an estimate: it counts in the "all" basis
    assert float(v.sel(model_term="ols:b", measure="n_sim", basis="all")) == 38
    # with failures counted, a failed replication does not cover
    cs = float(v.sel(model_term="mean:y", measure="coverage", basis="successes"))
    ca = float(v.sel(model_term="mean:y", measure="coverage", basis="all"))
    assert ca * 40 == np.round(cs * 38)
    assert float(d["replication_error_rate"]) == 2 / 40
