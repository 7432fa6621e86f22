"""The destination block's polish: a coordinate search that keeps moves adding hits."""

from __future__ import annotations

import numpy as np

from sim_refugee.calibration.solve import _polish_dest


def _problem(lo: np.ndarray, hi: np.ndarray):
    """A map b = A x with known intervals [lo, hi] per cell (SE 1)."""
    a = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])

    def at(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return a @ x, np.ones(3)

    def hits(b: np.ndarray, s: np.ndarray) -> int:
        return int(((b >= lo) & (b <= hi)).sum())

    def loss(b: np.ndarray, s: np.ndarray) -> float:
        r = np.abs(np.clip(b, lo, hi) - b) / s
        return float(np.sum(r**2))

    return at, hits, loss


def test_polish_reaches_cells_the_start_misses() -> None:
    lo, hi = np.array([0.25, -0.6, -0.2]), np.array([0.45, -0.35, 0.1])
    at, hits, loss = _problem(lo, hi)
    x0 = np.zeros(2)
    assert hits(*at(x0)) == 1  # only the third cell
    x = _polish_dest(at, hits, loss, x0, None, (0.2, 0.1, 0.05), lambda s: None)
    b, _ = at(x)
    assert hits(b, np.ones(3)) == 3
    assert lo[0] <= x[0] <= hi[0] and lo[1] <= x[1] <= hi[1]


def test_polish_never_loses_a_hit() -> None:
    """A start hitting every cell stays hitting every cell (moves only add hits or move
    inwards at equal hits)."""
    lo, hi = np.array([0.0, 0.0, 0.0]), np.array([0.5, 0.5, 0.5])
    at, hits, loss = _problem(lo, hi)
    x0 = np.array([0.45, 0.05])
    x = _polish_dest(at, hits, loss, x0, None, (0.2, 0.1), lambda s: None)
    assert hits(*at(x)) == 3
    assert loss(*at(x)) <= loss(*at(x0))


def test_pool_weights_parts_by_successful_fits() -> None:
    """Two populations' per-cell summaries pool into the mean over every successful fit,
    with the MCSE of a stratified mean."""
    import pandas as pd

    from sim_refugee.calibration.solve import _pool

    def part(mean_b: float, mcse: float, fail: float) -> pd.DataFrame:
        return pd.DataFrame({"model": ["m"], "term": ["t"], "mean_b": [mean_b],
                             "mcse_b": [mcse], "mean_z": [2 * mean_b], "mcse_z": [2 * mcse],
                             "median_se": [0.5], "fail_rate": [fail]})

    # 40 samples with 30 successes (mean 1.0), 40 with 10 successes (mean 2.0)
    out = _pool([part(1.0, 0.1, 0.25), part(2.0, 0.2, 0.75)], [40, 40])
    assert out["mean_b"].iloc[0] == (30 * 1.0 + 10 * 2.0) / 40
    assert np.isclose(out["mcse_b"].iloc[0], np.sqrt((0.75 * 0.1) ** 2 + (0.25 * 0.2) ** 2))
    assert out["fail_rate"].iloc[0] == 0.5
    assert out["median_se"].iloc[0] == 0.5


def test_cli_refuses_bad_solver_options(capsys) -> None:
    from sim_refugee.cli import main

    for argv, key in ((["--dest-polish", "0.2,x"], "--dest-polish"),
                      (["--dest-polish", "-0.1"], "--dest-polish"),
                      (["--sample-populations", "0"], "--sample-populations")):
        assert main(["calibrate-tables", "--out", "never.json", *argv]) == 2
        assert key in capsys.readouterr().err
