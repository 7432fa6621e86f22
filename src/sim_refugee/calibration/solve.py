"""Indirect inference: the world's effect parameters solved to the paper's tables.

The unknowns are the structural coefficients of each equation the tables read:

* one block per Table 7 item: its 12 coefficients ``t7.<regressor>.<item>`` against
  the item's 12 printed cells (square);
* the employment equation ``job.<regressor>`` (13) against the 2SPLS column (square);
* the destination utilities ``dest.us.<x>`` and ``dest.sk.<x>`` (16 printed regressors
  and 2 unprinted circumstances each) against the 98 cells of the eight destination
  probits (over-identified: the four specifications of each destination share them).

Each cell's target is a z inside its printed band times the cell's SE at the paper's
valid N, kept inside the printed magnitude class (``cells.cell_target``; the
destination block aims anywhere inside the interior of each cell's band and class,
``cells.cell_interval``, except where one coefficient per regressor cannot reach every
cell of a demographic regressor's four specifications: there it aims only at the cells
a common coefficient reaches, ``ceiling.attainable_intervals``). In order
(CALIBRATION.md, step 2):

1. the square blocks by theta <- theta + J^-1 (b_target - b(theta)) on the plim map:
   the models fitted on a large expected paper-design sample (``expected.build_probe``),
   smooth and cheap. J starts as a diagonal of estimate-to-parameter ratios and is
   refined by Broyden's rank-one updates from accepted steps.
2. the destination block by robust least squares on a fast plim map that redraws only
   the destinations (``expected.DestMap``, ``_solve_dest``).
3. rounds of bias correction: R paper-design samples of n = 1,346 with item
   nonresponse at the current parameters (``expected.sampled_estimates``) give each
   cell's mean estimate and the SE that turns it into the mean z, the very statistic the
   check reads; both solves are repeated on the plim maps shifted by the samples'
   finite-sample difference (mean over samples minus plim, held fixed within a round),
   with targets from the samples' SEs. This matters because the raw SNP coefficients of
   Table 7 are weakly identified in a sample of 1,200 (their scale is pinned only by the
   first cut and the Hermite coefficients): their finite-sample mean and z differ from
   the large-sample limit by up to a z of one. Solving on the smooth plim map with a
   locally constant correction avoids iterating on the samples' map, which jumps where
   a sample's SNP fit changes mode.

Every stage uses common random numbers: the same population noise, expected-sample
roundings and sample seeds at every iteration. Steps are capped (``max_step``); a step
that fails a fit or worsens its block markedly is rejected and halved back. Nothing
upstream depends on the destination, and Table 7's items feed the 2SPLS (avgpsych), so
the destination comes last in each round.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim_refugee.calibration.ceiling import attainable_intervals
from sim_refugee.calibration.cells import (
    Cell,
    cell_interval,
    cell_targets,
    check_cells,
    paper_cells,
)
from sim_refugee.calibration.expected import (
    T9_PROBITS,
    TABLE_MODELS,
    DestMap,
    Probe,
    build_probe,
    cell_values,
    effective_se,
    expected_estimates,
    sampled_estimates,
)
from sim_refugee.seeds import seed_sequence
from sim_refugee.suite.specs import T9_PROBIT_DEMOGRAPHICS
from sim_refugee.targets import assumption_defaults
from sim_refugee.world import WorldConfig, build_population
from sim_refugee.world.model import (
    DEST_OMITTED,
    DEST_REGRESSORS,
    ITEMS,
    JOB_REGRESSORS,
    T7_REGRESSORS,
)

#: world regressor name -> suite term name
_TERM = {"age_decades": "age"}


@dataclass(frozen=True)
class Block:
    """A set of parameters solved against a set of cells."""

    name: str
    params: tuple[str, ...]
    cells: tuple[int, ...]  # positions in the cell list
    square: bool


def table_blocks(cells: list[Cell]) -> list[Block]:
    """The decoupled blocks: seven Table 7 items, employment, destination."""
    pos = {(c.model, c.term): i for i, c in enumerate(cells)}
    blocks = []
    for it in ITEMS:
        params = tuple(f"t7.{r}.{it}" for r in T7_REGRESSORS)
        idx = tuple(pos[(f"t7_{it}", r)] for r in T7_REGRESSORS)
        blocks.append(Block(f"t7_{it}", params, idx, True))
    params = tuple(f"job.{r}" for r in JOB_REGRESSORS)
    idx = tuple(pos[("t9_2spls_job", _TERM.get(r, r))] for r in JOB_REGRESSORS)
    blocks.append(Block("job", params, idx, True))
    params = tuple(f"dest.{d}.{r}" for d in ("us", "sk") for r in DEST_REGRESSORS + DEST_OMITTED)
    idx = tuple(i for i, c in enumerate(cells) if c.model in T9_PROBITS)
    blocks.append(Block("dest", params, idx, False))
    return blocks


def solved_parameters() -> tuple[str, ...]:
    """Every parameter the table calibration solves."""
    return tuple(p for b in table_blocks(paper_cells()) for p in b.params)


@dataclass
class Evaluation:
    """Expected estimates of every cell at one theta: b, the SE that maps b to the
    expected z, and what the stage needs to compute a Jacobian."""

    b: np.ndarray
    se: np.ndarray
    probe: Probe | None = None
    frame: pd.DataFrame | None = None
    detail: pd.DataFrame | None = None


@dataclass
class TableSolution:
    """The solved parameters, the expected cells at the solution, and the history."""

    theta: dict[str, float]
    cells: pd.DataFrame  # check_cells at the kept iterate, with target_b and se_n
    history: pd.DataFrame  # stage x iteration: max |z residual| per block, hits, seconds
    converged: bool
    meta: dict = field(default_factory=dict)


def _with(cfg: WorldConfig, theta: dict[str, float]) -> WorldConfig:
    return cfg.model_copy(update={"assumptions": {**cfg.assumptions, **theta}})


class PlimEvaluator:
    """Stage 1: fits on the world's large expected paper-design sample."""

    name = "plim"

    def __init__(self, cfg: WorldConfig, seed_seq: np.random.SeedSequence, m: int,
                 models: tuple[str, ...]):
        self.cfg, self.seed_seq, self.m, self.models = cfg, seed_seq, m, models

    def __call__(self, theta: dict[str, float], cells: list[Cell]) -> Evaluation:
        probe = build_probe(_with(self.cfg, theta), self.seed_seq, self.m)
        frame = probe.frame()
        est = expected_estimates(frame, self.models)
        b, se = cell_values(est, cells)
        return Evaluation(b, se, probe, frame)


