"""diagnosis.nonprob_mc on a synthetic results Dataset whose measures are known by hand."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sim_refugee.diagnosis import diagnose, markdown, tidy
from sim_refugee.diagnosis.nonprob import effective_n
from sim_refugee.diagnosis.nonprob_mc import (
    NONPROB_DIAGNOSTICS,
    NONPROB_MEASURES,
    has_nonprob,
    nonprob_diagnosis,
)
from sim_refugee.diagnosis.nonprob_sample import STATS, nonprob_scalar_names
from sim_refugee.seeds import rng_for

R, N_POP, SIGMA = 40, 5000, 0.5


def _results(failed_rep: int = 3) -> tuple[xr.Dataset, dict[str, np.ndarray]]:
    """One condition, one design, two populations; outcome anxious_agree gets made-up
    diagnostics, one replication failed (its scalars NaN, status 'error')."""
    rng = rng_for(77, "test-nonprob-mc")
    names = list(nonprob_scalar_names())
    vals = np.full((1, 1, 2, R, len(names)), np.nan)
    b = 0.02 + 0.01 * rng.standard_normal((2, R))
    cols = {
        "bias": b,
        "meng_error": b + 1e-4 * rng.standard_normal((2, R)),
        "rho_ry": 0.01 + 0.002 * rng.standard_normal((2, R)),
        "mub0": 0.5 * b + 0.003 * rng.standard_normal((2, R)),
        "mub05": 0.8 * b,
        "mub1": 1.5 * b + 0.01,
        "mubp0": 0.4 * b,
        "mubp05": b + 0.02,
        "mubp1": 0.9 * b,
    }
    for s, v in cols.items():
        vals[0, 0, :, :, names.index(f"nonprob.anxious_agree.{s}")] = v
    status = np.full((1, 1, 2, R), "ok", dtype=object)
    status[0, 0, 1, failed_rep] = "error"
    vals[0, 0, 1, failed_rep] = np.nan
    truth = np.full((1, len(names), 2), np.nan)
    truth[0, names.index("nonprob.anxious_agree.mean"), :] = [0.6, 0.62]
    truth[0, names.index("nonprob.anxious_agree.sd"), :] = SIGMA
    truth[0, names.index("nonprob.anxious_agree.n"), :] = N_POP
    res = xr.Dataset(
        {"scalars": (("condition", "design", "population", "replication", "scalar"), vals),
         "rep_status": (("condition", "design", "population", "replication"), status.astype(str)),
         "scalar_truth": (("condition", "scalar", "population"), truth)},
        coords={"condition": ["c000"], "design": ["paper"], "population": [0, 1],
                "replication": np.arange(R), "scalar": names},
    )
    keep = np.ones((2, R), bool)
    keep[1, failed_rep] = False
    return res, {k: v[keep] for k, v in cols.items()}


def _get(d: xr.Dataset, diag: str, meas: str) -> tuple[float, float]:
    s = d.sel(condition="c000", design="paper", outcome="anxious_agree", nonprob_diagnostic=diag,
              nonprob_measure=meas)
    return float(s["nonprob_value"]), float(s["nonprob_mcse"])


def test_measures_by_hand() -> None:
    res, c = _results()
    d = nonprob_diagnosis(res)
    assert d is not None and has_nonprob(res)
    b = c["bias"]
    n = b.size
    assert n == 2 * R - 1
    assert _get(d, "mub0", "n_sim")[0] == n
    for diag in ("meng", "mub0", "mub05", "mub1", "mubp0", "mubp05", "mubp1"):
        dv = c["meng_error" if diag == "meng" else diag]
        e = dv - b
        v, m = _get(d, diag, "error")
        assert v == pytest.approx(e.mean(), rel=1e-12, abs=1e-15)
        assert m == pytest.approx(e.std(ddof=1) / np.sqrt(n), rel=1e-10)
        assert _get(d, diag, "predicted")[0] == pytest.approx(dv.mean(), rel=1e-12)
        assert _get(d, diag, "true_bias")[0] == pytest.approx(b.mean(), rel=1e-12)
        rmse, mc = _get(d, diag, "rmse")
        assert rmse == pytest.approx(np.sqrt(np.mean(e**2)), rel=1e-12)
        assert mc == pytest.approx(np.std(e**2, ddof=1) / np.sqrt(n) / (2 * rmse), rel=1e-10)
        r, mc_r = _get(d, diag, "corr")
        assert r == pytest.approx(np.corrcoef(dv, b)[0, 1], rel=1e-10)
        assert mc_r == pytest.approx((1 - r * r) / np.sqrt(n - 3), rel=1e-12)
    # intervals: MUB between phi = 0 and 1; MUBP over 0, 0.5, 1 (not monotone in phi here)
    lo, hi = np.minimum(c["mub0"], c["mub1"]), np.maximum(c["mub0"], c["mub1"])
    cov = np.mean((lo <= b) & (b <= hi))
    assert _get(d, "mub_interval", "coverage") == pytest.approx(
        (cov, np.sqrt(cov * (1 - cov) / n)), rel=1e-12)
    cov_b = np.mean((lo <= b.mean()) & (b.mean() <= hi))
    assert _get(d, "mub_interval", "coverage_bias")[0] == pytest.approx(cov_b, rel=1e-12)
    assert _get(d, "mub_interval", "width")[0] == pytest.approx(np.mean(hi - lo), rel=1e-12)
    stack = np.stack([c["mubp0"], c["mubp05"], c["mubp1"]])
    lo, hi = stack.min(axis=0), stack.max(axis=0)
    assert _get(d, "mubp_interval", "coverage")[0] == pytest.approx(
        np.mean((lo <= b) & (b <= hi)), rel=1e-12)
    # Meng: rho, the data defect index, (N - 1) E[rho^2] and the design's n_eff
    rho = c["rho_ry"]
    assert _get(d, "meng", "rho")[0] == pytest.approx(rho.mean(), rel=1e-12)
    assert _get(d, "meng", "ddi")[0] == pytest.approx(np.mean(rho**2), rel=1e-12)
    assert _get(d, "meng", "ddi_ratio")[0] == pytest.approx((N_POP - 1) * np.mean(rho**2),
                                                           rel=1e-12)
    a = np.mean((c["meng_error"] / SIGMA) ** 2)
    assert _get(d, "meng", "n_eff")[0] == pytest.approx(effective_n(a, 1.0, N_POP), rel=1e-12)
    # what does not apply is NaN: coverage of a point diagnostic, Meng's rho on MUB rows
    assert np.isnan(_get(d, "mub0", "coverage")[0])
    assert np.isnan(_get(d, "mub1", "rho")[0])
    assert float(d["nonprob_truth"].sel(condition="c000", outcome="anxious_agree")) == \
        pytest.approx(0.61)
    # outcomes without values: all NaN, no error
    assert np.isnan(d["nonprob_value"].sel(outcome="avgpsych")).all()
    assert list(d["nonprob_diagnostic"].values) == list(NONPROB_DIAGNOSTICS)
    assert list(d["nonprob_measure"].values) == list(NONPROB_MEASURES)


def test_no_nonprob_scalars_means_no_section() -> None:
    res, _ = _results()
    res["scalars"][:] = np.nan
    assert not has_nonprob(res)
    assert nonprob_diagnosis(res) is None
    assert nonprob_diagnosis(res.drop_vars("scalars").drop_dims("scalar")) is None


def test_stats_cover_what_the_diagnosis_reads() -> None:
    for s in ("bias", "meng_error", "rho_ry", "mean", "sd", "n", "mub0", "mub05", "mub1",
              "mubp0", "mubp05", "mubp1"):
        assert s in STATS


def test_in_the_full_diagnosis_outputs(tmp_path) -> None:  # noqa: ANN001
    """Through ``diagnose`` of a toy-unit run's results plus the nonprob scalars: the
    netCDF variables, the tidy CSV rows and the Markdown section."""
    from sim_refugee.engine import load_experiment, open_results, run_experiment

    cfg = tmp_path / "toy.toml"
    cfg.write_text('[experiment]\nname = "t"\nunit = "toy"\nroot_seed = 1\nreplications = 4\n'
                   '[world]\nsize = 200\n[[designs]]\nname = "srs"\n[sample]\nn = 20\n')
    run_experiment(load_experiment(cfg), tmp_path / "out", progress=False)
    toy = open_results(tmp_path / "out")
    assert nonprob_diagnosis(toy) is None and "nonprob_value" not in diagnose(toy)
    syn, _ = _results()
    d = nonprob_diagnosis(syn)
    full = diagnose(toy).merge(d.isel(condition=[0]).assign_coords(
        condition=toy["condition"].values, design=toy["design"].values))
    rows = tidy(full)
    nonprob = rows[rows["table"] == "nonprob"]
    assert len(nonprob) > 0 and nonprob["value"].notna().all()
    assert {"anxious_agree:mub0", "anxious_agree:mub_interval"} <= set(nonprob["item"])
    md = markdown(full)
    assert "## Nonprobability-sample diagnostics against the truth" in md
    assert "| anxious_agree | 0.610 |" in md
