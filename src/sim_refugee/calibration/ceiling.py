"""How many printed cells can a world be expected to match, and would the truth match them?

The table check compares a world's EXPECTED estimates with one printed table, itself a
single sample. Two limits follow, both computed here from the same sign / class / band
rules as the check (``cells.check_cells``):

* **One effect per regressor** (``common_ceiling``). Table 9 prints each regressor in four
  US and four SK probits, P(1)-P(4), whose standard errors differ by a few percent. A
  world in which the regressor has one effect gives it nearly one expected coefficient in
  all four; where the printed star bands differ across the four, a single coefficient
  satisfies them only in a narrow window, or not at all. For each (destination,
  regressor) group this counts the most cells any single coefficient satisfies at the
  given SEs.
* **The truth's own score** (``truth_scores``). If a world were the real population, the
  paper's table would be one of its samples. Treating each simulated sample in turn as
  "the paper" (its estimates printed as sign, class and stars) and checking the mean of
  the other samples against it gives the score the check awards to the true world, and
  its spread; the same samples' destination patterns give the common-coefficient count
  that sampling noise alone leaves in a world with one effect per regressor, to compare
  with the printed table's own.

Both are computed on the SEs of the world at hand, so they describe what that world's
design and sample sizes allow; they do not depend on its coefficients except through
those SEs (the ceiling) or through where its expected estimates sit in their bands (the
truth's score).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim_refugee.calibration.cells import Cell, magnitude_class, star_band

#: suite models of the destination probits
DEST_PREFIXES: tuple[str, ...] = ("t9_us_", "t9_sk_")
#: candidate common coefficients of ``common_ceiling`` (fine enough for every band edge)
DEFAULT_GRID: np.ndarray = np.linspace(-2.5, 2.5, 10_001)


def pattern_hits(cells: list[Cell], b: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Whether estimates b with z statistics z print as each cell's pattern (sign, class,
    band: the rules of ``check_cells``), elementwise; b and z broadcast over a leading
    axis (e.g. candidate values x cells)."""
    b = np.asarray(b, dtype=float)
    z = np.asarray(z, dtype=float)
    sign = np.array([c.sign for c in cells])
    klass = np.array([c.klass for c in cells], dtype=object)
    band = np.array([c.band for c in cells], dtype=object)
    ok = (np.sign(b) == sign) | (np.abs(b) < 0.005)
    ok &= magnitude_class(b) == klass
    ok &= star_band(z) == band
    return ok & np.isfinite(b) & np.isfinite(z)


def robust_hits(cells: list[Cell], b: np.ndarray, se: np.ndarray, margin: float) -> np.ndarray:
    """``pattern_hits`` that also hold when every expected estimate moves by ``margin``
    of its SE either way (a hit that survives a shift of ``margin`` in z)."""
    ok = pattern_hits(cells, b, b / se)
    if margin > 0:
        for d in (-margin, margin):
            bb = b + d * se
            ok &= pattern_hits(cells, bb, bb / se)
    return ok


def destination_groups(cells: list[Cell]) -> dict[tuple[str, str], list[int]]:
    """(destination, term) -> positions of its destination-probit cells."""
    out: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(cells):
        if c.model.startswith(DEST_PREFIXES):
            out.setdefault((c.model[3:5], c.term), []).append(i)
    return out


def _grid_counts(cells: list[Cell], se: np.ndarray, margin: float,
                 grid: np.ndarray) -> np.ndarray:
    """For each candidate common coefficient on ``grid``: how many of ``cells`` it hits
    at SEs ``se`` with ``margin``."""
    cand = np.broadcast_to(grid[:, None], (len(grid), len(cells)))
    s = np.broadcast_to(np.asarray(se, dtype=float)[None, :], cand.shape)
    return robust_hits(cells, cand, s, margin).sum(1)


def _window(count: np.ndarray, grid: np.ndarray, centre: float | None) -> tuple[float, float]:
    """The run of grid values where ``count`` is largest: the first one, or with
    ``centre`` the one whose middle is nearest to it."""
    at = np.flatnonzero(count == count.max())
    runs = np.split(at, np.flatnonzero(np.diff(at) != 1) + 1)
    if centre is not None:
        runs.sort(key=lambda r: abs(0.5 * (grid[r[0]] + grid[r[-1]]) - centre))
    return float(grid[runs[0][0]]), float(grid[runs[0][-1]])


def common_ceiling(cells: list[Cell], se: np.ndarray, margin: float = 0.0,
                   grid: np.ndarray = DEFAULT_GRID) -> pd.DataFrame:
    """Per (destination, term): its cells and the most of them one coefficient b, the
    same in P(1)-P(4), matches at these SEs (with ``margin`` as in ``robust_hits``), and
    the interval of b that attains it (its first maximising run on ``grid``)."""
    se = np.asarray(se, dtype=float)
    rows = []
    for (dest, term), ix in destination_groups(cells).items():
        count = _grid_counts([cells[i] for i in ix], se[ix], margin, grid)
        lo, hi = _window(count, grid, None)
        rows.append({"destination": dest, "term": term, "cells": len(ix),
                     "best": int(count.max()), "b_lo": lo, "b_hi": hi})
    return pd.DataFrame(rows, columns=["destination", "term", "cells", "best", "b_lo", "b_hi"])


