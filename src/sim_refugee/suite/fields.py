"""The declared fields of a suite result: one place that says what each frame holds.

``SuiteResult.estimates``, ``.tables`` and ``.tests`` (Contract 5) are built from these
declarations (``make_frame``), so their column names, order and types cannot drift
between ``run_suite``, ``fit_models``, the engine's records and the renderers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ResultField:
    """One column of a result frame: its name, numpy dtype ('str' for labels), meaning."""

    name: str
    dtype: str
    doc: str


ESTIMATE_FIELDS: tuple[ResultField, ...] = (
    ResultField("model", "str", "model name (suite_layout().models)"),
    ResultField("term", "str", "regressor name (the model's terms, paper order)"),
    ResultField("estimate", "float64", "point estimate; NaN if the fit failed or the term was dropped"),
    ResultField("se", "float64", "standard error (non-robust, sandwich or cluster-robust)"),
    ResultField("pvalue", "float64", "two-sided p-value (normal; t for the 2SPLS OLS equation)"),
    ResultField("nobs", "float64", "the model's valid N (listwise on its own variables)"),
    ResultField("status", "str", "ok, not_converged, singular_hessian, non_psd_cov, failed, skipped"),
)

TABLE_FIELDS: tuple[ResultField, ...] = (
    ResultField("table", "str", "paper table ('1'..'8', 'text')"),
    ResultField("item", "str", "the tabulated variable"),
    ResultField("level", "str", "the item's level (or 'mean'/'sd' in Table 3)"),
    ResultField("group", "str", "male, female or total"),
    ResultField("count", "float64", "unweighted count of the level in the group"),
    ResultField("pct", "float64", "percent of the group's valid N (weighted if weights)"),
    ResultField("valid_n", "int64", "the group's valid N (unweighted)"),
    ResultField("value", "float64", "Table 3 mean or SD; NaN elsewhere"),
)

TEST_FIELDS: tuple[ResultField, ...] = (
    ResultField("table", "str", "paper table"),
    ResultField("item", "str", "the tested variable"),
    ResultField("statistic", "float64", "Pearson chi-square of item x gender (no correction)"),
    ResultField("df", "float64", "degrees of freedom"),
    ResultField("pvalue", "float64", "p-value of the chi-square"),
    ResultField("nobs", "int64", "rows with both the item and gender present"),
)

ESTIMATE_COLUMNS: list[str] = [f.name for f in ESTIMATE_FIELDS]
TABLE_COLUMNS: list[str] = [f.name for f in TABLE_FIELDS]
TEST_COLUMNS: list[str] = [f.name for f in TEST_FIELDS]


def make_frame(fields: tuple[ResultField, ...], columns: dict[str, object]) -> pd.DataFrame:
    """A DataFrame with exactly the declared columns, in order (a missing or extra
    column is a programming error)."""
    names = [f.name for f in fields]
    if set(columns) != set(names):
        raise ValueError(f"result columns {sorted(columns)} != declared {names}")
    out = {}
    for f in fields:
        v = columns[f.name]
        if f.dtype == "str":  # pandas' string dtype; a ready string array is used as is
            out[f.name] = v if isinstance(v, pd.api.extensions.ExtensionArray) else pd.array(
                np.asarray(v, dtype=object), dtype="str")
        else:
            out[f.name] = np.asarray(v, dtype=f.dtype)
    return pd.DataFrame(out, columns=names)
