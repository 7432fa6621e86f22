"""Lay a SuiteResult out like the paper's tables (wide frames and Markdown): the paper's
labels, coefficients with their SEs in parentheses on the line below, stars, N and the
LR chi-square (Table 7) or pseudo R-squared and chi-square (Table 9), and the paper's own
legible cells beside ours. A fit that did not end 'ok' is printed as failed, with no
numbers: its estimates are not estimates.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy.stats import chi2 as chi2_dist

from sim_refugee.suite.paper_cells import (
    T7_CELLS,
    T7_CHI2,
    T7_N,
    T9_CELLS,
    T9_CHI2,
    T9_MODELS,
    T9_N,
    T9_PSEUDO_R2,
    TEXT_PERCENTS,
    stars,
)
from sim_refugee.suite.specs import MODELS, T7_ITEMS, T7_REGRESSORS, T9_COLUMN_LABELS
from sim_refugee.suite.tables import GROUPS, TABLE_ITEMS, level_label

TERM_LABELS = {"foodaid": "food aid", "other_job": "other job", "job": "job in China",
               "years_in_china": "in China", "postsecondary": "post-secondary",
               "pyongyang": "Pyongyang"}

#: The paper's titles of its descriptive tables (by TableItem.table).
TABLE_TITLES = {
    "1": "Table 1: Length of time in China",
    "2": "Tables 2-3: Indicators of psychological distress (percent) and mean scores",
    "4": "Table 4: Reported reasons for anxiety",
    "5": "Table 5: Family members arrested or whereabouts unknown",
    "6": "Table 6: Labor camp/political prison",
    "8": "Table 8: Preferred destinations for permanent resettlement",
    "text": "Shares quoted in the text",
}

#: The paper's row labels for coded levels; a binary 0/1 item reads No/Yes.
LEVEL_LABELS: dict[str, dict[str, str]] = {
    "china_spell": {"<6m": "Less than 6 months", "6-12m": "6 to 12 months",
                    "1-2y": "1 to 2 years", "2-3y": "2 to 3 years", ">3y": "More than 3 years"},
    "dest": {"north_korea": "North Korea", "south_korea": "South Korea",
             "united_states": "United States", "china": "China", "russia": "Russia",
             "japan": "Japan", "other": "Others"},
    "anxiety_reason": {"arrest": "Arrest", "hunger": "Hunger", "home": "Home",
                       "family": "Family in North Korea", "other": "Others"},
}
LEVEL_LABELS["dest_detail"] = {**LEVEL_LABELS["dest"], "others": "Others"}
LEVEL_LABELS["family_missing_why"] = {
    "speaking": "Speaking against the regime", "traveling": "Traveling without permission",
    "crossing": "Crossing the border to China", "stealing": "Stealing food",
    "dont_know": "Don't know"}
BINARY_LABELS = {"0": "No", "1": "Yes", "no": "No", "yes": "Yes"}

#: The question behind an item, as the paper asks or reports it (a subsection title).
ITEM_TITLES = {
    "family_missing": "Family members arrested or whereabouts unknown",
    "family_missing_why": "If yes, why?",
    "camp": "Sent to labor camp/political prison",
    "witness_executions": "If yes, did you witness the execution of prisoners?",
    "witness_starvation": "If yes, did you witness forced starvation?",
    "witness_torture_death": "If yes, did you witness death due to torture/beating?",
    "witness_infanticide": "If yes, did you witness the killing of infants?",
    "believe_experiments": "Believe prisoners are used for experiments",
    "dest": "Preferred destination (the four the models use, Russia/Japan/Others pooled)",
    "dest_detail": "Preferred destination (as Table 8 prints it)",
    "arrest": "Arrested in North Korea", "death": "Family member died of hunger",
    "foodaid": "Aware of food aid and believes it went elsewhere (Table 7's food aid)",
    "trafficking": "Aware of trafficking", "job": "Employed in China",
    "children": "Has children", "leave_reason": "Reason for leaving North Korea",
    "help_paid": "Paid for help with leaving (of those helped)",
    "living": "Living arrangements in China", "aid_status": "Knowledge of food aid",
    "aid_military": "Believes aid went to the military",
    "aid_officials": "Believes aid went to officials",
    "children_separation_why": "Why separated from children",
    "return_reason": "Reason for returning to North Korea",
    "repatriations": "Times repatriated", "wage": "Wages in China",
    "help_leaving": "Had help leaving North Korea", "help_ngo": "Help from an NGO",
    "help_korean_chinese": "Help from Korean-Chinese",
    "children_separated": "Separated from children", "family_in_nk": "Family still in North Korea",
    "returned_nk": "Returned to North Korea voluntarily", "plan_return": "Plans to return",
}
GROUP_LABELS = {"male": "Males", "female": "Females", "total": "Total"}


def level_text(item: str, level: str) -> str:
    """The paper's label of one level of ``item`` (falls back to the code)."""
    labels = LEVEL_LABELS.get(item)
    if labels is not None and level in labels:
        return labels[level]
    if level in BINARY_LABELS:
        return BINARY_LABELS[level]
    return level.replace("_", " ")


