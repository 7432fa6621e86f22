"""Claims and coverage across the worlds of an ensemble.

For each claim (and design), the reproduction rate of every world is one draw from the
distribution the ensemble describes: we report its mean, spread and quantiles over
worlds, and split the spread into what the worlds really differ by and what is Monte
Carlo noise: var_between = var over worlds of the rates - mean of their squared MCSEs
(floored at 0). The same for the truth rate (is the claim true in the world's population)
and for the coverage share of the 35 experiential Table 7 coefficients.

Which unknowns drive a measure: a linear regression metamodel over the worlds of the
measure on the varied unknowns, each scaled to [0, 1] over its range; with a Latin
hypercube the inputs are nearly uncorrelated, so beta_j^2 var(x_j) / var(y) is the
first-order (Sobol-type) share of variance that unknown j explains, and R^2 their sum.
Small ensembles give noisy metamodels: the standard errors of the coefficients are
reported beside them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

#: the 35 experiential Table 7 coefficients whose coverage is summarised
EXPERIENTIAL_TERMS = tuple(
    f"t7_{it}:{x}" for it in ("anxious", "fear", "fearfamily", "anger", "concentrate", "attain",
                              "hope")
    for x in ("foodaid", "camp", "arrest", "trafficking", "death"))


def world_measures(diag: xr.Dataset, points: list[dict[str, float]],
                   world_of_condition: dict[str, int]) -> pd.DataFrame:
    """One row per (world, design, measure): value and MCSE, with the world's unknowns."""
    rows = []
    conds = [str(c) for c in diag["condition"].values]
    designs = [str(d) for d in diag["design"].values]
    claims = [str(c) for c in diag["claim"].values]
    terms = [t for t in EXPERIENTIAL_TERMS if t in set(map(str, diag["model_term"].values))]
    for c in conds:
        w = world_of_condition[c]
        for d in designs:
            cv = diag["claim_value"].sel(condition=c, design=d)
            cm = diag["claim_mcse"].sel(condition=c, design=d)
            for cl in claims:
                for meas in ("reproduction_rate", "truth_rate"):
                    rows.append({"world": w, "design": d, "measure": f"{meas}:{cl}",
                                 "value": float(cv.sel(claim=cl, claim_measure=meas)),
                                 "mcse": float(cm.sel(claim=cl, claim_measure=meas))})
            if terms:
                v = diag["value"].sel(condition=c, design=d, measure="coverage",
                                      basis="successes", model_term=terms).values
                m = diag["mcse"].sel(condition=c, design=d, measure="coverage",
                                     basis="successes", model_term=terms).values
                ok = np.isfinite(v)
                # the share is a mean over correlated terms: its MCSE is at most the mean MCSE
                rows.append({"world": w, "design": d, "measure": "coverage_share",
                             "value": float(np.mean(v[ok])) if ok.any() else np.nan,
                             "mcse": float(np.mean(m[ok])) if ok.any() else np.nan})
    out = pd.DataFrame(rows)
    pts = pd.DataFrame(points).rename_axis("world").reset_index()
    return out.merge(pts, on="world", how="left")


def across_worlds(wm: pd.DataFrame) -> pd.DataFrame:
    """Per (design, measure): mean over worlds, quantiles, total / Monte Carlo / between
    variance, and the share of the spread the worlds really differ by."""
    rows = []
    for (d, meas), g in wm.groupby(["design", "measure"], sort=False):
        v = g["value"].to_numpy(float)
        s = g["mcse"].to_numpy(float)
        ok = np.isfinite(v)
        if ok.sum() < 2:
            continue
        total = float(np.var(v[ok], ddof=1))
        mc = float(np.nanmean(s[ok] ** 2))
        between = max(total - mc, 0.0)
        rows.append({
            "design": d, "measure": meas, "worlds": int(ok.sum()),
            "mean": float(np.mean(v[ok])), "mean_mcse": float(np.sqrt(total / ok.sum())),
            "q10": float(np.quantile(v[ok], 0.1)), "median": float(np.median(v[ok])),
            "q90": float(np.quantile(v[ok], 0.9)), "min": float(v[ok].min()),
            "max": float(v[ok].max()), "var_total": total, "var_mc": mc,
            "var_between": between, "sd_between": float(np.sqrt(between)),
            "between_share": between / total if total > 0 else np.nan,
        })
    return pd.DataFrame(rows)


