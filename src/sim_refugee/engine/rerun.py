"""``sim-refugee rerun OUT --key sample/<pop>/<rep>``: recompute one recorded replication.

The run's config is rebuilt from its manifest (its hash must match), the replication is
recomputed from its keyed seed exactly as a worker did, and compared, value by value
and bit for bit, with what the chunk file holds (estimates, model and replication
statuses, messages, scalars, the worker's claims; not the wall-clock timings). The fit
statuses and messages are printed, e.g. to look at a failed fit.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from sim_refugee.engine.config import Experiment, stable_hash, validate_experiment
from sim_refugee.engine.storage import chunk_dir, read_chunk, read_manifest
from sim_refugee.engine.tasks import TaskSpec, execute_task
from sim_refugee.errors import UserInputError
from sim_refugee.estimators._threads import threads_pinned

COMPARED = ("estimates", "model_status", "claims", "scalars", "rep_status", "rep_message")
_KEY = re.compile(r"^sample/(\d+)/(\d+)$")


@dataclass
class Rerun:
    """One recomputed replication beside the stored one."""

    condition: str
    design: str
    population: int
    replication: int
    recomputed: xr.Dataset
    stored: xr.Dataset
    differs: list[str]

    @property
    def identical(self) -> bool:
        return not self.differs


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return a.shape == b.shape and a.tobytes() == b.tobytes()  # bit for bit, NaN too
    return a.shape == b.shape and bool((a.astype(str) == b.astype(str)).all())


def _experiment(out: Path) -> Experiment:
    man = read_manifest(out)
    exp = validate_experiment(man["config"])
    if exp.config_hash != man["config_hash"]:
        raise UserInputError(
            f"{str(out)!r}: its config no longer validates to the same hash with this code "
            f"({exp.config_hash} != {man['config_hash']})", key=str(out))
    if exp.ensemble is not None and exp.ensemble.recalibrate:
        from sim_refugee.ensemble.calibrate import calibrate_worlds

        exp = calibrate_worlds(exp, out, 1, log=lambda m: None)  # reuses OUT/ensemble
    return exp


def rerun(out: str | Path, key: str, design: str | None = None,
          condition: str | None = None) -> list[Rerun]:
    """Recompute replication ``key`` (``sample/<pop>/<rep>``) of every design (or
    ``design``) and condition (or ``condition``) and compare with the stored one."""
    out = Path(out)
    m = _KEY.match(key)
    if not m:
        raise UserInputError(f"--key {key!r}: expected sample/<population>/<replication>",
                             key="--key")
    pop, rep = int(m[1]), int(m[2])
    exp = _experiment(out)
    if pop >= exp.file.experiment.populations:
        raise UserInputError(f"--key {key!r}: the run has {exp.file.experiment.populations} "
                             "population(s)", key="--key")
    designs = list(exp.designs)
    if design is not None and design not in designs:
        raise UserInputError(f"--design {design!r}: not a design of the run "
                             f"({', '.join(designs)})", key="--design")
    conds = [c for c in exp.conditions if condition is None or c.key == condition]
    if not conds:
        raise UserInputError(f"--condition {condition!r}: not a condition of the run",
                             key="--condition")
    cs = exp.file.experiment.chunk_size
    results = []
    for cond in conds:
        for des in [design] if design else designs:
            dp = cond.design_params[des]
            common = dict(unit=exp.unit_name, root_seed=exp.root_seed,
                          config_hash=exp.config_hash, cond_index=cond.index,
                          world_hash=cond.world_hash, world=cond.world,
                          unit_params=cond.unit_params, pop_index=pop, design=des,
                          design_name=exp.design_names[des], design_params=dp,
                          dparams_hash=stable_hash(dp), n=cond.n)
            start = rep // cs * cs
            hits = sorted(chunk_dir(out).glob(
                f"c{cond.index:03d}_p{pop:03d}_{des}_r{start:07d}-*.nc"))
            if not hits:
                raise UserInputError(f"{key} of {cond.key}/{des} is not stored in "
                                     f"{str(out)!r}", key="--key")
            stored = read_chunk(hits[0])
            if rep not in stored["replication"].values:
                raise UserInputError(f"{key} of {cond.key}/{des} is not stored", key="--key")
            stored = stored.sel(replication=[rep])
            # BLAS/OpenMP pinned as the run's workers were, restored afterwards
            with threads_pinned(exp.file.backend.threads):
                new = execute_task(TaskSpec(kind="reps", rep_start=rep, rep_stop=rep + 1,
                                            **common), limit_threads=False)
            differs = [v for v in COMPARED if not _same(np.asarray(new[v].values),
                                                       np.asarray(stored[v].values))]
            results.append(Rerun(cond.key, des, pop, rep, new, stored, differs))
    return results


def _cli(args: argparse.Namespace) -> int:
    runs = rerun(args.dir, args.key, args.design, args.condition)
    bad = 0
    for r in runs:
        ds = r.recomputed
        print(f"{r.condition} / {r.design} / sample/{r.population}/{r.replication}: "
              f"replication {ds['rep_status'].values[0]}; "
              + ("bit-identical to the stored one" if r.identical
                 else f"DIFFERS from the stored one in {', '.join(r.differs)}"))
        for mo, st in zip(ds["model"].values, ds["model_status"].values[0], strict=True):
            print(f"  {mo}: {st}")
        msg = str(ds["rep_message"].values[0])
        if msg:
            print(f"  message: {msg}")
        bad += not r.identical
    return 1 if bad else 0
