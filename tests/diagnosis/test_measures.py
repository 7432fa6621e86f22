"""Diagnosis on cases with known answers, and the MCSE formulas against hand computation.

Tolerances: a measure is compared with its known value within 3.5 Monte Carlo SEs
(two-sided probability of a false alarm about 5e-4 per check under normality), plus,
where stated, a small allowance for a known finite-sample approximation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim_refugee.cli import main
from sim_refugee.diagnosis.measures import TERM_MEASURES, diagnose, term_measures
from sim_refugee.engine import load_experiment, open_results, run_experiment
from sim_refugee.engine.unit_toy import UNIT as TOY
from sim_refugee.seeds import seed_sequence

R = 2000
N_POP = 5000
N = 200
ROOT = 11


@pytest.fixture(scope="module")
def srs_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("srs")
    cfg = tmp / "srs.toml"
    cfg.write_text(f"""
[experiment]
name = "srs_known"
unit = "toy"
root_seed = {ROOT}
replications = {R}
chunk_size = 1000
[world]
size = {N_POP}
[[designs]]
name = "srs"
[[designs]]
name = "biased"
params = {{ strength = 0.3 }}
[sample]
n = {N}
""")
    out = tmp / "out"
    run_experiment(load_experiment(cfg), out, progress=False)
    res = open_results(out)
    return out, res, diagnose(res)


def _m(diag, measure, term="mean:y", design="srs", basis="successes"):
    s = diag.sel(condition="c000", design=design, model_term=term, measure=measure, basis=basis)
    return float(s["value"]), float(s["mcse"])


@pytest.mark.parametrize("term", ["mean:y", "mean:b"])
def test_srs_mean_known_answer(srs_run, term: str) -> None:
    _, _, diag = srs_run
    # population variance from the population itself (independent of the engine's fit)
    pop = TOY.build_population(TOY.validate_world({"size": N_POP}), TOY.validate_params({}),
                               seed_sequence(ROOT, "population", 0))
    col = term.split(":")[1]
    s2 = pop[col].var(ddof=1)
    true_se = np.sqrt((1 - N / N_POP) * s2 / N)  # SRSWOR SE of a mean (Cochran 1977, 2.8)

    bias, mc_bias = _m(diag, "bias", term)
    assert abs(bias) <= 3.5 * mc_bias
    # MCSE of bias is empSE/sqrt(R) ~ true_se/sqrt(R): within 10% (sd of an sd estimate
    # with R = 2000 is ~1.6%)
    assert mc_bias == pytest.approx(true_se / np.sqrt(R), rel=0.10)
    emp, mc_emp = _m(diag, "emp_se", term)
    assert abs(emp - true_se) <= 3.5 * mc_emp
    ratio, mc_ratio = _m(diag, "se_ratio", term)
    assert abs(ratio - 1) <= 3.5 * mc_ratio
    cov, mc_cov = _m(diag, "coverage", term)
    # Wald interval with z = 1.96: nominal 0.95 up to O(1/n) terms (t_199 vs z gives
    # 0.9487 for normal data): allowance 0.005 on top of 3.5 MCSE = 3.5 * 0.0049.
    assert abs(cov - 0.95) <= 3.5 * mc_cov + 0.005
    assert mc_cov == pytest.approx(np.sqrt(0.95 * 0.05 / R), rel=0.15)
    n_sim, _ = _m(diag, "n_sim", term)
    assert n_sim == R
    assert _m(diag, "failure_rate", term)[0] == 0


def test_biased_design_shows_bias(srs_run) -> None:
    _, res, diag = srs_run
    bias, mc = _m(diag, "bias", "mean:y", design="biased")
    assert bias > 10 * mc
    # inclusion odds exp(0.3 y): for small n/N the sample mean targets the tilted mean
    # sum(w y)/sum(w); without-replacement draws (n/N = 4%) pull it slightly back
    pop = TOY.build_population(TOY.validate_world({"size": N_POP}), TOY.validate_params({}),
                               seed_sequence(ROOT, "population", 0))
    w = np.exp(0.3 * pop["y"].to_numpy())
    tilt = float((w * pop["y"]).sum() / w.sum() - pop["y"].mean())
    assert 0.85 * tilt - 3.5 * mc <= bias <= tilt + 3.5 * mc
    cov, _ = _m(diag, "coverage", "mean:y", design="biased")
    assert cov < 0.5
    # paired difference of biases equals the difference of the two biases (same reps)
    pv = float(diag["paired_value"].sel(condition="c000", contrast="biased - srs",
                                        model_term="mean:y", paired_measure="bias_diff"))
    b0, _ = _m(diag, "bias", "mean:y", design="srs")
    assert pv == pytest.approx(bias - b0, abs=1e-12)


def test_claims_reproduction(srs_run) -> None:
    _, res, diag = srs_run
    truth = diag["claim_value"].sel(condition="c000", design="srs", claim="y_mean_positive",
                                    claim_measure="truth_rate")
    assert float(truth) == 1.0  # population mean 0.2 + 0.5 * 0.3 > 0
    rep = diag["claim_value"].sel(condition="c000", design="srs", claim="y_mean_positive",
                                  claim_measure="reproduction_rate")
    # the sample mean is ~5 SEs above 0: reproduced in essentially every sample
    assert float(rep) > 0.99
    # independent count from the raw results
    raw = res["claims"].sel(condition="c000", design="srs", claim="b_raises_y").values
    got = diag["claim_value"].sel(condition="c000", design="srs", claim="b_raises_y",
                                  claim_measure="reproduction_rate")
    assert float(got) == pytest.approx(np.nanmean(raw), abs=1e-12)


def test_formulas_against_hand_computation() -> None:
    rng = np.random.default_rng(5)
    n = 50
    est = 1.0 + rng.normal(0, 0.3, n)
    se = np.abs(rng.normal(0.3, 0.05, n))
    pval = rng.uniform(0, 0.2, n)
    theta = np.full(n, 1.1)
    ok = np.ones(n, bool)
    ok[[3, 7]] = False
    use = np.ones(n, bool)
    v, m = term_measures(est, se, pval, theta, use, ok, "successes")
    val = dict(zip(TERM_MEASURES, v, strict=True))
    mc = dict(zip(TERM_MEASURES, m, strict=True))
    e, s, p = est[ok] - 1.1, se[ok], pval[ok]
    k = ok.sum()
    assert val["n_sim"] == k
    assert val["bias"] == pytest.approx(e.mean())
    assert mc["bias"] == pytest.approx(e.std(ddof=1) / np.sqrt(k))
    assert val["emp_se"] == pytest.approx(e.std(ddof=1))
    assert mc["emp_se"] == pytest.approx(e.std(ddof=1) / np.sqrt(2 * (k - 1)))
    mod = np.sqrt(np.mean(s**2))
    assert val["mod_se"] == pytest.approx(mod)
    assert mc["mod_se"] == pytest.approx(np.sqrt(np.var(s**2, ddof=1) / (4 * k * mod**2)))
    assert val["mse"] == pytest.approx(np.mean(e**2))
    assert mc["mse"] == pytest.approx(np.sqrt(np.sum((e**2 - np.mean(e**2)) ** 2) / (k * (k - 1))))
    c = np.mean(np.abs(e) <= 1.959963984540054 * s)
    assert val["coverage"] == pytest.approx(c)
    assert mc["coverage"] == pytest.approx(np.sqrt(c * (1 - c) / k))
    pw = np.mean(p < 0.05)
    assert val["power"] == pytest.approx(pw)
    assert val["rel_bias"] == pytest.approx(e.mean() / 1.1)
    assert val["failure_rate"] == pytest.approx(2 / n)
    # "all" basis: two more estimates (from failed fits) enter the continuous measures
    v2, _ = term_measures(est, se, pval, theta, use, ok, "all")
    assert dict(zip(TERM_MEASURES, v2, strict=True))["bias"] == pytest.approx(np.mean(est - 1.1))


def test_diagnose_cli_writes_tables(srs_run, tmp_path: Path) -> None:
    out, _, _ = srs_run
    dest = tmp_path / "diag"
    assert main(["diagnose", str(out), "--out", str(dest)]) == 0
    import pandas as pd
    import xarray as xr

    df = pd.read_csv(dest / "diagnostics.csv")
    assert set(df["table"]) >= {"terms", "claims", "paired", "failures"}
    row = df[(df.table == "terms") & (df.design == "srs") & (df.item == "mean:y")
             & (df.measure == "coverage") & (df.basis == "successes")]
    assert len(row) == 1 and 0.9 < row["value"].iloc[0] < 1.0
    md = (dest / "diagnostics.md").read_text()
    assert "| mean:y |" in md and "Paired design differences" in md
    from sim_refugee.engine.storage import ENGINE

    ds = xr.open_dataset(dest / "diagnostics.nc", engine=ENGINE)
    assert "mcse" in ds and ds.attrs["config_hash"]
    ds.close()
    assert main(["diagnose", str(tmp_path / "missing")]) == 2
