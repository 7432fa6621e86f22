"""Write a diagnosis: netCDF (all of it), tidy CSV (one row per number) and Markdown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sim_refugee.diagnosis.nonprob_mc import nonprob_markdown, nonprob_tidy
from sim_refugee.io import NETCDF_ENGINE, atomic_path, atomic_write_text

ENGINE = NETCDF_ENGINE

MD_MEASURES = ("n_sim", "estimand", "bias", "rel_bias", "emp_se", "se_ratio", "rmse",
               "coverage", "power", "type_s", "failure_rate")


def md_measures(diag: xr.Dataset) -> tuple[list[str], list[str]]:
    """The term measures of the Markdown tables and their column names: from the
    diagnosand registry's names stored with the diagnosis (``diagnosands``), else the
    built-in ``MD_MEASURES``."""
    if "measure_in_markdown" not in diag.coords:
        return list(MD_MEASURES), list(MD_MEASURES)
    keep = [bool(x) for x in diag["measure_in_markdown"].values]
    ms = [str(m) for m, k in zip(diag["measure"].values, keep, strict=True) if k]
    names = [str(n) for n, k in zip(diag["measure_md_name"].values, keep, strict=True) if k]
    return ms, names


def tidy(diag: xr.Dataset) -> pd.DataFrame:
    """One row per (table, condition, design/contrast, item, measure, basis)."""
    frames = []
    labels = dict(zip(diag["condition"].values, diag["condition_label"].values, strict=True)) \
        if "condition_label" in diag.coords else {}

    def _frame(value: str, mcse: str, item: str, measure: str, group: str, table: str) -> None:
        if value not in diag:
            return
        df = xr.Dataset({"value": diag[value], "mcse": diag[mcse]}).to_dataframe().reset_index()
        df = df.rename(columns={item: "item", measure: "measure", group: "design"})
        if "basis" not in df:
            df["basis"] = "successes"
        df["table"] = table
        frames.append(df[["table", "condition", "design", "item", "measure", "basis",
                          "value", "mcse"]])

    _frame("value", "mcse", "model_term", "measure", "design", "terms")
    _frame("claim_value", "claim_mcse", "claim", "claim_measure", "design", "claims")
    _frame("paired_value", "paired_mcse", "model_term", "paired_measure", "contrast", "paired")
    fr = xr.Dataset({"value": diag["failure_rate"], "mcse": diag["failure_rate_mcse"]})
    df = fr.to_dataframe().reset_index().rename(columns={"model": "item"})
    df["measure"], df["basis"], df["table"] = "failure_rate", "all", "failures"
    frames.append(df[["table", "condition", "design", "item", "measure", "basis", "value", "mcse"]])
    if "nonprob_value" in diag:
        frames.append(nonprob_tidy(diag))
    out = pd.concat(frames, ignore_index=True)
    out.insert(2, "condition_label", out["condition"].map(labels) if labels else "")
    return out


def _fmt(v: float, m: float) -> str:
    if not np.isfinite(v):
        return "NA"
    if not np.isfinite(m) or m == 0:
        return f"{v:.4g}"
    return f"{v:.4g} ({m:.2g})"


def markdown(diag: xr.Dataset) -> str:
    """Markdown tables: value (MCSE) per condition x design, basis = successes."""
    lines = ["# Diagnosis", "",
             "Each cell: value (Monte Carlo SE). Measures over successful fits; "
             "formulas of Morris, White & Crowther (2019).", ""]
    conds = diag["condition"].values
    for ci, c in enumerate(conds):
        lab = str(diag["condition_label"].values[ci]) if "condition_label" in diag.coords else ""
        lines += [f"## Condition {c}: {lab}", ""]
        md_ms, md_names = md_measures(diag)
        for des in diag["design"].values:
            lines += [f"### Design {des}", "",
                      "| term | " + " | ".join(md_names) + " |",
                      "|---" * (len(md_ms) + 1) + "|"]
            sub = diag.sel(condition=c, design=des, basis="successes")
            for mt in diag["model_term"].values:
                cells = [_fmt(float(sub["value"].sel(model_term=mt, measure=m)),
                              float(sub["mcse"].sel(model_term=mt, measure=m))) for m in md_ms]
                lines.append(f"| {mt} | " + " | ".join(cells) + " |")
            lines.append("")
        if "claim_value" in diag:
            cm = list(diag["claim_measure"].values)
            lines += ["### Claims", "", "| design | claim | " + " | ".join(cm) + " |",
                      "|---" * (len(cm) + 2) + "|"]
            for des in diag["design"].values:
                for cl in diag["claim"].values:
                    s = diag.sel(condition=c, design=des, claim=cl)
                    cells = [_fmt(float(s["claim_value"].sel(claim_measure=m)),
                                  float(s["claim_mcse"].sel(claim_measure=m))) for m in cm]
                    lines.append(f"| {des} | {cl} | " + " | ".join(cells) + " |")
            lines.append("")
        if "paired_value" in diag:
            pm = list(diag["paired_measure"].values)
            lines += ["### Paired design differences (common random numbers)", "",
                      "| contrast | term | " + " | ".join(pm) + " |", "|---" * (len(pm) + 2) + "|"]
            for con in diag["contrast"].values:
                for mt in diag["model_term"].values:
                    s = diag.sel(condition=c, contrast=con, model_term=mt)
                    cells = [_fmt(float(s["paired_value"].sel(paired_measure=m)),
                                  float(s["paired_mcse"].sel(paired_measure=m))) for m in pm]
                    lines.append(f"| {con} | {mt} | " + " | ".join(cells) + " |")
            lines.append("")
        lines += ["### Failure rates", "", "| design | model | rate |", "|---|---|---|"]
        for des in diag["design"].values:
            for mo in diag["model"].values:
                s = diag.sel(condition=c, design=des, model=mo)
                lines.append(f"| {des} | {mo} | "
                             f"{_fmt(float(s['failure_rate']), float(s['failure_rate_mcse']))} |")
        lines.append("")
    labels = {str(c): str(lab) for c, lab in zip(conds, diag["condition_label"].values,
                                                  strict=True)} \
        if "condition_label" in diag.coords else {}
    lines += nonprob_markdown(diag, labels)
    return "\n".join(lines)


def write_diagnosis(diag: xr.Dataset, out: str | Path) -> dict[str, Path]:
    """diagnostics.nc, diagnostics.csv, diagnostics.md in folder ``out`` (atomically)."""
    out = Path(out)
    paths = {"netcdf": out / "diagnostics.nc", "csv": out / "diagnostics.csv",
             "markdown": out / "diagnostics.md"}
    with atomic_path(paths["netcdf"]) as tmp:
        diag.to_netcdf(tmp, engine=NETCDF_ENGINE)
    with atomic_path(paths["csv"]) as tmp:
        tidy(diag).to_csv(tmp, index=False)
    atomic_write_text(paths["markdown"], markdown(diag))
    return paths
