"""The population schema: every column of a population frame (Contract 1 and
``../shared/design/VARIABLES.md``), its dtype and its allowed values, in one place.

``check_population`` is what ``sample --population`` runs on the file it reads: a
missing column, a wrong dtype, a missing or non-finite value, a value out of range or
an unknown category is a UserInputError naming the column (and an example row), before
any design sees the frame. Extra columns are allowed (more columns are welcome);
designs that read one through their params check it is numeric where they use it.
A population has no missing values: item nonresponse is a sample artefact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim_refugee.errors import MissingColumnError, UserInputError
from sim_refugee.validation import MAX_POPULATION_SIZE, validate_model
from sim_refugee.world.extras import ALL_CATEGORIES, EXTRA_BINARY, EXTRA_ITEMS
from sim_refugee.world.generator import COLUMNS
from sim_refugee.world.model import ITEMS

Kind = Literal["id", "binary", "item", "number", "category"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column: kind ("id": unique integers >= 0; "binary": integer 0/1; "item":
    integer 1..4; "number": finite real in [lo, hi]; "category": one of ``levels``)."""

    name: str
    kind: Kind
    lo: float | None = None
    hi: float | None = None
    levels: tuple[str, ...] = ()

    def describe(self) -> str:
        """The rule in words (for messages and docs)."""
        if self.kind == "id":
            return "unique integers >= 0"
        if self.kind == "binary":
            return "integers 0/1"
        if self.kind == "item":
            return "integers 1..4"
        if self.kind == "category":
            return f"strings, one of {', '.join(self.levels)}"
        lo = "-inf" if self.lo is None else f"{self.lo:g}"
        hi = "inf" if self.hi is None else f"{self.hi:g}"
        return f"finite numbers in [{lo}, {hi}]"


_BINARY = (
    "female", "northeast", "pyongyang", "urban_origin", "death", "foodaid", "family_missing",
    "arrest", "camp", "trafficking", "urban_china", "children", "job", "prefer_us",
    "prefer_sk", "korean_chinese_host", "church_tie", "elementary", "secondary",
    "postsecondary", "farmer", "trader", "student", "other_job", *EXTRA_BINARY,
)
_NUMBERS: dict[str, tuple[float | None, float | None]] = {
    "age": (0.0, 120.0),
    "years_in_china": (0.0, 120.0),
    "avgpsych": (1.0, 4.0),
    "distress": (None, None),
    "age_decades": (0.0, 12.0),
}


def _spec(name: str) -> ColumnSpec | None:
    if name == "person_id":
        return ColumnSpec(name, "id")
    if name in _BINARY:
        return ColumnSpec(name, "binary")
    if name in ITEMS or name in EXTRA_ITEMS:
        return ColumnSpec(name, "item", 1, 4)
    if name in ALL_CATEGORIES:
        return ColumnSpec(name, "category", levels=tuple(ALL_CATEGORIES[name]))
    if name in _NUMBERS:
        lo, hi = _NUMBERS[name]
        return ColumnSpec(name, "number", lo, hi)
    return None


#: Population columns (the generator's ``COLUMNS``; a column without a rule above is only
#: required to be present; tests check every one has a rule).
POPULATION_COLUMNS: tuple[str, ...] = COLUMNS
POPULATION_SCHEMA: dict[str, ColumnSpec] = {
    c: spec for c in POPULATION_COLUMNS if (spec := _spec(c)) is not None
}


def _bad(where: str, spec: ColumnSpec, problem: str, col: pd.Series, mask: Any) -> UserInputError:
    idx = np.flatnonzero(np.asarray(mask))
    example = ""
    if idx.size:
        value = col.iloc[int(idx[0])]
        value = value.item() if isinstance(value, np.generic) else value
        example = f" (e.g. row {int(idx[0])}: {value!r}; {idx.size} row(s))"
    return UserInputError(
        f"{where}: column {spec.name!r} {problem}{example}; expected {spec.describe()}",
        key=spec.name,
    )


