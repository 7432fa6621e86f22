"""Run a tipping config: one root search per (target, map row), driven in lockstep, with
the replications run by the engine's own tasks and backends.

Replications. Probe point (row, k) runs the engine's unit (population, design
preparation, replicate; the census fit where the target needs it) through
``engine.tasks.execute_task``, with replication r drawn from
``rng_for(root_seed, "tipping", k, r)``: keyed by the grid index, not by the map row or
the target. So every target reads the same replications at a point (one run of the unit
serves all targets), the map rows share common random numbers (a smoother boundary),
and a result depends only on (config, k, r): identical whatever the backend, worker
count, chunk size or the other targets in the file. The population is the engine's
(``("population", 0)``), so it is the population ``sim-refugee run`` builds for the
same world.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sim_refugee.engine.backends import make_backend
from sim_refugee.engine.config import BackendSection, stable_hash
from sim_refugee.engine.tasks import TaskSpec
from sim_refugee.errors import UserInputError
from sim_refugee.tipping.config import TippingConfig
from sim_refugee.tipping.rootfind import Request, RootResult, RootSearch, run_searches
from sim_refugee.validation import check_output

STREAM = "tipping"


@dataclass
class _Point:
    """Outcomes computed so far at one probe point (row, k)."""

    events: np.ndarray  # (reps, targets) 0/1
    judged: np.ndarray  # (reps, targets) bool
    n: int = 0


class ProbeEvaluator:
    """Answers the searches' requests: runs the missing replications of every requested
    point as one batch of engine tasks, keeps each point's outcomes for all targets."""

    def __init__(self, cfg: TippingConfig, backend: Any, searches: list[tuple[int, int]]
                 ) -> None:
        self.cfg = cfg
        self.backend = backend
        self.searches = searches  # search index -> (row, target index)
        self.points: dict[tuple[int, int], _Point] = {}
        self.estimands: dict[str, xr.Dataset] = {}
        self.computed = 0
        self.rounds = 0
        self.need_theta = any(t.kind == "coverage" for t in cfg.targets)

    def _common(self, row: int, k: int) -> dict[str, Any]:
        cond = self.cfg.condition(row, k)
        return dict(unit=self.cfg.experiment.unit_name, root_seed=self.cfg.experiment.root_seed,
                    config_hash=self.cfg.config_hash, cond_index=row, world_hash=cond.world_hash,
                    world=cond.world, unit_params=cond.unit_params, pop_index=0)

    def estimand(self, row: int, k: int) -> xr.Dataset:
        """The census fit of point (row, k)'s world (computed by ``ensure_estimands``)."""
        return self.estimands[self.cfg.condition(row, k).world_hash]

    def ensure_estimands(self, points: list[tuple[int, int]]) -> None:
        """Census fits of the worlds of ``points`` not computed yet (one task each)."""
        specs, seen = [], set(self.estimands)
        for row, k in points:
            wh = self.cfg.condition(row, k).world_hash
            if wh not in seen:
                seen.add(wh)
                specs.append(TaskSpec(kind="estimand", **self._common(row, k)))
        for spec, ds in self.backend.run(specs):
            self.estimands[spec.world_hash] = ds

    def __call__(self, items: list[tuple[int, Request]]) -> list[np.ndarray]:
        self.rounds += 1
        need: dict[tuple[int, int], int] = {}
        for i, req in items:
            key = (self.searches[i][0], req.k)
            need[key] = max(need.get(key, 0), req.m)
        new = [key for key in need if key not in self.points]
        # the truth column reads the census at each row's lower end; coverage at every point
        self.ensure_estimands([key for key in new if self.need_theta or key[1] == 0])
        specs = []
        cs = self.cfg.experiment.file.experiment.chunk_size
        n_t = len(self.cfg.targets)
        for (row, k), m in need.items():
            pt = self.points.get((row, k))
            if pt is None:
                pt = self.points[(row, k)] = _Point(np.zeros((0, n_t)), np.zeros((0, n_t), bool))
            if m <= pt.n:
                continue
            pt.events = np.concatenate([pt.events, np.zeros((m - pt.n, n_t))])
            pt.judged = np.concatenate([pt.judged, np.zeros((m - pt.n, n_t), bool)])
            cond = self.cfg.condition(row, k)
            dp = cond.design_params[self.cfg.design]
            for start in range(pt.n, m, cs):
                specs.append(TaskSpec(
                    kind="reps", design=self.cfg.design,
                    design_name=self.cfg.experiment.design_names[self.cfg.design],
                    design_params=dp, dparams_hash=stable_hash(dp), n=cond.n,
                    rep_start=start, rep_stop=min(m, start + cs), stream=(STREAM, k),
                    **self._common(row, k)))
        by_cond = {(s.cond_index, s.stream[1]) for s in specs}
        for spec, ds in self.backend.run(specs):
            row, k = spec.cond_index, int(spec.stream[1])
            self._store(row, k, spec, ds)
            self.computed += spec.n_reps
        for key in by_cond:
            self.points[key].n = len(self.points[key].events)
        out = []
        for i, req in items:
            row, t = self.searches[i]
            out.append(self.points[(row, req.k)].events[: req.m, t].copy())
        return out

    def _store(self, row: int, k: int, spec: TaskSpec, ds: xr.Dataset) -> None:
        pt = self.points[(row, k)]
        est = self.estimand(row, k) if self.need_theta else None
        for t, target in enumerate(self.cfg.targets):
            ev, judged = target.events(ds, est)
            pt.events[spec.rep_start:spec.rep_stop, t] = ev
            pt.judged[spec.rep_start:spec.rep_stop, t] = judged

    def failures(self, row: int, t: int, res: RootResult) -> int:
        """Replications the search used in which its target could not be judged."""
        return int(sum((~self.points[(row, pr.k)].judged[: pr.m, t]).sum() for pr in res.probes))


