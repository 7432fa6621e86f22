"""The paper's descriptive tables (1-6, 8 and the shares quoted in the text), by gender.

Each item is tabulated by gender as ``sim_refugee.estimators.crosstab_by_gender`` does
(counts and percent of the group's VALID N, as the paper's footnote 2 says: "the number
of valid responses usually falls below 1,346") and tested as ``gender_chi2`` does
(Pearson chi-square, the test behind the text's "statistically significant differences
across genders"). Levels are fixed per item, so every sample gives the same rows.

Built (the world has their variables, VARIABLES.md):
  Table 1  china_spell (time in China) by gender
  Table 2  agree / strongly agree shares of the seven Table-7 items by gender
  Table 3  mean and SD of the same items by gender (1..4 coding, an inference)
  Table 5  family_missing, panel A (the paper prints the total only; we add gender)
  Table 6  camp (sent to labour camp / political prison) by gender
  Table 8  preferred destination (the paper prints the total only; we add gender)
  text     arrest, death, foodaid, trafficking, job, children shares by gender
  Table 4  main reason for anxiety, ONLY if the sample has an 'anxiety_reason' column
           (VARIABLES.md has none today; otherwise its scalars are NaN)
Not built (no variable in the world, VARIABLES.md): Table 2/3 items "bad things will
happen to me" and "not sure of future"; Table 5
panel B (why the family member is missing); Table 6 sub-questions (witnessed
executions, starvation, torture deaths, infanticide; belief in experiments).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim_refugee.suite.specs import T7_ITEMS

GROUPS: tuple[str, ...] = ("male", "female", "total")


@dataclass(frozen=True)
class TableItem:
    """One tabulated variable: which paper table, the column, its fixed levels."""

    table: str
    item: str
    levels: tuple
    ordinal: bool = False  # Table 3 mean/SD are computed for ordinal items
    optional: bool = False  # built only when the sample has the column (else NaN)


CHINA_SPELL_LEVELS = ("<6m", "6-12m", "1-2y", "2-3y", ">3y")
DEST_LEVELS = ("north_korea", "south_korea", "united_states", "china", "other")
BINARY = (0, 1)
#: Table 4 rows (Arrest, Hunger, Home, Family in North Korea, Others); the world has no
#: such column today, so Table 4 is built only if a sample carries 'anxiety_reason'.
ANXIETY_LEVELS = ("arrest", "hunger", "home", "family", "other")

TABLE_ITEMS: tuple[TableItem, ...] = (
    TableItem("1", "china_spell", CHINA_SPELL_LEVELS),
    *(TableItem("2", it, (1, 2, 3, 4), ordinal=True) for it in T7_ITEMS),
    TableItem("4", "anxiety_reason", ANXIETY_LEVELS, optional=True),
    TableItem("5", "family_missing", BINARY),
    TableItem("6", "camp", BINARY),
    TableItem("8", "dest", DEST_LEVELS),
    *(
        TableItem("text", it, BINARY)
        for it in ("arrest", "death", "foodaid", "trafficking", "job", "children")
    ),
)

TABLE_SOURCE_COLUMNS: tuple[str, ...] = (
    "female", *(t.item for t in TABLE_ITEMS if not t.optional)
)

TABLE_COLUMNS = ["table", "item", "level", "group", "count", "pct", "valid_n", "value"]
TEST_COLUMNS = ["table", "item", "statistic", "df", "pvalue", "nobs"]


def level_label(level) -> str:
    """The string form of a level used in scalar names and the tables frame."""
    if isinstance(level, (float, np.floating)) and float(level).is_integer():
        return str(int(level))
    return str(level)


def scalar_names() -> list[str]:
    """Names of the descriptive scalars, in a fixed order (part of ``suite_layout``)."""
    names: list[str] = []
    for ti in TABLE_ITEMS:
        for g in GROUPS:
            names.append(f"valid_n.{ti.item}.{g}")
            names += [f"share.{ti.item}.{level_label(lv)}.{g}" for lv in ti.levels]
            if ti.ordinal:
                names += [f"agree.{ti.item}.{g}", f"mean.{ti.item}.{g}", f"sd.{ti.item}.{g}"]
        names += [f"chi2.{ti.item}", f"chi2_p.{ti.item}"]
    return names


def _codes(values: pd.Series, ti: TableItem) -> np.ndarray:
    """Level index of each row (-1 = missing); a value outside the levels is bad input."""
    if ti.levels and isinstance(ti.levels[0], str):
        codes = pd.Index(list(ti.levels)).get_indexer(values.astype(object))
        bad = (codes < 0) & values.notna().to_numpy()
    else:
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        lv = np.asarray(ti.levels, dtype=float)
        hit = x[:, None] == lv[None, :]
        codes = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
        bad = (codes < 0) & ~np.isnan(x)
        bad |= values.notna().to_numpy() & np.isnan(x)
    if bad.any():
        from sim_refugee.errors import UserInputError

        odd = sorted({str(v) for v in values[bad].unique()})[:5]
        raise UserInputError(
            f"column {ti.item!r} has values {odd} outside its levels "
            f"{[level_label(v) for v in ti.levels]}", key=ti.item)
    return codes


def _pearson(counts_mf: np.ndarray) -> tuple[float, float, float]:
    """Pearson chi-square (no continuity correction) of a levels x {male, female} table,
    dropping empty rows/columns, as ``estimators.gender_chi2`` does."""
    from scipy.stats import chi2_contingency

    t = counts_mf[counts_mf.sum(axis=1) > 0][:, counts_mf.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return np.nan, 0.0, np.nan
    stat, p, dof, _ = chi2_contingency(t, correction=False)
    return float(stat), float(dof), float(p)


def descriptive_tables(
    sample: pd.DataFrame, weights: np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Tables, gender tests and scalars for every item of ``TABLE_ITEMS``.

    ``weights`` (one per row; NaN counts as 0): percentages, shares, means and SDs become
    weighted (the estimate of the population share a weighting remedy is after); counts
    and valid N stay unweighted (the paper's N), and the chi-square stays the Pearson
    test on the unweighted counts (no design-based Rao-Scott correction: a limitation).

    Returns (tables frame, tests frame, scalars dict) with the columns of Contract 5
    (the tables frame has one more column, ``value``, holding Table 3's means and SDs).

    Counting is done here with numpy rather than by calling
    ``estimators.crosstab_by_gender`` / ``gender_chi2`` per item: those build pandas
    crosstabs (about 40 ms per item, 0.7 s per sample), while this runs in a few ms.
    The definitions are the same (percent of the group's valid N; 'total' includes
    rows whose gender is missing; Pearson chi-square without correction on the rows
    with both values present) and tests/suite/test_tables.py checks that both agree.
    """
    fem = pd.to_numeric(sample["female"], errors="coerce").to_numpy(dtype=float)
    male_m, fem_m = fem == 0, fem == 1
    rows: dict[str, list] = {c: [] for c in TABLE_COLUMNS}
    tests, scal = [], {}

    def add(table, item, level, group, count, pct, valid_n, value):
        for c, v in zip(TABLE_COLUMNS, (table, item, level, group, count, pct, valid_n, value),
                        strict=True):
            rows[c].append(v)

    for ti in TABLE_ITEMS:
        if ti.optional and ti.item not in sample.columns:
            tests.append({"table": ti.table, "item": ti.item, "statistic": np.nan,
                          "df": np.nan, "pvalue": np.nan, "nobs": 0})
            continue  # its scalars stay NaN (reindexed on the layout)
        codes = _codes(sample[ti.item], ti)
        L = len(ti.levels)
        valid = codes >= 0
        by_group = {
            "male": np.bincount(codes[valid & male_m], minlength=L),
            "female": np.bincount(codes[valid & fem_m], minlength=L),
            "total": np.bincount(codes[valid], minlength=L),
        }
        if weights is None:
            wby = by_group
        else:
            wz = np.nan_to_num(weights, nan=0.0)
            wby = {
                "male": np.bincount(codes[valid & male_m], wz[valid & male_m], minlength=L),
                "female": np.bincount(codes[valid & fem_m], wz[valid & fem_m], minlength=L),
                "total": np.bincount(codes[valid], wz[valid], minlength=L),
            }
        labels = [level_label(v) for v in ti.levels]
        for g in GROUPS:
            cnt = by_group[g]
            wc = wby[g].astype(float)
            n = int(cnt.sum())
            wsum = float(wc.sum())
            pct = 100.0 * wc / wsum if wsum > 0 else np.full(L, np.nan)
            scal[f"valid_n.{ti.item}.{g}"] = float(n)
            for lab, c, pc in zip(labels, cnt, pct, strict=True):
                add(ti.table, ti.item, lab, g, int(c), float(pc), n, np.nan)
                scal[f"share.{ti.item}.{lab}.{g}"] = float(pc) / 100.0
            if ti.ordinal:
                codes_v = np.asarray(ti.levels, dtype=float)
                mean = float(codes_v @ wc / wsum) if wsum > 0 else np.nan
                # (n-1) correction; with weights, the weighted variance times n/(n-1)
                var = (float(((codes_v - mean) ** 2) @ wc / wsum) * n / (n - 1)
                       if n > 1 and wsum > 0 else np.nan)
                sd = float(np.sqrt(var))
                scal[f"agree.{ti.item}.{g}"] = (float(wc[codes_v >= 3].sum() / wsum)
                                                if wsum > 0 else np.nan)
                scal[f"mean.{ti.item}.{g}"] = mean
                scal[f"sd.{ti.item}.{g}"] = sd
                add("3", ti.item, "mean", g, np.nan, np.nan, n, mean)
                add("3", ti.item, "sd", g, np.nan, np.nan, n, sd)
        stat, dof, p = _pearson(np.column_stack([by_group["male"], by_group["female"]]))
        nobs = int(by_group["male"].sum() + by_group["female"].sum())
        tests.append({"table": ti.table, "item": ti.item, "statistic": stat, "df": dof,
                      "pvalue": p, "nobs": nobs})
        scal[f"chi2.{ti.item}"] = stat
        scal[f"chi2_p.{ti.item}"] = p
    tables = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return tables, pd.DataFrame(tests, columns=TEST_COLUMNS), scal
