"""Each ensemble world re-solved to the paper's tables before it is sampled.

A world of the ensemble changes unknowns (selection strengths, distress channels,
exposure correlations...), so the effects that made the default world reproduce Tables 7
and 9 no longer do: they are solved again (``calibration.solve.solve_tables``, with the
ensemble's lighter settings, started from the shipped solution), and the world's check
(its share of the 195 cells hit by the paper design's mean over samples) is recorded.
Results are cached in ``OUT/ensemble/world_<k>.json`` (atomic writes), keyed by the
world and the settings, so a resumed run reuses them and reproduces the run exactly.
Worlds are solved in parallel processes (joblib), one core each; the solution does not
depend on how many run at once.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from sim_refugee.engine.config import Experiment, stable_hash
from sim_refugee.io import atomic_write_text


def _world_of(exp: Experiment, k: int) -> dict[str, Any]:
    cond = next(c for c in exp.conditions if c.overrides.get("ensemble.world") == k)
    return cond.world


def _solve_one(unit: Any, k: int, world: dict[str, Any], seed: int, settings: Any
               ) -> tuple[int, dict[str, Any]]:
    return k, unit.calibrate_world(world, seed, settings)


def calibrate_worlds(exp: Experiment, out: Path, workers: int = 1, log=print) -> Experiment:
    """The experiment with every ensemble world's solved effects in its world config."""
    from joblib import Parallel, delayed

    from sim_refugee.engine.units import get_unit

    spec = exp.ensemble
    unit = get_unit(exp.unit_name)
    folder = out / "ensemble"
    folder.mkdir(parents=True, exist_ok=True)
    settings = spec.calibration.model_dump()
    done: dict[int, dict[str, Any]] = {}
    todo: list[tuple[int, dict[str, Any], str]] = []
    for k in range(len(exp.ensemble_points)):
        world = _world_of(exp, k)
        key = stable_hash({"world": world, "calibration": settings, "seed": spec.seed})
        path = folder / f"world_{k:03d}.json"
        if path.exists():
            cached = json.loads(path.read_text())
            if cached.get("key") == key:
                done[k] = cached
                continue
        todo.append((k, world, key))
    if todo:
        log(f"ensemble: solving {len(todo)} world(s) to the paper's tables "
            f"({len(done)} cached)")
        # each world is cached as soon as it is solved, so an interrupted run keeps it
        found = Parallel(n_jobs=min(workers, len(todo)), return_as="generator_unordered")(
            delayed(_solve_one)(unit, k, world, spec.seed, spec.calibration)
            for k, world, _ in todo)
        keys = {k: key for k, _, key in todo}
        for k, res in found:
            rec = {"key": keys[k], "world": k, "point": exp.ensemble_points[k], **res}
            atomic_write_text(folder / f"world_{k:03d}.json", json.dumps(rec, indent=1))
            done[k] = rec
            log(f"ensemble: world {k} solved in {res.get('seconds', float('nan'))} s, "
                f"{res['cells_hit']} of {res['cells']} cells "
                f"({'passes' if res['passed'] else 'FAILS'} the check); "
                f"{len(done)} of {len(exp.ensemble_points)} done")
    atomic_write_text(out / "ensemble.json", json.dumps({
        "spec": spec.model_dump(), "points": list(exp.ensemble_points),
        "calibration": {str(k): {x: v for x, v in rec.items() if x != "theta"}
                        for k, rec in sorted(done.items())},
    }, indent=1))
    conditions = []
    for cond in exp.conditions:
        k = cond.overrides["ensemble.world"]
        world = {**cond.world,
                 "assumptions": {**cond.world.get("assumptions", {}), **done[k]["theta"]}}
        conditions.append(dataclasses.replace(cond, world=world))
    return dataclasses.replace(exp, conditions=tuple(conditions))


def write_points(exp: Experiment, out: Path) -> None:
    """ensemble.json for an ensemble that is not recalibrated (the points only)."""
    atomic_write_text(out / "ensemble.json", json.dumps({
        "spec": exp.ensemble.model_dump(), "points": list(exp.ensemble_points),
        "calibration": {}}, indent=1))

