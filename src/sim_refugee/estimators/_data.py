"""Input checking and listwise deletion shared by the estimators.

Bad input (wrong types, lengths, non-numeric columns, negative weights, an unknown
``missing`` option) raises :class:`~sim_refugee.errors.UserInputError` naming the
offending argument or column. Missing values are handled like statsmodels'
``missing="drop"``: rows with NaN in any model variable (or weight/group) are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim_refugee.errors import UserInputError

MISSING_OPTIONS = ("drop", "raise", "none")


@dataclass
class Column:
    """A named 1-d float array."""

    name: str
    values: np.ndarray


@dataclass
class Matrix:
    """Named columns of a 2-d float array (n x k)."""

    names: list[str]
    values: np.ndarray


def _is_numeric(s) -> bool:
    return pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)


def as_series(values, name: str, default_name: str) -> Column:
    """A 1-d input as a float array (positional), keeping its name if it has one."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise UserInputError(f"{name} must be one column, got {values.shape[1]}", key=name)
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        label = values.name if values.name is not None else default_name
        if not _is_numeric(values):
            raise UserInputError(f"{name} ({label!r}) must be numeric, got dtype {values.dtype}", key=name)
        return Column(str(label), values.to_numpy(dtype=float, na_value=np.nan))
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise UserInputError(f"{name} must be one-dimensional, got shape {arr.shape}", key=name)
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"{name} must be numeric: {exc}", key=name) from exc
    return Column(default_name, arr)


def as_frame(values, name: str, prefix: str = "x") -> Matrix:
    """A 2-d input as a float matrix with column names, naming any non-numeric column."""
    if isinstance(values, pd.Series):
        values = values.to_frame(name=values.name if values.name is not None else f"{prefix}1")
    if isinstance(values, pd.DataFrame):
        for col, dtype in values.dtypes.items():
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise UserInputError(f"{name} column {col!r} must be numeric, got dtype {dtype}", key=str(col))
        names = [str(c) for c in values.columns]
        if len(set(names)) != len(names):
            raise UserInputError(f"{name} has duplicate column names", key=name)
        return Matrix(names, values.to_numpy(dtype=float, na_value=np.nan))
    arr = np.asarray(values)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise UserInputError(f"{name} must be two-dimensional, got shape {arr.shape}", key=name)
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"{name} must be numeric: {exc}", key=name) from exc
    return Matrix([f"{prefix}{j + 1}" for j in range(arr.shape[1])], arr)


@dataclass
class Cleaned:
    """Model data after listwise deletion."""

    series: dict[str, Column]
    frames: dict[str, Matrix]
    weights: np.ndarray | None
    groups: np.ndarray | None
    keep: np.ndarray  # boolean mask over the original rows
    nobs: int


def clean(
    series: dict[str, Column],
    frames: dict[str, Matrix],
    weights=None,
    groups=None,
    missing: str = "drop",
) -> Cleaned:
    """Check lengths, weights and groups; drop rows with missing values (listwise)."""
    if missing not in MISSING_OPTIONS:
        raise UserInputError(f"missing must be one of {MISSING_OPTIONS}, got {missing!r}", key="missing")
    lengths = {k: len(v.values) for k, v in {**series, **frames}.items()}
    n = next(iter(lengths.values()))
    for key, length in lengths.items():
        if length != n:
            raise UserInputError(f"{key} has {length} rows, expected {n} (as the other inputs)", key=key)
    bad = np.zeros(n, dtype=bool)
    for s in series.values():
        bad |= ~np.isfinite(s.values)
    for f in frames.values():
        bad |= ~np.isfinite(f.values).all(axis=1)
    w = None
    if weights is not None:
        w = as_series(weights, "weights", "weights").values
        if len(w) != n:
            raise UserInputError(f"weights has {len(w)} rows, expected {n}", key="weights")
        if np.any(w[np.isfinite(w)] < 0):
            raise UserInputError("weights must be non-negative", key="weights")
        bad |= ~np.isfinite(w)
    g = None
    if groups is not None:
        g = groups.reset_index(drop=True) if isinstance(groups, pd.Series) else pd.Series(np.asarray(groups))
        if len(g) != n:
            raise UserInputError(f"groups has {len(g)} rows, expected {n}", key="groups")
        bad |= g.isna().to_numpy()
    if missing == "raise" and bad.any():
        raise UserInputError(f"{int(bad.sum())} row(s) with missing values (missing='raise')", key="missing")
    if missing == "none":
        bad[:] = False
    keep = ~bad
    if bad.any():
        series = {k: Column(v.name, v.values[keep]) for k, v in series.items()}
        frames = {k: Matrix(v.names, v.values[keep]) for k, v in frames.items()}
        if w is not None:
            w = w[keep]
    if g is not None:
        g = g.to_numpy()[keep]
    return Cleaned(series, frames, w, g, keep, int(keep.sum()))


def reject_constant(exog: Matrix, name: str = "exog") -> None:
    """Models without an intercept must not be given a constant column."""
    for col in exog.names:
        if col.lower() in ("const", "intercept"):
            raise UserInputError(
                f"{name} column {col!r} looks like a constant: this model takes exog WITHOUT a constant",
                key=col,
            )
