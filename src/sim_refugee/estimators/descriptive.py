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
from scipy.special import chdtrc

from sim_refugee.errors import UserInputError, require_columns

GROUPS = ("male", "female", "total")


def gender_counts(codes: np.ndarray, n_levels: int, gender: np.ndarray,
                  weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Counts and weighted counts of level codes (0..n_levels-1; -1 = not valid) for
    men, women and the total: two (n_levels x 3) arrays. ``gender`` is 0/1/NaN (the
    total keeps rows whose gender is missing); ``weights`` None counts each row once.

    ``codes`` may be 2-d (items x rows) with ``n_levels`` an array of level counts per
    item: the result then stacks every item's levels (item 0's first), in one pass.
    """
    codes = np.atleast_2d(codes)
    n_lev = np.broadcast_to(np.asarray(n_levels, dtype=np.intp), (codes.shape[0],))
    offset = np.concatenate([[0], np.cumsum(n_lev)[:-1]])
    total = int(n_lev.sum())
    valid = codes >= 0
    flat = codes + offset[:, None]
    counts = np.empty((total, 3), dtype=np.int64)
    wsum = np.empty((total, 3))
    wfull = None if weights is None else np.broadcast_to(weights, codes.shape)
    for j, mask in enumerate((gender == 0, gender == 1, None)):
        sel = valid if mask is None else valid & mask[None, :]
        idx = flat[sel]
        counts[:, j] = np.bincount(idx, minlength=total)
        wsum[:, j] = (counts[:, j] if wfull is None
                      else np.bincount(idx, weights=wfull[sel], minlength=total))
    return counts, wsum


def pearson_chi2(table: np.ndarray) -> tuple[float, float]:
    """Pearson chi-square (no continuity correction) and its df for a levels x groups
    count table, dropping empty rows and columns; (NaN, 0) below 2 x 2. The same
    statistic as ``scipy.stats.chi2_contingency(table, correction=False)``."""
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return float("nan"), 0.0
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
    stat = float(((t - expected) ** 2 / expected).sum())
    return stat, float((t.shape[0] - 1) * (t.shape[1] - 1))


def chi2_pvalues(stat, df) -> np.ndarray:
    """Upper-tail chi-square probabilities (NaN where the statistic is NaN)."""
    return chdtrc(np.asarray(df, dtype=float), np.asarray(stat, dtype=float))


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
    cnt, wsum = gender_counts(np.where(valid, codes, -1), n_lev, g, w)
    counts = cnt
    valid_n = cnt.sum(axis=0)
    tot = wsum.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(tot > 0, 100.0 * wsum / tot, np.nan)
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
    cnt, _ = gender_counts(np.where(ok, codes, -1), len(levels), g)
    stat, dof = pearson_chi2(cnt[:, :2])
    nobs = int(ok.sum())
    if not np.isfinite(stat):
        return {"statistic": float("nan"), "df": 0, "pvalue": float("nan"), "nobs": nobs}
    return {"statistic": stat, "df": int(dof), "pvalue": float(chi2_pvalues(stat, dof)),
            "nobs": nobs}
