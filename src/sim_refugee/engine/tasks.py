"""Tasks: a chunk of replications (or a census fit) for one condition x population x design.

A task carries only small, picklable settings (dicts, ints); the worker process
rebuilds the population from its seed and keeps it in a per-process cache keyed by
(hash of world + unit params, population index), so a population is built once per
worker process and never shipped with tasks. Design preparations are cached the same
way. Every replication's generator comes from ``rng_for(root, "sample", pop, rep)``
(Contract 6), so results do not depend on which process, backend or chunk runs it.
"""

from __future__ import annotations

import dataclasses
import os
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from sim_refugee.engine.units import STAGES, STATISTICS, Layout, Record, get_unit
from sim_refugee.errors import UserInputError, under_key
from sim_refugee.seeds import rng_for, seed_sequence

# Per-process caches (one worker process = one population at a time for big worlds).
_POP_CACHE_SIZE = int(os.environ.get("SIM_REFUGEE_POP_CACHE", "2"))
_POPS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_PREPS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
# Census fits (estimands) by (unit, seed, world and unit params, population): conditions that
# differ only in design params or n share one census fit (e.g. a sample-size sweep).
_ESTIMANDS: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_BLAS_LIMITED: int | None = None


@dataclass(frozen=True)
class TaskSpec:
    """Everything a worker needs to run one task (small and picklable)."""

    kind: str  # "reps" or "estimand"
    unit: str
    root_seed: int
    config_hash: str
    cond_index: int
    world_hash: str
    world: dict[str, Any]
    unit_params: dict[str, Any]
    pop_index: int
    design: str = ""  # design label ("" for estimand tasks)
    design_name: str = ""
    design_params: dict[str, Any] = field(default_factory=dict)
    dparams_hash: str = ""
    n: int = 0
    rep_start: int = 0
    rep_stop: int = 0
    #: Seed key of the replications instead of ("sample", pop_index): replication r
    #: draws from rng_for(root_seed, *stream, r) (e.g. ("tipping", k) for probe point k).
    stream: tuple[str | int, ...] = ()

    @property
    def filename(self) -> str:
        if self.kind == "estimand":
            return f"estimand_c{self.cond_index:03d}_p{self.pop_index:03d}.nc"
        return (
            f"c{self.cond_index:03d}_p{self.pop_index:03d}_{self.design}_"
            f"r{self.rep_start:07d}-{self.rep_stop:07d}.nc"
        )

    @property
    def n_reps(self) -> int:
        return self.rep_stop - self.rep_start if self.kind == "reps" else 0


def limit_blas_threads(threads: int | None = 1) -> None:
    """Pin BLAS and OpenMP to ``threads`` in this (worker) process, with threadpoolctl;
    also export the usual ``*_NUM_THREADS`` variables for libraries loaded later and
    child processes. ``None`` or 0 leaves everything as it is. Idempotent."""
    global _BLAS_LIMITED
    if not threads or _BLAS_LIMITED == threads:
        return
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(int(threads))
    from sim_refugee.estimators._threads import pin_threads

    pin_threads(int(threads))
    _BLAS_LIMITED = threads


def _cached(cache: OrderedDict, key: Any, make: Any, size: int) -> tuple[Any, float]:
    if key in cache:
        cache.move_to_end(key)
        return cache[key], 0.0
    t0 = time.perf_counter()
    val = make()
    cache[key] = val
    while len(cache) > size:
        cache.popitem(last=False)
    return val, time.perf_counter() - t0


def clear_caches() -> None:
    """Forget cached populations (tests)."""
    _POPS.clear()
    _PREPS.clear()
    _ESTIMANDS.clear()


def _population(spec: TaskSpec, unit: Any, world: Any, params: Any) -> tuple[Any, float]:
    return _cached(
        _POPS,
        (spec.unit, spec.root_seed, spec.world_hash, spec.pop_index),
        lambda: unit.build_population(
            world, params, seed_sequence(spec.root_seed, "population", spec.pop_index)
        ),
        _POP_CACHE_SIZE,
    )


