"""Performance measures of estimators and claims, each with its Monte Carlo SE.

Formulas follow Morris, White & Crowther (2019), "Using simulation studies to evaluate
statistical methods", Statistics in Medicine 38:2074-2102, Table 6. With ``n_sim``
replications, errors ``e_i = est_i - theta`` (theta = the census fit of the same
population), model SEs ``s_i``:

* bias = mean(e); MCSE = sd(e) / sqrt(n)
* relative bias = bias / theta; MCSE = MCSE(bias) / |theta|
* empirical SE = sd(e); MCSE = empSE / sqrt(2 (n - 1))
* model SE = sqrt(mean(s^2)); MCSE = sqrt(var(s^2) / (4 n modSE^2))
* SE ratio = modSE / empSE; MCSE = ratio * sqrt(var(s^2) / (4 n modSE^4) + 1 / (2 (n - 1)))
  (Morris et al.'s relative error in model SE, as a ratio)
* MSE = mean(e^2); MCSE = sqrt(sum((e^2 - MSE)^2) / (n (n - 1))); RMSE = sqrt(MSE) with
  the delta-method MCSE(MSE) / (2 RMSE)
* coverage of est +/- 1.96 s, power (p < 0.05): proportions, MCSE sqrt(p (1 - p) / n)
  (``term_measures(..., alpha=)`` takes another level; ``sim_refugee.testing`` uses it)
* type-S rate (Gelman & Carlin 2014, Perspectives on Psych. Science 9:641): among
  rejections, the share whose sign differs from theta's; MCSE sqrt(s (1 - s) / n_reject)

With several populations per condition, theta differs by population and errors are
taken against each population's own census fit, so the empirical SE is the sampling
SE (population-to-population variation of theta is not counted as error).

``basis = "successes"``: replications whose fit status is "ok". ``basis = "all"``:
every replication run; a replication without a usable estimate counts as not covering
and not rejecting; continuous measures use every finite estimate (also from non-"ok"
fits) and are NaN when some replication has none.

Paired design differences use common random numbers (same population and sample seed
for every design): per replication differences ``d_i`` of errors, squared errors,
coverage and rejection indicators between a design and the reference (first) design,
mean(d) with MCSE sd(d) / sqrt(n_pairs) over replications where both succeeded.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from scipy.stats import norm

SKIPPED = "skipped"
Z975 = 1.959963984540054
ALPHA = 0.05
TERM_MEASURES: tuple[str, ...] = (
    "n_sim", "estimand", "mean_estimate", "bias", "rel_bias", "emp_se", "mod_se",
    "se_ratio", "mse", "rmse", "coverage", "power", "type_s", "failure_rate",
)
CLAIM_MEASURES: tuple[str, ...] = (
    "n_sim", "truth_rate", "reproduction_rate", "reproduction_rate_all", "evaluable_rate",
    "agreement_rate",
)
PAIRED_MEASURES: tuple[str, ...] = ("n_pairs", "bias_diff", "mse_diff", "coverage_diff",
                                    "power_diff")
BASES: tuple[str, ...] = ("successes", "all")
STOPPING_MEASURES: tuple[str, ...] = (
    "bias", "emp_se", "mod_se", "rmse", "coverage", "power", "type_s", "reproduction",
)


def _nanmean(x: np.ndarray, m: np.ndarray, axis: int = -1) -> np.ndarray:
    cnt = m.sum(axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, np.where(m, x, 0.0).sum(axis) / cnt, np.nan)


def _nanvar(x: np.ndarray, m: np.ndarray, axis: int = -1) -> np.ndarray:
    cnt = m.sum(axis)
    mu = _nanmean(x, m, axis)
    dev = np.where(m, x - np.expand_dims(mu, axis), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 1, (dev**2).sum(axis) / (cnt - 1), np.nan)


def _prop(ind: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = _nanmean(ind.astype(float), m)
    n = m.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return p, np.sqrt(p * (1 - p) / n)


def binary_indicators(
    est: np.ndarray, se: np.ndarray, pval: np.ndarray, theta: np.ndarray, err: np.ndarray,
    use: np.ndarray, ok: np.ndarray, m: np.ndarray, basis: str, alpha: float, z_cover: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per replication: (counted, covered, rejected, rejected with the wrong sign) for the
    coverage, power and type-S measures. Basis "all" counts a missing estimate as not
    covering and not rejecting; "successes" counts only the replications in ``m``. Shared
    by the in-memory (``term_measures``) and streaming (``stream``) diagnoses."""
    mb = m if basis == "successes" else use
    usable = np.isfinite(est) & np.isfinite(se)
    with np.errstate(invalid="ignore"):
        covered = usable & (np.abs(err) <= z_cover * se)
        reject = np.isfinite(pval) & (pval < alpha) & (ok if basis == "successes" else True)
        wrong_sign = reject & (np.sign(est) != np.sign(theta)) & (theta != 0)
    return mb, covered, reject, wrong_sign


