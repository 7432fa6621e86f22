"""Lay a SuiteResult out like the paper's tables (wide frames and Markdown), with the
paper's own legible cells beside ours and, when given, the census (population) value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim_refugee.suite.paper_cells import (
    T7_CELLS,
    T7_N,
    T9_CELLS,
    T9_MODELS,
    T9_N,
    TEXT_PERCENTS,
    stars,
)
from sim_refugee.suite.specs import T7_ITEMS, T7_REGRESSORS, T9_COLUMN_LABELS
from sim_refugee.suite.tables import GROUPS, TABLE_ITEMS, level_label

TERM_LABELS = {"foodaid": "food aid", "other_job": "other job", "job": "job in China",
               "years_in_china": "in China", "postsecondary": "post-secondary",
               "pyongyang": "Pyongyang"}


def _cell(b: float, p: float) -> str:
    if not np.isfinite(b):
        return "NA"
    return f"{b:.2f}{stars(p)}"


def _lookup(est: pd.DataFrame) -> dict:
    return {(m, t): (b, p, n) for m, t, b, p, n in zip(
        est["model"], est["term"], est["estimate"], est["pvalue"], est["nobs"], strict=True)}


def table7_wide(res, census=None, scale: str = "t7") -> pd.DataFrame:
    """Table 7 as printed: rows = regressors, columns = items; each cell 'ours [paper]'
    (and '{census}' when given). ``scale``: 't7' raw SNP or 't7std' standardized."""
    ours = _lookup(res.estimates)
    pop = _lookup(census.estimates) if census is not None else {}
    data = {}
    for j, item in enumerate(T7_ITEMS):
        col = []
        for term in T7_REGRESSORS:
            b, p, _ = ours[(f"{scale}_{item}", term)]
            s = f"{_cell(b, p)} [{T7_CELLS[term][j].replace(' ns', '')}]"
            if census is not None:
                s += f" {{{pop[(f'{scale}_{item}', term)][0]:.2f}}}"
            col.append(s)
        n = ours[(f"{scale}_{item}", T7_REGRESSORS[0])][2]
        col.append(f"{n:,.0f} [{T7_N[j]}]" if np.isfinite(n) else f"NA [{T7_N[j]}]")
        data[item] = col
    index = [TERM_LABELS.get(t, t) for t in T7_REGRESSORS] + ["N"]
    return pd.DataFrame(data, index=pd.Index(index, name="regressor"))


def table9_wide(res, census=None) -> pd.DataFrame:
    """Table 9 as printed (decoded column layout), cells 'ours [paper]' ({census})."""
    ours = _lookup(res.estimates)
    pop = _lookup(census.estimates) if census is not None else {}
    data = {}
    for k, model in enumerate(T9_MODELS):
        col = []
        for term, cells in T9_CELLS.items():
            if (model, term) not in ours:
                col.append("")
                continue
            b, p, _ = ours[(model, term)]
            paper = cells[k] if cells[k] is not None else "-"
            s = f"{_cell(b, p)} [{paper.replace(' ns', '')}]"
            if census is not None:
                s += f" {{{pop[(model, term)][0]:.2f}}}"
            col.append(s)
        n = ours[(model, "const")][2]
        col.append(f"{n:,.0f} [{T9_N[k]}]" if np.isfinite(n) else f"NA [{T9_N[k]}]")
        data[T9_COLUMN_LABELS[model]] = col
    index = [TERM_LABELS.get(t, t) for t in T9_CELLS] + ["N"]
    return pd.DataFrame(data, index=pd.Index(index, name="regressor"))


def descriptive_wide(res, item: str, census=None) -> pd.DataFrame:
    """One descriptive item as the paper lays it out: rows = levels (+ Total), columns
    Males/Females/Total Number and Percent; 'paper' = what the text states."""
    t = res.tables[(res.tables["item"] == item) & (res.tables["table"] != "3")]
    ti = next(x for x in TABLE_ITEMS if x.item == item)
    rows = []
    for lv in [level_label(v) for v in ti.levels]:
        r = {"level": lv}
        for g in GROUPS:
            x = t[(t["level"] == lv) & (t["group"] == g)].iloc[0]
            r[f"{g} N"] = int(x["count"])
            r[f"{g} %"] = round(float(x["pct"]), 1)
        if census is not None:
            c = census.tables
            x = c[(c["item"] == item) & (c["level"] == lv) & (c["group"] == "total")]
            r["population %"] = round(float(x["pct"].iloc[0]), 1) if len(x) else np.nan
        r["paper %"] = "; ".join(f"{g}: {TEXT_PERCENTS[(item, lv, g)]}" for g in GROUPS
                                 if (item, lv, g) in TEXT_PERCENTS)
        rows.append(r)
    total = {"level": "Total"}
    for g in GROUPS:
        total[f"{g} N"] = int(t[t["group"] == g]["valid_n"].iloc[0]) if len(t) else 0
        total[f"{g} %"] = 100.0
    rows.append(total)
    return pd.DataFrame(rows).fillna("")


def table23_wide(res) -> pd.DataFrame:
    """Tables 2 and 3: % agree, % strongly agree, mean (SD) by gender for the 7 items."""
    s = res.scalars
    rows = []
    for item in T7_ITEMS:
        r = {"item": item}
        for g in GROUPS:
            r[f"{g} agree %"] = round(100 * s[f"share.{item}.3.{g}"], 1)
            r[f"{g} strongly %"] = round(100 * s[f"share.{item}.4.{g}"], 1)
            r[f"{g} mean (SD)"] = f"{s[f'mean.{item}.{g}']:.2f} ({s[f'sd.{item}.{g}']:.2f})"
        rows.append(r)
    return pd.DataFrame(rows)


def _md(frame: pd.DataFrame, index: bool = False) -> str:
    """A GitHub Markdown table (written here: pandas' to_markdown needs 'tabulate')."""
    f = frame.reset_index() if index else frame
    head = "| " + " | ".join(str(c) for c in f.columns) + " |"
    rule = "|" + "|".join("---" for _ in f.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in f.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def markdown_report(res, claims: pd.DataFrame, census=None, meta: dict | None = None) -> str:
    """The replicate report: every table laid out like the paper's, then the claims."""
    meta = meta or {}
    out = ["# Replication of Chang, Haggard & Noland (2008) on one simulated sample", ""]
    for k, v in meta.items():
        out.append(f"- {k}: {v}")
    out += ["", "Cells: ours [the paper's legible pattern, '?' = a lost digit]"
            + (" {census value}" if census is not None else "")
            + "; * p<0.05, ** p<0.01, *** p<0.001.", ""]
    out += ["## Table 1: length of time in China", "", _md(descriptive_wide(res, "china_spell",
                                                                            census)), ""]
    out += ["## Tables 2-3: psychological distress items (the seven modelled items)", "",
            _md(table23_wide(res)), ""]
    out += ["## Table 4: reasons for anxiety", "",
            "Not built: the world has no 'reason for anxiety' variable.", ""]
    for title, item in (("Table 5: family members arrested or whereabouts unknown",
                         "family_missing"),
                        ("Table 6: sent to labour camp / political prison", "camp"),
                        ("Table 8: preferred destination", "dest")):
        out += [f"## {title}", "", _md(descriptive_wide(res, item, census)), ""]
    out += ["## Shares quoted in the text", ""]
    for item in ("arrest", "death", "foodaid", "trafficking", "job", "children"):
        out += [f"### {item}", "", _md(descriptive_wide(res, item, census)), ""]
    tests = res.tests.assign(pvalue=res.tests["pvalue"].map(lambda p: f"{p:.4g}"))
    out += ["## Gender tests (Pearson chi-square)", "", _md(tests.round(3)), ""]
    out += ["## Table 7: SNP ordered probit (order 3), raw coefficients", "",
            _md(table7_wide(res, census), index=True), ""]
    out += ["## Table 7, standardized coefficients (b / sd of the error)", "",
            _md(table7_wide(res, census, scale="t7std"), index=True), ""]
    out += ["## Table 9: 2SPLS (job in China) and destination probits", "",
            _md(table9_wide(res, census), index=True), ""]
    out += ["## The paper's claims", "",
            "sample: on this sample's estimates; population: on the census fit (at N = "
            "the population, every nonzero coefficient is significant); population_at_n: "
            "on the census fit with significance judged at the sample's n (SEs scaled by "
            "sqrt(N / n), chi-squares by n / N): the noise-free answer at the paper's size.",
            "", _md(claims), ""]
    bad = res.messages[res.messages != ""]
    if len(bad):
        out += ["## Fit notes", ""] + [f"- {m}: {msg}" for m, msg in bad.items()] + [""]
    return "\n".join(out)