def execute_task(spec: TaskSpec, limit_threads: bool = True, threads: int | None = 1
                 ) -> xr.Dataset:
    """Run one task and return its chunk Dataset (written by the caller).

    ``limit_threads``: pin this process's BLAS/OpenMP pools to ``threads`` first (a
    worker process; a serial run pins around the whole run instead)."""
    if limit_threads:
        limit_blas_threads(threads)
    unit = get_unit(spec.unit)
    world = unit.validate_world(spec.world)
    params = unit.validate_params(spec.unit_params)
    layout = unit.layout(world, params)
    try:
        pop, t_world = _population(spec, unit, world, params)
    except UserInputError as exc:  # e.g. a world that cannot be calibrated: name the key
        raise under_key(exc, "world", f"(condition c{spec.cond_index:03d})") from None
    if spec.kind == "estimand":
        def census() -> Record:
            try:
                return unit.estimand(pop, world, params)
            except Exception as exc:  # recorded, never lost
                return Record.failed(layout, _describe(exc))

        key = (spec.unit, spec.root_seed, spec.world_hash, spec.pop_index)  # hash: world + unit
        cached, t_fit = _cached(_ESTIMANDS, key, census, _POP_CACHE_SIZE)
        rec = dataclasses.replace(cached, timings={"world": t_world, "fit": t_fit})
        return estimand_dataset(spec, layout, rec)

    dparams = unit.validate_design_params(spec.design_name, spec.design_params)
    state, t_prep = _cached(
        _PREPS,
        (spec.unit, spec.root_seed, spec.world_hash, spec.pop_index, spec.design_name,
         spec.dparams_hash),
        lambda: unit.prepare(
            pop,
            spec.design_name,
            dparams,
            rng_for(spec.root_seed, "prepare", spec.pop_index, spec.design_name),
        ),
        4,
    )
    records = []
    for rep in range(spec.rep_start, spec.rep_stop):
        key = spec.stream or ("sample", spec.pop_index)
        rng = rng_for(spec.root_seed, *key, rep)
        try:
            rec = unit.replicate(pop, state, spec.design_name, spec.n, dparams, params, rng, rep)
        except Exception as exc:  # a failing replication is recorded, never crashes the run
            rec = Record.failed(layout, _describe(exc))
        if rep == spec.rep_start:  # population/preparation time is charged to the chunk's first rep
            rec.timings = {**rec.timings, "world": t_world, "prepare": t_prep}
        records.append(rec)
    return chunk_dataset(spec, layout, records)


def _describe(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _coords(layout: Layout) -> dict[str, Any]:
    return {
        "model_term": list(layout.labels),  # "model:term"; split again by collect
        "statistic": list(STATISTICS),
        "model": list(layout.models),
        "claim": list(layout.claims),
        "scalar": list(layout.scalars),
    }


def _attrs(spec: TaskSpec, layout: Layout) -> dict[str, Any]:
    from sim_refugee.engine.integrity import code_version, layout_hash

    return {
        "config_hash": spec.config_hash,
        "layout_hash": layout_hash(layout.labels, STATISTICS, layout.scalars),
        "code_version": code_version(),
        "root_seed": spec.root_seed,
        "condition": spec.cond_index,
        "population": spec.pop_index,
        "design": spec.design,
        "design_name": spec.design_name,
        "n": spec.n,
        "rep_start": spec.rep_start,
        "rep_stop": spec.rep_stop,
        "kind": spec.kind,
    }


def chunk_dataset(spec: TaskSpec, layout: Layout, records: list[Record]) -> xr.Dataset:
    """Stack replication records into a Dataset with a ``replication`` dimension."""
    reps = np.arange(spec.rep_start, spec.rep_stop)
    est = np.stack([r.estimates for r in records])
    timings = np.array([[r.timings.get(s, 0.0) for s in STAGES] for r in records])
    ds = xr.Dataset(
        {
            "estimates": (("replication", "model_term", "statistic"), est),
            "model_status": (
                ("replication", "model"),
                np.array([list(r.model_status) for r in records], dtype=str).reshape(
                    len(records), len(layout.models)
                ),
            ),
            "claims": (("replication", "claim"), np.stack([r.claims for r in records])),
            "scalars": (("replication", "scalar"), np.stack([r.scalars for r in records])),
            "timings": (("replication", "stage"), timings),
            "rep_status": ("replication", np.array([r.status for r in records], dtype=str)),
            "rep_message": ("replication", np.array([r.message for r in records], dtype=str)),
        },
        coords={"replication": reps, "stage": list(STAGES), **_coords(layout)},
        attrs=_attrs(spec, layout),
    )
    return ds


def estimand_dataset(spec: TaskSpec, layout: Layout, rec: Record) -> xr.Dataset:
    """The census fit (the estimand) of one condition x population."""
    return xr.Dataset(
        {
            "estimand": (("model_term", "statistic"), rec.estimates),
            "estimand_status": ("model", np.array(list(rec.model_status), dtype=str)),
            "claim_truth": ("claim", rec.claims),
            "scalar_truth": ("scalar", rec.scalars),
            "estimand_timings": ("stage", [rec.timings.get(s, 0.0) for s in STAGES]),
            "estimand_message": ((), rec.message),
        },
        coords={"stage": list(STAGES), **_coords(layout)},
        attrs=_attrs(spec, layout),
    )


def spec_layout_hash(spec: TaskSpec) -> str:
    """The layout hash a chunk of ``spec`` gets when computed with this code."""
    from sim_refugee.engine.integrity import layout_hash

    unit = get_unit(spec.unit)
    layout = unit.layout(unit.validate_world(spec.world), unit.validate_params(spec.unit_params))
    return layout_hash(layout.labels, STATISTICS, layout.scalars)