def _pool(parts: list[pd.DataFrame], reps: list[int]) -> pd.DataFrame:
    """Per-cell summaries of samples from several populations, pooled: means weighted by
    each part's successful fits; MCSEs as of a stratified mean (populations fixed)."""
    n = np.column_stack([(1.0 - p["fail_rate"].to_numpy(float)) * r
                         for p, r in zip(parts, reps, strict=True)])
    tot = n.sum(1, keepdims=True)
    w = n / np.where(tot > 0, tot, 1.0)
    out = parts[0][["model", "term"]].copy()
    for col in ("mean_b", "mean_z", "median_se"):
        v = np.column_stack([p[col].to_numpy(float) for p in parts])
        out[col] = np.where(tot[:, 0] > 0, np.nansum(w * v, 1), np.nan)
    for col in ("mcse_b", "mcse_z"):
        v = np.column_stack([p[col].to_numpy(float) for p in parts])
        out[col] = np.where(tot[:, 0] > 0, np.sqrt(np.nansum((w * v) ** 2, 1)), np.nan)
    out["fail_rate"] = 1.0 - tot[:, 0] / sum(reps)
    return out.reset_index(drop=True)


class SampleEvaluator:
    """Stage 2: means over paper-design samples of n, from ``populations`` populations.

    Why several populations: a world is a distribution over populations, and a user's
    default world is a fresh draw from it. With one calibration population the solve
    also fits that population's own draw (a rare group such as traders, 2% of refugees,
    moves its cells between two populations by more than their band's margin), so it
    hit more cells on its own population than on a fresh one. ``reps`` samples are
    split evenly over the populations (population 0 is ``seed_seq``, population j > 0
    ``("calibration", j)`` under ``root``), and the per-cell means pool all of them."""

    name = "sample"

    def __init__(self, cfg: WorldConfig, seed_seq: np.random.SeedSequence, root: int,
                 reps: int, models: tuple[str, ...], n_jobs: int = 1, populations: int = 1):
        self.cfg, self.seed_seq, self.root, self.reps = cfg, seed_seq, root, reps
        self.models, self.n_jobs, self.populations = models, n_jobs, max(1, populations)

    def __call__(self, theta: dict[str, float], cells: list[Cell]) -> Evaluation:
        parts, counts = [], []
        for j in range(self.populations):
            seq = self.seed_seq if j == 0 else seed_sequence(self.root, "calibration", j)
            pop = build_population(_with(self.cfg, theta), seq)
            reps = self.reps // self.populations + (j < self.reps % self.populations)
            parts.append(sampled_estimates(pop, self.root, reps, cells, models=self.models,
                                           n_jobs=self.n_jobs))
            counts.append(reps)
            del pop
        det = parts[0] if len(parts) == 1 else _pool(parts, counts)
        b = det["mean_b"].to_numpy(float)
        se = effective_se(b, det["mean_z"].to_numpy(float), det["median_se"].to_numpy(float))
        return Evaluation(b, se, detail=det)