@functools.cache
def _documented() -> dict[tuple[str, str, str], str]:
    """The paper's documented shares (targets/paper.yaml margins) by (item, level, group),
    as text: '[says ]percent[ of <denominator>]'."""
    from sim_refugee.targets import paper_margins

    out: dict[tuple[str, str, str], str] = {}
    for r in paper_margins().itertuples(index=False):
        if r.kind != "share" or r.level is None:
            continue
        pct = f"{100 * float(r.value):.3g}"
        says = r.says if isinstance(r.says, str) else {"min": "more than", "max": "fewer than"
                                                      }.get(r.bound, "")
        # a short qualifier reads before the number ('more than 50'), a note after it
        text = (f"{says} {pct}" if len(says) <= 15 else f"{pct} ({says})").strip()
        if isinstance(r.among, dict):
            text += f" of {r.variable if 'variable' not in r.among else r.among['variable']}"
            text += f" in {'/'.join(map(str, r.among.get('levels', [])))}"
        group = {"all": "total"}.get(r.group, r.group)
        out[(str(r.variable), str(r.level), group)] = text
    return out


def paper_text(item: str, level: str, group: str) -> str:
    """What the paper states for one cell: the text's number (TEXT_PERCENTS) or else the
    documented margin of targets/paper.yaml; '' if it states nothing."""
    if (item, level, group) in TEXT_PERCENTS:
        return TEXT_PERCENTS[(item, level, group)]
    return _documented().get((item, level, group), "")


def _cell(b: float, p: float) -> str:
    if not np.isfinite(b):
        return "dropped"  # an ok fit without this term: constant or perfectly predicting
    return f"{b:.2f}{stars(p)}"


def _pattern(cell: str) -> str:
    return cell.replace(" ns", "")


def _lookup(est: pd.DataFrame) -> dict:
    return {(m, t): (b, s, p, n, st) for m, t, b, s, p, n, st in zip(
        est["model"], est["term"], est["estimate"], est["se"], est["pvalue"], est["nobs"],
        est["status"], strict=True)}


def fit_statistics(res, model: str) -> dict[str, float]:
    """LR chi-square of ``model`` against its regressor-free model (df = the slopes it
    estimated), its p-value and McFadden's pseudo R-squared, from the stored
    log-likelihoods (NaN when a fit or its base is missing)."""
    s = res.scalars
    llf = float(s.get(f"fit.{model}.llf", np.nan))
    ll0 = float(s.get(f"fit.{model}.llnull", np.nan))
    spec = MODELS[model]
    est = res.estimates
    rows = est[(est["model"] == model) & est["term"].isin(spec.exog)]
    df = float(np.isfinite(rows["estimate"].to_numpy(float)).sum())
    lr = 2.0 * (llf - ll0)
    return {"chi2": lr, "df": df,
            "p": float(chi2_dist.sf(lr, df)) if df > 0 and np.isfinite(lr) else np.nan,
            "pseudo_r2": 1.0 - llf / ll0 if ll0 < 0 else np.nan}


def _failed(status: str) -> bool:
    return status != "ok"


def _coef_block(ours: dict, pop: dict, model: str, terms, paper_cells, k: int | None
                ) -> tuple[list[str], str]:
    """Two lines per term (coefficient [paper] {census}; SE in parentheses) for one
    column, and the model's status."""
    status = next((ours[(model, t)][4] for t in terms if (model, t) in ours), "skipped")
    lines: list[str] = []
    if _failed(status):
        lines = [f"failed ({status})"] + [""] * (2 * len(terms) - 1)
        return lines, status
    for term in terms:
        if (model, term) not in ours:
            lines += ["", ""]
            continue
        b, se, p, _, _ = ours[(model, term)]
        cell = paper_cells[term] if k is None else paper_cells[term][k]
        s = f"{_cell(b, p)} [{_pattern(cell) if cell is not None else '-'}]"
        if pop:
            s += f" {{{pop[(model, term)][0]:.2f}}}"
        lines += [s, f"({se:.2f})" if np.isfinite(se) else ""]
    return lines, status


