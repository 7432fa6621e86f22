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
from functools import lru_cache

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

from sim_refugee.suite.fields import TABLE_COLUMNS, TEST_COLUMNS  # noqa: E402,F401 - re-exported


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
        codes = pd.Index(list(ti.levels)).get_indexer(values)
        bad = (codes < 0) & values.notna().to_numpy()
    else:
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        lv = np.asarray(ti.levels, dtype=float)
        pos = np.minimum(np.searchsorted(lv, x), len(lv) - 1)
        codes = np.where(lv[pos] == x, pos, -1)
        bad = (codes < 0) & ~np.isnan(x)
        bad |= values.notna().to_numpy() & np.isnan(x)
    if bad.any():
        from sim_refugee.errors import UserInputError

        odd = sorted({str(v) for v in values[bad].unique()})[:5]
        raise UserInputError(
            f"column {ti.item!r} has values {odd} outside its levels "
            f"{[level_label(v) for v in ti.levels]}", key=ti.item)
    return codes


def _all_codes(sample: pd.DataFrame, items: tuple[TableItem, ...]) -> np.ndarray:
    """Level codes of every item (items x rows; -1 = missing), the numeric items read
    as one float block; any item that does not read cleanly goes through ``_codes``,
    which names a bad value."""
    codes = np.empty((len(items), len(sample)), dtype=np.intp)
    numeric = [i for i, ti in enumerate(items) if not isinstance(ti.levels[0], str)]
    block = None
    if numeric:
        try:
            block = sample[[items[i].item for i in numeric]].to_numpy(dtype=float,
                                                                      na_value=np.nan)
        except (TypeError, ValueError):
            block = None
    done = set()
    if block is not None:
        for col, i in enumerate(numeric):
            lv = np.asarray(items[i].levels, dtype=float)
            x = block[:, col]
            pos = np.minimum(np.searchsorted(lv, x), len(lv) - 1)
            c = np.where(lv[pos] == x, pos, -1)
            if not ((c < 0) & ~np.isnan(x)).any():
                codes[i] = c
                done.add(i)
    for i, ti in enumerate(items):
        if i in done:
            continue
        if isinstance(ti.levels[0], str):
            values = sample[ti.item].to_numpy(dtype=object, na_value=None)
            c = np.full(len(values), -1, dtype=np.intp)
            for j, lv in enumerate(ti.levels):
                c[values == lv] = j
            if ((c < 0) & ~pd.isna(values)).any():
                c = _codes(sample[ti.item], ti)  # raises, naming the column
            codes[i] = c
        else:
            codes[i] = _codes(sample[ti.item], ti)
    return codes


@dataclass(frozen=True)
class _Plan:
    """The fixed shape of the tables for one set of present items: which items, their
    level offsets, and the key columns of the tables frame (built once, reused)."""

    items: tuple[TableItem, ...]
    offsets: np.ndarray  # start of each item's levels in the stacked level axis
    n_levels: np.ndarray
    keys: dict  # table, item, level, group columns (pandas string arrays)
    row_level: np.ndarray  # per table row: stacked level index (-1 for mean/sd rows)
    row_group: np.ndarray  # per table row: 0 male, 1 female, 2 total
    row_item: np.ndarray  # per table row: item position
    row_stat: np.ndarray  # per table row: 0 level count, 1 mean, 2 sd
    ordinal: np.ndarray  # positions of the ordinal items


