"""The paper's descriptive tables (1-6, 8 and the shares quoted in the text), by gender.

Each item is tabulated by gender as ``sim_refugee.estimators.crosstab_by_gender`` does
(counts and percent of the group's VALID N, as the paper's footnote 2 says: "the number
of valid responses usually falls below 1,346") and tested as ``gender_chi2`` does
(Pearson chi-square, the test behind the text's "statistically significant differences
across genders"). Levels are fixed per item, so every sample gives the same rows.

Built (the world has their variables, ``world/model.py`` and ``world/extras.py``):
  Table 1  china_spell (time in China)
  Table 2  agree / strongly agree shares of all nine items (the seven of Table 7,
           'bad things will happen to me', 'not sure of future')
  Table 3  mean and SD of the same items (1..4 coding, an inference)
  Table 4  anxiety_reason (arrest, hunger, home, family in North Korea, others)
  Table 5  family_missing (panel A) and family_missing_why (panel B, the separated only)
  Table 6  camp and the five sub-questions of the detained (witnessed executions,
           starvation, deaths from torture, killing of infants; belief in experiments)
  Table 8  dest (the five destinations of Table 9) and dest_detail (Russia, Japan and
           Others apart, as printed)
  text     arrest, death, foodaid, trafficking, job, children; reasons for leaving, help
           leaving and in China, living arrangements, food-aid awareness and beliefs,
           separation from children, family in North Korea, returns and their reasons,
           repatriations, plans to return (also by student, ``BY_ITEMS``), wages
A sub-question asked of a subgroup only counts ``"n/a"`` (not asked) as not valid, so
its valid N is the subgroup's, as in the paper. Items of ``world/extras.py`` are
optional: a sample without the column gets NaN (samples of older populations still run).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sim_refugee.suite.specs import T7_ITEMS
from sim_refugee.world.extras import (
    AID_BELIEFS,
    EXTRA_BINARY,
    EXTRA_CATEGORIES,
    EXTRA_ITEMS,
    NOT_ASKED,
    WITNESS,
)

GROUPS: tuple[str, ...] = ("male", "female", "total")


@dataclass(frozen=True)
class TableItem:
    """One tabulated variable: which paper table, the column, its fixed levels."""

    table: str
    item: str
    levels: tuple
    ordinal: bool = False  # Table 3 mean/SD are computed for ordinal items
    optional: bool = False  # built only when the sample has the column (else NaN)
    skip: tuple = ()  # answers that mean "not asked" (not valid, not bad input)


CHINA_SPELL_LEVELS = ("<6m", "6-12m", "1-2y", "2-3y", ">3y")
DEST_LEVELS = ("north_korea", "south_korea", "united_states", "china", "other")
BINARY = (0, 1)
#: Table 4 rows (Arrest, Hunger, Home, Family in North Korea, Others)
ANXIETY_LEVELS = EXTRA_CATEGORIES["anxiety_reason"]
#: the two Table 2-3 items Table 7 leaves out
EXTRA_ORDINAL = EXTRA_ITEMS


def _asked(name: str) -> TableItem:
    """A categorical item of world/extras.py; 'n/a' (not asked) is not a valid answer."""
    levels = tuple(v for v in EXTRA_CATEGORIES[name] if v != NOT_ASKED)
    table = {"family_missing_why": "5", "dest_detail": "8", "anxiety_reason": "4",
             **{k: "6" for k in WITNESS}}.get(name, "text")
    return TableItem(table, name, levels, optional=True,
                     skip=(NOT_ASKED,) if NOT_ASKED in EXTRA_CATEGORIES[name] else ())


TABLE_ITEMS: tuple[TableItem, ...] = (
    TableItem("1", "china_spell", CHINA_SPELL_LEVELS),
    *(TableItem("2", it, (1, 2, 3, 4), ordinal=True) for it in T7_ITEMS),
    _asked("anxiety_reason"),
    TableItem("5", "family_missing", BINARY),
    TableItem("6", "camp", BINARY),
    TableItem("8", "dest", DEST_LEVELS),
    *(
        TableItem("text", it, BINARY)
        for it in ("arrest", "death", "foodaid", "trafficking", "job", "children")
    ),
    # the further documented numbers (world/extras.py; issue 11)
    *(TableItem("2", it, (1, 2, 3, 4), ordinal=True, optional=True) for it in EXTRA_ORDINAL),
    _asked("family_missing_why"),
    *(_asked(k) for k in WITNESS),
    _asked("dest_detail"),
    *(_asked(k) for k in ("leave_reason", "help_paid", "living", "aid_status", *AID_BELIEFS,
                          "children_separation_why", "return_reason", "repatriations",
                          "wage")),
    *(TableItem("text", k, BINARY, optional=True) for k in EXTRA_BINARY),
)

#: items tabulated and tested by another 0/1 column instead of gender: (item, by).
#: The text compares students with everyone else on plans to return (sec. VI).
BY_ITEMS: tuple[tuple[str, str], ...] = (("plan_return", "student"),)

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
    for item, by in BY_ITEMS:
        key = by_key(item, by)
        for g in by_groups(by):
            names.append(f"valid_n.{key}.{g}")
            names += [f"share.{key}.{level_label(lv)}.{g}" for lv in _by_item(item).levels]
        names += [f"chi2.{key}", f"chi2_p.{key}"]
    return names


def by_key(item: str, by: str) -> str:
    """The name of an item tabulated by ``by`` in scalars and tests (``item.by_<by>``)."""
    return f"{item}.by_{by}"


def by_groups(by: str) -> tuple[str, str, str]:
    """Group labels of a by-table: (not_<by>, <by>, total)."""
    return (f"not_{by}", by, "total")


def _by_item(item: str) -> TableItem:
    return next(ti for ti in TABLE_ITEMS if ti.item == item)


def _codes(values: pd.Series, ti: TableItem) -> np.ndarray:
    """Level index of each row (-1 = missing); a value outside the levels is bad input."""
    if ti.levels and isinstance(ti.levels[0], str):
        codes = pd.Index(list(ti.levels)).get_indexer(values)
        bad = (codes < 0) & values.notna().to_numpy() & ~values.isin(ti.skip).to_numpy()
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
    strings = [i for i, ti in enumerate(items) if isinstance(ti.levels[0], str)]
    table = None
    if strings:  # one Arrow table of the string items (a pandas column access per item
        try:      # would deep-copy the frame's attrs each time), then hashed lookups
            table = pa.Table.from_pandas(sample[[items[i].item for i in strings]],
                                         preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError):
            table = None  # mixed types: _codes below names the bad value
    for col, i in enumerate(strings if table is not None else ()):
        ti = items[i]
        arr = table.column(col)
        c = pc.fill_null(pc.index_in(arr, value_set=_level_array(ti.levels)), -1)
        c = np.asarray(c.to_numpy(), dtype=np.intp)
        if (c < 0).any():
            odd = (c < 0) & ~np.asarray(arr.is_null().to_numpy(), dtype=bool)
            if ti.skip:
                odd &= ~np.asarray(pc.is_in(arr, value_set=_level_array(ti.skip)).to_numpy(),
                                   dtype=bool)
            if odd.any():
                continue
        codes[i] = c
        done.add(i)
    for i, ti in enumerate(items):
        if i not in done:
            codes[i] = _codes(sample[ti.item], ti)
    return codes


@lru_cache(maxsize=64)
def _level_array(levels: tuple) -> pa.Array:
    """The string levels as an Arrow array (the value set of ``pyarrow.compute.index_in``)."""
    return pa.array(list(levels), type=pa.string())


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
    # by-tables (BY_ITEMS): the same counts and test with another 0/1 column as the group
    by_scal: dict[str, float] = {}
    for item, by in BY_ITEMS:
        key = by_key(item, by)
        i = pos.get(item)
        tab.append(_by_item(item).table)
        itm.append(key)
        n_lev = len(_by_item(item).levels)
        if i is None or by not in sample.columns:
            st.append(np.nan), df_.append(np.nan), pv.append(np.nan), nb.append(0)
            for g in by_groups(by):
                by_scal[f"valid_n.{key}.{g}"] = np.nan
                for lv in _by_item(item).levels:
                    by_scal[f"share.{key}.{level_label(lv)}.{g}"] = np.nan
            by_scal[f"chi2.{key}"] = by_scal[f"chi2_p.{key}"] = np.nan
            continue
        grp = pd.to_numeric(sample[by], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bc, bw = gender_counts(codes[i], n_lev, grp, wz)
        bvalid = bc.sum(axis=0)
        bws = bw.astype(float).sum(axis=0)
        b_stat, b_df = pearson_chi2(bc[:, :2])
        b_p = float(chi2_pvalues(b_stat, b_df)) if np.isfinite(b_stat) else np.nan
        st.append(b_stat), df_.append(b_df), pv.append(b_p), nb.append(int(bvalid[:2].sum()))
        for gi, g in enumerate(by_groups(by)):
            by_scal[f"valid_n.{key}.{g}"] = float(bvalid[gi])
            for j, lv in enumerate(_by_item(item).levels):
                by_scal[f"share.{key}.{level_label(lv)}.{g}"] = (
                    float(bw[j, gi]) / bws[gi] if bws[gi] > 0 else np.nan)
        by_scal[f"chi2.{key}"], by_scal[f"chi2_p.{key}"] = float(b_stat), b_p
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
    scal.update(by_scal)
    return tables, tests, scal
