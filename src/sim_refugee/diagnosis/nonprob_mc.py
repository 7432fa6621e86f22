"""How well the nonprobability-sample diagnostics predict the true bias, with MCSEs.

Reads the ``nonprob.<outcome>.<stat>`` scalars the paper-suite unit records per
replication (``diagnosis.nonprob_sample``) and, per condition x design x outcome,
compares each diagnostic d_i with the true error b_i = ybar_i - Ybar of the same
replication (i = 1..n over populations x replications whose replication succeeded and
whose d_i and b_i are finite):

* point diagnostics ``meng`` (rho D_O sigma), ``mub0/05/1``, ``mubp0/05/1``:
  ``true_bias`` mean(b), ``predicted`` mean(d), ``error`` mean(d - b) (MCSE
  sd / sqrt(n)), ``rmse`` sqrt(mean((d - b)^2)) (MCSE by the delta method, as
  ``measures.term_measures``), ``corr`` corr(d, b) (MCSE (1 - r^2) / sqrt(n - 3), the
  delta method on Fisher's z);
* intervals ``mub_interval`` = [min, max] of MUB(0), MUB(1) (MUB is monotone in phi) and
  ``mubp_interval`` = [min, max] of MUBP at phi = 0, 0.5, 1 (MUBP need not be monotone
  in phi): ``coverage`` the share with lo <= b_i <= hi (MCSE sqrt(p (1 - p) / n)), and
  ``coverage_bias`` the share with lo <= B <= hi, B = mean(b) the design's bias (its
  Monte Carlo error is not propagated into the MCSE); ``width`` mean(hi - lo). MUB and
  MUBP model the bias of the sample mean, an expectation, with no sampling error in
  their intervals, so ``coverage`` of the realised error is low even for a perfect
  diagnostic unless the bias dominates the sampling error; ``coverage_bias`` asks
  whether the bounds cover the bias itself;
* Meng's data defect, on the ``meng`` row: ``rho`` mean(rho_{R,Y}); ``ddi`` Meng's data
  defect index E[rho^2]; ``ddi_ratio`` (N - 1) E[rho^2], which is 1 under simple random
  sampling (Meng 2018, sec. 3); ``n_eff`` the effective sample size of the design,
  ``nonprob.effective_n`` at E[rho^2 D_O^2] = E[(meng error / sigma_Y)^2] (MCSE by the
  delta method).

``nonprob_truth`` and ``nonprob_truth_sd`` are each outcome's population mean and SD
(averaged over populations). Formulas and sources: docs/NONPROB.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from sim_refugee.diagnosis.nonprob import effective_n
from sim_refugee.diagnosis.nonprob_sample import OUTCOME_NAMES, PREFIX

NONPROB_DIAGNOSTICS: tuple[str, ...] = (
    "meng", "mub0", "mub05", "mub1", "mubp0", "mubp05", "mubp1", "mub_interval",
    "mubp_interval",
)
NONPROB_MEASURES: tuple[str, ...] = (
    "n_sim", "true_bias", "predicted", "error", "rmse", "corr", "coverage", "coverage_bias",
    "width", "rho",
    "ddi", "ddi_ratio", "n_eff",
)
_POINT = {"meng": "meng_error", "mub0": "mub0", "mub05": "mub05", "mub1": "mub1",
          "mubp0": "mubp0", "mubp05": "mubp05", "mubp1": "mubp1"}
_INTERVAL = {"mub_interval": ("mub0", "mub1"), "mubp_interval": ("mubp0", "mubp05", "mubp1")}


def _mean_mcse(x: np.ndarray) -> tuple[float, float]:
    n = x.size
    if n == 0:
        return np.nan, np.nan
    m = float(x.mean())
    return m, float(x.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan


def _point(d: np.ndarray, b: np.ndarray) -> dict[str, tuple[float, float]]:
    n = d.size
    out = {"n_sim": (float(n), 0.0), "true_bias": _mean_mcse(b), "predicted": _mean_mcse(d),
           "error": _mean_mcse(d - b)}
    e2 = (d - b) ** 2
    mse, mc_mse = _mean_mcse(e2)
    rmse = np.sqrt(mse) if np.isfinite(mse) else np.nan
    out["rmse"] = (rmse, mc_mse / (2 * rmse) if rmse > 0 else np.nan)
    if n > 3 and d.std() > 0 and b.std() > 0:
        r = float(np.corrcoef(d, b)[0, 1])
        out["corr"] = (r, (1 - r * r) / np.sqrt(n - 3))
    return out


def _interval(lo: np.ndarray, hi: np.ndarray, b: np.ndarray) -> dict[str, tuple[float, float]]:
    n = b.size
    out = {"n_sim": (float(n), 0.0), "true_bias": _mean_mcse(b)}
    if n:
        for name, target in (("coverage", b), ("coverage_bias", b.mean())):
            p = float(np.mean((lo <= target) & (target <= hi)))
            out[name] = (p, np.sqrt(p * (1 - p) / n))
        out["width"] = _mean_mcse(hi - lo)
    return out


def _meng(rho: np.ndarray, err: np.ndarray, sigma: np.ndarray, n_pop: float
          ) -> dict[str, tuple[float, float]]:
    out = {"rho": _mean_mcse(rho)}
    ddi, mc_ddi = _mean_mcse(rho**2)
    out["ddi"] = (ddi, mc_ddi)
    if np.isfinite(n_pop) and n_pop > 1:
        out["ddi_ratio"] = (ddi * (n_pop - 1), mc_ddi * (n_pop - 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            a, mc_a = _mean_mcse((err / sigma) ** 2)
        if np.isfinite(a):
            ne = effective_n(a, 1.0, int(n_pop))
            out["n_eff"] = (ne, ne**2 * (n_pop - 1) / n_pop * mc_a)  # |dn/dA| = N(N-1)/(1+A(N-1))^2
    return out


def has_nonprob(res: xr.Dataset) -> bool:
    """True if the results hold any recorded nonprob.* scalar."""
    if "scalar" not in res.coords:
        return False
    names = [str(s) for s in res["scalar"].values if str(s).startswith(PREFIX + ".")]
    if not names:
        return False
    return bool(np.isfinite(res["scalars"].sel(scalar=names).values).any())


def nonprob_diagnosis(res: xr.Dataset) -> xr.Dataset | None:
    """The measures of the module docstring, or None when the run recorded none."""
    if not has_nonprob(res):
        return None
    scal = res["scalars"].transpose("condition", "design", "scalar", "population", "replication")
    a = scal.values.reshape(*scal.shape[:3], -1)  # (C, D, S, P*R)
    names = {str(s): i for i, s in enumerate(res["scalar"].values)}
    status = res["rep_status"].transpose("condition", "design", "population", "replication")
    ok = (status.values == "ok").reshape(*status.shape[:2], -1)
    has_truth = "scalar_truth" in res
    truth = (res["scalar_truth"].transpose("condition", "scalar", "population").values
             if has_truth else None)
    P, R = res.sizes["population"], res.sizes["replication"]
    C, D = a.shape[:2]
    outcomes = [o for o in OUTCOME_NAMES if f"{PREFIX}.{o}.bias" in names]
    val = np.full((C, D, len(outcomes), len(NONPROB_DIAGNOSTICS), len(NONPROB_MEASURES)), np.nan)
    mc = np.full_like(val, np.nan)
    pop_mean = np.full((C, len(outcomes)), np.nan)
    pop_sd = np.full((C, len(outcomes)), np.nan)

    def col(c: int, d: int, o: str, s: str) -> np.ndarray:
        return a[c, d, names[f"{PREFIX}.{o}.{s}"]]

    for c in range(C):
        for k, o in enumerate(outcomes):
            sigma = np.full(P * R, np.nan)
            n_pop = np.nan
            if truth is not None:
                t_mean = truth[c, names[f"{PREFIX}.{o}.mean"]]
                pop_mean[c, k] = float(np.nanmean(t_mean)) if np.isfinite(t_mean).any() else np.nan
                t_sd = truth[c, names[f"{PREFIX}.{o}.sd"]]
                pop_sd[c, k] = float(np.nanmean(t_sd)) if np.isfinite(t_sd).any() else np.nan
                sigma = np.repeat(t_sd, R)
                n_pops = truth[c, names[f"{PREFIX}.{o}.n"]]
                n_pop = float(np.nanmax(n_pops)) if np.isfinite(n_pops).any() else np.nan
            for d in range(D):
                b = col(c, d, o, "bias")
                base = ok[c, d] & np.isfinite(b)
                rows: dict[str, dict[str, tuple[float, float]]] = {}
                for diag, stat in _POINT.items():
                    v = col(c, d, o, stat)
                    m = base & np.isfinite(v)
                    if m.any():
                        rows[diag] = _point(v[m], b[m])
                for diag, stats in _INTERVAL.items():
                    vs = np.stack([col(c, d, o, s) for s in stats])
                    m = base & np.isfinite(vs).all(axis=0)
                    if m.any():
                        rows[diag] = _interval(vs[:, m].min(axis=0), vs[:, m].max(axis=0), b[m])
                rho, err = col(c, d, o, "rho_ry"), col(c, d, o, "meng_error")
                m = ok[c, d] & np.isfinite(rho) & np.isfinite(err) & np.isfinite(sigma) & (sigma > 0)
                if m.any():
                    rows.setdefault("meng", {}).update(_meng(rho[m], err[m], sigma[m], n_pop))
                for diag, meas in rows.items():
                    i = NONPROB_DIAGNOSTICS.index(diag)
                    for name, (v, e) in meas.items():
                        j = NONPROB_MEASURES.index(name)
                        val[c, d, k, i, j], mc[c, d, k, i, j] = v, e
    dims = ("condition", "design", "outcome", "nonprob_diagnostic", "nonprob_measure")
    return xr.Dataset(
        {"nonprob_value": (dims, val), "nonprob_mcse": (dims, mc),
         "nonprob_truth": (("condition", "outcome"), pop_mean),
         "nonprob_truth_sd": (("condition", "outcome"), pop_sd)},
        coords={"condition": res["condition"].values, "design": res["design"].values,
                "outcome": list(outcomes), "nonprob_diagnostic": list(NONPROB_DIAGNOSTICS),
                "nonprob_measure": list(NONPROB_MEASURES)},
    )


def nonprob_tidy(diag: xr.Dataset) -> pd.DataFrame:
    """Rows of diagnostics.csv (table "nonprob"; item = outcome:diagnostic), without the
    combinations that do not apply (NaN)."""
    cols = ["table", "condition", "design", "item", "measure", "basis", "value", "mcse"]
    if "nonprob_value" not in diag:
        return pd.DataFrame(columns=cols)
    df = xr.Dataset({"value": diag["nonprob_value"], "mcse": diag["nonprob_mcse"]}) \
        .to_dataframe().reset_index()
    df = df[np.isfinite(df["value"].to_numpy(dtype=float))]
    df["item"] = df["outcome"].astype(str) + ":" + df["nonprob_diagnostic"].astype(str)
    df = df.rename(columns={"nonprob_measure": "measure"})
    df["table"], df["basis"] = "nonprob", "successes"
    return df[cols].reset_index(drop=True)


def _fmt(v: float, m: float, digits: int = 3) -> str:
    if not np.isfinite(v):
        return "NA"
    if not np.isfinite(m) or m == 0:
        return f"{v:.{digits}f}"
    return f"{v:.{digits}f} ({m:.{digits}f})"


#: the columns of the summary table: (header, diagnostic, measure)
SUMMARY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("true bias", "meng", "true_bias"),
    ("Meng rho", "meng", "rho"),
    ("(N-1) E[rho^2]", "meng", "ddi_ratio"),
    ("n_eff", "meng", "n_eff"),
    ("MUB(0) error", "mub0", "error"),
    ("MUB(0) corr", "mub0", "corr"),
    ("MUB(1) error", "mub1", "error"),
    ("MUB [0,1] covers error", "mub_interval", "coverage"),
    ("MUB [0,1] covers bias", "mub_interval", "coverage_bias"),
    ("MUBP(0) error", "mubp0", "error"),
    ("MUBP(0) corr", "mubp0", "corr"),
    ("MUBP [0,1] covers error", "mubp_interval", "coverage"),
    ("MUBP [0,1] covers bias", "mubp_interval", "coverage_bias"),
)


def nonprob_table(diag: xr.Dataset, condition: str, design: str) -> list[list[str]]:
    """Rows (one per outcome) of the summary table, cells ``value (MCSE)``."""
    rows = []
    have_d = set(map(str, diag["nonprob_diagnostic"].values))
    have_m = set(map(str, diag["nonprob_measure"].values))  # a diagnosis of older code
    for o in diag["outcome"].values:
        s = diag.sel(condition=condition, design=design, outcome=o)
        cells = []
        for _, dg, ms in SUMMARY_COLUMNS:
            if dg not in have_d or ms not in have_m:
                cells.append("NA")
                continue
            v = float(s["nonprob_value"].sel(nonprob_diagnostic=dg, nonprob_measure=ms))
            m = float(s["nonprob_mcse"].sel(nonprob_diagnostic=dg, nonprob_measure=ms))
            digits = 0 if ms == "n_eff" else 2 if ms == "ddi_ratio" else 3
            cells.append(_fmt(v, m, digits))
        truth = float(diag["nonprob_truth"].sel(condition=condition, outcome=o))
        rows.append([str(o), _fmt(truth, np.nan), *cells])
    return rows


INTRO = (
    "Per outcome, the true error of the sample mean over the answered cases (mean - "
    "population mean) against the diagnostics an analyst would compute: Meng's data "
    "defect correlation rho_{R,Y} (known only in a simulation; (N-1) E[rho^2] = 1 under "
    "simple random sampling; n_eff = Meng's effective sample size), the MUB(phi) of "
    "Little et al. (2020) in Y units and the MUBP(phi) of Andridge et al. (2019) for "
    "proportions, against the population means of sex, age, education, occupation and "
    "province. error = mean(diagnostic - true error); corr = correlation of the two "
    "across replications; covers error / covers bias = share of replications whose "
    "interval over phi in [0, 1] holds the realised error / the design's bias (the mean "
    "true error). MUB and MUBP estimate a bias, not a realised error: under simple "
    "random sampling the error is sampling noise that no bias interval covers. Cells: "
    "value (Monte Carlo SE); formulas in docs/NONPROB.md."
)


def nonprob_markdown(diag: xr.Dataset, labels: dict[str, str] | None = None) -> list[str]:
    """A Markdown section (lines): one summary table per condition x design."""
    if "nonprob_value" not in diag:
        return []
    labels = labels or {}
    header = ["outcome", "population value", *(h for h, _, _ in SUMMARY_COLUMNS)]
    lines = ["## Nonprobability-sample diagnostics against the truth", "", INTRO, ""]
    for c in diag["condition"].values:
        for des in diag["design"].values:
            lab = labels.get(str(c), "")
            lines += [f"### {c}{': ' + lab if lab else ''} / {des}", ""]
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(r) + " |" for r in nonprob_table(diag, str(c), str(des))]
            lines.append("")
    return lines
