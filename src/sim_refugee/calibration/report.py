"""The table check: a world sampled and analysed the paper's way, cell by cell.

``table_check`` draws R paper-design samples of n = 1,346 (keys ``("sample", 0, r)``)
from one population, fits the Table 7 and Table 9 models on each and compares the
mean estimate and mean z of every printed cell with its pattern (``cells``), and the
median valid N of every fit with its printed N pattern. Each miss gets a reason
(``explain``), so the report says why a cell cannot, or did not, match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim_refugee.calibration.cells import (
    BAND_EDGE,
    CLASS_EDGE,
    CLASS_EDGES,
    N_PATTERNS,
    Z_STARS,
    Cell,
    cell_interval,
    check_cells,
    n_matches,
    paper_cells,
)
from sim_refugee.calibration.expected import TABLE_MODELS, effective_se, sampled_estimates
from sim_refugee.calibration.nonresponse import PAPER_N

#: why a cell misses (the first that applies)
REASONS = {
    "conflict": "printed class and stars cannot both hold at this SE (the class wins)",
    "shared": "the destination probits share one utility per destination across "
              "P(1)-P(4): this cell's band is not reached together with the others of its "
              "regressor (calibration.ceiling), or the least squares traded it off",
    "noise": "within 2 Monte Carlo SEs of a band or class edge",
    "failed": "the fit failed in most samples (quasi-separation of a rare dummy)",
    "other": "the calibration did not reach it",
}


@dataclass
class TableCheck:
    """Cells (check_cells plus MCSEs and a reason per miss) and valid Ns per fit."""

    cells: pd.DataFrame
    valid_n: pd.DataFrame
    reps: int

    @property
    def hits(self) -> int:
        return int(self.cells["hit"].sum())

    @property
    def n_hits(self) -> int:
        return int(self.valid_n["match"].sum())

    def summary(self) -> str:
        by = self.cells.groupby("table")["hit"].agg(["sum", "count"])
        parts = [f"Table {t}: {int(r['sum'])} of {int(r['count'])}" for t, r in by.iterrows()]
        return (f"{self.hits} of {len(self.cells)} cells hit ({'; '.join(parts)}); "
                f"valid N: {self.n_hits} of {len(self.valid_n)} fits match "
                f"(means over {self.reps} paper-design samples of {PAPER_N:,})")


def _edge_distance(cell: Cell, b: float, z: float, mcse_b: float, mcse_z: float) -> float:
    """The smallest distance, in Monte Carlo SEs, from (b, z) to an edge that decides
    the cell (its band's edges in z, its class's edges in |b|)."""
    edges_z = [e for e in Z_STARS]
    edges_b = list(CLASS_EDGES[:2])
    dz = min(abs(abs(z) - e) for e in edges_z) / mcse_z if mcse_z > 0 else np.inf
    db = min(abs(abs(b) - e) for e in edges_b) / mcse_b if mcse_b > 0 else np.inf
    return float(min(dz, db))


def explain(cells: list[Cell], chk: pd.DataFrame) -> list[str]:
    """A reason (key of ``REASONS``) for every miss, '' for a hit."""
    out = []
    for c, row in zip(cells, chk.itertuples(index=False), strict=True):
        if row.hit:
            out.append("")
        elif getattr(row, "fail_rate", 0.0) > 0.5 or not np.isfinite(row.expected_b):
            out.append("failed")
        elif _conflict(c, row.se_n):
            out.append("conflict")
        elif _edge_distance(c, row.expected_b, row.expected_z, row.mcse_b, row.mcse_z) < 2.0:
            out.append("noise")
        elif c.model.startswith(("t9_us", "t9_sk")):
            out.append("shared")
        else:
            out.append("other")
    return out


def _conflict(cell: Cell, se: float) -> bool:
    """No |b| inside both the printed class and the printed band at SE se."""
    if cell.zero or not np.isfinite(se):
        return False
    lo_b, hi_b = CLASS_EDGE[cell.klass]
    lo_z, hi_z = BAND_EDGE[cell.band]
    return max(lo_b, lo_z * se) > min(hi_b, hi_z * se)


def table_check(pop: pd.DataFrame, root: int = 0, reps: int = 40, n_jobs: int = 1) -> TableCheck:
    """The cell-by-cell check of one population (see module docstring)."""
    cells = paper_cells()
    det, nobs = sampled_estimates(pop, root, reps, cells, n_jobs=n_jobs, with_nobs=True)
    b = det["mean_b"].to_numpy(float)
    z = det["mean_z"].to_numpy(float)
    se = effective_se(b, z, det["median_se"].to_numpy(float))
    chk = check_cells(cells, b, z, se).assign(
        se_n=se, mcse_b=det["mcse_b"].to_numpy(), mcse_z=det["mcse_z"].to_numpy(),
        fail_rate=det["fail_rate"].to_numpy())
    chk["target_lo"], chk["target_hi"] = np.array(
        [cell_interval(c, float(s)) for c, s in zip(cells, se, strict=True)]).T
    reasons = explain(cells, chk)
    chk["reason"] = reasons
    chk["why"] = [REASONS.get(r, "") for r in reasons]
    rows = []
    for model in TABLE_MODELS:
        med = float(np.median(nobs[model])) if len(nobs[model]) else np.nan
        low = float(np.sort(nobs[model])[(len(nobs[model]) - 1) // 2]) if len(nobs[model]) else np.nan
        rows.append({"model": model, "printed": N_PATTERNS[model], "median_n": med,
                     "median_low_n": low, "min_n": float(np.min(nobs[model])),
                     "max_n": float(np.max(nobs[model])),
                     "match": n_matches(low, N_PATTERNS[model])})
    return TableCheck(chk, pd.DataFrame(rows), reps)


def format_cells(chk: pd.DataFrame) -> str:
    """The cell table as text: printed pattern beside expected b and z, hit or why not."""
    t = chk.assign(
        b=chk["expected_b"].map(lambda v: f"{v:8.3f}"),
        z=chk["expected_z"].map(lambda v: f"{v:7.2f}"),
        ours=chk["class"] + " " + chk["band"],
        result=np.where(chk["hit"], "hit", "MISS: " + chk["why"]),
    )
    cols = ["table", "column", "term", "printed", "b", "z", "ours", "result"]
    return t[cols].to_string(index=False)
