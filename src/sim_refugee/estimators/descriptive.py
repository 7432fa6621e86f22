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


def _gender(frame: pd.DataFrame, female: str) -> np.ndarray:
    """The gender column as floats 0/1/NaN; anything else is bad input."""
    col = frame[female]
    try:
        g = col.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"column {female!r} must be 0/1 (or missing)", key=female) from exc
    if not np.all(np.isnan(g) | (g == 0) | (g == 1)):
        raise UserInputError(f"column {female!r} must be 0/1 (or missing)", key=female)
    return g


def _codes(frame: pd.DataFrame, item: str, levels=None) -> tuple[np.ndarray, list]:
    """Integer codes of ``item`` (-1 = missing or not among ``levels``) and the level list."""
    col = frame[item]
    valid = col.notna().to_numpy()
    if levels is None:
        codes, uniques = pd.factorize(col, sort=True)
        return codes, list(uniques)
    levels = list(levels)
    codes = pd.Index(levels).get_indexer(col)
    codes[~valid] = -1
    return codes, levels


def crosstab_by_gender(
    frame: pd.DataFrame, item: str, female: str = "female", levels=None, weights: str | None = None
) -> pd.DataFrame:
    """Counts and percentages of ``item``'s levels for men, women and the total.

    Returns columns ``level, group, count, pct, valid_n`` (one row per level x group,
    groups in the order male, female, total). ``levels`` fixes the level order and
    keeps levels with zero count (answers outside ``levels`` count as not valid); by
    default the observed levels, sorted. With ``weights`` (a column name), ``pct`` is the
    weighted percentage; ``count`` and ``valid_n`` stay unweighted (the paper's N).
    """
    cols = [item, female] + ([weights] if weights else [])
    require_columns(frame, cols, where="crosstab_by_gender input")
    g = _gender(frame, female)
    codes, levels = _codes(frame, item, levels)
    valid = codes >= 0
    n_lev = len(levels)
    if weights is None:
        w = np.ones(len(frame))
    else:
        w = pd.to_numeric(frame[weights], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if (~np.isfinite(w[valid]) | (w[valid] < 0)).any():
            raise UserInputError(
                f"weights column {weights!r} must be finite and non-negative where {item!r} is valid", key=weights
            )
    masks = (valid & (g == 0), valid & (g == 1), valid)
    counts = np.empty((n_lev, 3), dtype=np.int64)
    pct = np.empty((n_lev, 3))
    valid_n = np.empty(3, dtype=np.int64)
    for j, m in enumerate(masks):
        counts[:, j] = np.bincount(codes[m], minlength=n_lev)
        wsum = np.bincount(codes[m], weights=w[m], minlength=n_lev)
        total = wsum.sum()
        pct[:, j] = 100.0 * wsum / total if total > 0 else np.nan
        valid_n[j] = int(m.sum())
    return pd.DataFrame(
        {
            "level": np.repeat(np.asarray(levels, dtype=object), 3),
            "group": np.tile(GROUPS, n_lev),
            "count": counts.ravel(),
            "pct": pct.ravel(),
            "valid_n": np.tile(valid_n, n_lev),
        }
    )


def gender_chi2(frame: pd.DataFrame, item: str, female: str = "female") -> dict[str, float]:
    """Pearson chi-square test (no Yates correction) of ``item`` by gender.

    Uses rows with both values present; levels or genders with no observations are
    dropped. With fewer than two levels or genders the statistic is NaN (df 0).
    """
    require_columns(frame, [item, female], where="gender_chi2 input")
    g = _gender(frame, female)
    codes, levels = _codes(frame, item)
    ok = (codes >= 0) & ~np.isnan(g)
    table = np.zeros((len(levels), 2))
    np.add.at(table, (codes[ok], g[ok].astype(np.intp)), 1.0)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    nobs = int(ok.sum())
    if table.shape[0] < 2 or table.shape[1] < 2:
        return {"statistic": float("nan"), "df": 0, "pvalue": float("nan"), "nobs": nobs}
    stat, pval, dof, _ = chi2_contingency(table, correction=False)
    return {"statistic": float(stat), "df": int(dof), "pvalue": float(pval), "nobs": nobs}
