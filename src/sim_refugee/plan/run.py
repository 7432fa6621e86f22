"""Run a plan: per (design, scenario), the smallest value of the searched parameter that
reaches every power target; per design, the worst case over scenarios; a check of every
target at that value in every scenario; the cheapest design whose worst case passes.

1. *Search.* Each power target (a claim holding, a term significant with its sign, in at
   least ``share`` of samples) of each (design, scenario) is a root search of the shared
   stochastic root finder (``search.rootfind``: noisy bisection with sequential binomial
   tests, local probit fit with Fieller's CI, confirmation); each RMSE target (the RMSE
   of a term against its census value at most ``max``) a search of ``search.rmse``
   (sequential tests of the MSE, a weighted fit of MSE = a + v / x, Fieller's CI,
   confirmation); all driven in lockstep. The value needed is ceil(root) (the lower end
   if reached there already; none if never within the range, or if the bias alone
   exceeds ``max``: status ``unreachable``). Power is assumed to increase, RMSE to
   decrease, with the parameter.
2. *Worst case.* A design's planned value is the largest needed over its scenarios and
   targets: the configuration that reaches every power target in every scenario. With
   ``plan.conservative`` (the default) each target's value is the upper end of its
   root's confidence interval, so the plan reaches the power with that confidence
   rather than at the point estimate (which is short of it half the time).
3. *Check.* At the planned value, ``check_replications`` replications per scenario
   measure every target: the power of each power target, the coverage of each coverage
   target (the share of 95% intervals covering the census value), the RMSE of each RMSE
   target (it fails when more than 3 MCSEs above ``max``). Coverage is
   checked, not searched: under selection bias it falls as n grows, so no larger n
   restores it; a design fails a target in a scenario when the measured value is more
   than 3 binomial MCSEs (at the value asked) below the value asked.
4. *Choice.* Among designs that reach every power target and pass every check in every
   scenario, the one with the lowest cost (``plan.costs``) at its planned value.

Seeds: replication r at value v of the parameter is drawn from
``rng_for(root_seed, "plan", v, r)`` whatever the design and scenario (common random
numbers: differences between designs at equal n are not Monte Carlo noise of the draws).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim_refugee.engine.backends import make_backend
from sim_refugee.engine.config import BackendSection
from sim_refugee.plan.config import PlanConfig
from sim_refugee.plan.costs import cost
from sim_refugee.search.probes import ProbeEvaluator
from sim_refugee.search.rmse import UNREACHABLE, RmseSearch, error_measures
from sim_refugee.search.rootfind import (
    CONFIRM_Z,
    NEVER_TIPS,
    TIPPED_AT_LOWER,
    Request,
    RootResult,
    RootSearch,
    Search,
    run_searches,
)

STREAM = "plan"


def needed(res: RootResult, lower: int, upper_bound: bool = False) -> float:
    """The smallest integer value reaching the target (inf: never in range or
    unreachable; NaN: unknown);
    ``upper_bound``: the upper end of the root's CI instead (the root itself if the CI is
    not bounded above)."""
    if res.status == TIPPED_AT_LOWER:
        return float(lower)
    if res.status in (NEVER_TIPS, UNREACHABLE):
        return math.inf
    if not math.isfinite(res.value):
        return math.nan
    v = res.ci_high if upper_bound and math.isfinite(res.ci_high) else res.value
    return float(max(math.ceil(v - 1e-9), lower))


@dataclass
class Check:
    """Every target measured at the planned value in one cell."""

    value: int
    m: int
    events: np.ndarray  # (targets,) events among m (for an RMSE target: not meaningful)
    judged: np.ndarray  # (targets,) judged replications
    values: np.ndarray | None = None  # (m, targets) outcomes: 0/1, or errors (RMSE)


@dataclass
class PlanRun:
    """Everything a plan run produced (written by ``output.write_outputs``)."""

    cfg: PlanConfig
    searches: dict[tuple[int, int], RootResult]  # (cell, target index) -> result
    needed: dict[int, float]  # cell -> value needed (max over searched targets)
    planned: dict[str, float]  # design -> worst case over scenarios
    checks: dict[int, Check]  # cell -> the check at the planned value
    computed: int
    seconds: float
    backend: dict[str, Any]
    evaluators: dict[int, ProbeEvaluator] = field(default_factory=dict, repr=False)

    def cell_index(self, i: int) -> int:
        """The cell whose computations cell i shares (itself unless identical to an earlier)."""
        s = self.cfg.cells[i].same_as
        return i if s is None else s


def power_targets(cfg: PlanConfig) -> list[int]:
    """Indices of the claim and term targets (searched as shares)."""
    t0 = cfg.cells[0].cfg.targets
    return [i for i, t in enumerate(t0) if t.kind in ("claim", "term")]


def rmse_targets(cfg: PlanConfig) -> list[int]:
    """Indices of the RMSE targets (searched by ``search.rmse``)."""
    return [i for i, t in enumerate(cfg.cells[0].cfg.targets) if t.kind == "rmse"]


def searched_targets(cfg: PlanConfig) -> list[int]:
    """Every searched target (power and RMSE; coverage is only checked), in config order."""
    return sorted(power_targets(cfg) + rmse_targets(cfg))


def run_plan(cfg: PlanConfig, backend: BackendSection | None = None,
             on_done: Callable[[int, int, RootResult], None] | None = None,
             on_round: Callable[[int, float], None] | None = None) -> PlanRun:
    """Search, take the worst case, check, over every (design, scenario); nothing written.
    ``on_done(cell, target, result)`` as each search ends; ``on_round(replications
    computed, seconds)`` after each round of requests."""
    base = cfg.cells[0].cfg
    section = backend or base.experiment.file.backend
    t0 = time.perf_counter()
    be = make_backend(section, base.experiment.file.cluster)
    unique = [i for i, c in enumerate(cfg.cells) if c.same_as is None]
    ptargets = searched_targets(cfg)
    try:
        evs: dict[int, ProbeEvaluator] = {}
        census: dict[str, Any] = {}  # one census fit per world, shared by the cells
        for i in unique:
            c = cfg.cells[i].cfg
            evs[i] = ProbeEvaluator(c, be, [(0, t) for t in range(len(c.targets))],
                                    stream=STREAM,
                                    stream_key=lambda k, s=c.space: int(round(s.value(k))),
                                    estimands=census)
        pairs = [(i, t) for i in unique for t in ptargets]
        searches: list[Search] = []
        for i, t in pairs:
            c = cfg.cells[i].cfg
            kind = RmseSearch if c.targets[t].kind == "rmse" else RootSearch
            searches.append(kind(c.space, c.targets[t].threshold, c.solver))

        def evaluate(items: list[tuple[int, Request]]) -> list[np.ndarray]:
            out: dict[int, np.ndarray] = {}
            for i in unique:
                mine = [(j, req) for j, req in items if pairs[j][0] == i]
                if mine:
                    res = evs[i]([(pairs[j][1], req) for j, req in mine])
                    out.update({j: r for (j, _), r in zip(mine, res, strict=True)})
            if on_round is not None:
                on_round(sum(e.computed for e in evs.values()), time.perf_counter() - t0)
            return [out[j] for j, _ in items]

        def done(j: int, res: RootResult) -> None:
            if on_done is not None:
                on_done(*pairs[j], res)

        results = run_searches(searches, evaluate, done)
        found = {pairs[j]: r for j, r in enumerate(results)}
        need: dict[int, float] = {}
        for i in unique:
            lower = cfg.ranges[cfg.cells[i].design].lower
            vals = [needed(found[(i, t)], lower, cfg.section.conservative) for t in ptargets]
            need[i] = (math.nan if any(math.isnan(v) for v in vals)
                       else max(vals, default=float(lower)))
        planned: dict[str, float] = {}
        for d in cfg.designs:
            vals = [need[_same(cfg, i)] for i, c in enumerate(cfg.cells) if c.design == d]
            planned[d] = math.nan if any(math.isnan(v) for v in vals) else max(vals)
        checks: dict[int, Check] = {}
        m = cfg.check_replications
        for i in unique:
            v = planned[cfg.cells[i].design]
            if not math.isfinite(v):
                continue
            space = cfg.cells[i].cfg.space
            k = space.index(v)
            evs[i]([(0, Request(k, m))])
            pt = evs[i].points[(0, k)]
            checks[i] = Check(int(round(space.value(k))), m, np.nansum(pt.events[:m], axis=0),
                              pt.judged[:m].sum(axis=0), pt.events[:m].copy())
    finally:
        with contextlib.suppress(Exception):
            be.close()
    computed = sum(e.computed for e in evs.values())
    return PlanRun(cfg, found, need, planned, checks, computed, time.perf_counter() - t0,
                   section.model_dump(), evs)


def _same(cfg: PlanConfig, i: int) -> int:
    s = cfg.cells[i].same_as
    return i if s is None else s


def check_passes(run: PlanRun, i: int, t: int) -> tuple[float, float, bool]:
    """(achieved, MCSE, passes) of target t at the planned value in cell i: the power of
    a claim/term target, the coverage of a coverage target or the RMSE of an RMSE
    target. It fails when it falls short of the value asked by more than ``CONFIRM_Z``
    MCSEs (binomial at the value asked; for RMSE the measured RMSE's): the root finder's
    confirmation rule. The planned value sits at the root, so a power a little under
    the share there (an RMSE a little over max) is Monte Carlo noise, not a failure."""
    i = _same(run.cfg, i)
    chk = run.checks.get(i)
    if chk is None:
        return math.nan, math.nan, False
    target = run.cfg.cells[i].cfg.targets[t]
    if target.kind == "rmse":
        assert chk.values is not None
        me = error_measures(chk.values[:, t])
        r, se = me["rmse"], me["rmse_mcse"]
        ok = math.isfinite(r) and r <= target.threshold + CONFIRM_Z * (se if math.isfinite(se)
                                                                        else 0.0)
        return r, se, ok
    e, m = int(chk.events[t]), chk.m
    share = e / m
    mcse = math.sqrt(share * (1 - share) / m)
    if target.kind == "coverage":
        achieved, asked = 1 - share, 1 - target.threshold
    else:
        achieved, asked = share, target.threshold
    slack = CONFIRM_Z * math.sqrt(asked * (1 - asked) / m)
    return achieved, mcse, achieved >= asked - slack


def design_summary(run: PlanRun) -> dict[str, dict[str, Any]]:
    """Per design: planned value, cost, feasibility in every scenario, worst achieved
    power, coverage and RMSE (the largest measured at the check); ``chosen`` marks the
    cheapest feasible design."""
    cfg = run.cfg
    out: dict[str, dict[str, Any]] = {}
    n_t = len(cfg.cells[0].cfg.targets)
    for d in cfg.designs:
        v = run.planned[d]
        cells = [i for i, c in enumerate(cfg.cells) if c.design == d]
        rows = [check_passes(run, i, t) for i in cells for t in range(n_t)]
        feasible = math.isfinite(v) and all(p for _, _, p in rows)
        c = cost_at(cfg, d, v) if math.isfinite(v) else math.nan
        pw = [a for i in cells for t in power_targets(cfg) for a in [check_passes(run, i, t)[0]]]
        cv = [check_passes(run, i, t)[0] for i in cells for t in range(n_t)
              if cfg.cells[i].cfg.targets[t].kind == "coverage"]
        rm = [check_passes(run, i, t)[0] for i in cells for t in rmse_targets(cfg)]
        out[d] = dict(value=v, cost=c, feasible=feasible,
                      worst_power=min(pw) if pw else math.nan,
                      worst_coverage=min(cv) if cv else math.nan,
                      worst_rmse=max(rm) if rm else math.nan,
                      replications=sum(run.evaluators[i].computed for i in set(cells)
                                       if i in run.evaluators), chosen=False)
    ok = [d for d in cfg.designs if out[d]["feasible"]]
    if ok:
        out[min(ok, key=lambda d: (out[d]["cost"], cfg.designs.index(d)))]["chosen"] = True
    return out


def _with_value(dp: dict[str, Any], cfg: PlanConfig, d: str, v: float) -> dict[str, Any]:
    """The design parameters with the searched design parameter set to v (for the cost)."""
    p = cfg.ranges[d].parameter
    if not p.startswith("designs."):
        return dp
    out = dict(dp)
    out[p.split(".")[-1]] = int(v)
    return out


def full_design_params(cfg: PlanConfig, d: str) -> dict[str, Any]:
    """Design d's parameters with the defaults filled in (n_interviewers...), for the cost."""
    from sim_refugee.engine.units import get_unit

    c = next(c for c in cfg.cells if c.design == d).cfg
    unit = get_unit(c.experiment.unit_name)
    dp = c.condition(0, 0).design_params[d]
    return unit.validate_design_params(cfg.design_names[d], dp).model_dump()


def cost_at(cfg: PlanConfig, d: str, v: float, n: int | None = None) -> float:
    """Cost of design d at value v of its searched parameter (n: the sample size when the
    parameter is not sample.n)."""
    cell = next(c for c in cfg.cells if c.design == d)
    cond = cell.cfg.condition(0, 0)
    dp = full_design_params(cfg, d)
    if cfg.ranges[d].parameter == "sample.n":
        return cost(cfg.costs[d], int(v), dp)
    return cost(cfg.costs[d], n if n is not None else cond.n, _with_value(dp, cfg, d, v))