def _initial_jacobian(block: Block, theta: dict[str, float], b: np.ndarray) -> np.ndarray:
    """A diagonal of estimate-to-parameter ratios (the estimator's scale, and the unit
    of a regressor that the suite codes differently from the world, such as age): each
    ratio where the parameter is clearly nonzero and the ratio positive, kept within a
    factor 3 of the block's median; the median elsewhere."""
    th = np.array([theta[p] for p in block.params])
    bb = b[list(block.cells)]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = bb / th
    ok = (np.abs(th) > 0.05) & np.isfinite(ratio) & (ratio > 0)
    s = float(np.median(ratio[ok])) if ok.any() else 1.0
    s = float(np.clip(s, 0.2, 5.0))
    diag = np.where(ok, np.clip(ratio, s / 3.0, 3.0 * s), s)
    return np.diag(diag)


@dataclass
class _State:
    """What the iteration carries across stages."""

    theta: dict[str, float]
    jac: dict[str, np.ndarray | None]
    history: list[dict] = field(default_factory=list)


def _targets(cells: list[Cell], se: np.ndarray, fixed: dict[str, float] | None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Point targets and intervals of every cell (fixed: known numeric targets)."""
    if fixed is None:
        bt = cell_targets(cells, se)
        iv = np.array([cell_interval(c, float(x), edge=True)
                       for c, x in zip(cells, se, strict=True)])
    else:
        bt = np.array([fixed.get(c.key, np.nan) for c in cells])
        iv = np.column_stack([bt, bt])
    return bt, iv


def _stage(evaluate, state: _State, cells: list[Cell], use: list[Block],
           fixed: dict[str, float] | None, max_iter: int, tol_z: float, max_step: float,
           log) -> tuple[pd.DataFrame, bool]:
    """Iterate the square blocks on the plim map; returns the last check table and
    whether every block converged.

    Per block, a step that fails a fit or makes the block's squared z-residual more
    than 1.5 times (plus 1) worse is rejected and halved back towards the last
    accepted point (a safeguard against the jumps of a multimodal SNP likelihood); the
    Jacobians are refined by Broyden's rank-one updates from accepted steps (and kept
    across calls); the stage ends with every block at its best accepted point."""
    accepted: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
    best: dict[str, tuple[float, np.ndarray]] = {}
    converged = False
    rows_used = [i for blk in use for i in blk.cells]
    chk = None
    for it in range(max_iter + 1):
        t0 = time.perf_counter()
        ev = evaluate(state.theta, cells)
        b, se = ev.b, ev.se
        bt, _ = _targets(cells, se, fixed)
        resid = bt - b
        zres = resid / se
        chk = check_cells(cells, b, b / se, se).assign(target_b=bt, se_n=se)
        if ev.detail is not None:
            chk = chk.assign(mcse_b=ev.detail["mcse_b"].to_numpy(),
                             mcse_z=ev.detail["mcse_z"].to_numpy(),
                             fail_rate=ev.detail["fail_rate"].to_numpy())
        row: dict = {"stage": evaluate.name, "iteration": it}
        done = True
        for blk in use:
            ix = list(blk.cells)
            zr = zres[ix][np.isfinite(zres[ix])]
            row[blk.name] = float(np.max(np.abs(zr))) if len(zr) else np.nan
            done &= bool(row[blk.name] < tol_z)
        row["hits"] = int(chk.loc[rows_used, "hit"].sum())
        row["seconds"] = time.perf_counter() - t0
        state.history.append(row)
        log(" ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in row.items()))
        if done and it > 0:
            converged = True
            break
        if it == max_iter:
            break
        for blk in use:
            ix = list(blk.cells)
            th = np.array([state.theta[p] for p in blk.params])
            bb, rr, ss = b[ix], resid[ix], se[ix]
            ok = np.isfinite(bb) & np.isfinite(rr) & np.isfinite(ss)
            if not ok.any():
                continue
            # mean squared z-residual over the cells that could be estimated (a cell whose
            # fit fails in every sample, e.g. a separated dummy, must not stall the block)
            sq = float(np.mean((rr[ok] / ss[ok]) ** 2)) * len(ix)
            acc = accepted.get(blk.name)
            if acc is not None and sq > 1.5 * acc[2] + 1.0:  # reject: back off halfway
                new = acc[0] + 0.5 * (th - acc[0])
                for p, v in zip(blk.params, new, strict=True):
                    state.theta[p] = float(v)
                log(f"  {blk.name}: step rejected (z^2 {sq:.3g} vs {acc[2]:.3g}), halved")
                continue
            if blk.name not in best or sq < best[blk.name][0]:
                best[blk.name] = (sq, th.copy())
            jac = state.jac.get(blk.name)
            if acc is not None and jac is not None:  # Broyden: J += (db - J dth) dth'/|dth|^2
                db = bb - acc[1]
                dth, db = th - acc[0], np.where(np.isfinite(db), db, 0.0)
                nrm = float(dth @ dth)
                if nrm > 1e-12:
                    jac = jac + np.outer(db - jac @ dth, dth) / nrm
            if jac is None:
                jac = _initial_jacobian(blk, state.theta, b)
            state.jac[blk.name] = jac
            accepted[blk.name] = (th, bb, sq)
            step = np.linalg.lstsq(jac[ok], rr[ok], rcond=None)[0]
            big = float(np.max(np.abs(step)))
            if big > max_step:
                step *= max_step / big
            for p, v in zip(blk.params, th + step, strict=True):
                state.theta[p] = float(v)
    for name, (_, th) in best.items():  # every block at its best accepted point
        blk = next(b_ for b_ in use if b_.name == name)
        for p, v in zip(blk.params, th, strict=True):
            state.theta[p] = float(v)
    assert chk is not None
    return chk, converged


def _solve_dest(dmap: DestMap, state: _State, blk: Block, cells: list[Cell],
                shift: np.ndarray, se: np.ndarray | None, fixed: dict[str, float] | None,
                log, rounds: int = 8, h: float = 0.05, ridge: float = 0.3,
                max_step: float = 1.0, polish_steps: tuple[float, ...] = ()) -> None:
    """Least squares for the destination parameters on the fast plim map, aiming each
    cell anywhere inside the interior of its band and class. ``shift`` is added to the
    map (the Monte Carlo stage's finite-sample correction); ``se`` replaces the map's
    own SEs (the samples').

    Each round linearises the map at the current point (a finite-difference Jacobian:
    one redraw-and-refit per parameter) and solves the linear model's robust
    least-squares problem (scipy ``least_squares``: Huber loss on the distances to the
    intervals in z units, so cells the shared coefficients cannot fit do not pull the
    rest out, plus a ridge on the step, since some directions, such as the unprinted
    circumstances, barely move any cell). The intervals of the demographic regressors
    come from ``ceiling.attainable_intervals`` (recomputed each round at the current
    estimates): a cell that no coefficient common to the four specifications reaches
    together with the others has no interval, so it does not pull the group between two
    bands where it hits neither. The round with the most cells hit on the true map is
    kept."""
    from scipy.optimize import least_squares

    cs = [cells[i] for i in blk.cells]
    base = _with_dict(dmap.probe.a, state.theta)
    x = np.array([base[p] for p in blk.params])

    def at(xx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return dmap.values({**base, **dict(zip(blk.params, xx, strict=True))})

    def intervals(s_: np.ndarray, ref: np.ndarray | None = None) -> np.ndarray:
        if fixed is not None:
            t = np.array([fixed.get(c.key, np.nan) for c in cs])
            return np.column_stack([t, t])
        iv = np.array([cell_interval(c, float(v)) for c, v in zip(cs, s_, strict=True)])
        return attainable_intervals(cs, s_, iv, T9_PROBIT_DEMOGRAPHICS, ref)

    def hits(bb: np.ndarray, s_: np.ndarray) -> int:
        return int(check_cells(cs, bb, bb / s_)["hit"].sum())

    def loss(bb: np.ndarray, iv: np.ndarray, s_: np.ndarray) -> float:
        """The Huber loss (scale 1) of the distances to the intervals, in z units."""
        r = np.abs(np.clip(bb, iv[:, 0], iv[:, 1]) - bb) / s_
        return float(np.sum(np.where(r <= 1.0, 0.5 * r**2, r - 0.5)))

    b, se_map = at(x)
    best = (hits(b + shift, se_map if se is None else se), x.copy())
    for rnd in range(rounds):
        se_use = se_map if se is None else se
        iv = intervals(se_use, b + shift)
        jac = np.empty((len(cs), len(x)))
        for k in range(len(x)):
            e = np.zeros(len(x))
            e[k] = h
            jac[:, k] = (at(x + e)[0] - b) / h
        b_now = b + shift

        def lin_resid(d: np.ndarray, b_now=b_now, jac=jac, iv=iv, se_use=se_use) -> np.ndarray:
            bb = b_now + jac @ d
            return np.concatenate([(np.clip(bb, iv[:, 0], iv[:, 1]) - bb) / se_use,
                                   ridge * d])

        step = least_squares(lin_resid, np.zeros(len(x)), loss="huber", f_scale=1.0).x
        big = float(np.max(np.abs(step)))
        if big > max_step:
            step *= max_step / big
        now = loss(b_now, iv, se_use)
        for _ in range(4):  # backtrack while the true map does worse than now
            b_try, se_try = at(x + step)
            if loss(b_try + shift, iv, se_use) <= now:
                break
            step = step / 2.0
        else:
            log(f"  dest round {rnd}: no step improves the fit; stop")
            break
        x, b, se_map = x + step, b_try, se_try
        got = hits(b + shift, se_map if se is None else se)
        log(f"  dest round {rnd}: step {float(np.max(np.abs(step))):.3f}, {got} of {len(cs)} "
            "cells hit")
        if got > best[0]:
            best = (got, x.copy())
        if float(np.max(np.abs(step))) < 1e-3:
            break
    log(f"  dest least squares: {best[0]} of {len(cs)} cells hit "
        f"(plim{' + finite-sample correction' if shift.any() else ''})")
    x = best[1].copy()
    if polish_steps:  # intervals held at the polish's start (as each round holds its own)
        b0, s0 = at(x)
        iv_p = intervals(s0 if se is None else se, b0 + shift)
        x = _polish_dest(at, lambda bb, s_: hits(bb + shift, s_),
                         lambda bb, s_: loss(bb + shift, iv_p, s_), x, se,
                         polish_steps, log)
    for p, v in zip(blk.params, x, strict=True):
        state.theta[p] = float(v)


def _polish_dest(at, hits, loss, x: np.ndarray, se: np.ndarray | None,
                 steps: tuple[float, ...], log) -> np.ndarray:
    """Coordinate search on the cells hit, after the least squares.

    Why: the least squares weighs each cell's distance to its interval in z units, so
    a cell with a large SE (a rare regressor such as trader, 2% of refugees) that sits
    just outside its magnitude class costs almost nothing, and the step's ridge holds
    its coefficient back; the check, though, counts it as a miss. Here each parameter
    in turn is moved by +-step (for each step in ``steps``, largest first) and a move is
    kept when it hits more cells on the same corrected map, or as many with a smaller
    loss (cells moved into their intervals' interior). Sweeps repeat per step until
    one changes nothing (at most 3)."""
    def score(xx: np.ndarray) -> tuple[int, float]:
        bb, s_map = at(xx)
        s_ = s_map if se is None else se
        return hits(bb, s_), -loss(bb, s_)

    cur = score(x)
    start_hits = cur[0]
    for h in steps:
        for _ in range(3):
            moved = False
            for k in range(len(x)):
                for d in (h, -h):
                    xt = x.copy()
                    xt[k] += d
                    got = score(xt)
                    if got[0] > cur[0] or (got[0] == cur[0] and got[1] > cur[1] + 1e-9):
                        x, cur, moved = xt, got, True
                        break
            if not moved:
                break
    log(f"  dest polish: {start_hits} -> {cur[0]} cells hit")
    return x


def _with_dict(a: dict, theta: dict[str, float]) -> dict:
    return {**a, **theta}


def solve_tables(
    cfg: WorldConfig,
    seed: int = 2008,
    m: int = 60_000,
    plim_iter: int = 10,
    sample_iter: int = 3,
    sample_reps: int = 80,
    correction_iter: int = 6,
    dest_rounds: int = 8,
    dest_polish: tuple[float, ...] = (),
    sample_populations: int = 1,
    sample_size: int | None = None,
    targets: dict[str, float] | None = None,
    blocks: list[str] | None = None,
    tol_z: float = 0.05,
    max_step: float = 0.3,
    start: dict[str, float] | None = None,
    n_jobs: int = 1,
    log: Callable[[str], None] | None = None,
) -> TableSolution:
    """Solve the blocks' parameters so the expected estimates hit the targets.

    Order: (1) plim stage for the square blocks (``plim_iter`` iterations); (2) the
    destination block by least squares on its fast plim map (``DestMap``); then
    ``sample_iter`` rounds of (3) R = ``sample_reps`` paper-design samples at the
    current parameters, giving each cell's finite-sample difference (mean over samples
    minus plim) and its SE in the samples, and (4) both solves again on the plim maps
    shifted by that difference, with targets from the samples' SEs (``correction_iter``
    plim iterations). The samples are the statistic the check reads; the plim maps are
    smooth, so every solve is on a smooth map and the samples enter only through a
    locally constant correction (a bias-corrected indirect inference). Nothing upstream
    depends on the destination, so it comes last in each round.

    sample_populations: the samples of each Monte Carlo round are spread over this many
    populations (``SampleEvaluator``); dest_polish: the steps of the destination
    block's coordinate search on the cells hit (``_polish_dest``; () = none).
    cfg: the world (its size is the plim population's; ``sample_size`` the samples'
    population, default the same). seed: root of every stream (population
    ``("calibration", 0)``, expected-sample rounding, samples ``("sample", 0, r)``).
    targets: cell key ('model:term') -> expected estimate (a known-answer check); None
    = the printed patterns. blocks: names to solve (default all). start: starting
    values (default assumptions.yaml's own values, not the shipped solution, so the
    procedure does not depend on its last result). The solved parameters always
    replace cfg's; its other assumptions stay. sample_iter = 0: plim only.
    """
    log = log or (lambda s: None)
    cells = paper_cells()
    use = [b for b in table_blocks(cells) if blocks is None or b.name in blocks]
    square = [b for b in use if b.square]
    dest = [b for b in use if not b.square]
    a0 = assumption_defaults(solved=False)  # the documented start: assumptions.yaml
    state = _State({p: float((start or {}).get(p, a0[p])) for b in use for p in b.params},
                   {b.name: None for b in use})
    models = tuple(m_ for m_ in TABLE_MODELS
                   if any(cells[i].model == m_ for b in use for i in b.cells))
    sq_models = tuple(m_ for m_ in models if not m_.startswith(("t9_us", "t9_sk")))
    sq_cells = [i for b in square for i in b.cells]
    dest_cells = list(dest[0].cells) if dest else []
    pop_seq = seed_sequence(seed, "calibration", 0)
    t0 = time.perf_counter()
    plim = PlimEvaluator(cfg, pop_seq, m, sq_models)
    converged = True
    if square:
        _, converged = _stage(plim, state, cells, square, targets, plim_iter, tol_z, max_step,
                              log)
    if dest:
        dmap = DestMap(build_probe(_with(cfg, state.theta), pop_seq, m), cells, dest_cells)
        _solve_dest(dmap, state, dest[0], cells, np.zeros(len(dest_cells)), None, targets, log,
                    rounds=dest_rounds)
    final_ev = PlimEvaluator(cfg, pop_seq, m, models)
    if sample_iter > 0:
        scfg = cfg if sample_size is None else cfg.model_copy(update={"size": sample_size})
        final_ev = SampleEvaluator(scfg, pop_seq, seed, sample_reps, models, n_jobs,
                                   populations=sample_populations)
    for r in range(sample_iter):
        ev = final_ev(state.theta, cells)
        ok = np.isfinite(ev.b) & np.isfinite(ev.se)
        hits = int(check_cells(cells, ev.b, ev.b / ev.se)["hit"].sum())
        log(f"sample round {r}: {hits} of {len(cells)} cells hit in the samples")
        if square:
            p_ev = plim(state.theta, cells)
            diff = np.where(ok & np.isfinite(p_ev.b), ev.b - p_ev.b, 0.0)
            bt, _ = _targets(cells, np.where(ok, ev.se, p_ev.se), targets)
            fixed = {cells[i].key: float(bt[i] - diff[i]) for i in sq_cells}
            _, converged = _stage(plim, state, cells, square, fixed, correction_iter, tol_z,
                                  max_step, log)
        if dest:
            dmap = DestMap(build_probe(_with(cfg, state.theta), pop_seq, m), cells, dest_cells)
            b_plim, _ = dmap.values(_with_dict(dmap.probe.a, state.theta))
            ix = dest_cells
            shift = np.where(ok[ix], ev.b[ix] - b_plim, 0.0)
            _solve_dest(dmap, state, dest[0], cells, shift, np.where(ok[ix], ev.se[ix], 1.0),
                        targets, log, rounds=dest_rounds,
                        polish_steps=dest_polish if targets is None else ())
    final = final_ev(state.theta, cells)  # the check at the solution itself
    bt, _ = _targets(cells, final.se, targets)
    chk = check_cells(cells, final.b, final.b / final.se, final.se).assign(
        target_b=bt, se_n=final.se)
    if final.detail is not None:
        chk = chk.assign(mcse_b=final.detail["mcse_b"].to_numpy(),
                         mcse_z=final.detail["mcse_z"].to_numpy(),
                         fail_rate=final.detail["fail_rate"].to_numpy())
    log(f"final: {int(chk['hit'].sum())} of {len(chk)} cells hit")
    meta = {"seed": seed, "m": m, "size": cfg.size,
            "sample_size": sample_size or cfg.size, "sample_reps": sample_reps,
            "sample_populations": sample_populations,
            "plim_iter": plim_iter, "sample_iter": sample_iter,
            "correction_iter": correction_iter, "dest_rounds": dest_rounds,
            "dest_polish": list(dest_polish), "tol_z": tol_z,
            "seconds": round(time.perf_counter() - t0, 1)}
    return TableSolution(state.theta, chk, pd.DataFrame(state.history), converged, meta)
