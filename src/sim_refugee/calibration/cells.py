"""The paper's printed Table 7 and Table 9 cells as checkable targets.

The extraction lost the digits 1-9 of the tables ('?'); what survives of a cell is its
sign, its magnitude class and its significance stars (shared/design/CALIBRATION.md):

* magnitude class, by how ``|b|`` prints with two decimals: ``0.0x`` (below 0.095;
  a printed ``0.00`` is a subclass, below 0.005), ``0.xx`` (0.095 to 0.995), ``x.xx``
  (0.995 to 9.995);
* star band of ``|z|``: ns below 1.960, ``*`` below 2.576, ``**`` below 3.291, ``***``
  above (p < 0.05 / 0.01 / 0.001, two-sided: the legend's lost digits, presumed);
* the valid N of each fit, e.g. ``1,?0?`` (``?`` a digit 1-9).

A world matches a cell when the EXPECTED estimate under the paper design has the
printed sign and class and the expected z lies in the printed band.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim_refugee.suite.paper_cells import T7_CELLS, T7_N, T9_CELLS, T9_MODELS, T9_N
from sim_refugee.suite.specs import T7_ITEMS
from sim_refugee.targets import load_paper

#: two-sided normal quantiles of p = 0.05, 0.01, 0.001
Z_STARS: tuple[float, float, float] = (1.959964, 2.575829, 3.290527)
BANDS: tuple[str, ...] = ("ns", "*", "**", "***")
CLASSES: tuple[str, ...] = ("0.0x", "0.xx", "x.xx")
#: |b| class edges: a value prints as 0.0x below 0.095, as x.xx from 0.995
CLASS_EDGES: tuple[float, float, float] = (0.095, 0.995, 9.995)


@dataclass(frozen=True)
class Cell:
    """One printed coefficient: which fit (suite model) and term, and its pattern."""

    table: str  # "7" or "9"
    model: str  # suite model name (t7_<item>, t9_2spls_job, t9_us_p1, ...)
    term: str  # suite term name
    column: str  # the paper's column label
    printed: str  # e.g. "-0.??***"
    sign: int  # +1 or -1
    klass: str  # one of CLASSES
    zero: bool  # printed 0.00 (|b| < 0.005)
    band: str  # one of BANDS
    se_printed: str = ""  # the printed SE's pattern, e.g. "0.0?" (informative only)

    @property
    def se_klass(self) -> str:
        return parse_pattern(self.se_printed)[1] if self.se_printed else ""

    @property
    def key(self) -> str:
        return f"{self.model}:{self.term}"


def parse_pattern(printed: str) -> tuple[int, str, bool, str]:
    """(sign, magnitude class, printed-zero flag, star band) of a printed cell."""
    body, _, tail = printed.strip().partition(" ")
    stars = tail.strip() or body[len(body.rstrip("*")):]
    body = body.rstrip("*")
    sign = -1 if body.lstrip("–").startswith("-") or body.startswith("–") else 1
    mag = body.lstrip("-–")
    if mag.startswith("0.0"):
        klass = "0.0x"
    elif mag.startswith("0."):
        klass = "0.xx"
    else:
        klass = "x.xx"
    band = stars if stars in ("*", "**", "***") else "ns"
    return sign, klass, mag == "0.00", band


def _t9_column_label(model: str) -> str:
    from sim_refugee.suite.specs import T9_COLUMN_LABELS

    return T9_COLUMN_LABELS[model]


def paper_cells() -> list[Cell]:
    """Every decodable Table 7 (84) and Table 9 (111) cell, in table order."""
    paper = load_paper()
    se7, se9 = paper["table7"]["se_cells"], paper["table9"]["se_cells"]
    cells: list[Cell] = []
    for term, row in T7_CELLS.items():
        for j, (item, printed) in enumerate(zip(T7_ITEMS, row, strict=True)):
            s, k, z, b = parse_pattern(printed)
            cells.append(Cell("7", f"t7_{item}", term, item, printed, s, k, z, b, se7[term][j]))
    for term, row in T9_CELLS.items():
        for j, (model, printed) in enumerate(zip(T9_MODELS, row, strict=True)):
            if printed is None:
                continue
            s, k, z, b = parse_pattern(printed)
            cells.append(Cell("9", model, term, _t9_column_label(model), printed, s, k, z, b,
                              se9[term][j] or ""))
    return cells


def magnitude_class(b: np.ndarray | float) -> np.ndarray:
    """The printed class of |b| ('0.0x', '0.xx', 'x.xx', or '' beyond 9.995 / NaN)."""
    a = np.abs(np.asarray(b, dtype=float))
    out = np.full(a.shape, "", dtype=object)
    out[a < CLASS_EDGES[0]] = "0.0x"
    out[(a >= CLASS_EDGES[0]) & (a < CLASS_EDGES[1])] = "0.xx"
    out[(a >= CLASS_EDGES[1]) & (a < CLASS_EDGES[2])] = "x.xx"
    return out


def star_band(z: np.ndarray | float) -> np.ndarray:
    """The star band of |z| ('ns', '*', '**', '***'; '' for NaN)."""
    a = np.abs(np.asarray(z, dtype=float))
    idx = np.searchsorted(np.asarray(Z_STARS), a, side="right")
    out = np.asarray(BANDS, dtype=object)[np.minimum(idx, 3)]
    return np.where(np.isnan(a), "", out)


def check_cells(cells: list[Cell], b: np.ndarray, z: np.ndarray,
                se: np.ndarray | None = None) -> pd.DataFrame:
    """Per cell: printed pattern, expected b and z, our sign/class/band, and hit.

    The sign is not checked where |b| < 0.005 (it prints as 0.00 either way). With
    ``se`` (the SE at the paper's valid N), also whether it prints in the class of the
    printed SE (``se_ok``: informative, not part of ``hit``).
    """
    b = np.asarray(b, dtype=float)
    z = np.asarray(z, dtype=float)
    sign_ok = (np.sign(b) == np.array([c.sign for c in cells])) | (np.abs(b) < 0.005)
    klass = magnitude_class(b)
    band = star_band(z)
    class_ok = klass == np.array([c.klass for c in cells], dtype=object)
    band_ok = band == np.array([c.band for c in cells], dtype=object)
    finite = np.isfinite(b) & np.isfinite(z)
    return pd.DataFrame({
        "table": [c.table for c in cells],
        "model": [c.model for c in cells],
        "term": [c.term for c in cells],
        "column": [c.column for c in cells],
        "printed": [c.printed for c in cells],
        "expected_b": b,
        "expected_z": z,
        "class": klass,
        "band": band,
        "sign_ok": sign_ok & finite,
        "class_ok": class_ok & finite,
        "band_ok": band_ok & finite,
        "hit": sign_ok & class_ok & band_ok & finite,
        "printed_se": [c.se_printed for c in cells],
        "se_ok": (magnitude_class(se) == np.array([c.se_klass for c in cells], dtype=object))
        if se is not None else np.zeros(len(cells), dtype=bool),
    })


# ------------------------------------------------------------------ valid N patterns ---
#: the printed N pattern of every Table 7 and Table 9 fit, by suite model
N_PATTERNS: dict[str, str] = {
    **{f"t7_{it}": pat for it, pat in zip(T7_ITEMS, T7_N, strict=True)},
    **dict(zip(T9_MODELS, T9_N, strict=True)),
}


def n_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a printed N pattern ('?' = a digit 1-9)."""
    body = pattern.replace(",", "")
    return re.compile("^" + "".join("[1-9]" if ch == "?" else re.escape(ch) for ch in body) + "$")


def n_matches(n: float, pattern: str) -> bool:
    """Whether a valid N prints as ``pattern``."""
    if not np.isfinite(n) or n != int(n):
        return False
    return bool(n_regex(pattern).match(str(int(n))))


def n_range(pattern: str) -> list[int]:
    """Every N (1..9,999) that matches ``pattern``, ascending."""
    rx = n_regex(pattern)
    return [n for n in range(1, 10_000) if rx.match(str(n))]


# ------------------------------------------------------------------ cell targets ------
#: where inside each band a target z sits (CALIBRATION.md: the interior, not the edge)
TARGET_Z: dict[str, float] = {"ns": 0.6, "*": 2.27, "**": 2.93, "***": 4.2}
#: the part of each band a target may use (a margin of about 0.1-0.35 z inside the edges)
BAND_INTERIOR: dict[str, tuple[float, float]] = {
    "ns": (0.0, 1.6), "*": (2.08, 2.46), "**": (2.70, 3.17), "***": (3.65, np.inf),
}
#: the part of each magnitude class a target may use
CLASS_INTERIOR: dict[str, tuple[float, float]] = {
    "0.0x": (0.02, 0.08), "0.xx": (0.13, 0.90), "x.xx": (1.10, 2.5),
}
#: a 'ns' cell printed 0.0x aims at this |b| (the class's middle) when the band allows
NS_SMALL_B = 0.05
#: a 'ns' cell printed 0.xx aims at least at this |b| (clear of the 0.095 class edge)
NS_LARGE_B = 0.18


def cell_target(cell: Cell, se: float) -> float:
    """The expected estimate a world should give for ``cell`` when its SE at the
    paper's valid N is ``se``: a z inside the printed band (TARGET_Z) and a |b| inside
    the printed class; where the two cannot both hold, the class wins (CALIBRATION.md)
    and the target is the class edge nearest the band."""
    if cell.zero:
        return 0.0
    lo_b, hi_b = CLASS_INTERIOR[cell.klass]
    lo_z, hi_z = BAND_INTERIOR[cell.band]
    pref = TARGET_Z[cell.band] * se
    if cell.band == "ns":
        pref = NS_SMALL_B if cell.klass == "0.0x" else max(NS_LARGE_B, pref)
    lo, hi = max(lo_b, lo_z * se), min(hi_b, hi_z * se)
    if lo <= hi:
        b = float(np.clip(pref, lo, hi))
    elif hi_z * se < lo_b:  # the band wants a smaller |b| than the class allows
        b = lo_b
    else:  # the band wants a larger |b| than the class allows
        b = hi_b
    return cell.sign * b


def cell_targets(cells: list[Cell], se: np.ndarray) -> np.ndarray:
    """``cell_target`` for every cell."""
    return np.array([cell_target(c, float(s)) for c, s in zip(cells, se, strict=True)])


#: the whole band and class, less a thin margin (an over-identified block trades cells
#: off against each other: where their interiors conflict, the edges may still agree)
BAND_EDGE: dict[str, tuple[float, float]] = {
    "ns": (0.0, 1.90), "*": (2.02, 2.52), "**": (2.63, 3.24), "***": (3.35, np.inf),
}
CLASS_EDGE: dict[str, tuple[float, float]] = {
    "0.0x": (0.01, 0.09), "0.xx": (0.10, 0.99), "x.xx": (1.0, 2.5),
}


def cell_interval(cell: Cell, se: float, edge: bool = False) -> tuple[float, float]:
    """The signed interval of expected estimates that sit inside both the printed band
    and the printed class at SE ``se`` (their interiors, or with ``edge`` the whole band
    and class less a thin margin); where they do not meet, the single point
    ``cell_target``. Used where a block is over-identified (least squares)."""
    if cell.zero:
        return (-0.004, 0.004)
    lo_b, hi_b = (CLASS_EDGE if edge else CLASS_INTERIOR)[cell.klass]
    lo_z, hi_z = (BAND_EDGE if edge else BAND_INTERIOR)[cell.band]
    lo, hi = max(lo_b, lo_z * se), min(hi_b, hi_z * se)
    if lo > hi:
        t = cell_target(cell, se)
        return (t, t)
    return (lo, hi) if cell.sign > 0 else (-hi, -lo)