@lru_cache(maxsize=4)
def _plan(present_optional: tuple[str, ...]) -> _Plan:
    items = tuple(ti for ti in TABLE_ITEMS if not ti.optional or ti.item in present_optional)
    n_lev = np.array([len(ti.levels) for ti in items])
    offsets = np.concatenate([[0], np.cumsum(n_lev)[:-1]])
    cols: dict[str, list] = {c: [] for c in ("table", "item", "level", "group")}
    lvl, grp, itm, stat = [], [], [], []
    for i, ti in enumerate(items):
        labels = [level_label(v) for v in ti.levels]
        for gi, g in enumerate(GROUPS):
            for j, lab in enumerate(labels):
                for c, v in zip(cols, (ti.table, ti.item, lab, g), strict=True):
                    cols[c].append(v)
                lvl.append(offsets[i] + j)
                grp.append(gi)
                itm.append(i)
                stat.append(0)
            if ti.ordinal:
                for k, lab in ((1, "mean"), (2, "sd")):
                    for c, v in zip(cols, ("3", ti.item, lab, g), strict=True):
                        cols[c].append(v)
                    lvl.append(-1)
                    grp.append(gi)
                    itm.append(i)
                    stat.append(k)
    keys = {c: pd.array(np.asarray(v, dtype=object), dtype="str") for c, v in cols.items()}
    ordinal = np.array([i for i, ti in enumerate(items) if ti.ordinal], dtype=np.intp)
    return _Plan(items, offsets, n_lev, keys, np.array(lvl), np.array(grp), np.array(itm),
                 np.array(stat), ordinal)


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

    All items are counted in one vectorised pass (``estimators.descriptive.gender_counts``
    on the stacked level codes) and tested with the same Pearson chi-square as
    ``estimators.gender_chi2`` (``pearson_chi2``): one implementation of both. The
    definitions: percent of the group's valid N; 'total' includes rows whose gender is
    missing; the chi-square uses the rows with both values present.
    """
    from sim_refugee.estimators.descriptive import chi2_pvalues, gender_counts, pearson_chi2
    from sim_refugee.suite.fields import TABLE_FIELDS, TEST_FIELDS, make_frame

    plan = _plan(tuple(ti.item for ti in TABLE_ITEMS if ti.optional and ti.item in sample.columns))
    fem = pd.to_numeric(sample["female"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    codes = _all_codes(sample, plan.items)
    wz = None if weights is None else np.nan_to_num(weights, nan=0.0)
    cnt, wc = gender_counts(codes, plan.n_levels, fem, wz)  # (levels, 3) each
    wc = wc.astype(float)
    n_items = len(plan.items)
    valid_n = np.add.reduceat(cnt, plan.offsets, axis=0)  # (items, 3)
    wsum = np.add.reduceat(wc, plan.offsets, axis=0)
    item_of_level = np.repeat(np.arange(n_items), plan.n_levels)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(wsum[item_of_level] > 0, 100.0 * wc / wsum[item_of_level], np.nan)
    # Table 3: weighted mean, SD (n-1 correction; weighted variance times n/(n-1)), agree
    mean = np.full((n_items, 3), np.nan)
    sd = np.full((n_items, 3), np.nan)
    agree = np.full((n_items, 3), np.nan)
    for i in plan.ordinal:
        ti = plan.items[i]
        v = np.asarray(ti.levels, dtype=float)
        sl = slice(plan.offsets[i], plan.offsets[i] + plan.n_levels[i])
        for gi in range(3):
            w_i, s_i, n = wc[sl, gi], float(wsum[i, gi]), int(valid_n[i, gi])
            if s_i > 0:
                mean[i, gi] = float(v @ w_i / s_i)
                agree[i, gi] = float(w_i[v >= 3].sum() / s_i)
                if n > 1:
                    sd[i, gi] = float(np.sqrt(float(((v - mean[i, gi]) ** 2) @ w_i / s_i)
                                              * n / (n - 1)))
    # Pearson chi-square by gender, per item (rows with both values present)
    stat = np.full(n_items, np.nan)
    dof = np.zeros(n_items)
    for i in range(n_items):
        sl = slice(plan.offsets[i], plan.offsets[i] + plan.n_levels[i])
        stat[i], dof[i] = pearson_chi2(cnt[sl, :2])
    with np.errstate(invalid="ignore"):
        pval = np.where(np.isfinite(stat), chi2_pvalues(stat, dof), np.nan)
    nobs = valid_n[:, 0] + valid_n[:, 1]

    # the tables frame, rows in the plan's fixed order
    lv = np.maximum(plan.row_level, 0)
    is_lvl = plan.row_stat == 0
    tables = make_frame(TABLE_FIELDS, {
        **plan.keys,
        "count": np.where(is_lvl, cnt[lv, plan.row_group], np.nan),
        "pct": np.where(is_lvl, pct[lv, plan.row_group], np.nan),
        "valid_n": valid_n[plan.row_item, plan.row_group],
        "value": np.where(plan.row_stat == 1, mean[plan.row_item, plan.row_group],
                          np.where(plan.row_stat == 2, sd[plan.row_item, plan.row_group],
                                   np.nan)),
    })
    # the tests frame: every item of TABLE_ITEMS (an absent optional one gets NaN)
    tab, itm, st, df_, pv, nb = [], [], [], [], [], []
    pos = {ti.item: i for i, ti in enumerate(plan.items)}
    for ti in TABLE_ITEMS:
        i = pos.get(ti.item)
        tab.append(ti.table)
        itm.append(ti.item)
        if i is None:
            st.append(np.nan), df_.append(np.nan), pv.append(np.nan), nb.append(0)
        else:
            st.append(stat[i]), df_.append(dof[i]), pv.append(pval[i]), nb.append(int(nobs[i]))
    tests = make_frame(TEST_FIELDS, {"table": tab, "item": itm, "statistic": st, "df": df_,
                                     "pvalue": pv, "nobs": nb})
    # scalars
    scal: dict[str, float] = {}
    for i, ti in enumerate(plan.items):
        labels = [level_label(v) for v in ti.levels]
        for gi, g in enumerate(GROUPS):
            scal[f"valid_n.{ti.item}.{g}"] = float(valid_n[i, gi])
            for j, lab in enumerate(labels):
                scal[f"share.{ti.item}.{lab}.{g}"] = float(pct[plan.offsets[i] + j, gi]) / 100.0
            if ti.ordinal:
                scal[f"agree.{ti.item}.{g}"] = float(agree[i, gi])
                scal[f"mean.{ti.item}.{g}"] = float(mean[i, gi])
                scal[f"sd.{ti.item}.{g}"] = float(sd[i, gi])
        scal[f"chi2.{ti.item}"] = float(stat[i])
        scal[f"chi2_p.{ti.item}"] = float(pval[i])
    return tables, tests, scal