def _index(terms, footer: list[str]) -> pd.MultiIndex:
    tuples = [(TERM_LABELS.get(t, t), line) for t in terms for line in ("b", "se")]
    tuples += [(f, "") for f in footer]
    return pd.MultiIndex.from_tuples(tuples, names=["regressor", "line"])


def _n_text(n: float, paper: str) -> str:
    return f"{n:,.0f} [{paper}]" if np.isfinite(n) else f"NA [{paper}]"


def table7_wide(res, census=None, scale: str = "t7") -> pd.DataFrame:
    """Table 7 as printed: per regressor a coefficient line 'ours [paper]' (and
    '{census}' when given) and an SE line '(se)'; then N, the LR chi-square and its p.
    ``scale``: 't7' raw SNP or 't7std' standardized."""
    ours = _lookup(res.estimates)
    pop = _lookup(census.estimates) if census is not None else {}
    data = {}
    for j, item in enumerate(T7_ITEMS):
        model = f"{scale}_{item}"
        col, status = _coef_block(ours, pop, model, T7_REGRESSORS,
                                  {t: T7_CELLS[t][j] for t in T7_REGRESSORS}, None)
        if _failed(status):
            col += ["", "", ""]
        else:
            st = fit_statistics(res, f"t7_{item}")  # the standardized model is the same fit
            col += [_n_text(ours[(model, T7_REGRESSORS[0])][3], T7_N[j]),
                    f"{st['chi2']:,.2f} [{T7_CHI2[j]}]", f"{st['p']:.2f}"]
        data[item] = col
    return pd.DataFrame(data, index=_index(T7_REGRESSORS, ["N", "Chi-squared", "p"]))


def table9_wide(res, census=None) -> pd.DataFrame:
    """Table 9 as printed (decoded column layout): coefficient and SE lines, then N,
    pseudo R-squared, chi-square and p."""
    ours = _lookup(res.estimates)
    pop = _lookup(census.estimates) if census is not None else {}
    terms = list(T9_CELLS)
    data = {}
    for k, model in enumerate(T9_MODELS):
        col, status = _coef_block(ours, pop, model, terms, T9_CELLS, k)
        if _failed(status):
            col += ["", "", "", ""]
        else:
            st = fit_statistics(res, model)
            col += [_n_text(ours[(model, "const")][3], T9_N[k]),
                    f"{st['pseudo_r2']:.2f} [{T9_PSEUDO_R2[k]}]",
                    f"{st['chi2']:,.2f} [{T9_CHI2[k]}]", f"{st['p']:.3f}"]
        data[T9_COLUMN_LABELS[model]] = col
    return pd.DataFrame(data, index=_index(terms, ["N", "Pseudo r-squared", "Chi-squared", "p"]))


def descriptive_wide(res, item: str, census=None) -> pd.DataFrame:
    """One descriptive item as the paper lays it out: rows = levels (paper labels) and
    Total, columns Number and Percent by Males/Females/Total; 'paper' = what the text
    states; 'population %' the census share when given."""
    t = res.tables[(res.tables["item"] == item) & (res.tables["table"] != "3")]
    ti = next(x for x in TABLE_ITEMS if x.item == item)
    rows = []
    for lv in [level_label(v) for v in ti.levels]:
        r = {"level": level_text(item, lv)}
        for g in GROUPS:
            x = t[(t["level"] == lv) & (t["group"] == g)].iloc[0]
            r[f"{GROUP_LABELS[g]} number"] = int(x["count"])
            r[f"{GROUP_LABELS[g]} percent"] = round(float(x["pct"]), 1)
        if census is not None:
            c = census.tables
            x = c[(c["item"] == item) & (c["level"] == lv) & (c["group"] == "total")]
            r["population %"] = round(float(x["pct"].iloc[0]), 1) if len(x) else np.nan
        r["paper %"] = "; ".join(f"{GROUP_LABELS[g]}: {paper_text(item, lv, g)}"
                                 for g in GROUPS if paper_text(item, lv, g))
        rows.append(r)
    total = {"level": "Total"}
    for g in GROUPS:
        sel = t[t["group"] == g]
        total[f"{GROUP_LABELS[g]} number"] = int(sel["valid_n"].iloc[0]) if len(sel) else 0
        total[f"{GROUP_LABELS[g]} percent"] = 100.0
    rows.append(total)
    return pd.DataFrame(rows).fillna("")


