"""The streaming diagnosis equals the in-memory one; user-defined diagnosands appear in
every output; claims are evaluated from the stored estimates at diagnosis time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sim_refugee.cli import main
from sim_refugee.diagnosis import diagnosands as dg
from sim_refugee.diagnosis.measures import diagnose
from sim_refugee.diagnosis.stream import diagnose_results
from sim_refugee.engine import load_experiment, open_results, run_experiment, unit_toy
from sim_refugee.engine.claims_eval import ClaimEvaluator
from sim_refugee.engine.storage import results_path

CFG = """
[experiment]
name = "stream"
unit = "toy"
root_seed = 5
replications = 30
chunk_size = 10
populations = 2
[world]
size = 3000
[unit]
fail_reps = [3, 17]
nonconverge_reps = [4, 5, 21]
[[designs]]
name = "srs"
[[designs]]
name = "biased"
params = {{ strength = 0.4 }}
[[designs]]
name = "srs_wr"
[sample]
n = {n}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("stream")
    cfg = tmp / "c.toml"
    cfg.write_text(CFG.format(n="[30, 120]"))
    out = tmp / "out"
    run_experiment(load_experiment(cfg), out, progress=False)
    return out


def _assert_close(a: xr.Dataset, b: xr.Dataset) -> None:
    assert set(a.data_vars) == set(b.data_vars)
    for v in a.data_vars:
        x, y = a[v].values, b[v].transpose(*a[v].dims).values
        np.testing.assert_allclose(y, x, rtol=1e-10, atol=1e-13, err_msg=v)
    for c in ("condition", "design", "model_term", "measure", "claim", "contrast"):
        if c in a.coords:
            assert list(a[c].values) == list(b[c].values), c


@pytest.mark.parametrize("block", [1, 7, 1000])
def test_streaming_equals_in_memory(run: Path, block: int) -> None:
    # failures, non-converged fits, two populations, two conditions, three designs
    ref = diagnose(open_results(run))
    assert float(ref["value"].sel(measure="failure_rate", basis="all").max()) > 0
    _assert_close(ref, diagnose_results(run / "results.nc", block=block))


def test_claims_from_stored_estimates_equal_the_workers(run: Path) -> None:
    path, lab, unit = results_path(run)
    ev = ClaimEvaluator(unit, lab)
    _assert_close(diagnose(open_results(run)), diagnose_results(path, block=4, claims=ev))


def test_new_claim_reaches_the_diagnosis_of_an_old_run(run: Path, monkeypatch) -> None:
    def slope_above(est: np.ndarray) -> float:
        return float(est[2, 0] > 0.45)

    monkeypatch.setitem(unit_toy.CLAIMS, "slope_above_0.45", (slope_above, slope_above))
    path, lab, unit = results_path(run)  # results.nc collected before the claim existed
    assert "slope_above_0.45" not in open_results(run)["claim"].values
    d = diagnose_results(path, block=8, claims=ClaimEvaluator(unit, lab))
    res = open_results(run)
    slope = res["estimates"].sel(model_term="ols:b", statistic="estimate")
    ok = res["rep_status"] == "ok"
    want = ((slope > 0.45) & ok).sum(("population", "replication")) / ok.sum(
        ("population", "replication"))
    got = d["claim_value"].sel(claim="slope_above_0.45", claim_measure="reproduction_rate")
    np.testing.assert_allclose(got.transpose(*want.dims).values, want.values, rtol=1e-12)


@pytest.fixture
def within() -> dg.Diagnosand:
    d = dg.register(dg.Diagnosand(
        "within_0.05", "P(|err|<0.05)", "share within 0.05 of the truth",
        per_rep=lambda r: (np.abs(r.est - r.theta) < 0.05).astype(float),
        finalize=lambda n, mean, var: (mean, np.sqrt(mean * (1 - mean) / n))))
    yield d
    dg.unregister(d.name)


def test_registered_diagnosand_in_every_output(run: Path, tmp_path: Path, within) -> None:
    res = open_results(run)
    # value: by hand from the stored estimates (successes basis: ok fits, finite est/se)
    est = res["estimates"].sel(statistic="estimate")
    se = res["estimates"].sel(statistic="se")
    theta = res["estimand"].sel(statistic="estimate")
    mstat = res["model_status"].sel(model=res["model_of_term"])
    ok = (mstat == "ok") & (res["rep_status"] == "ok") & np.isfinite(est) & np.isfinite(se)
    hit = (np.abs(est - theta) < 0.05) & ok
    dims = ("population", "replication")
    p = (hit.sum(dims) / ok.sum(dims)).transpose("condition", "design", "model_term")
    mc = np.sqrt(p * (1 - p) / ok.sum(dims).transpose(*p.dims))
    for d in (diagnose(res), diagnose_results(run / "results.nc", block=9)):
        sub = d.sel(measure="within_0.05", basis="successes")
        np.testing.assert_allclose(sub["value"].transpose(*p.dims).values, p.values, rtol=1e-12)
        np.testing.assert_allclose(sub["mcse"].transpose(*p.dims).values, mc.values,
                                   rtol=1e-12)
    # the command line: netCDF, CSV, Markdown and the report
    out = tmp_path / "diag"
    out.mkdir()
    assert main(["diagnose", str(run), "--out", str(out)]) == 0
    nc = xr.open_dataset(out / "diagnostics.nc")
    assert "within_0.05" in nc["measure"].values
    csv = pd.read_csv(out / "diagnostics.csv")
    rows = csv[(csv["table"] == "terms") & (csv["measure"] == "within_0.05")]
    assert len(rows) == 2 * 3 * 3 * 2  # conditions x designs x terms x bases
    assert "P(|err|<0.05)" in (out / "diagnostics.md").read_text()
    (out / "manifest.json").write_bytes((run / "manifest.json").read_bytes())
    (out / "results.nc").symlink_to(run / "results.nc")
    assert main(["report", str(out)]) == 0
    dg.unregister("within_0.05")  # the report reads the names stored with the diagnosis
    report = next(out.rglob("report.md")).read_text()
    assert "share within 0.05 of the truth" in report


def test_register_refuses_a_taken_name() -> None:
    with pytest.raises(ValueError, match="already registered"):
        dg.register(dg.Diagnosand("bias", "b", "b", per_rep=lambda r: r.est))
