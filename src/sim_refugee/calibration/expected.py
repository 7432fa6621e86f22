"""What a world's paper-design sample gives in expectation: the indirect-inference map.

A ``Probe`` is one world (integer-coded columns and the noise behind them) with a large
EXPECTED paper-design sample: about M rows, each person repeated in proportion to their expected share of a paper-design sample of
n = 1,346 (``world.calibrate.sample_weights``: site quotas, reach, without-replacement
depletion). Fitting the suite's Table 7 and Table 9 models on it gives, up to the
finite-sample bias of the estimators, the mean estimate of the paper design; the SE at
the paper's valid N is the large-sample SE times sqrt(M / N). Each person's count is
rounded with a fixed uniform of their own: the common random numbers of the scheme,
so a small change of the world moves few rows and the map from parameters to
estimates is smooth (a systematic selection in population order is not: one person's
change of weight shifts every later selection).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim_refugee.calibration.cells import Cell, paper_cells
from sim_refugee.calibration.nonresponse import PAPER_N, valid_n
from sim_refugee.designs.artefacts import paper_nonresponse_shares
from sim_refugee.seeds import child_rng
from sim_refugee.suite import fit_models
from sim_refugee.suite.specs import T7_ITEMS
from sim_refugee.world import WorldConfig
from sim_refugee.world.calibrate import calibrate, margin_specs, sample_weights, solver_targets
from sim_refugee.world.generator import population_frame
from sim_refugee.world.model import Cols, dest_utilities, draw_noise, solve_dest_constants

T7_MODELS: tuple[str, ...] = tuple(f"t7_{it}" for it in T7_ITEMS)
T9_PROBITS: tuple[str, ...] = tuple(f"t9_{d}_p{k}" for d in ("us", "sk") for k in (1, 2, 3, 4))
T9_MODELS: tuple[str, ...] = ("t9_2spls_job", *T9_PROBITS)
TABLE_MODELS: tuple[str, ...] = T7_MODELS + T9_MODELS


@dataclass
class Probe:
    """A world and its large expected paper-design sample (rows into the population)."""

    cfg: WorldConfig
    a: dict
    z: Cols
    cols: Cols
    theta: dict
    rows: np.ndarray

    @property
    def m(self) -> int:
        return len(self.rows)

    def frame(self) -> pd.DataFrame:
        """The large sample as a Contract 1 frame."""
        return population_frame(self.cols, self.rows)


def build_probe(cfg: WorldConfig, seed_seq: np.random.SeedSequence, m: int) -> Probe:
    """Build (and margin-calibrate) the world, then draw its expected sample of m rows."""
    a = cfg.resolved_assumptions()
    z = draw_noise(cfg.size, seed_seq)
    cols, res = calibrate(z, a, cfg.effects, cfg.calibration, cfg.selection, cfg.targets,
                          cfg.calibration_tol, cfg.calibration_n)
    omega = sample_weights(cols, cfg.selection, a, cfg.calibration_n)
    u = child_rng(seed_seq, "expected_sample").random(cfg.size)
    return Probe(cfg, a, z, cols, res.theta, rounded_rows(omega, m, u))


def rounded_rows(omega: np.ndarray, m: int, u: np.ndarray) -> np.ndarray:
    """Population positions, person i repeated floor(m omega_i + u_i) times (about m
    rows; omega sums to 1). ``u`` is one fixed uniform per person: a small change of
    omega changes only the people whose rounding it crosses, so the expected sample
    (and the estimates on it) move smoothly with the world's parameters."""
    counts = np.floor(m * omega / omega.sum() + u).astype(np.int64)
    return np.repeat(np.arange(len(omega), dtype=np.int64), counts)


def paper_valid_n(models: tuple[str, ...] = TABLE_MODELS, n: int = PAPER_N) -> dict[str, int]:
    """Each fit's valid N in a paper-design sample of n (default item nonresponse)."""
    shares = paper_nonresponse_shares()
    return {m: valid_n(m, shares, n) for m in models}