def _is_int_dtype(col: pd.Series) -> bool:
    return pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _is_str_dtype(col: pd.Series) -> bool:
    """Strings: a string dtype, a categorical of strings, or objects that are all str."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return all(isinstance(c, str) for c in col.cat.categories)
    if col.dtype == object:
        return bool(col.dropna().map(lambda v: isinstance(v, str)).all())
    return pd.api.types.is_string_dtype(col)


def check_column(frame: pd.DataFrame, spec: ColumnSpec, where: str = "population") -> None:
    """UserInputError naming ``spec.name`` unless the column follows its spec."""
    col = frame[spec.name]
    missing = col.isna().to_numpy()
    if spec.kind == "category":
        if not _is_str_dtype(col):
            raise _bad(where, spec, f"has dtype {col.dtype}", col, [])
        if missing.any():
            raise _bad(where, spec, "has missing values", col, missing)
        unknown = ~col.astype(str).isin(spec.levels).to_numpy()
        if unknown.any():
            raise _bad(where, spec, "has unknown values", col, unknown)
        return
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    if numeric and missing.any():
        raise _bad(where, spec, "has missing values", col, missing)
    if spec.kind == "number" and not numeric:
        raise _bad(where, spec, f"has dtype {col.dtype}", col, [])
    if spec.kind != "number" and not _is_int_dtype(col):
        raise _bad(where, spec, f"has dtype {col.dtype} (not an integer dtype)", col, [])
    x = col.to_numpy(dtype=float)
    if not np.isfinite(x).all():
        raise _bad(where, spec, "has non-finite values", col, ~np.isfinite(x))
    if spec.kind == "binary":
        out = (x != 0) & (x != 1)
    elif spec.kind == "id":
        out = x < 0
    else:
        out = np.zeros(len(x), dtype=bool)
        if spec.lo is not None:
            out |= x < spec.lo
        if spec.hi is not None:
            out |= x > spec.hi
    if out.any():
        raise _bad(where, spec, "has values out of range", col, out)
    if spec.kind == "id":
        dup = col.duplicated().to_numpy()
        if dup.any():
            raise _bad(where, spec, "has duplicated values", col, dup)


def check_population(pop: Any, where: str = "population") -> None:
    """Check a whole population frame against ``POPULATION_SCHEMA`` (and its attrs).

    Raises ``MissingColumnError`` naming every missing column, or a UserInputError
    naming the first column (in schema order) that breaks its rule.
    """
    if not isinstance(pop, pd.DataFrame):
        raise UserInputError(f"{where} must be a pandas DataFrame, got {type(pop).__name__}",
                             key="population")
    if len(pop) == 0:
        raise UserInputError(f"{where} has no rows", key="population")
    if len(pop) > MAX_POPULATION_SIZE:
        raise UserInputError(f"{where} has {len(pop):,} rows, more than the "
                             f"{MAX_POPULATION_SIZE:,} allowed", key="population")
    if not pop.columns.is_unique:
        dup = pop.columns[pop.columns.duplicated()][0]
        raise UserInputError(f"{where}: column {dup!r} appears twice", key=str(dup))
    missing = [c for c in POPULATION_COLUMNS if c not in pop.columns]
    if missing:
        raise MissingColumnError(missing, where)
    for spec in POPULATION_SCHEMA.values():
        check_column(pop, spec, where)
    _check_attrs(pop, where)


def _check_attrs(pop: pd.DataFrame, where: str) -> None:
    """The selection and site quotas a population carries (read by the paper design)."""
    from sim_refugee.world.reach import SITES, ReachParams

    sel = pop.attrs.get("selection")
    if sel is not None:
        if not isinstance(sel, dict):
            raise UserInputError(f"{where}: attrs 'selection' must be a table",
                                 key="attrs.selection")
        validate_model(ReachParams, sel, prefix="attrs.selection", where=f"of {where}",
                       what="key")
    quotas = pop.attrs.get("site_quotas")
    if quotas is not None:
        ok = isinstance(quotas, dict) and all(
            k in SITES and isinstance(v, (int, float)) and not isinstance(v, bool)
            and np.isfinite(v) and v >= 0 for k, v in quotas.items()
        ) and sum(quotas.values()) > 0
        if not ok:
            raise UserInputError(
                f"{where}: attrs 'site_quotas' must map sites ({', '.join(SITES)}) to finite "
                "shares >= 0 with a positive total", key="attrs.site_quotas")