def term_measures(
    est: np.ndarray, se: np.ndarray, pval: np.ndarray, theta: np.ndarray,
    use: np.ndarray, ok: np.ndarray, basis: str, alpha: float = ALPHA,
) -> tuple[np.ndarray, np.ndarray]:
    """Measures along the last axis (replications). Returns (value, mcse), measure last.

    ``use``: replications that count; ``ok``: those whose fit succeeded. ``alpha``: the
    coverage is that of est +/- z(1 - alpha/2) s and "power" is the share with
    p < alpha (the default 0.05 is the diagnosis's; ``sim_refugee.testing`` passes others).
    """
    z_cover = Z975 if alpha == ALPHA else float(norm.isf(alpha / 2))
    finite = np.isfinite(est)
    if basis == "successes":
        m = use & ok & finite & np.isfinite(se)
        cont_ok = np.ones(m.shape[:-1], bool)
    else:
        m = use & finite
        cont_ok = ~np.any(use & ~finite, axis=-1)
    n = m.sum(-1).astype(float)
    err = est - theta
    th = _nanmean(theta, m)
    bias = _nanmean(err, m)
    var_e = _nanvar(err, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        mc_bias = np.sqrt(var_e / n)
        emp = np.sqrt(var_e)
        mc_emp = emp / np.sqrt(2 * (n - 1))
        se2 = np.where(np.isfinite(se), se**2, np.nan)
        m_se = m & np.isfinite(se2)
        mod = np.sqrt(_nanmean(se2, m_se))
        var_se2 = _nanvar(se2, m_se)
        n_se = m_se.sum(-1)
        mc_mod = np.sqrt(var_se2 / (4 * n_se * mod**2))
        ratio = mod / emp
        mc_ratio = ratio * np.sqrt(var_se2 / (4 * n_se * mod**4) + 1 / (2 * (n - 1)))
        e2 = err**2
        mse = _nanmean(e2, m)
        mc_mse = np.sqrt(_nanvar(e2, m) / n)
        rmse = np.sqrt(mse)
        mc_rmse = mc_mse / (2 * rmse)
        rel = np.where(th != 0, bias / th, np.nan)
        mc_rel = np.where(th != 0, mc_bias / np.abs(th), np.nan)
        mean_est = _nanmean(est, m)
        mc_mean = np.sqrt(_nanvar(est, m) / n)
    cont = [mean_est, bias, rel, emp, mod, ratio, mse, rmse]
    cont_mc = [mc_mean, mc_bias, mc_rel, mc_emp, mc_mod, mc_ratio, mc_mse, mc_rmse]
    cont = [np.where(cont_ok, v, np.nan) for v in cont]
    cont_mc = [np.where(cont_ok, v, np.nan) for v in cont_mc]

    mb, covered, reject, wrong_sign = binary_indicators(
        est, se, pval, theta, err, use, ok, m, basis, alpha, z_cover)
    cov, mc_cov = _prop(covered, mb)
    pw, mc_pw = _prop(reject, mb)
    ts, mc_ts = _prop(wrong_sign, mb & reject)
    nu = use.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fail = np.where(nu > 0, (use & ~(ok & finite)).sum(-1) / nu, np.nan)
        mc_fail = np.sqrt(fail * (1 - fail) / nu)
    values = [n, th, *cont[:1], *cont[1:], cov, pw, ts, fail]
    mcses = [np.zeros_like(n), np.full_like(th, np.nan), *cont_mc, mc_cov, mc_pw, mc_ts, mc_fail]
    # order must match TERM_MEASURES
    return np.stack(values, -1), np.stack(mcses, -1)


def _flat(res: xr.Dataset, name: str, *last: str) -> np.ndarray:
    """Array with dims (condition, design, [last...], population*replication)."""
    da = res[name].transpose("condition", "design", *last, "population", "replication")
    a = da.values
    return a.reshape(*a.shape[:-2], -1)


def _term_inputs(res: xr.Dataset) -> dict[str, np.ndarray]:
    est = res["estimates"].transpose(
        "condition", "design", "model_term", "statistic", "population", "replication"
    )
    a = est.values.reshape(*est.shape[:4], -1)
    stats = list(res["statistic"].values)
    e, s, p = (a[:, :, :, stats.index(k)] for k in ("estimate", "se", "pvalue"))
    theta = res["estimand"].sel(statistic="estimate").transpose(
        "condition", "model_term", "population").values
    R = res.sizes["replication"]
    theta = np.repeat(theta[:, None, :, :, None], R, axis=-1).reshape(
        theta.shape[0], 1, theta.shape[1], -1)
    theta = np.broadcast_to(theta, e.shape)
    rep_status = _flat(res, "rep_status")
    use = rep_status != "not_run"
    models = list(res["model"].values)
    mstat = _flat(res, "model_status", "model")
    idx = [models.index(m) for m in res["model_of_term"].values]
    ok = (mstat[:, :, idx, :] == "ok") & (rep_status[:, :, None, :] == "ok")
    # a model skipped by choice (e.g. include_variants=false) is neither run nor failed
    use = use[:, :, None, :] & (mstat[:, :, idx, :] != SKIPPED)
    return {"est": e, "se": s, "pval": p, "theta": theta, "use": use, "ok": ok}


def diagnose(res: xr.Dataset) -> xr.Dataset:
    """All measures for a collected results Dataset (see module docstring)."""
    x = _term_inputs(res)
    use = np.broadcast_to(x["use"], x["est"].shape)
    vals, mcs = [], []
    for b in BASES:
        v, m = term_measures(x["est"], x["se"], x["pval"], x["theta"], use, x["ok"], b)
        vals.append(v)
        mcs.append(m)
    coords = {
        "condition": res["condition"].values,
        "design": res["design"].values,
        "model_term": res["model_term"].values,
        "measure": list(TERM_MEASURES),
        "basis": list(BASES),
    }
    value, mcse = np.stack(vals, -1), np.stack(mcs, -1)
    from sim_refugee.diagnosis.diagnosands import custom_measures, name_coords

    extra = custom_measures(x, use, BASES)  # user-defined diagnosands (the registry)
    if extra is not None:
        coords["measure"] = [*TERM_MEASURES, *extra[0]]
        value = np.concatenate([value, extra[1]], axis=-2)
        mcse = np.concatenate([mcse, extra[2]], axis=-2)
    dims = ("condition", "design", "model_term", "measure", "basis")
    out = xr.Dataset({"value": (dims, value), "mcse": (dims, mcse)}, coords=coords)
    out = out.assign_coords(name_coords(list(coords["measure"])))
    out = out.assign_coords(
        model_of_term=("model_term", res["model_of_term"].values),
        term=("model_term", res["term"].values),
    )
    for c in ("condition_label", "n"):
        if c in res.coords:
            out = out.assign_coords({c: ("condition", np.atleast_1d(res[c].values))})

    # Failure rates per model (either basis: the share of replications without an ok fit).
    models = list(res["model"].values)
    mstat = _flat(res, "model_status", "model")
    rep_status = _flat(res, "rep_status")
    use_m = (rep_status != "not_run")[:, :, None, :] & (mstat != SKIPPED)
    bad = use_m & ((mstat != "ok") | (rep_status[:, :, None, :] != "ok"))
    nm = use_m.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fr = bad.sum(-1) / nm
        out["failure_rate"] = (("condition", "design", "model"), fr)
        out["failure_rate_mcse"] = (("condition", "design", "model"), np.sqrt(fr * (1 - fr) / nm))
        ran = rep_status != "not_run"
        rr = (ran & (rep_status != "ok")).sum(-1) / ran.sum(-1)
    out = out.assign_coords(model=models)
    out["replication_error_rate"] = (("condition", "design"), rr)

    # Claims.
    if "claims" in res and res.sizes.get("claim", 0):
        out = out.merge(_claims(res))
    # Paired design differences against the first design.
    if res.sizes["design"] > 1:
        out = out.merge(_paired(res, x))
    # Nonprobability-sample diagnostics against the true bias (diagnosis.nonprob_mc).
    from sim_refugee.diagnosis.nonprob_mc import nonprob_diagnosis

    nonprob = nonprob_diagnosis(res)
    if nonprob is not None:
        out = out.merge(nonprob)
    out.attrs = {k: res.attrs[k] for k in ("config_hash", "root_seed", "unit") if k in res.attrs}
    out.attrs["reference"] = "Morris, White & Crowther (2019), Stat Med 38:2074-2102"
    return out


def _claims(res: xr.Dataset) -> xr.Dataset:
    c = _flat(res, "claims", "claim")  # (C, D, K, N)
    use = (_flat(res, "rep_status") != "not_run")[:, :, None, :]
    truth = res["claim_truth"].transpose("condition", "claim", "population").values
    R = res.sizes["replication"]
    tr = np.repeat(truth[:, None, :, :, None], R, -1).reshape(truth.shape[0], 1, truth.shape[1], -1)
    tr = np.broadcast_to(tr, c.shape)
    ev = use & np.isfinite(c)
    holds = np.where(ev, c, 0.0) == 1
    rep, mc_rep = _prop(holds, ev)
    rep_all, mc_rep_all = _prop(holds, np.broadcast_to(use, c.shape))
    evr, mc_ev = _prop(ev, np.broadcast_to(use, c.shape))
    agree, mc_agree = _prop(ev & np.isfinite(tr) & (c == tr), ev & np.isfinite(tr))
    P = res.sizes["population"]
    with warnings.catch_warnings():  # a claim not evaluable in any population: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        t_mean = np.nanmean(truth.astype(float), axis=-1)
    t_mean = np.broadcast_to(t_mean[:, None, :], rep.shape)
    with np.errstate(invalid="ignore"):
        mc_t = np.sqrt(t_mean * (1 - t_mean) / P)
    n = np.broadcast_to(use.sum(-1), rep.shape).astype(float)
    vals = np.stack([n, t_mean, rep, rep_all, evr, agree], -1)
    mcs = np.stack([np.zeros_like(n), mc_t, mc_rep, mc_rep_all, mc_ev, mc_agree], -1)
    dims = ("condition", "design", "claim", "claim_measure")
    return xr.Dataset(
        {"claim_value": (dims, vals), "claim_mcse": (dims, mcs)},
        coords={"claim": res["claim"].values, "claim_measure": list(CLAIM_MEASURES)},
    )


def _paired(res: xr.Dataset, x: dict[str, np.ndarray]) -> xr.Dataset:
    designs = list(res["design"].values)
    e, s, p, th, ok = x["est"], x["se"], x["pval"], x["theta"], x["ok"]
    use = np.broadcast_to(x["use"], e.shape)
    good = use & ok & np.isfinite(e) & np.isfinite(s)
    err = e - th
    with np.errstate(invalid="ignore"):
        cov = (np.abs(err) <= Z975 * s).astype(float)
        rej = (p < ALPHA).astype(float)
    vals, mcs = [], []
    for j in range(1, len(designs)):
        both = good[:, j] & good[:, 0]
        n = both.sum(-1).astype(float)
        row_v, row_m = [n], [np.zeros_like(n)]
        for a in (err, err**2, cov, rej):
            d = a[:, j] - a[:, 0]
            mu = _nanmean(d, both)
            with np.errstate(invalid="ignore", divide="ignore"):
                mc = np.sqrt(_nanvar(d, both) / n)
            row_v.append(mu)
            row_m.append(mc)
        vals.append(np.stack(row_v, -1))
        mcs.append(np.stack(row_m, -1))
    contrasts = [f"{d} - {designs[0]}" for d in designs[1:]]
    dims = ("condition", "contrast", "model_term", "paired_measure")
    return xr.Dataset(
        {"paired_value": (dims, np.stack(vals, 1)), "paired_mcse": (dims, np.stack(mcs, 1))},
        coords={"contrast": contrasts, "paired_measure": list(PAIRED_MEASURES)},
    )


def condition_max_mcse(res_cond: xr.Dataset, measures: list[str]) -> float:
    """Largest MCSE of the monitored measures over designs and terms (one condition)."""
    res = res_cond.expand_dims("condition") if "condition" not in res_cond.dims else res_cond
    return max_mcse(diagnose(res), measures)


def max_mcse(d: xr.Dataset, measures: list[str]) -> float:
    """Largest MCSE of the monitored measures in a diagnosis, over designs and terms
    (basis successes; ``reproduction``: the claims' reproduction rate). The stopping
    rule reads it from its running diagnosis (``diagnosis.stream``)."""
    worst = 0.0
    term_ms = [m for m in measures if m in TERM_MEASURES]
    if term_ms:
        v = d["mcse"].sel(measure=term_ms, basis="successes").values
        if np.isfinite(v).any():
            worst = max(worst, float(np.nanmax(v)))
    if "reproduction" in measures and "claim_mcse" in d:
        v = d["claim_mcse"].sel(claim_measure="reproduction_rate").values
        if np.isfinite(v).any():
            worst = max(worst, float(np.nanmax(v)))
    return worst