def expected_estimates(
    frame: pd.DataFrame, models: tuple[str, ...] = TABLE_MODELS, n: int = PAPER_N,
) -> pd.DataFrame:
    """The models fitted on a large expected sample (each SNP fit from sneop's start, as
    in a sample), with ``se_n`` (the SE at the fit's valid N in a sample of n) and
    ``z`` = estimate / se_n."""
    est = fit_models(frame, list(models))
    vn = paper_valid_n(tuple(dict.fromkeys(est["model"])), n)
    nvalid = est["model"].map(vn).to_numpy(float)
    est["se_n"] = est["se"].to_numpy(float) * np.sqrt(est["nobs"].to_numpy(float) / nvalid)
    est["z"] = est["estimate"] / est["se_n"]
    return est


def cell_values(est: pd.DataFrame, cells: list[Cell] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(estimate, se_n) of every cell, from an ``expected_estimates`` frame."""
    cells = paper_cells() if cells is None else cells
    idx = est.set_index(["model", "term"])
    keys = [(c.model, c.term) for c in cells]
    sub = idx.reindex(keys)
    return sub["estimate"].to_numpy(float), sub["se_n"].to_numpy(float)


# ------------------------------------------------------------ Monte Carlo means ------
def _sample_cells(pop: pd.DataFrame, root: int, reps: list[int], n: int,
                  keys: list[tuple[str, str]], models: tuple[str, ...]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and SEs (len(reps), 2, cells) of paper-design samples ``reps``, and
    each model's valid N (len(reps), models)."""
    from sim_refugee.designs import get_design
    from sim_refugee.seeds import rng_for

    paper = get_design("paper")
    params = paper.Params()
    state = paper.prepare(pop, params, rng_for(root, "prepare", 0, "paper"))
    out = np.full((len(reps), 2, len(keys)), np.nan)
    nobs = np.full((len(reps), len(models)), np.nan)
    for i, r in enumerate(reps):
        sample = paper.draw(pop, state, n, params, rng_for(root, "sample", 0, r))
        est = fit_models(sample, list(models))
        nobs[i] = est.groupby("model", sort=False)["nobs"].first().reindex(list(models))
        est = est.set_index(["model", "term"]).reindex(keys)
        ok = (est["status"] == "ok").to_numpy()
        out[i, 0] = np.where(ok, est["estimate"].to_numpy(float), np.nan)
        out[i, 1] = np.where(ok, est["se"].to_numpy(float), np.nan)
    return out, nobs


def sample_arrays(
    pop: pd.DataFrame, root: int, reps: int, cells: list[Cell] | None = None,
    n: int = PAPER_N, models: tuple[str, ...] = TABLE_MODELS, n_jobs: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per paper-design sample r < ``reps`` (keys ``("sample", 0, r)`` under ``root``):
    every cell's estimate and SE (reps x cells, NaN where the fit failed) and every
    model's valid N (reps x models)."""
    from joblib import Parallel, delayed

    cells = paper_cells() if cells is None else cells
    keys = [(c.model, c.term) for c in cells]
    chunks = [list(range(reps))[k::max(n_jobs, 1)] for k in range(max(n_jobs, 1))]
    chunks = [c for c in chunks if c]
    if n_jobs > 1:
        parts = Parallel(n_jobs=n_jobs)(
            delayed(_sample_cells)(pop, root, c, n, keys, models) for c in chunks)
    else:
        parts = [_sample_cells(pop, root, c, n, keys, models) for c in chunks]
    arr = np.full((reps, 2, len(keys)), np.nan)
    nobs = np.full((reps, len(models)), np.nan)
    for c, (part, part_n) in zip(chunks, parts, strict=True):
        arr[c] = part
        nobs[c] = part_n
    return arr[:, 0], arr[:, 1], nobs


def sampled_estimates(
    pop: pd.DataFrame, root: int, reps: int, cells: list[Cell] | None = None,
    n: int = PAPER_N, models: tuple[str, ...] = TABLE_MODELS, n_jobs: int = 1,
    with_nobs: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Per cell, over ``reps`` paper-design samples of n (``sample_arrays``): mean
    estimate, mean z, their Monte Carlo SEs, median SE and the share of failed fits. The
    expected estimate and z of the issue's check, and the map the Monte Carlo stage of
    the calibration solves."""
    cells = paper_cells() if cells is None else cells
    b, s, nobs = sample_arrays(pop, root, reps, cells, n, models, n_jobs)
    return summarise_samples(cells, b, s, nobs if with_nobs else None, models)


def summarise_samples(
    cells: list[Cell], b: np.ndarray, s: np.ndarray, nobs: np.ndarray | None = None,
    models: tuple[str, ...] = TABLE_MODELS,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The per-cell summary of ``sampled_estimates`` from the per-sample arrays (and,
    with ``nobs``, each model's valid Ns of the samples that fitted)."""
    reps = b.shape[0]
    z = b / s
    cnt = np.isfinite(z).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-failed cell is NaN
        det = pd.DataFrame({
            "model": [c.model for c in cells], "term": [c.term for c in cells],
            "mean_b": np.nanmean(b, 0), "mcse_b": np.nanstd(b, 0, ddof=1) / np.sqrt(cnt),
            "mean_z": np.nanmean(z, 0), "mcse_z": np.nanstd(z, 0, ddof=1) / np.sqrt(cnt),
            "median_se": np.nanmedian(s, 0), "fail_rate": 1.0 - cnt / reps,
        })
    if nobs is not None:
        return det, {m: nobs[:, j][np.isfinite(nobs[:, j])] for j, m in enumerate(models)}
    return det


def effective_se(mean_b: np.ndarray, mean_z: np.ndarray, median_se: np.ndarray) -> np.ndarray:
    """The SE that turns the mean estimate into the mean z (mean_b / mean_z), or the
    median SE where |mean z| is too small for the ratio to be stable."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = mean_b / mean_z
    return np.where((np.abs(mean_z) >= 0.5) & (ratio > 0), ratio, median_se)


class DestMap:
    """The destination probits' cells as a fast function of the destination
    parameters, on a probe's large expected sample: only the destinations are redrawn
    (nothing depends on them) and the eight probits are fitted on arrays by Newton (the
    suite's unweighted probit is the same maximum likelihood estimator)."""

    def __init__(self, probe: Probe, cells: list[Cell], index: list[int]):
        from sim_refugee.suite.run import regressor_frame
        from sim_refugee.suite.specs import MODELS

        self.probe = probe
        rows = probe.rows
        self.sub = {k: v[rows] for k, v in probe.cols.items()}
        self.zd = probe.z["dest"][rows]
        frame = probe.frame()
        reg = regressor_frame(frame)
        self.specs = [MODELS[m] for m in T9_PROBITS]
        self.x = {s.name: np.column_stack([reg[c].to_numpy(float) for c in s.exog]
                                          + [np.ones(len(reg))]) for s in self.specs}
        self.where = [(cells[i].model, list(MODELS[cells[i].model].exog).index(cells[i].term))
                      for i in index]
        self.target = solver_targets(margin_specs(probe.a, probe.cfg.targets), probe.a)["dest"]
        self.valid = paper_valid_n(T9_PROBITS)
        self.start: dict[str, np.ndarray] = {}  # the probit is concave: warm starts are safe

    def values(self, a: dict) -> tuple[np.ndarray, np.ndarray]:
        """(estimate, SE at the paper's valid N) of each cell under assumptions ``a``."""
        from threadpoolctl import threadpool_limits

        from sim_refugee.estimators.probit import fit_probit_arrays

        util = dest_utilities(self.sub, self.zd, a)
        w = np.full(len(util), 1.0 / len(util))
        asc = solve_dest_constants(util, w, self.probe.theta["dest"], self.target)
        dest = np.argmax(util + asc, axis=1)
        fits = {}
        with threadpool_limits(limits=1, user_api="blas"):
            for s in self.specs:
                y = (dest == (1 if s.endog == "prefer_us" else 0)).astype(float)
                res, _ = fit_probit_arrays(y, self.x[s.name], start=self.start.get(s.name))
                self.start[s.name] = res.x
                cov = np.linalg.inv(-res.hess)
                scale = np.sqrt(len(y) / self.valid[s.name])
                fits[s.name] = (res.x, np.sqrt(np.diag(cov)) * scale)
        b = np.array([fits[m][0][j] for m, j in self.where])
        se = np.array([fits[m][1][j] for m, j in self.where])
        return b, se
