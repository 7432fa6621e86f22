"""How many destination-probit cells of Table 9 can a world with one effect per regressor hit?

Table 9 prints the same regressor in four US and four SK probits, P(1)-P(4), which differ
in their other covariates and in their valid N. Where the printed star bands differ across
the four (northeast: ** in P(1) and P(3), *** in P(2) and P(4)), one coefficient can match
all of them only inside a narrow window set by the ratio of their standard errors. This
script takes the cell table of ``sim-refugee calibration-report --tables-out CELLS.csv``
and, for each (destination, regressor) group, finds the largest number of its cells that a
single common coefficient satisfies (``calibration.ceiling.common_ceiling``: the check's
own sign, class and star rules), with each cell's SE at the paper's valid N from the
report (``se_n``). With a margin m a cell counts only if it stays hit when its expected
estimate moves by m SEs either way: a solution that hits a cell only at its edge loses it
on about half of the fresh populations (between-population SD of a cell's expected z is
about 0.2).

The common-b model is an approximation (the world's coefficients differ a little across
P(1)-P(4) because the experiences a specification leaves out are correlated with the
regressor); it shows which groups limit the count, not an exact bound.

    python3 analysis/destination_ceiling.py CELLS.csv [--margin 0 0.1 0.2]
"""

from __future__ import annotations

import argparse

import pandas as pd

from sim_refugee.calibration.ceiling import common_ceiling, destination_groups
from sim_refugee.calibration.cells import paper_cells


def ceiling_table(table: pd.DataFrame, margin: float = 0.0) -> pd.DataFrame:
    """Per (destination, term) of a report's cell table: cells, hit now, most one b hits."""
    cells = paper_cells()
    idx = table.set_index(["model", "term"])
    se = idx["se_n"].reindex([(c.model, c.term) for c in cells]).to_numpy(float)
    hit = idx["hit"].reindex([(c.model, c.term) for c in cells]).fillna(False).to_numpy(bool)
    out = common_ceiling(cells, se, margin)
    groups = destination_groups(cells)
    out["hit_now"] = [int(hit[groups[(d, t)]].sum())
                      for d, t in zip(out["destination"], out["term"], strict=True)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cells", help="CSV of calibration-report --tables-out")
    ap.add_argument("--margin", type=float, nargs="*", default=[0.0, 0.1, 0.2])
    args = ap.parse_args()
    table = pd.read_csv(args.cells)
    print(f"cells hit now: {int(table['hit'].sum())} of {len(table)}")
    for m in args.margin:
        t = ceiling_table(table, m)
        if m == args.margin[0]:
            print(t.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(f"margin {m:.2f} z: destination cells hit now {t['hit_now'].sum()}, "
              f"at most {t['best'].sum()} of {t['cells'].sum()} with one b per group")


if __name__ == "__main__":
    main()
