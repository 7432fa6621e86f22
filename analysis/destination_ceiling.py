"""How many destination-probit cells of Table 9 can a world with one effect per regressor hit?

Table 9 prints the same regressor in four US and four SK probits, P(1)-P(4), which differ
in their other covariates and in their valid N. Where the printed star bands differ across
the four (northeast: ** in P(1) and P(3), *** in P(2) and P(4)), one coefficient can match
all of them only inside a narrow window set by the ratio of their standard errors. This
script takes the cell table of ``sim-refugee calibration-report --tables-out CELLS.csv``
and, for each (destination, regressor) group, finds the largest number of its cells that a
single common coefficient b satisfies (sign, magnitude class, star band), with each cell's
standard error taken from the report (expected b / expected z). With ``--margin m`` a cell
counts only if its expected z is at least m inside the band (and |b| at least m x 0.04
inside the class edge): a solution that hits a cell only at its edge loses it on about
half of the fresh populations (between-population SD of a cell's expected z is about 0.2).

The common-b model is an approximation (the world's coefficients differ a little across
P(1)-P(4) because the added covariates are correlated with the regressor); it shows which
groups limit the count, not the exact ceiling.

    python3 analysis/destination_ceiling.py CELLS.csv [--margin 0.2]
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import pandas as pd

BANDS = {"ns": (0.0, 1.645), "*": (1.645, 1.96), "**": (1.96, 2.576), "***": (2.576, np.inf)}


def parse(printed: str) -> tuple[bool, str, str, bool]:
    """(negative, magnitude class, star band, printed as exactly 0.00) of a printed cell."""
    text = printed.strip()
    negative = text.startswith("-")
    mag = text.lstrip("-")
    band = "ns" if "ns" in mag else re.search(r"\*+$", mag).group(0)
    num = mag.replace("ns", "").rstrip("*").strip()
    cls = "x.xx" if not num.startswith("0.") else ("0.0x" if num.startswith("0.0") else "0.xx")
    return negative, cls, band, num == "0.00"


def satisfies(printed: str, se: float, b: float, margin: float = 0.0) -> bool:
    """Would a cell with this standard error, estimating b, match its printed pattern?"""
    negative, cls, band, zero = parse(printed)
    ab, z = abs(b), abs(b / se)
    cm = 0.04 * margin
    if zero:
        ok_class, ok_sign = ab < 0.005, True
    else:
        ok_sign = (b < 0) == negative
        ok_class = {"0.0x": ab < 0.10 - cm, "0.xx": 0.10 + cm <= ab < 1.0, "x.xx": ab >= 1.0}[cls]
    lo, hi = BANDS[band]
    ok_band = lo + (margin if lo > 0 else 0.0) <= z < hi - margin
    return ok_sign and ok_class and ok_band


def ceiling(cells: pd.DataFrame, margin: float = 0.0, grid: np.ndarray | None = None) -> pd.DataFrame:
    """Per (destination, term): cells, cells hit now, and the most a common b can hit."""
    grid = np.linspace(-1.5, 1.5, 3001) if grid is None else grid
    dest = cells[cells["model"].str.match(r"t9_(us|sk)_p")].copy()
    dest["destination"] = dest["model"].str[3:5]
    dest["se"] = dest["expected_b"] / dest["expected_z"]
    rows = []
    for (d, term), g in dest.groupby(["destination", "term"]):
        best = max(sum(satisfies(r.printed, r.se, b, margin) for r in g.itertuples()) for b in grid)
        rows.append({"destination": d, "term": term, "cells": len(g), "hit_now": int(g["hit"].sum()),
                     "best_common_b": best})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cells", help="CSV of calibration-report --tables-out")
    ap.add_argument("--margin", type=float, nargs="*", default=[0.0, 0.1, 0.2])
    args = ap.parse_args()
    cells = pd.read_csv(args.cells)
    print(f"cells hit now: {int(cells['hit'].sum())} of {len(cells)}")
    for m in args.margin:
        table = ceiling(cells, m)
        if m == args.margin[0]:
            print(table.to_string(index=False))
        print(f"margin {m:.2f} z: destination cells hit now {table['hit_now'].sum()}, "
              f"at most {table['best_common_b'].sum()} of {table['cells'].sum()} with one b per group")


if __name__ == "__main__":
    main()
