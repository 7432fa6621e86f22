"""Raking (designs/weighting.py) against an implementation nobody here wrote.

Reference: the ``ipfn`` package (Dirk Forthomme, PyPI ``ipfn``, MIT licence), iterative
proportional fitting of a contingency table to its marginal totals (Deming & Stephan
1940). Raking unit weights to margins is IPF on the table of the raking cells (the
cross-classification of the margin columns) whose seed is the sum of the base weights
in each cell: every unit's raked weight is its base weight times its cell's IPF factor
(fitted total / seed total). Each case checks every unit's weight against that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.designs.weighting import rake

ipfn_mod = pytest.importorskip("ipfn.ipfn")


def ipfn_weights(frame: pd.DataFrame, margins: dict, base: np.ndarray, total: float) -> np.ndarray:
    """Unit weights from ipfn's fit of the cell table (the reference computation)."""
    cols = list(margins)
    levels = [list(margins[c]) for c in cols]
    codes = [pd.Categorical(frame[c], categories=lv).codes for c, lv in zip(cols, levels,
                                                                            strict=True)]
    shape = tuple(len(lv) for lv in levels)
    seed = np.zeros(shape)
    np.add.at(seed, tuple(codes), base)
    targets = [np.array([margins[c][k] for k in lv]) * total for c, lv in zip(cols, levels,
                                                                               strict=True)]
    fit = ipfn_mod.ipfn(seed.copy(), targets, [[i] for i in range(len(cols))],
                        convergence_rate=1e-14, max_iteration=20_000, rate_tolerance=0.0)
    fitted = fit.iteration()
    factor = np.divide(fitted, seed, out=np.zeros_like(seed), where=seed > 0)
    return base * factor[tuple(codes)]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "female": rng.binomial(1, 0.7, n),
        "province": rng.choice(["NH", "SH", "RG", "PY", "other"], n,
                               p=[0.5, 0.2, 0.1, 0.05, 0.15]),
        "urban": rng.binomial(1, 0.8, n),
        "age": rng.choice(["16-29", "30-39", "40-49", "50+"], n, p=[0.3, 0.35, 0.2, 0.15]),
    })


CASES = {
    "two margins, unit base weights": (
        {"female": {0: 0.45, 1: 0.55},
         "province": {"NH": 0.3, "SH": 0.25, "RG": 0.15, "PY": 0.1, "other": 0.2}},
        False, 1_000.0),
    "three margins, design weights": (
        {"female": {0: 0.4, 1: 0.6},
         "province": {"NH": 0.35, "SH": 0.2, "RG": 0.2, "PY": 0.05, "other": 0.2},
         "urban": {0: 0.3, 1: 0.7}},
        True, 50_000.0),
    "four margins, design weights": (
        {"female": {0: 0.5, 1: 0.5},
         "province": {"NH": 0.25, "SH": 0.25, "RG": 0.2, "PY": 0.1, "other": 0.2},
         "urban": {0: 0.45, 1: 0.55},
         "age": {"16-29": 0.2, "30-39": 0.3, "40-49": 0.3, "50+": 0.2}},
        True, 1.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rake_equals_ipfn_unit_by_unit(case):
    margins, weighted, total = CASES[case]
    frame = _frame(600, seed=len(case))
    base = (np.random.default_rng(3).uniform(0.5, 3.0, len(frame)) if weighted
            else np.ones(len(frame)))
    ours = rake(frame, margins, base_weights=base, total=total).to_numpy()
    ref = ipfn_weights(frame, margins, base, total)
    np.testing.assert_allclose(ours, ref, rtol=1e-8)
    # and it is not the trivial answer: raking moved the weights
    assert np.abs(ours / ours.sum() - base / base.sum()).max() > 1e-4


def test_rake_equals_ipfn_with_empty_cells():
    """Small sample with empty cross-cells (no PY women): the fit must still match."""
    frame = _frame(120, seed=9)
    frame = frame[~((frame["female"] == 1) & (frame["province"] == "PY"))].reset_index(drop=True)
    margins = {"female": {0: 0.45, 1: 0.55},
               "province": {"NH": 0.3, "SH": 0.25, "RG": 0.15, "PY": 0.1, "other": 0.2},
               "urban": {0: 0.25, 1: 0.75}}
    base = np.ones(len(frame))
    ours = rake(frame, margins, base_weights=base, total=len(frame)).to_numpy()
    np.testing.assert_allclose(ours, ipfn_weights(frame, margins, base, len(frame)), rtol=1e-8)