def sample_cells(cells: list[Cell], b: np.ndarray, z: np.ndarray) -> list[Cell]:
    """The cells as one sample with estimates b and z statistics z would print them
    (a fit that failed keeps NaN: its cell cannot be matched)."""
    out = []
    for c, bb, zz in zip(cells, b, z, strict=True):
        zero = bool(abs(bb) < 0.005)
        sign = 1 if zero or not bb < 0 else -1
        klass = str(magnitude_class(bb)) if np.isfinite(bb) else ""
        band = str(star_band(zz)) if np.isfinite(zz) else ""
        out.append(Cell(c.table, c.model, c.term, c.column, "", sign, klass, zero, band))
    return out


def block_of(cell: Cell) -> str:
    """'t7', '2spls' or 'dest': the block of the calibration a cell belongs to."""
    if cell.table == "7":
        return "t7"
    return "dest" if cell.model.startswith(DEST_PREFIXES) else "2spls"


def truth_scores(cells: list[Cell], b: np.ndarray, s: np.ndarray, se_world: np.ndarray,
                 margins: tuple[float, ...] = (0.0,)) -> pd.DataFrame:
    """Per simulated sample i (rows of b and s, reps x cells): the check's score when
    sample i plays the printed table and the mean of the other samples the world's
    expectation (hits in all, and per block), and the common-coefficient count of
    sample i's destination pattern at the world's SEs ``se_world`` (the same SEs the
    printed table's count is taken at, e.g. ``expected.effective_se`` of all the
    samples), for each margin in ``margins``."""
    b = np.asarray(b, dtype=float)
    z = b / np.asarray(s, dtype=float)
    reps = b.shape[0]
    cnt = np.isfinite(z).sum(0)
    sum_b, sum_z = np.nansum(b, 0), np.nansum(z, 0)
    blocks = np.array([block_of(c) for c in cells])
    rows = []
    for i in range(reps):
        pat = sample_cells(cells, b[i], z[i])
        fin = np.isfinite(z[i])
        k = cnt - fin
        with np.errstate(invalid="ignore", divide="ignore"):
            mb = (sum_b - np.where(fin, b[i], 0.0)) / k
            mz = (sum_z - np.where(fin, z[i], 0.0)) / k
        hit = pattern_hits(pat, mb, mz)
        row = {"sample": i, "hits": int(hit.sum()), "undecodable": int((~fin).sum())}
        for blk in ("t7", "2spls", "dest"):
            row[f"hits_{blk}"] = int(hit[blocks == blk].sum())
        for m in margins:
            row[f"dest_ceiling_{m:g}"] = int(common_ceiling(pat, se_world, m)["best"].sum())
        rows.append(row)
    return pd.DataFrame(rows)



#: margins (z units) tried, largest first, for the cells a common coefficient can hit
ATTAINABLE_MARGINS: tuple[float, ...] = (0.3, 0.2, 0.1, 0.0)


def hit_interval(cell: Cell, se: float, margin: float,
                 grid: np.ndarray = DEFAULT_GRID) -> tuple[float, float]:
    """The smallest and largest b on ``grid`` that hit ``cell`` at SE ``se`` with
    ``margin`` (``robust_hits``); (nan, nan) if none does."""
    ok = robust_hits([cell], grid[:, None], np.full((len(grid), 1), se), margin)[:, 0]
    if not ok.any():
        return (np.nan, np.nan)
    return (float(grid[ok].min()), float(grid[ok].max()))


def attainable_intervals(cells: list[Cell], se: np.ndarray, base: np.ndarray,
                         terms: tuple[str, ...], ref: np.ndarray | None = None,
                         grid: np.ndarray = DEFAULT_GRID) -> np.ndarray:
    """Intervals for the destination least squares that give up on what one effect per
    regressor cannot reach.

    For each (destination, term) group with ``term`` in ``terms``: the largest margin
    of ``ATTAINABLE_MARGINS`` at which one coefficient still hits as many of its cells
    as the edges allow; the window of such coefficients (of several, the one nearest
    the group's mean ``ref``, the current estimates, so the choice is stable); then each
    cell the window's middle hits gets its own hit interval at that margin, and each
    cell it does not hit gets (-inf, inf): no pull, since no common coefficient reaches
    it together with the others. Other cells keep their ``base`` interval (rows of
    (lo, hi))."""
    out = np.array(base, dtype=float, copy=True)
    se = np.asarray(se, dtype=float)
    for (_dest, term), ix in destination_groups(cells).items():
        if term not in terms or not np.isfinite(se[ix]).all():
            continue
        sub = [cells[i] for i in ix]
        best = int(_grid_counts(sub, se[ix], 0.0, grid).max())
        for m in sorted(ATTAINABLE_MARGINS, reverse=True):
            count = _grid_counts(sub, se[ix], m, grid)
            if int(count.max()) == best:
                break
        centre = 0.0 if ref is None else float(np.nanmean(np.asarray(ref)[ix]))
        mid = 0.5 * sum(_window(count, grid, centre))
        keep = robust_hits(sub, np.full(len(ix), mid), se[ix], m)
        for k, i in enumerate(ix):
            out[i] = hit_interval(cells[i], float(se[i]), m) if keep[k] else (-np.inf, np.inf)
    return out
