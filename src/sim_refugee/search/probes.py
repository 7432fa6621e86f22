"""Probe evaluation shared by the tipping solver and the planner: the outcomes of a root
search's requests, computed by running the engine's unit through its tasks and backends.

``cfg`` is a ``tipping.config.TippingConfig`` (one design, a direction, targets); the
planner builds one per (design, scenario). Replication r at probe point (row, k) is drawn
from ``rng_for(root_seed, stream, stream_key(k), r)``: the tipping solver keys by the
grid index k (``stream = "tipping"``), the planner by the parameter's value (``"plan"``),
so equal sample sizes share common random numbers across designs and scenarios.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from sim_refugee.engine.config import stable_hash
from sim_refugee.engine.tasks import TaskSpec
from sim_refugee.search.rootfind import Request, RootResult


@dataclass
class _Point:
    """Outcomes computed so far at one probe point (row, k)."""

    events: np.ndarray  # (reps, targets) 0/1
    judged: np.ndarray  # (reps, targets) bool
    n: int = 0


class ProbeEvaluator:
    """Answers the searches' requests: runs the missing replications of every requested
    point as one batch of engine tasks, keeps each point's outcomes for all targets."""

    def __init__(self, cfg: Any, backend: Any, searches: list[tuple[int, int]],
                 stream: str = "tipping", stream_key: Callable[[int], int] | None = None,
                 estimands: dict[str, xr.Dataset] | None = None) -> None:
        self.cfg = cfg
        self.stream = stream
        self.stream_key = stream_key or (lambda k: k)
        self.backend = backend
        self.searches = searches  # search index -> (row, target index)
        self.points: dict[tuple[int, int], _Point] = {}
        # census fits by world hash; may be shared by evaluators of one world (the planner)
        self.estimands: dict[str, xr.Dataset] = {} if estimands is None else estimands
        self.computed = 0
        self.rounds = 0
        self.need_theta = any(t.kind in ("coverage", "rmse") for t in cfg.targets)

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
        # the truth column reads the census at each row's lower end; coverage and RMSE at
        # every point
        self.ensure_estimands([key for key in new if self.need_theta or key[1] == 0])
        specs = []
        back: dict[tuple[int, int], int] = {}  # (row, stream key) -> grid index
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
                    rep_start=start, rep_stop=min(m, start + cs),
                    stream=(self.stream, self.stream_key(k)), **self._common(row, k)))
                back[(row, self.stream_key(k))] = k
        by_cond = {(s.cond_index, back[(s.cond_index, int(s.stream[1]))]) for s in specs}
        for spec, ds in self.backend.run(specs):
            row = spec.cond_index
            k = back[(row, int(spec.stream[1]))]
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
