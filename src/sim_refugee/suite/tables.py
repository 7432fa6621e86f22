"""The paper's descriptive tables (1-6, 8 and the shares quoted in the text), by gender.

Each item is tabulated with ``sim_refugee.estimators.crosstab_by_gender`` (counts and
percent of the group's VALID N, as the paper's footnote 2 says: "the number of valid
responses usually falls below 1,346") and tested with ``gender_chi2`` (Pearson
chi-square, the test behind the text's "statistically significant differences across
genders"). Levels are fixed per item, so every sample gives the same rows.

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


def _normalise(ct: pd.DataFrame, ti: TableItem) -> pd.DataFrame:
    """Reindex a crosstab to the item's fixed levels x groups (absent levels: count 0)."""
    ct = ct.copy()
    ct["level"] = ct["level"].map(level_label)
    labels = [level_label(lv) for lv in ti.levels]
    unknown = sorted(set(ct["level"]) - set(labels))
    if unknown:
        from sim_refugee.errors import UserInputError

        raise UserInputError(
            f"column {ti.item!r} has values {unknown} outside its levels {labels}",
            key=ti.item,
        )
    valid = ct.groupby("group")["valid_n"].first()
    idx = pd.MultiIndex.from_product([labels, GROUPS], names=["level", "group"])
    out = ct.set_index(["level", "group"])[["count"]].reindex(idx, fill_value=0).reset_index()
    out["valid_n"] = out["group"].map(valid).fillna(0).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct"] = 100.0 * out["count"] / out["valid_n"].where(out["valid_n"] > 0)
    out["table"] = ti.table
    out["item"] = ti.item
    out["value"] = np.nan
    return out


def _ordinal_stats(rows: pd.DataFrame, ti: TableItem) -> tuple[pd.DataFrame, dict]:
    """Table 3 mean and SD (ddof=1) by group from the level counts, plus agree shares."""
    extra, scal = [], {}
    codes = np.array(ti.levels, dtype=float)
    for g in GROUPS:
        sub = rows[rows["group"] == g]
        counts = sub["count"].to_numpy(dtype=float)
        n = counts.sum()
        mean = float((codes * counts).sum() / n) if n > 0 else np.nan
        var = float(((codes - mean) ** 2 * counts).sum() / (n - 1)) if n > 1 else np.nan
        agree = float(counts[codes >= 3].sum() / n) if n > 0 else np.nan
        scal[f"agree.{ti.item}.{g}"] = agree
        scal[f"mean.{ti.item}.{g}"] = mean
        scal[f"sd.{ti.item}.{g}"] = np.sqrt(var)
        for stat, val in (("mean", mean), ("sd", np.sqrt(var))):
            extra.append(
                {"table": "3", "item": ti.item, "level": stat, "group": g, "count": np.nan,
                 "pct": np.nan, "valid_n": int(n), "value": val}
            )
    return pd.DataFrame(extra), scal


def descriptive_tables(sample: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Tables, gender tests and scalars for every item of ``TABLE_ITEMS``.

    Returns (tables frame, tests frame, scalars dict) with the columns of Contract 5
    (the tables frame has one more column, ``value``, holding Table 3's means and SDs).
    """
    from sim_refugee.estimators import crosstab_by_gender, gender_chi2

    parts, tests, scal = [], [], {}
    for ti in TABLE_ITEMS:
        if ti.optional and ti.item not in sample.columns:
            tests.append({"table": ti.table, "item": ti.item, "statistic": np.nan,
                          "df": np.nan, "pvalue": np.nan, "nobs": 0})
            continue  # its scalars stay NaN (reindexed on the layout)
        rows = _normalise(crosstab_by_gender(sample, ti.item, female="female"), ti)
        parts.append(rows)
        for g in GROUPS:
            sub = rows[rows["group"] == g]
            scal[f"valid_n.{ti.item}.{g}"] = float(sub["valid_n"].iloc[0])
            for lv, pct in zip(sub["level"], sub["pct"], strict=True):
                scal[f"share.{ti.item}.{lv}.{g}"] = pct / 100.0
        if ti.ordinal:
            extra, s = _ordinal_stats(rows, ti)
            parts.append(extra)
            scal.update(s)
        t = gender_chi2(sample, ti.item, female="female")
        tests.append({"table": ti.table, "item": ti.item, "statistic": t["statistic"],
                      "df": t["df"], "pvalue": t["pvalue"], "nobs": t["nobs"]})
        scal[f"chi2.{ti.item}"] = float(t["statistic"])
        scal[f"chi2_p.{ti.item}"] = float(t["pvalue"])
    tables = pd.concat(parts, ignore_index=True)[TABLE_COLUMNS]
    return tables, pd.DataFrame(tests, columns=TEST_COLUMNS), scal
