"""Cross-study figures and the headline table, from the kept results under results/.

    python3 analysis/cross_study.py [RESULTS_DIR]      (default: results)

Writes into RESULTS_DIR:
* ``null_world_selection.png`` / ``selection_sweep_strength.png``: claim reproduction and
  per-variable rejection rates against selection strength, for the studies that encode
  selection strengths as designs (null_world, selection_sweep: see their configs). The
  strengths are read back from the design params stored in each run's manifest.
* ``headline.csv`` and ``headline.md``: every number quoted in results/README.md, each
  with the file it comes from, so the README is traceable.

Every error bar is +/- 1.96 Monte Carlo SE; every number comes from the kept
diagnostics.nc / results.nc through sim_refugee.report (no re-simulation).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim_refugee.io import atomic_write_text
from sim_refugee.report import KEY_CLAIMS, fmt, focus_terms, load_run, per_replication_share
from sim_refugee.report.data import EXPERIENTIAL, T7_ITEMS, RunData
from sim_refugee.report.figures import sweep_figure


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def design_strengths(run: RunData) -> tuple[str, list[str], dict[str, dict[str, float]]]:
    """The design name swept through labelled entries, the swept keys and their values.

    A study encodes a sweep as several entries of one design name with different params
    (labels); the keys whose values differ between those entries are the sweep.
    """
    entries = run.manifest["config"]["designs"]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        by_name.setdefault(e["name"], []).append(e)
    name = max(by_name, key=lambda k: len(by_name[k]))
    flat = {e.get("label") or e["name"]: _flatten(e.get("params", {})) for e in by_name[name]}
    keys = sorted({k for f in flat.values() for k in f})
    swept = [k for k in keys if len({json.dumps(f.get(k)) for f in flat.values()}) > 1]
    return name, swept, {lab: {k: float(f[k]) for k in swept} for lab, f in flat.items()}


def strength_panels(run: RunData, xkey: str, series_of: Callable[[dict[str, float]], str],
                    ) -> tuple[dict, dict]:
    """Panels of claim reproduction and of per-variable rejection against ``xkey``.

    ``series_of(strengths)`` names the line a swept design belongs to; designs that are
    not part of the sweep are drawn as flat reference lines.
    """
    d = run.diag
    _, _, vals = design_strengths(run)
    swept = list(vals)
    designs = [str(x) for x in d["design"].values]
    refs = [x for x in designs if x not in vals]
    groups: dict[str, list[str]] = {}
    for lab in sorted(swept, key=lambda lab: sorted(vals[lab].items())):
        groups.setdefault(series_of(vals[lab]), []).append(lab)
    xs_all = np.array(sorted({vals[lab][xkey] for lab in swept}))

    def series(get) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        out = {}
        for g, labs in groups.items():
            di = [designs.index(lab) for lab in labs]
            v, m = get(di)
            out[g] = (np.array([vals[lab][xkey] for lab in labs]), v, m)
        for ref in refs:
            di = [designs.index(ref)] * len(xs_all)
            v, m = get(di)
            out[f"{ref} design (reference)"] = (xs_all, v, m)
        return out

    claims = [c for c in KEY_CLAIMS if c in d["claim"].values]
    cpanels = {}
    for k in claims:
        s = d.sel(condition=d["condition"].values[0], claim=k,
                  claim_measure="reproduction_rate_all")
        tv = float(d["claim_value"].isel(condition=0, design=0)
                   .sel(claim=k, claim_measure="truth_rate"))
        cpanels[f"{k} [{'true' if tv == 1 else 'false'} in pop.]"] = series(
            lambda di, s=s: (s["claim_value"].values[di], s["claim_mcse"].values[di]))
    tpanels = {}
    res = run.results
    if res is not None:
        t7 = [t for t in focus_terms(list(d["model_term"].values)) if t.startswith("t7_")]
        cov = per_replication_share(res, t7, "coverage")
        tpanels["coverage share, 35 T7 experiential terms"] = series(
            lambda di: (cov[0][0, di], cov[1][0, di]))
        for var in EXPERIENTIAL:
            pw = per_replication_share(res, [f"t7_{it}:{var}" for it in T7_ITEMS], "positive")
            tpanels[f"{var}: share of items b > 0, p < .05"] = series(
                lambda di, pw=pw: (pw[0][0, di], pw[1][0, di]))
    return cpanels, tpanels


def null_world_figures(root: Path) -> list[Path]:
    run = load_run(root / "null_world")
    _, swept, _ = design_strengths(run)
    xkey = next(k for k in swept if k.endswith("accept_by.foodaid"))
    skey = next(k for k in swept if k.endswith("accept_by.distress"))
    cp, tp = strength_panels(run, xkey, lambda v: f"distress selection D = {v[skey]:+g}")
    out = []
    xl = "exposure selection E (acceptance log-odds per foodaid, per death)"
    fig = sweep_figure(cp, xl, "reproduction rate",
                       "Null world: paper's claims reproduced against selection strength")
    out.append(root / "null_world_claims.png")
    fig.savefig(out[-1], dpi=110)
    fig = sweep_figure(tp, xl, "share", "Null world: coverage and rejection rates against "
                       "selection strength (camp, arrest, trafficking: not selected on)", ncols=3)
    out.append(root / "null_world_terms.png")
    fig.savefig(out[-1], dpi=110)
    return out


def selection_sweep_figures(root: Path) -> list[Path]:
    run = load_run(root / "selection_sweep")
    _, swept, _ = design_strengths(run)
    # x: urban odds ratio; one line per (border, distress)
    xkey = next(k for k in swept if k.endswith("or_urban"))
    bkey = next(k for k in swept if k.endswith("or_border"))
    dkey = next(k for k in swept if k.endswith("or_distress"))
    cp, tp = strength_panels(
        run, xkey, lambda v: f"border OR {v[bkey]:g}, distress OR {v[dkey]:g}")
    out = []
    fig = sweep_figure(cp, "urban odds ratio of the paper design", "reproduction rate",
                       "Selection sweep (paper's world): claims reproduced")
    out.append(root / "selection_sweep_claims.png")
    fig.savefig(out[-1], dpi=110)
    fig = sweep_figure(tp, "urban odds ratio of the paper design", "share",
                       "Selection sweep (paper's world): coverage and power", ncols=3)
    out.append(root / "selection_sweep_terms.png")
    fig.savefig(out[-1], dpi=110)
    return out


def paired_claim_diffs(run: RunData, claims: list[str]) -> pd.DataFrame:
    """Per-replication difference in reproducing each claim, design minus the first design.

    Common random numbers make replication r of every design share its seed, so the
    difference is paired: mean over replications, MCSE = SD / sqrt(R). A claim that is
    not evaluable counts as not reproduced (as reproduction_rate_all does).
    """
    res = run.results
    c = res["claims"].sel(claim=claims).fillna(0.0)
    ok = res["rep_status"] != "not_run"
    designs = [str(x) for x in res["design"].values]
    rows = []
    for cond in res["condition"].values:
        ref = c.sel(condition=cond, design=designs[0])
        for des in designs[1:]:
            d = (c.sel(condition=cond, design=des) - ref).where(
                ok.sel(condition=cond, design=des) & ok.sel(condition=cond, design=designs[0]))
            d = d.stack(sim=("population", "replication")).dropna("sim")
            n = d.sizes["sim"]
            for k in claims:
                v = d.sel(claim=k).values
                rows.append([str(cond), des, designs[0], k, float(v.mean()),
                             float(v.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan, n])
    return pd.DataFrame(rows, columns=["condition", "design", "reference", "claim",
                                       "diff", "mcse", "pairs"])


def headline(root: Path) -> pd.DataFrame:
    """One row per (study, design, quantity): value, MCSE and the file it comes from."""
    rows = []
    for study in sorted(p.name for p in root.iterdir() if (p / "manifest.json").is_file()):
        run = load_run(root / study)
        d = run.diag
        t7 = [t for t in focus_terms(list(d["model_term"].values)) if t.startswith("t7_")]
        share = per_replication_share(run.results, t7, "coverage") if run.results is not None \
            else None
        rej = {}
        if run.results is not None:
            for var in EXPERIENTIAL:
                ts = [f"t7_{it}:{var}" for it in T7_ITEMS]
                for kind in ("power", "positive"):
                    rej[(var, kind)] = per_replication_share(run.results, ts, kind)
        for ci, c in enumerate(d["condition"].values):
            lab = str(d["condition_label"].values[ci]) if "condition_label" in d.coords else c
            for di, des in enumerate(d["design"].values):
                src = f"results/{study}/diagnostics.nc"
                if share is not None:
                    rows.append([study, lab, des, "coverage share, T7 experiential terms",
                                 share[0][ci, di], share[1][ci, di], f"results/{study}/results.nc"])
                for (var, kind), (m, mc, _) in rej.items():
                    what = "p < .05 (any sign)" if kind == "power" else "b > 0 and p < .05"
                    rows.append([study, lab, des, f"{var}: share of the 7 items with {what}",
                                 m[ci, di], mc[ci, di], f"results/{study}/results.nc"])
                for k in KEY_CLAIMS:
                    if k in d["claim"].values:
                        s = d.sel(condition=c, design=des, claim=k,
                                  claim_measure="reproduction_rate_all")
                        rows.append([study, lab, des, f"claim {k} reproduced",
                                     float(s["claim_value"]), float(s["claim_mcse"]), src])
                for var in EXPERIENTIAL:
                    ts = [f"t7_{it}:{var}" for it in T7_ITEMS]
                    b = d["value"].sel(condition=c, design=des, model_term=ts, measure="bias",
                                       basis="successes").values
                    tr = d["value"].sel(condition=c, design=des, model_term=ts,
                                        measure="estimand", basis="successes").values
                    rows.append([study, lab, des, f"{var}: mean bias over 7 items (no MCSE)",
                                 float(np.mean(b)), np.nan, src])
                    rows.append([study, lab, des, f"{var}: mean census coefficient over 7 items",
                                 float(np.mean(tr)), np.nan, src])
        if run.results is not None and d.sizes["design"] > 1:
            claims = [k for k in KEY_CLAIMS if k in d["claim"].values]
            for r in paired_claim_diffs(run, claims).itertuples(index=False):
                rows.append([study, r.condition, r.design,
                             f"claim {r.claim}: paired difference vs {r.reference}",
                             r.diff, r.mcse, f"results/{study}/results.nc"])
    return pd.DataFrame(rows, columns=["study", "condition", "design", "quantity", "value",
                                       "mcse", "source"])


def main(root: str = "results") -> None:
    r = Path(root)
    made = []
    if (r / "null_world" / "manifest.json").is_file():
        made += null_world_figures(r)
    if (r / "selection_sweep" / "manifest.json").is_file():
        made += selection_sweep_figures(r)
    h = headline(r)
    atomic_write_text(r / "headline.csv", h.to_csv(index=False))
    lines = ["# Headline numbers (generated by analysis/cross_study.py)", "",
             "| study | condition | design | quantity | value (MCSE) | source |",
             "|---|---|---|---|---|---|"]
    for row in h.itertuples(index=False):
        lines.append(f"| {row.study} | {row.condition} | {row.design} | {row.quantity} | "
                     f"{fmt(row.value, row.mcse)} | {row.source} |")
    atomic_write_text(r / "headline.md", "\n".join(lines) + "\n")
    for p in made + [r / "headline.csv", r / "headline.md"]:
        print(p)


if __name__ == "__main__":
    main(*sys.argv[1:2])
