"""The Markdown report of one run folder: figures (PNG) and tables, written atomically.

``make_report(DIR)`` writes ``DIR/report/report.md`` and ``DIR/report/*.png``. The
whole folder is built under a temporary name beside it and renamed into place, so a
reader never sees a half-written report (a failed build leaves the old report alone).
Every number printed is read from the diagnosis (``diagnostics.nc``) or computed from
``results.nc`` by ``data.per_replication_share``; cells read ``value (MCSE)``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim_refugee.report import figures as F  # noqa: E402
from sim_refugee.report.data import (  # noqa: E402
    EXPERIENTIAL,
    KEY_CLAIMS,
    T7_ITEMS,
    RunData,
    focus_terms,
    load_run,
    per_replication_share,
)
from sim_refugee.report.nonprob import section as nonprob_section  # noqa: E402

#: above this many designs, per-term and per-claim figures are heat maps (one colour per
#: design stops being readable)
MAX_DOT_DESIGNS = 6
DETAIL_MEASURES = ("estimand", "bias", "emp_se", "se_ratio", "rmse", "coverage", "power")


def detail_measures(diag: Any) -> tuple[list[str], list[str]]:
    """Term measures of the detail tables and their names: the built-in
    ``DETAIL_MEASURES`` plus every user-defined diagnosand marked for the report, named
    as the diagnosand registry says (the names are stored with the diagnosis)."""
    if "measure_in_report" not in diag.coords:
        return list(DETAIL_MEASURES), list(DETAIL_MEASURES)
    from sim_refugee.diagnosis.measures import TERM_MEASURES

    names = dict(zip([str(m) for m in diag["measure"].values],
                     [str(n) for n in diag["measure_report_name"].values], strict=True))
    flags = dict(zip(names, [bool(x) for x in diag["measure_in_report"].values], strict=True))
    ms = list(DETAIL_MEASURES) + [m for m in names if m not in TERM_MEASURES and flags[m]]
    return ms, [names.get(m, m) for m in ms]


def fmt(v: float, m: float | None = None, digits: int = 3) -> str:
    """``value (MCSE)`` with a fixed number of decimals; 'NA' for a missing value."""
    if v is None or not np.isfinite(v):
        return "NA"
    if m is None or not np.isfinite(m):
        return f"{v:.{digits}f}"
    return f"{v:.{digits}f} ({m:.{digits}f})"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def short_key(key: str) -> str:
    """'designs.paper.reach.or_distress' -> 'paper or_distress'; 'sample.n' -> 'n'."""
    parts = key.split(".")
    if key == "sample.n":
        return "n"
    if parts[0] == "designs" and len(parts) >= 3:
        return f"{parts[1]} {parts[-1]}"
    return parts[-1] if len(parts) > 1 else key


def sweep_axis(run: RunData) -> tuple[str, np.ndarray, list[str]] | None:
    """The x axis of cross-condition figures: the numeric grid key with most values.

    Returns (key, x per condition, series label per condition from the other keys), or
    None when the run has a single condition or no numeric grid key.
    """
    ovs = run.condition_overrides()
    keys = run.grid_keys
    if len(ovs) < 2 or not keys:
        return None

    def numeric(k: str) -> bool:
        return all(isinstance(o.get(k), (int, float)) and not isinstance(o.get(k), bool)
                   for o in ovs)

    num = [k for k in keys if numeric(k)]
    if not num:
        return None
    xkey = max(num, key=lambda k: (len({o[k] for o in ovs}), -keys.index(k)))
    others = [k for k in keys if k != xkey]
    x = np.array([float(o[xkey]) for o in ovs])
    labels = [", ".join(f"{short_key(k)}={json.dumps(o.get(k))}" for k in others) for o in ovs]
    return xkey, x, labels


def _series_key(design: str, label: str, n_designs: int) -> str:
    if not label:
        return design
    return f"{design}; {label}" if n_designs > 1 else label


class _Report:
    """Accumulates Markdown lines and figures in a temporary folder."""

    def __init__(self, run: RunData, tmp: Path, figures: bool = True) -> None:
        self.run, self.tmp, self.with_figures = run, tmp, figures
        self.lines: list[str] = []
        self.figures: list[str] = []
        d = run.diag
        self.conds = [str(c) for c in d["condition"].values]
        self.labels = ([str(x) for x in d["condition_label"].values]
                       if "condition_label" in d.coords else self.conds)
        self.designs = [str(x) for x in d["design"].values]
        self.terms = focus_terms(list(d["model_term"].values))
        self.t7_terms = [t for t in self.terms if t.startswith("t7_")]
        self.has_claims = "claim_value" in d

    def save(self, make: Any, name: str, caption: str) -> None:
        """Draw ``make()`` (a Figure factory) to ``name`` and reference it; skipped when
        the report is tables-only."""
        if not self.with_figures:
            return
        fig = make()
        fig.savefig(self.tmp / name, dpi=110)
        plt.close(fig)
        self.figures.append(name)
        self.lines += [f"![{caption}]({name})", "", f"*{caption}*", ""]

    # ---------------------------------------------------------------- sections
    def header(self) -> None:
        man, run = self.run.manifest, self.run
        cfg = man.get("config", {})
        exp = cfg.get("experiment", {})
        summ = man.get("summary", {})
        vers = man.get("versions", {})
        self.lines += [f"# Report: {run.name}", ""]
        rows = [
            ["config file", f"`{man.get('config_source', '?')}`"],
            ["config hash", f"`{man.get('config_hash', '?')}`"],
            ["root seed", str(man.get("root_seed", exp.get("root_seed", "?")))],
            ["replications per condition x design", str(man.get("replications", "?"))],
            ["populations per condition", str(man.get("populations", "?"))],
            ["population size", str(cfg.get("world", {}).get("size", "default"))],
            ["conditions", str(len(self.conds))],
            ["designs", ", ".join(self.designs)],
            ["run time (s, this run's compute)", fmt(float(summ["seconds"]), None, 1)
             if "seconds" in summ else "?"],
            ["backend", json.dumps(man.get("backend", {}))],
            ["sim_refugee version", str(vers.get("sim_refugee", "?"))],
            ["python / numpy / scipy / statsmodels",
             " / ".join(str(vers.get(k, "?")) for k in ("python", "numpy", "scipy", "statsmodels"))],
        ]
        prov = self.run.path / "provenance.json"
        if prov.is_file():  # written by analysis/run_study.sh for kept results
            try:
                pv = json.loads(prov.read_text())
            except json.JSONDecodeError:
                pv = {}
            rows += [["code", str(pv.get("code", "?"))],
                     ["wall time of run + diagnose (s)", str(pv.get("wall_seconds_run_and_diagnose", "?"))]]
        self.lines += _table(["item", "value"], rows)
        if self.run.notes:
            self.lines += [f"Note: {n}." for n in self.run.notes] + [""]
        self.lines += [
            "Measures follow Morris, White & Crowther (2019); the truth of every term is the "
            "census fit of the same model on the whole population, and a claim's truth is "
            "the claim evaluated on that census fit. Cells read `value (Monte Carlo SE)`; "
            "figure bars are +/- 1.96 MCSE. Focus terms: the five experiential regressors of "
            f"Table 7 ({', '.join(EXPERIENTIAL)}) in each of the seven items, and the Table 9 "
            "2SPLS terms the claims read.", "",
            "Conditions:", "",
        ]
        self.lines += _table(["condition", "label", "n"], [
            [c, lab, str(int(n))] for c, lab, n in zip(
                self.conds, self.labels, self.run.diag["n"].values
                if "n" in self.run.diag.coords else ["?"] * len(self.conds), strict=True)])

    def summary(self) -> None:
        """Per condition x design: coverage share of focus terms and key claims."""
        d = self.run.diag
        self.lines += ["## Summary", ""]
        share = None
        if self.run.results is not None and self.t7_terms:
            share = per_replication_share(self.run.results, self.t7_terms, "coverage")
        claims = [c for c in KEY_CLAIMS if self.has_claims and c in d["claim"].values]
        header = ["condition", "design", "replications", "replication errors",
                  "T7 experiential coverage share"] + claims
        rows = []
        for ci, c in enumerate(self.conds):
            for di, des in enumerate(self.designs):
                nsim = d["value"].sel(condition=c, design=des, measure="n_sim",
                                      basis="all").max().item()
                err = float(d["replication_error_rate"].sel(condition=c, design=des)) \
                    if "replication_error_rate" in d else np.nan
                cov = fmt(share[0][ci, di], share[1][ci, di]) if share is not None else "NA"
                cells = [fmt(float(d["claim_value"].sel(condition=c, design=des, claim=k,
                                                        claim_measure="reproduction_rate_all")),
                             float(d["claim_mcse"].sel(condition=c, design=des, claim=k,
                                                       claim_measure="reproduction_rate_all")))
                         for k in claims]
                rows.append([self.labels[ci], des, str(int(nsim)), fmt(err), cov, *cells])
        self.lines += [
            "T7 experiential coverage share: per replication, the share of the "
            f"{len(self.t7_terms)} Table 7 experiential coefficients whose 95% CI covers the "
            "census value, averaged over replications (MCSE = SD/sqrt(R)). Claim columns: "
            "share of replications reproducing the claim (not evaluable = not reproduced).", "",
        ]
        self.lines += _table(header, rows)
        if self.has_claims:
            truth = d["claim_value"].isel(design=0).sel(claim=claims, claim_measure="truth_rate")
            self.lines += ["Claim truth in the population (census fit), per condition:", ""]
            self.lines += _table(["condition", *claims], [
                [self.labels[ci], *[fmt(float(truth.sel(condition=c, claim=k)), None, 2)
                                    for k in claims]] for ci, c in enumerate(self.conds)])

    def per_condition_figures(self) -> None:
        self.lines += ["## Bias, coverage and power of the focus terms", ""]
        few = len(self.conds) <= 4
        conds = self.conds if few else [self.conds[0], self.conds[-1]]
        if not few:
            self.lines += [f"({len(self.conds)} conditions: figures for the first and the "
                           "last; every condition is in the tables below.)", ""]
        many = len(self.designs) > MAX_DOT_DESIGNS
        for c in conds:
            lab = self.labels[self.conds.index(c)]
            if many:
                self.save(lambda c=c, lab=lab: F.terms_heatmap(self.run.diag, c, self.terms,
                                                               f"Focus terms: {lab}"),
                          f"terms_{c}.png",
                          f"Bias and coverage of the focus terms by design ({lab})")
                continue
            self.save(lambda c=c, lab=lab: F.terms_figure(self.run.diag, c, self.terms,
                                                          f"Focus terms: {lab}"),
                      f"terms_{c}.png",
                      f"Bias, coverage and power of the focus terms by design ({lab})")
        if self.has_claims:
            self.lines += ["## Claim reproduction", ""]
            for c in conds:
                lab = self.labels[self.conds.index(c)]
                if many:
                    self.save(lambda c=c, lab=lab: F.claims_heatmap(
                        self.run.diag, c, title=f"Claim reproduction: {lab}"),
                        f"claims_{c}.png",
                        f"Share of replications reproducing each claim, by design ({lab})")
                    continue
                self.save(lambda c=c, lab=lab: F.claims_figure(
                    self.run.diag, c, title=f"Claim reproduction: {lab}"), f"claims_{c}.png",
                          f"Share of replications reproducing each claim, by design ({lab}); "
                          "black tick = the claim's truth in the population")

    def sweep_figures(self) -> None:
        ax = sweep_axis(self.run)
        if ax is None:
            return
        xkey, x, labels = ax
        d = self.run.diag
        xl = short_key(xkey)
        self.lines += [f"## Across conditions: against {xl}", ""]
        groups: dict[str, list[int]] = {}
        for ci, lab in enumerate(labels):
            groups.setdefault(lab, []).append(ci)

        def series(getter) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
            out = {}
            for di, des in enumerate(self.designs):
                for lab, idx in groups.items():
                    v, m = getter(di, des, idx)
                    out[_series_key(des, lab, len(self.designs))] = (x[idx], v, m)
            return out

        claims = [c for c in KEY_CLAIMS if c in d["claim"].values] if self.has_claims else []
        if claims:  # a unit without the paper's key claims (the toy) has no such figure
            panels = {}
            for k in claims:
                def get(di, des, idx, k=k):
                    s = d.sel(design=des, claim=k, claim_measure="reproduction_rate_all")
                    return s["claim_value"].values[idx], s["claim_mcse"].values[idx]
                tr = d["claim_value"].isel(design=0).sel(claim=k, claim_measure="truth_rate")
                tv = tr.values
                tag = ("true" if np.all(tv == 1) else "false" if np.all(tv == 0)
                       else "mixed") if np.all(np.isfinite(tv)) else "NA"
                panels[f"{k} [{tag} in pop.]"] = series(get)
            self.save(lambda panels=panels: F.sweep_figure(
                panels, xl, "reproduction rate", f"Key claims reproduced, against {xl}"),
                "sweep_claims.png",
                      f"Share of replications reproducing each key claim, against {xl}")
        if self.run.results is not None and self.t7_terms:
            res = self.run.results
            panels = {}
            cov = per_replication_share(res, self.t7_terms, "coverage")
            panels["coverage share, 35 T7 experiential terms"] = series(
                lambda di, des, idx: (cov[0][idx, di], cov[1][idx, di]))
            for var in EXPERIENTIAL:
                ts = [f"t7_{it}:{var}" for it in T7_ITEMS if f"t7_{it}:{var}" in self.terms]
                if not ts:
                    continue
                pw = per_replication_share(res, ts, "positive")
                panels[f"{var}: share of items b > 0, p < .05"] = series(
                    lambda di, des, idx, pw=pw: (pw[0][idx, di], pw[1][idx, di]))
            self.save(lambda panels=panels: F.sweep_figure(
                panels, xl, "share", f"Coverage and rejection, against {xl}", ref=None,
                ncols=3),
                "sweep_terms.png",
                      "Per-replication share of Table 7 experiential terms covered (first "
                      "panel) and share of the seven items in which each experiential "
                      f"variable is positive and significant (p < 0.05), against {xl}")
        if xkey == "sample.n" and len(groups) == 1:
            idx = list(range(len(self.conds)))
            for des in self.designs:
                panels = F.power_panels(d, x, idx, des)
                if panels:
                    self.save(lambda panels=panels, des=des: F.sweep_figure(
                        panels, "n", "power (p < 0.05)",
                        f"Power curves of the Table 7 coefficients ({des})", ncols=3),
                        f"power_curves_{des}.png",
                              f"Power of each Table 7 experiential coefficient against n, "
                              f"one line per item ({des})")

    def detail_tables(self) -> None:
        d = self.run.diag
        detail_ms, detail_names = detail_measures(d)
        self.lines += ["## Tables: focus terms by condition and design", ""]
        for ci, c in enumerate(self.conds):
            for des in self.designs:
                sub = d.sel(condition=c, design=des, basis="successes")
                rows = []
                for t in self.terms:
                    s = sub.sel(model_term=t)
                    rows.append([t, *[fmt(float(s["value"].sel(measure=m)),
                                          None if m == "estimand" else
                                          float(s["mcse"].sel(measure=m)))
                                      for m in detail_ms]])
                self.lines += [f"### {self.labels[ci]} / {des}", ""]
                self.lines += _table(["term", *detail_names], rows)
        if self.has_claims:
            self.lines += ["## Tables: every claim", "",
                           "Cells: reproduction rate over all replications (MCSE); `truth` "
                           "is the claim on the census fit.", ""]
            for ci, c in enumerate(self.conds):
                rows = []
                for k in [str(x) for x in d["claim"].values]:
                    s = d.sel(condition=c, claim=k)
                    tr = float(s["claim_value"].isel(design=0).sel(claim_measure="truth_rate"))
                    rows.append([k, fmt(tr, None, 2), *[
                        fmt(float(s["claim_value"].sel(design=des,
                                                       claim_measure="reproduction_rate_all")),
                            float(s["claim_mcse"].sel(design=des,
                                                      claim_measure="reproduction_rate_all")))
                        for des in self.designs]])
                self.lines += [f"### Claims: {self.labels[ci]}", ""]
                self.lines += _table(["claim", "truth", *self.designs], rows)
        if "paired_value" in d:
            self.lines += ["## Paired design differences (common random numbers)", "",
                           "Per replication difference against the first design, mean (MCSE) "
                           "over replications where both fits succeeded.", ""]
            for ci, c in enumerate(self.conds):
                for con in [str(x) for x in d["contrast"].values]:
                    rows = []
                    for t in self.terms:
                        s = d.sel(condition=c, contrast=con, model_term=t)
                        rows.append([t, *[fmt(float(s["paired_value"].sel(paired_measure=m)),
                                              float(s["paired_mcse"].sel(paired_measure=m)))
                                          for m in ("bias_diff", "mse_diff", "coverage_diff",
                                                    "power_diff")]])
                    self.lines += [f"### {self.labels[ci]}: {con}", ""]
                    self.lines += _table(["term", "bias diff", "MSE diff", "coverage diff",
                                          "power diff"], rows)
        if "failure_rate" in d:
            self.lines += ["## Fit failures", "",
                           "Share of replications whose fit of the model did not succeed "
                           "(models with any failure).", ""]
            rows = []
            for ci, c in enumerate(self.conds):
                for des in self.designs:
                    fr = d["failure_rate"].sel(condition=c, design=des)
                    mc = d["failure_rate_mcse"].sel(condition=c, design=des)
                    for mo in [str(x) for x in d["model"].values]:
                        v = float(fr.sel(model=mo))
                        if np.isfinite(v) and v > 0:
                            rows.append([self.labels[ci], des, mo,
                                         fmt(v, float(mc.sel(model=mo)))])
            self.lines += _table(["condition", "design", "model", "failure rate"], rows) \
                if rows else ["No fit failed.", ""]

    def build(self) -> str:
        self.header()
        self.summary()
        self.sweep_figures()
        self.per_condition_figures()
        self.detail_tables()
        nonprob_section(self)  # the nonprobability-sample diagnostics, when recorded
        return "\n".join(self.lines) + "\n"


def make_report(path: str | Path, out: str | Path | None = None, figures: bool = True) -> Path:
    """Write the report of run folder ``path`` into ``out`` (default ``path/report``).

    ``figures=False`` writes the tables only (fast; the figures are drawn only to be
    discarded, so the same code runs).

    Returns the path of ``report.md``. Built in a temporary sibling folder, then
    renamed into place (see module docstring).
    """
    run = load_run(path)
    target = Path(out) if out is not None else Path(path) / "report"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        text = _Report(run, tmp, figures).build()
        (tmp / "report.md").write_text(text)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.rmdir(old)
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)
        raise
    return target / "report.md"