def gender_test_line(res, item: str) -> str:
    """'Pearson chi-square (df) = x, p = y, N = n' of ``item`` by gender."""
    t = res.tests[res.tests["item"] == item]
    if not len(t) or not np.isfinite(t["statistic"].iloc[0]):
        return "Gender test: not available."
    x = t.iloc[0]
    return (f"Gender test: Pearson chi-square({x['df']:.0f}) = {x['statistic']:.2f}, "
            f"p = {x['pvalue']:.3g}, N = {int(x['nobs']):,}.")


def table23_wide(res) -> pd.DataFrame:
    """Tables 2 and 3: % agree, % strongly agree, mean (SD) by gender for every ordinal
    psychological item the suite tabulates."""
    s = res.scalars
    rows = []
    for item in (ti.item for ti in TABLE_ITEMS if ti.table == "2"):
        if f"mean.{item}.total" not in s.index or not np.isfinite(s[f"mean.{item}.total"]):
            continue
        r = {"item": item}
        for g in GROUPS:
            lab = GROUP_LABELS[g]
            r[f"{lab} agree %"] = round(100 * s[f"share.{item}.3.{g}"], 1)
            r[f"{lab} strongly agree %"] = round(100 * s[f"share.{item}.4.{g}"], 1)
            r[f"{lab} mean (SD)"] = f"{s[f'mean.{item}.{g}']:.2f} ({s[f'sd.{item}.{g}']:.2f})"
        rows.append(r)
    return pd.DataFrame(rows)


def _md(frame: pd.DataFrame, index: bool = False) -> str:
    """A GitHub Markdown table (written here: pandas' to_markdown needs 'tabulate')."""
    f = frame.reset_index() if index else frame
    head = "| " + " | ".join(str(c) for c in f.columns) + " |"
    rule = "|" + "|".join("---" for _ in f.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in f.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _md_regression(frame: pd.DataFrame) -> str:
    """A regression table in Markdown as the paper prints it: the regressor's name on its
    coefficient line, the SE line below it unnamed."""
    f = frame.reset_index()
    f["regressor"] = [r if line != "se" else "" for r, line in zip(f["regressor"], f["line"],
                                                                   strict=True)]
    return _md(f.drop(columns="line"))


def _present(res, item: str) -> bool:
    t = res.tables
    return bool(((t["item"] == item) & (t["valid_n"] > 0)).any())


def markdown_report(res, claims: pd.DataFrame, census=None, meta: dict | None = None) -> str:
    """The replicate report: every table laid out like the paper's, then the claims."""
    meta = meta or {}
    out = ["# Replication of Chang, Haggard & Noland (2008) on one simulated sample", ""]
    for k, v in meta.items():
        out.append(f"- {k}: {v}")
    out += ["", "Regression cells: ours [the paper's legible pattern, '?' = a lost digit]"
            + (" {census value}" if census is not None else "")
            + ", standard errors in parentheses below; * p<0.05, ** p<0.01, *** p<0.001. "
            "A fit that did not converge to a usable optimum is shown as failed, without "
            "numbers. Chi-squared: likelihood ratio against the model without regressors.", ""]
    tables = dict.fromkeys(ti.table for ti in TABLE_ITEMS)
    for table in tables:
        title = TABLE_TITLES.get(table, f"Table {table}")
        out += [f"## {title}", ""]
        if table == "2":
            out += [_md(table23_wide(res)), ""]
            continue
        items = [ti.item for ti in TABLE_ITEMS if ti.table == table]
        shown = [i for i in items if _present(res, i)]
        if not shown:
            out += [f"Not built: the world has no {', '.join(items)} variable.", ""]
            continue
        for item in shown:
            if len(items) > 1:
                out += [f"### {ITEM_TITLES.get(item, item.replace('_', ' '))}", ""]
            out += [_md(descriptive_wide(res, item, census)), "", gender_test_line(res, item), ""]
    out += ["## Table 7: SNP ordered probit (order 3), raw coefficients", "",
            _md_regression(table7_wide(res, census)), ""]
    out += ["## Table 7, standardized coefficients (b / sd of the error)", "",
            _md_regression(table7_wide(res, census, scale="t7std")), ""]
    out += ["## Table 9: Job in China (2SPLS) and preferred final destination (probits)", "",
            _md_regression(table9_wide(res, census)), ""]
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
