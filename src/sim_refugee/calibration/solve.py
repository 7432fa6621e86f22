"""Indirect inference: the world's effect parameters solved to the paper's tables.

The unknowns are the structural coefficients of each equation the tables read:

* one block per Table 7 item: its 12 coefficients ``t7.<regressor>.<item>`` against
  the item's 12 printed cells (square);
* the employment equation ``job.<regressor>`` (13) against the 2SPLS column (square);
* the two destination utilities ``dest.us.<regressor>`` and ``dest.sk.<regressor>``
  (32) against the 98 cells of the eight destination probits (over-identified: the
  four specifications of each destination share them).

Each cell's target is a z inside its printed band times the cell's SE, kept inside the
printed magnitude class (``cells.cell_target``; the over-identified destination block
aims anywhere inside each cell's band and class less a thin margin,
``cells.cell_interval``: where the interiors of cells sharing a coefficient conflict,
their edges may still agree). The iteration is
theta <- theta + J^-1 (b_target - b(theta)) per block (CALIBRATION.md, step 2), in two
stages that differ in how b(theta) is computed:

1. ``plim``: the models fitted on a large expected paper-design sample
   (``expected.build_probe``): smooth and cheap, it gets every block close.
2. ``sample``: the mean estimate and mean z over R paper-design samples of n = 1,346
   with item nonresponse (``expected.sampled_estimates``), the very statistic the
   check reads. It is needed because the raw SNP coefficients of Table 7 are weakly
   identified in a sample of 1,200 (their scale is pinned only by the first cut and the
   Hermite coefficients), so their finite-sample mean and z differ from the large-sample
   limit by up to a z of one.

Both stages use common random numbers: the same population noise, expected-sample
roundings and sample seeds at every iteration. J starts as a diagonal of
estimate-to-parameter ratios (square blocks) or a finite-difference Jacobian that
redraws only the destinations (the destination block); Broyden's rank-one updates
refine it from the observed steps of the plim stage; the sample stage keeps it frozen
and damps its steps (its map jumps a little where a sample's SNP fit changes mode,
which would corrupt rank-one updates). Steps are capped
(``max_step``); a step that fails a fit or worsens its block markedly is rejected and
halved back, and each stage ends with every block at its best accepted point.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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
    Probe,
    build_probe,
    cell_values,
    effective_se,
    expected_estimates,
    redraw_destination,
    sampled_estimates,
)
from sim_refugee.seeds import seed_sequence
from sim_refugee.suite import fit_models
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


class SampleEvaluator:
    """Stage 2: means over paper-design samples of n from one population."""

    name = "sample"

    def __init__(self, cfg: WorldConfig, seed_seq: np.random.SeedSequence, root: int,
                 reps: int, models: tuple[str, ...], n_jobs: int = 1):
        self.cfg, self.seed_seq, self.root, self.reps = cfg, seed_seq, root, reps
        self.models, self.n_jobs = models, n_jobs

    def __call__(self, theta: dict[str, float], cells: list[Cell]) -> Evaluation:
        pop = build_population(_with(self.cfg, theta), self.seed_seq)
        det = sampled_estimates(pop, self.root, self.reps, cells, models=self.models,
                                n_jobs=self.n_jobs)
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


def _dest_jacobian(probe: Probe, frame: pd.DataFrame, a: dict, block: Block,
                   cells: list[Cell], h: float = 0.05) -> np.ndarray:
    """Finite-difference Jacobian of the destination cells, redrawing only destinations."""
    keys = [(cells[i].model, cells[i].term) for i in block.cells]

    def values(aa: dict) -> np.ndarray:
        est = fit_models(redraw_destination(probe, frame, aa), list(T9_PROBITS))
        return est.set_index(["model", "term"]).reindex(keys)["estimate"].to_numpy(float)

    base = values(a)
    jac = np.empty((len(keys), len(block.params)))
    for j, p in enumerate(block.params):
        jac[:, j] = (values({**a, p: a[p] + h}) - base) / h
    return jac


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
           ridge: float, cfg: WorldConfig, seed_seq, m: int, log, broyden: bool = True,
           damping: float = 1.0) -> tuple[pd.DataFrame, bool]:
    """Iterate one stage; returns the check table at the end and convergence.

    Per block, a step that fails a fit or makes the block's squared z-residual more
    than 1.5 times (plus 1) worse is rejected and halved back towards the last
    accepted point (a safeguard against the jumps of a multimodal SNP likelihood);
    the stage ends with every block at its best accepted point. broyden: refine the
    Jacobians from accepted steps (the smooth plim stage); the Monte Carlo stage keeps
    them frozen (its map has small jumps where a sample's SNP fit changes mode, which
    would corrupt rank-one updates) and damps its steps."""
    accepted: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
    best: dict[str, tuple[float, np.ndarray]] = {}
    converged = False
    rows_used = [i for blk in use for i in blk.cells]
    chk = None
    for it in range(max_iter + 1):
        t0 = time.perf_counter()
        ev = evaluate(state.theta, cells)
        b, se = ev.b, ev.se
        bt, iv = _targets(cells, se, fixed)
        resid = bt - b
        for blk in use:  # over-identified blocks aim anywhere inside each cell's interval
            if not blk.square:
                ix = list(blk.cells)
                resid[ix] = np.clip(b[ix], iv[ix, 0], iv[ix, 1]) - b[ix]
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
            done &= bool(row[blk.name] < tol_z) if blk.square else True
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
            if acc is not None and jac is not None and broyden:  # J += (db - J dth) dth'/|dth|^2
                db = bb - acc[1]
                dth, db = th - acc[0], np.where(np.isfinite(db), db, 0.0)
                nrm = float(dth @ dth)
                if nrm > 1e-12:
                    jac = jac + np.outer(db - jac @ dth, dth) / nrm
            if jac is None:
                if blk.square:
                    jac = _initial_jacobian(blk, state.theta, b)
                else:
                    probe, frame = ev.probe, ev.frame
                    if probe is None:
                        probe = build_probe(_with(cfg, state.theta), seed_seq, m)
                        frame = probe.frame()
                    jac = _dest_jacobian(probe, frame, probe.a, blk, cells)
            state.jac[blk.name] = jac
            accepted[blk.name] = (th, bb, sq)
            if blk.square:
                step = np.linalg.lstsq(jac[ok], rr[ok], rcond=None)[0]
            else:  # ridge-damped Gauss-Newton in z units, Huber weights (c = 0.5 z) so
                # the few cells the structure cannot fit do not pull the others out
                zr = rr[ok] / ss[ok]
                hw = np.sqrt(np.minimum(1.0, 0.5 / np.maximum(np.abs(zr), 1e-12)))
                jw = jac[ok] / ss[ok, None] * hw[:, None]
                step = np.linalg.solve(jw.T @ jw + ridge * np.eye(jac.shape[1]),
                                       jw.T @ (zr * hw))
            step *= damping
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


def solve_tables(
    cfg: WorldConfig,
    seed: int = 2008,
    m: int = 60_000,
    plim_iter: int = 8,
    sample_iter: int = 8,
    sample_reps: int = 80,
    sample_size: int | None = None,
    targets: dict[str, float] | None = None,
    blocks: list[str] | None = None,
    tol_z: float = 0.05,
    sample_tol_z: float = 0.15,
    max_step: float = 0.3,
    ridge: float = 0.05,
    start: dict[str, float] | None = None,
    n_jobs: int = 1,
    log: Callable[[str], None] | None = None,
) -> TableSolution:
    """Solve the blocks' parameters so the expected estimates hit the targets.

    cfg: the world (its size is the plim stage's population; ``sample_size`` the sample
    stage's, default the same). seed: root of every stream (population
    ``("calibration", 0)``, expected sample, samples ``("sample", 0, r)``).
    targets: cell key ('model:term') -> expected estimate (a known-answer check); None
    = the printed patterns. blocks: names to solve (default all). start: starting
    values (default assumptions.yaml's own values, not the shipped solution, so the
    procedure does not depend on its last result). The solved parameters always
    replace cfg's; its other assumptions stay. sample_iter = 0 skips stage 2.
    """
    log = log or (lambda s: None)
    cells = paper_cells()
    use = [b for b in table_blocks(cells) if blocks is None or b.name in blocks]
    a0 = assumption_defaults(solved=False)  # the documented start: assumptions.yaml
    state = _State({p: float((start or {}).get(p, a0[p])) for b in use for p in b.params},
                   {b.name: None for b in use})
    models = tuple(m_ for m_ in TABLE_MODELS
                   if any(cells[i].model == m_ for b in use for i in b.cells))
    pop_seq = seed_sequence(seed, "calibration", 0)
    t0 = time.perf_counter()
    ev = PlimEvaluator(cfg, pop_seq, m, models)
    _, converged = _stage(ev, state, cells, use, targets, plim_iter, tol_z, max_step, ridge,
                          cfg, pop_seq, m, log)
    if sample_iter > 0:
        scfg = cfg if sample_size is None else cfg.model_copy(update={"size": sample_size})
        ev = SampleEvaluator(scfg, pop_seq, seed, sample_reps, models, n_jobs)
        _, converged = _stage(ev, state, cells, use, targets, sample_iter, sample_tol_z,
                              max_step, ridge, cfg, pop_seq, m, log, broyden=False,
                              damping=0.8)
    final = ev(state.theta, cells)  # the check at the solution itself
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
            "plim_iter": plim_iter, "sample_iter": sample_iter, "tol_z": tol_z,
            "seconds": round(time.perf_counter() - t0, 1)}
    return TableSolution(state.theta, chk, pd.DataFrame(state.history), converged, meta)