@dataclass
class TippingRun:
    """Everything a tipping run produced (written by ``output.write_outputs``)."""

    cfg: TippingConfig
    results: list[tuple[int, int, RootResult]]  # (row, target index, result)
    truth: dict[tuple[int, int], float]
    failures: dict[tuple[int, int], int]
    computed: int
    rounds: int
    seconds: float
    backend: dict[str, Any]


def check_out(out: str | Path) -> Path:
    """--out must be writable and hold no earlier run (nothing is overwritten)."""
    p = check_output(out, "--out", kind="dir")
    if p.exists() and any(p.iterdir()):
        raise UserInputError(f"output folder {str(p)!r} is not empty; choose another --out",
                             key="--out")
    return p


def run_tipping(cfg: TippingConfig, backend: BackendSection | None = None,
                on_done: Callable[[int, int, RootResult], None] | None = None) -> TippingRun:
    """Run every (map row, target) search of ``cfg``; nothing is written here."""
    section = backend or cfg.experiment.file.backend
    t0 = time.perf_counter()
    be = make_backend(section, cfg.experiment.file.cluster)
    pairs = [(row, t) for row in range(cfg.rows) for t in range(len(cfg.targets))]
    searches = [RootSearch(cfg.space, cfg.targets[t].threshold, cfg.solver) for _, t in pairs]
    def done(i: int, res: RootResult) -> None:
        if on_done is not None:
            on_done(*pairs[i], res)

    try:
        ev = ProbeEvaluator(cfg, be, pairs)
        results = run_searches(searches, ev, done)
    finally:
        with contextlib.suppress(Exception):
            be.close()
    out = []
    truth, failures = {}, {}
    for (row, t), res in zip(pairs, results, strict=True):
        out.append((row, t, res))
        est = ev.estimands.get(cfg.condition(row, 0).world_hash)
        truth[(row, t)] = cfg.targets[t].truth(est) if est is not None else math.nan
        failures[(row, t)] = ev.failures(row, t, res)
    return TippingRun(cfg, out, truth, failures, ev.computed, ev.rounds,
                      time.perf_counter() - t0, section.model_dump())