def metamodel(wm: pd.DataFrame, ranges: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Per (design, measure, unknown): the linear metamodel's coefficient (change of the
    measure from the low to the high end of the unknown's range), its SE, and the
    first-order share of variance; plus each fit's R^2."""
    keys = list(ranges)
    rows = []
    for (d, meas), g in wm.groupby(["design", "measure"], sort=False):
        g = g[np.isfinite(g["value"])]
        n, p = len(g), len(keys)
        y = g["value"].to_numpy(float)
        if n <= p + 1 or np.var(y) == 0:
            continue
        x = np.column_stack([(g[k].to_numpy(float) - ranges[k][0]) / (ranges[k][1] - ranges[k][0])
                             for k in keys])
        xd = np.column_stack([np.ones(n), x])
        beta, *_ = np.linalg.lstsq(xd, y, rcond=None)
        resid = y - xd @ beta
        s2 = float(resid @ resid) / (n - p - 1)
        cov = s2 * np.linalg.pinv(xd.T @ xd)
        r2 = 1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())
        # first-order shares: each unknown's beta^2 var(x) as a share of their sum, times
        # R^2 (so they add up to R^2; dividing by var(y) alone exceeds 1 when a few worlds'
        # sample correlations between the unknowns inflate the coefficients)
        parts = beta[1:] ** 2 * np.var(x, axis=0, ddof=1)
        shares = parts / parts.sum() * max(r2, 0.0) if parts.sum() > 0 else parts * 0.0
        for j, k in enumerate(keys):
            rows.append({"design": d, "measure": meas, "unknown": k,
                         "effect_low_to_high": float(beta[j + 1]),
                         "se": float(np.sqrt(max(cov[j + 1, j + 1], 0.0))),
                         "first_order_share": float(shares[j]),
                         "r2": r2})
    return pd.DataFrame(rows)


#: A driver is named only when its metamodel coefficient is this many SEs from zero: with
#: few worlds the linear metamodel has few residual degrees of freedom (16 worlds, 8
#: unknowns: 7), and an unselected top-3 would name noise.
DRIVER_T = 2.0


def markdown(across: pd.DataFrame, meta: pd.DataFrame, top: int = 3) -> str:
    """The ensemble section: claims' reproduction across worlds and their main drivers."""
    lines = ["# Across the worlds of the ensemble", "",
             "Per claim: the reproduction rate over worlds (mean, 10%-90% range), the SD "
             "the worlds really differ by (Monte Carlo variance removed), the linear "
             "metamodel's R^2 and the unknowns that drive it (change from the low to the "
             "high end of the range, its t and first-order share of the variance across "
             f"worlds); an unknown is named only at |t| >= {DRIVER_T:g}, and none when the "
             "worlds do not differ beyond Monte Carlo noise (SD between worlds 0).", ""]
    for d, g in across.groupby("design", sort=False):
        lines += [f"## Design `{d}`", "",
                  "| measure | mean (MCSE) | 10%-90% | SD between worlds | metamodel R^2 "
                  "| drivers |",
                  "|---|---|---|---|---|---|"]
        for r in g.itertuples():
            mm = meta[(meta["design"] == d) & (meta["measure"] == r.measure)] \
                if len(meta) else meta
            drivers, r2 = "", ""
            if len(mm):
                r2 = f"{mm['r2'].iloc[0]:.2f}"
                mm = mm.assign(t=mm["effect_low_to_high"] / mm["se"].where(mm["se"] > 0))
                sig = mm[mm["t"].abs() >= DRIVER_T] if r.var_between > 0 else mm.iloc[:0]
                best = sig.sort_values("first_order_share", ascending=False).head(top)
                drivers = "; ".join(f"{b.unknown} {b.effect_low_to_high:+.2f} (t {b.t:+.1f}, "
                                    f"{b.first_order_share:.0%})" for b in best.itertuples())
            lines.append(f"| {r.measure} | {r.mean:.3f} ({r.mean_mcse:.3f}) | "
                         f"{r.q10:.2f}-{r.q90:.2f} | {r.sd_between:.3f} | {r2} | {drivers} |")
        lines.append("")
    return "\n".join(lines)


def write_ensemble(run_dir, diag: xr.Dataset, out_dir) -> dict[str, str]:
    """The ensemble's files beside the diagnosis (ensemble_worlds.csv: every world's
    measures and unknowns; ensemble.csv: across worlds; ensemble_drivers.csv: the
    metamodel; ensemble.md), when the run declared an ensemble; else nothing."""
    import json
    from pathlib import Path

    from sim_refugee.engine.storage import read_manifest
    from sim_refugee.ensemble.spec import EnsembleSpec, resolved_ranges
    from sim_refugee.io import atomic_path, atomic_write_text

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    info_path = run_dir / "ensemble.json"
    if not info_path.exists():
        return {}
    info = json.loads(info_path.read_text())
    man = read_manifest(run_dir)
    world_of = {c["key"]: int(c["overrides"]["ensemble.world"]) for c in man["conditions"]}
    spec = EnsembleSpec.model_validate(info["spec"])
    wm = world_measures(diag, info["points"], world_of)
    calib = info.get("calibration", {})
    if calib:
        wm["world_cells_hit"] = wm["world"].map(lambda w: calib[str(w)]["cells_hit"])
        wm["world_check_passed"] = wm["world"].map(lambda w: calib[str(w)]["passed"])
    across = across_worlds(wm)
    meta = metamodel(wm, resolved_ranges(spec))
    paths = {}
    for name, frame in (("ensemble_worlds", wm), ("ensemble", across),
                        ("ensemble_drivers", meta)):
        with atomic_path(out_dir / f"{name}.csv") as tmp:
            frame.to_csv(tmp, index=False)
        paths[name] = str(out_dir / f"{name}.csv")
    atomic_write_text(out_dir / "ensemble.md", markdown(across, meta))
    paths["ensemble_md"] = str(out_dir / "ensemble.md")
    return paths
