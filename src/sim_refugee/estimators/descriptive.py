"""The paper's descriptive tables: counts and percentages by gender, Pearson chi-square tests.

Tables 1-6 and 8 of the paper report, per item, counts and percentages for men,
women and the total, with the valid N of each group, and the text reports Pearson
chi-square tests of gender differences. Percentages are of the group's valid N (rows
with a non-missing answer). The ``total`` group counts every valid answer, including
rows whose gender is missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from sim_refugee.errors import UserInputError, require_columns

GROUPS = ("male", "female", "total")


def _gender(frame: pd.DataFrame, female: str) -> pd.Series:
    g = pd.to_numeric(frame[female], errors="coerce")
    bad = g.notna() & ~g.isin([0, 1])
    if bad.any() or (frame[female].notna() & g.isna()).any():
        raise UserInputError(f"column {female!r} must be 0/1 (or missing)", key=female)
    return g


def crosstab_by_gender(
    frame: pd.DataFrame, item: str, female: str = "female", levels=None, weights: str | None = None
) -> pd.DataFrame:
    """Counts and percentages of ``item``'s levels for men, women and the total.

    Returns columns ``level, group, count, pct, valid_n`` (one row per level x group,
    groups in the order male, female, total). ``levels`` fixes the level order and
    keeps levels with zero count; by default the observed levels, sorted. With
    ``weights`` (a column name), ``pct`` is the weighted percentage; ``count`` and
    ``valid_n`` stay unweighted (the paper's N).
    """
    cols = [item, female] + ([weights] if weights else [])
    require_columns(frame, cols, where="crosstab_by_gender input")
    g = _gender(frame, female)
    x = frame[item]
    valid = x.notna().to_numpy()
    if levels is None:
        levels = sorted(pd.unique(x[valid]))
    levels = list(levels)
    w = np.ones(len(frame)) if weights is None else pd.to_numeric(frame[weights], errors="coerce").to_numpy(float)
    if weights is not None and (~np.isfinite(w[valid]) | (w[valid] < 0)).any():
        raise UserInputError(f"weights column {weights!r} must be finite and non-negative where {item!r} is valid",
                             key=weights)
    masks = {
        "male": valid & (g == 0).to_numpy(),
        "female": valid & (g == 1).to_numpy(),
        "total": valid,
    }
    xv = x.to_numpy()
    rows = []
    for level in levels:
        hit = xv == level
        for group in GROUPS:
            m = masks[group]
            count = int(np.sum(m & hit))
            valid_n = int(m.sum())
            wsum = float(w[m].sum())
            pct = 100.0 * float(w[m & hit].sum()) / wsum if wsum > 0 else float("nan")
            rows.append({"level": level, "group": group, "count": count, "pct": pct, "valid_n": valid_n})
    return pd.DataFrame(rows, columns=["level", "group", "count", "pct", "valid_n"])


def gender_chi2(frame: pd.DataFrame, item: str, female: str = "female") -> dict[str, float]:
    """Pearson chi-square test (no Yates correction) of ``item`` by gender.

    Uses rows with both values present; levels or genders with no observations are
    dropped. With fewer than two levels or genders the statistic is NaN (df 0).
    """
    require_columns(frame, [item, female], where="gender_chi2 input")
    g = _gender(frame, female)
    ok = frame[item].notna() & g.notna()
    table = pd.crosstab(frame.loc[ok, item], g[ok])
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    nobs = int(ok.sum())
    if table.shape[0] < 2 or table.shape[1] < 2:
        return {"statistic": float("nan"), "df": 0, "pvalue": float("nan"), "nobs": nobs}
    stat, pval, dof, _ = chi2_contingency(table.to_numpy(), correction=False)
    return {"statistic": float(stat), "df": int(dof), "pvalue": float(pval), "nobs": nobs}
