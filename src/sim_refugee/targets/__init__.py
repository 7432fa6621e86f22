"""The paper's documented numbers (``paper.yaml``) and the generator's named assumptions
(``assumptions.yaml``), as data.

Documented margins are SAMPLE margins of the paper's convenience sample; each entry names
its source (table/section/sentence), its denominator and any gender split. Every number
the generator uses that the paper does not pin down is an assumption with a name, a
default, a reason and what it affects; experiments override assumptions by name.
"""

from __future__ import annotations

import functools
import json
import math
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from sim_refugee.errors import UserInputError

AssumptionValue = float | list[float]


@functools.cache
def _read(name: str) -> Any:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_paper() -> dict[str, Any]:
    """The whole documented-targets file (margins, Table 7 and Table 9 cell patterns)."""
    return _read("paper.yaml")


def paper_margins() -> pd.DataFrame:
    """Documented margins, one row each: name, value, source, denominator, variable,
    level, group ('all', 'male', 'female'), kind ('share' or 'median')."""
    return pd.DataFrame(load_paper()["margins"])


#: the shipped solution of the table calibration (``calibration.solve``): effect
#: parameters solved so the paper design's expected estimates reproduce Tables 7 and 9
TABLES_SOLUTION = "tables_solution.json"


@functools.cache
def tables_solution() -> dict[str, Any]:
    """The shipped table-calibration solution: ``meta`` (code version, seed, settings,
    check) and ``values`` (parameter -> value); empty values if none is shipped."""
    path = resources.files(__name__).joinpath(TABLES_SOLUTION)
    if not path.is_file():
        return {"meta": {}, "values": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def assumption_table() -> pd.DataFrame:
    """Every assumption: name, default (the solved value where the table calibration
    solved it), start (the value in assumptions.yaml), solved, why, affects, range."""
    t = pd.DataFrame(_read("assumptions.yaml"))
    solved = tables_solution()["values"]
    t["start"] = t["default"]
    t["solved"] = t["name"].isin(list(solved))
    t["default"] = [solved.get(n, d) for n, d in zip(t["name"], t["default"], strict=True)]
    return t


def assumption_defaults(solved: bool = True) -> dict[str, AssumptionValue]:
    """Assumption name -> default value (a fresh dict; lists copied). solved: the
    effect parameters take the shipped table-calibration values (``tables_solution``);
    False gives assumptions.yaml's own values (the calibration's start)."""
    out: dict[str, AssumptionValue] = {}
    for row in _read("assumptions.yaml"):
        v = row["default"]
        out[row["name"]] = list(v) if isinstance(v, list) else float(v)
    if solved:
        for name, v in tables_solution()["values"].items():
            if name not in out:
                raise KeyError(f"{TABLES_SOLUTION} solves {name!r}, which is not an assumption")
            out[name] = float(v)
    return out


#: Largest |value| of an assumption. Every assumption is a share, an SD, an age or a
#: time in years, or a log-odds/probit coefficient; none means anything beyond 1,000,
#: and larger values overflow the generator.
ASSUMPTION_LIMIT = 1_000.0


def _finite_number(x: Any) -> bool:
    """True for an int or float (not a bool, not a string) with |x| <= ASSUMPTION_LIMIT."""
    return (isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
            and abs(x) <= ASSUMPTION_LIMIT)


def resolve_assumptions(overrides: dict[str, Any] | None = None) -> dict[str, AssumptionValue]:
    """Defaults with ``overrides`` applied; an unknown name or a wrong shape is a
    UserInputError naming the key."""
    values = assumption_defaults()
    for key, val in (overrides or {}).items():
        if key not in values:
            raise UserInputError(
                f"unknown assumption {key!r} (see sim_refugee/targets/assumptions.yaml)",
                key=f"assumptions.{key}",
            )
        default = values[key]
        if isinstance(default, list):
            if not isinstance(val, (list, tuple)) or len(val) != len(default):
                raise UserInputError(
                    f"assumption {key!r} must be a list of {len(default)} numbers", key=key
                )
            if not all(_finite_number(x) for x in val):
                raise UserInputError(
                    f"assumption {key!r} must hold finite numbers in [-{ASSUMPTION_LIMIT:g}, "
                    f"{ASSUMPTION_LIMIT:g}]", key=key)
            values[key] = [float(x) for x in val]
        else:
            if not _finite_number(val):
                raise UserInputError(
                    f"assumption {key!r} must be a finite number in [-{ASSUMPTION_LIMIT:g}, "
                    f"{ASSUMPTION_LIMIT:g}], got {val!r}", key=key)
            values[key] = float(val)
    return values


def table_cells(table: str) -> pd.DataFrame:
    """Printed cell patterns of Table 7 or 9 as a long frame: regressor, column, pattern,
    sign (+1/-1), magnitude class, stars ('***', '**', '*', 'ns')."""
    doc = load_paper()[table]
    cols = doc["outcomes"] if table == "table7" else doc["columns"]
    rows = []
    for reg, cells in doc["cells"].items():
        for col, pat in zip(cols, cells, strict=True):
            if pat is None:
                continue
            body, _, tail = pat.partition(" ")
            stars = tail or body[len(body.rstrip("*")):]
            body = body.rstrip("*")
            sign = -1 if body.startswith("-") else 1
            mag = body.lstrip("-")
            klass = "0.0?" if mag.startswith("0.0") else ("0.??" if mag.startswith("0.") else "?.??")
            rows.append(dict(regressor=reg, column=col, pattern=pat, sign=sign,
                             magnitude=klass, stars=stars or "ns"))
    return pd.DataFrame(rows)


__all__ = [
    "assumption_defaults",
    "assumption_table",
    "load_paper",
    "paper_margins",
    "resolve_assumptions",
    "table_cells",
    "tables_solution",
]
