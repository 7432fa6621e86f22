"""Shared input validation: one strict pydantic base, safe names, size limits, output
paths kept inside their folder, and the one translation of a pydantic
``ValidationError`` into the project's ``UserInputError``.

Rules (README, "Bad input"):

* types are strict: no bool, str or float is coerced to an int, no str or bool to a
  float, no str to a bool (an int is accepted where a float is expected); a TOML array
  is accepted where a field is a tuple;
* numbers are finite (NaN and +-inf are refused everywhere a config is read);
* names that become file or folder names (experiment name, design label) are safe
  identifiers: 1-64 of ``A-Z a-z 0-9 _ - .``, not starting with ``.`` or ``-``;
* sizes are bounded (the limits below), so what cannot fit in memory is refused before
  anything runs;
* every path a run writes is resolved inside its output folder.
"""

from __future__ import annotations

import os
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, field_validator

from sim_refugee.errors import UserInputError

#: Largest population a world (or a population file) may have: 5x the highest estimate
#: of North Korean refugees in China (400,000); a 2,000,000-person frame is ~1 GB.
MAX_POPULATION_SIZE = 2_000_000
#: Smallest world ``build_population`` calibrates (the documented margins are split by
#: gender and level; much smaller populations leave cells empty).
MIN_WORLD_SIZE = 1_000
#: Largest replications per condition (also ``stopping.max_replications``).
MAX_REPLICATIONS = 1_000_000
#: Largest number of independent populations per condition, and of grid conditions.
MAX_POPULATIONS = 1_000
MAX_CONDITIONS = 10_000
#: Largest number of values a run's results may hold (replications x conditions x
#: populations x designs x values per replication); 8 bytes each: ~0.8 GB.
MAX_RESULT_VALUES = 100_000_000
#: Largest count-like design parameter (interviewers, seeds, coupons, venues per site,
#: days, slots, intercepts per unit).
MAX_COUNT = 100_000

#: Longest file or folder name (bytes) on the common file systems.
NAME_MAX = 255
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
NAME_RULE = "1-64 of letters, digits, '_', '-', '.', not starting with '.' or '-'"


def _is_tuple_annotation(ann: Any) -> bool:
    """True if ``ann`` is ``tuple[...]`` or a union containing one."""
    origin = typing.get_origin(ann)
    if origin is tuple or ann is tuple:
        return True
    if origin is typing.Union or origin is types.UnionType:
        return any(_is_tuple_annotation(a) for a in typing.get_args(ann))
    return False


class StrictModel(BaseModel):
    """Base of every config model: unknown keys, coercions and non-finite numbers are
    refused (the error names the key). A list is accepted for a tuple field (TOML has
    arrays, not tuples)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _arrays_as_tuples(cls, value: Any, info: Any) -> Any:
        if isinstance(value, list):
            field = cls.model_fields.get(info.field_name)
            if field is not None and _is_tuple_annotation(field.annotation):
                return tuple(value)
        return value


class FrozenModel(StrictModel):
    """A StrictModel whose instances are immutable (and hashable): the parameters of
    designs and of the world's structures (reach, network, venues). Shared here so that
    both ``world`` and ``designs`` build on it without importing each other."""

    model_config = ConfigDict(frozen=True)


def _safe_name(value: str) -> str:
    if not NAME_RE.fullmatch(value):
        raise ValueError(f"must be a safe name ({NAME_RULE}), got {_show(value)}")
    return value


#: A name that becomes part of a file or folder name.
SafeName = Annotated[str, AfterValidator(_safe_name)]


def check_name(value: Any, key: str) -> str:
    """``value`` if it is a safe name, else a UserInputError naming ``key``."""
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise UserInputError(f"{key} must be a safe name ({NAME_RULE}), got {_show(value)}",
                             key=key)
    return value


def check_int(value: Any, key: str, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` if it is an int (not a bool) in [lo, hi], else a UserInputError naming
    ``key``. For Python API entry points (sample sizes, seeds)."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise UserInputError(f"{key} must be an integer, got {_show(value)}", key=key)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]" if lo is not None else f"<= {hi}"
        raise UserInputError(f"{key} must be an integer {rng}, got {value}", key=key)
    return int(value)


def _show(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _key_parts(loc: tuple[Any, ...], data: Any, missing: bool) -> list[str]:
    """The parts of a pydantic error location that are keys of the input.

    pydantic inserts the member type of a union (``'int'``, ``'list[int]'``, a model
    name) into locations; they are dropped by following the input along the location.
    """
    parts: list[str] = []
    cur = data
    for i, p in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(cur, dict) and p in cur:
            parts.append(str(p))
            cur = cur[p]
        elif isinstance(cur, (list, tuple)) and isinstance(p, int) and 0 <= p < len(cur):
            parts.append(str(p))
            cur = cur[p]
        elif isinstance(cur, dict) and missing and last:
            parts.append(str(p))  # the missing key itself
        elif data is None:
            parts.append(str(p))  # no input to follow: keep the location as it is
        # else: a union member's tag (or a key of a value that is not a table): dropped
    return parts


def _dotted_key(err: Any, prefix: str, data: Any) -> str:
    parts = _key_parts(tuple(err.get("loc", ())), data, err.get("type") == "missing")
    return ".".join([prefix, *parts] if prefix else parts) or prefix or "(top level)"


def validation_error(
    exc: ValidationError, prefix: str = "", where: str = "", data: Any = None,
    what: str = "config key",
) -> UserInputError:
    """The project's message for a pydantic ``ValidationError``: ``config key
    'prefix.dotted.key' (where): what is wrong, got <value>``, as a UserInputError whose
    ``key`` is the dotted key. ``data`` (the validated input) lets union-member tags be
    dropped from the key."""
    errors = exc.errors()
    keys = [_dotted_key(e, prefix, data) for e in errors]
    err, key = errors[0], keys[0]
    kind = err.get("type", "")
    msg = err.get("msg", "invalid value")
    if kind == "extra_forbidden":
        msg = "unknown key"
    elif kind == "missing":
        msg = "required key is missing"
    elif kind.startswith("value_error"):
        msg = msg.removeprefix("Value error, ")
    elif "input" in err and not isinstance(err["input"], (dict, BaseModel)):
        msg = f"{msg}, got {_show(err['input'])}"
    others = list(dict.fromkeys(k for k in keys[1:] if k != key))
    extra = ""
    if others:
        shown = ", ".join(repr(k) for k in others[:3])
        extra = f" (also wrong: {shown}{', ...' if len(others) > 3 else ''})"
    w = f" {where}" if where else ""
    return UserInputError(f"{what} {key!r}{w}: {msg}{extra}", key=key)


def validate_model(
    model: type[BaseModel], data: Any, prefix: str = "", where: str = "", what: str = "config key"
) -> Any:
    """``model.model_validate(data)``; a ValidationError becomes ``validation_error``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, prefix, where, data, what) from None


