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

from sim_refugee.engine.backends import make_backend
from sim_refugee.engine.config import BackendSection
from sim_refugee.errors import UserInputError
from sim_refugee.search.probes import ProbeEvaluator
from sim_refugee.search.rootfind import RootResult, RootSearch, run_searches
from sim_refugee.tipping.config import TippingConfig
from sim_refugee.validation import check_output

STREAM = "tipping"


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
        ev = ProbeEvaluator(cfg, be, pairs, stream=STREAM)
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