# ---------------------------------------------------------------------------
# output paths
# ---------------------------------------------------------------------------


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_output(path: str | os.PathLike, key: str = "--out", kind: str = "dir") -> Path:
    """Refuse an output path that cannot be written, before anything is computed.

    kind "dir": the path must be a folder or not exist; kind "file": it must not be a
    folder. Either way the nearest existing ancestor must be a writable folder (not a
    file: no path under a file).
    """
    p = Path(path)
    if str(path) == "" or "\x00" in str(path):
        raise UserInputError(f"{key} {str(path)!r} is not a valid path", key=key)
    # the last part also gets a temporary sibling ".<name>.<random>.tmp" while written
    parts = p.parts
    long = [(part, NAME_MAX - 16 if i == len(parts) - 1 else NAME_MAX)
            for i, part in enumerate(parts)]
    long = [(part, n) for part, n in long if len(part.encode()) > n]
    if long:
        raise UserInputError(f"{key}: path component {long[0][0][:40]!r}... is longer than "
                             f"{long[0][1]} bytes", key=key)
    if kind == "dir" and p.exists() and not p.is_dir():
        raise UserInputError(f"{key} {str(p)!r} exists and is not a folder", key=key)
    if kind == "file" and p.is_dir():
        raise UserInputError(f"{key} {str(p)!r} is a folder, not a file", key=key)
    base = p if (kind == "dir" and p.is_dir()) else _nearest_existing(p.parent if kind == "file" else p)
    if not base.is_dir():
        raise UserInputError(f"{key} {str(p)!r} is under {str(base)!r}, which is a file", key=key)
    if not os.access(base, os.W_OK | os.X_OK):
        raise UserInputError(f"{key} {str(p)!r}: folder {str(base)!r} is not writable", key=key)
    return p


def inside(root: str | os.PathLike, relative: str | os.PathLike, key: str = "--out") -> Path:
    """``root / relative`` resolved, refused unless it stays inside ``root``."""
    base = Path(root).resolve()
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise UserInputError(
            f"path {str(relative)!r} would be written outside {key} {str(root)!r}", key=key)
    return Path(root) / relative


def numeric_column(frame: Any, column: str, where: str = "population") -> Any:
    """The column as a float64 array; UserInputError naming it unless it is numeric
    (not strings, not bool-as-object) and finite."""
    import numpy as np
    import pandas as pd

    from sim_refugee.errors import require_columns

    require_columns(frame, [column], where)
    col = frame[column]
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise UserInputError(
            f"{where}: column {column!r} must be numeric, has dtype {col.dtype}", key=column)
    values = col.to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(values).all():
        raise UserInputError(f"{where}: column {column!r} has missing or non-finite values",
                             key=column)
    return values
