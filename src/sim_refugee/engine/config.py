"""Experiment configs: TOML -> strict pydantic models -> a validated ``Experiment``.

Everything is checked before anything runs or is written: the file's own keys
(``extra='forbid'``), the world config of every condition (by the unit's world model,
i.e. ``sim_refugee.world.WorldConfig`` for the paper suite), every design's params (by
the design's ``Params``), every sample size against the population size, and every grid
key (by applying each value and re-validating). Errors are ``UserInputError`` naming the
dotted key. Types are strict and numbers finite (``sim_refugee.validation``); the
experiment name and design labels are safe names (they become folder and file names);
replications, populations, conditions and the size of the results are bounded
(``validation.MAX_*``), so what cannot fit in memory is refused before anything runs.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from sim_refugee.errors import UserInputError
from sim_refugee.io import read_toml
from sim_refugee.validation import (
    MAX_CONDITIONS,
    MAX_COUNT,
    MAX_POPULATIONS,
    MAX_REPLICATIONS,
    MAX_RESULT_VALUES,
    SafeName,
    validation_error,
)
from sim_refugee.validation import StrictModel as _Strict

#: Seeds are stored as 64-bit integers (netCDF attributes).
MAX_SEED = 2**63 - 1


class ExperimentSection(_Strict):
    """[experiment]: what to repeat and how often."""

    name: SafeName
    unit: str = "paper_suite"
    root_seed: int = Field(ge=0, le=MAX_SEED)
    replications: int = Field(ge=1, le=MAX_REPLICATIONS,
                              description="replications per condition x population x design")
    chunk_size: int = Field(default=10, ge=1, le=MAX_REPLICATIONS,
                            description="replications per task")
    populations: int = Field(default=1, ge=1, le=MAX_POPULATIONS,
                             description="independent populations per condition")


class DesignEntry(_Strict):
    """One [[designs]] entry: a design name and its params (validated by the design)."""

    name: str = Field(min_length=1)
    label: SafeName | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.label or self.name


class SampleSection(_Strict):
    """[sample]: sample size(s); a list is swept like a grid key."""

    n: int | list[int]

    @field_validator("n")
    @classmethod
    def _positive(cls, v: int | list[int]) -> int | list[int]:
        vals = v if isinstance(v, list) else [v]
        if not vals:
            raise ValueError("must not be an empty list")
        for x in vals:
            if x < 1:
                raise ValueError(f"sample size must be >= 1, got {x}")
        return v


class BackendSection(_Strict):
    """[backend]: where tasks run."""

    kind: Literal["serial", "loky", "dask"] = "serial"
    workers: int = Field(default=2, ge=1, le=MAX_COUNT)
    scheduler: str | None = Field(
        default=None, description="dask scheduler address; none = LocalCluster or [cluster]"
    )
    threads: int = Field(
        default=1, ge=0, le=1024,
        description="BLAS/OpenMP threads per worker process (and in a serial run), pinned "
        "with threadpoolctl; 0 leaves the libraries' own defaults",
    )


#: dask's byte strings: a number and a unit (dask.utils.parse_bytes).
MEMORY_PATTERN = r"\s*\d+(\.\d+)?\s*(?i:[kmgtp]i?b|b)\s*"
#: SLURM/PBS walltimes: [days-]hours[:minutes[:seconds]] or minutes[:seconds].
WALLTIME_PATTERN = r"(\d+-)?\d+(:\d{1,2}){0,2}"


class ClusterSection(_Strict):
    """[cluster]: a dask-jobqueue cluster (used by the dask backend when present)."""

    kind: Literal["slurm", "pbs"] = "slurm"
    queue: str | None = None
    account: str | None = None
    cores: int = Field(default=1, ge=1, le=MAX_COUNT)
    processes: int = Field(default=1, ge=1, le=MAX_COUNT)
    memory: str = Field(default="2GB", description="per job, e.g. '2GB', '500MB', '4GiB'")
    walltime: str = Field(default="01:00:00", description="e.g. '01:00:00', '2-00:00:00'")
    jobs: int = Field(default=1, ge=1, le=MAX_COUNT)
    interface: str | None = None
    local_directory: str | None = None
    log_directory: str | None = None
    job_extra_directives: list[str] = Field(default_factory=list)
    job_script_prologue: list[str] = Field(default_factory=list)
    python: str | None = None

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str) -> str:
        if not re.fullmatch(MEMORY_PATTERN, v):
            raise ValueError(f"must be a size such as '2GB', '500MB' or '4GiB', got {v!r}")
        return v

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, v: str) -> str:
        if not re.fullmatch(WALLTIME_PATTERN, v):
            raise ValueError(f"must be a time such as '01:00:00', '30:00' or '2-00:00:00', "
                             f"got {v!r}")
        return v


class StoppingSection(_Strict):
    """[stopping]: stop a condition once every MCSE is below target (capped)."""

    target_mcse: float = Field(gt=0)
    max_replications: int = Field(ge=1, le=MAX_REPLICATIONS)
    batch: int | None = Field(default=None, ge=1, le=MAX_REPLICATIONS,
                              description="extra replications per round")
    measures: list[str] = Field(default_factory=lambda: ["bias", "coverage", "power"])


class ExperimentFile(_Strict):
    """The whole TOML file."""

    experiment: ExperimentSection
    world: dict[str, Any] = Field(default_factory=dict)
    unit: dict[str, Any] = Field(default_factory=dict)
    designs: list[DesignEntry] = Field(min_length=1)
    sample: SampleSection
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    backend: BackendSection = Field(default_factory=BackendSection)
    cluster: ClusterSection | None = None
    stopping: StoppingSection | None = None

    @field_validator("designs", mode="before")
    @classmethod
    def _designs_table(cls, v: Any) -> Any:
        # Accept [designs.<name>] tables as well as [[designs]] arrays.
        if isinstance(v, dict):
            return [{"name": k, **(d if isinstance(d, dict) else {"params": d})} for k, d in v.items()]
        return v


@dataclass(frozen=True)
class Condition:
    """One point of the grid: fully resolved world, unit params, design params and n."""

    index: int
    label: str
    overrides: dict[str, Any]
    world: dict[str, Any]
    unit_params: dict[str, Any]
    design_params: dict[str, dict[str, Any]]
    n: int

    @property
    def key(self) -> str:
        return f"c{self.index:03d}"

    @property
    def world_hash(self) -> str:
        """Identifies the population: same world + unit params => same population."""
        return stable_hash({"world": self.world, "unit": self.unit_params})


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: the file, its conditions and its hash."""

    file: ExperimentFile
    conditions: tuple[Condition, ...]
    designs: tuple[str, ...]
    design_names: dict[str, str]
    config_hash: str
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    ensemble: Any = None  # ensemble.spec.EnsembleSpec when the config declares [world.ensemble]
    ensemble_points: tuple[dict[str, float], ...] = ()

    @property
    def root_seed(self) -> int:
        return self.file.experiment.root_seed

    @property
    def unit_name(self) -> str:
        return self.file.experiment.unit


def stable_hash(obj: Any) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys), first 16 hex digits."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def pydantic_error(
    exc: ValidationError, prefix: str, where: str = "", data: Any = None
) -> UserInputError:
    """Turn a pydantic ValidationError into a UserInputError naming the dotted key
    (``sim_refugee.validation.validation_error``)."""
    return validation_error(exc, prefix, where, data)


def _set_dotted(d: dict[str, Any], path: list[str], value: Any) -> None:
    cur = d
    for p in path[:-1]:
        nxt = cur.get(p)
        if nxt is None:
            nxt = cur[p] = {}
        if not isinstance(nxt, dict):
            raise KeyError(p)
        cur = nxt
    cur[path[-1]] = value


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file; UserInputError naming the file (and line) on bad syntax."""
    return read_toml(path, "config file")


def load_experiment(path: str | Path) -> Experiment:
    """Load and fully validate an experiment config file."""
    raw = load_toml(path)
    exp = validate_experiment(raw)
    return Experiment(**{**exp.__dict__, "source": str(path)})


def validate_experiment(raw: dict[str, Any]) -> Experiment:
    """Validate a config dict (as parsed from TOML) into an ``Experiment``."""
    from sim_refugee.engine.units import get_unit

    raw = copy.deepcopy(raw)
    body = copy.deepcopy(raw)
    ens_raw = body.get("world", {}).pop("ensemble", None) if isinstance(body.get("world"), dict) \
        else None
    try:
        f = ExperimentFile.model_validate(body)
    except ValidationError as exc:
        raise pydantic_error(exc, "", data=body) from None
    ensemble, points = _ensemble(ens_raw)
    if f.backend.kind != "dask" and f.backend.scheduler:
        raise UserInputError(
            "config key 'backend.scheduler' needs backend.kind = 'dask'", key="backend.scheduler"
        )
    if f.stopping is not None and f.stopping.max_replications < f.experiment.replications:
        raise UserInputError(
            "config key 'stopping.max_replications' must be >= experiment.replications",
            key="stopping.max_replications",
        )
    if f.stopping is not None:
        from sim_refugee.diagnosis.measures import STOPPING_MEASURES

        for m in f.stopping.measures:
            if m not in STOPPING_MEASURES:
                raise UserInputError(
                    f"config key 'stopping.measures': unknown measure {m!r}; "
                    f"known: {', '.join(STOPPING_MEASURES)}",
                    key="stopping.measures",
                )
    unit = get_unit(f.experiment.unit, key="experiment.unit")

    keys = [d.key for d in f.designs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise UserInputError(
            f"config key 'designs': design {sorted(dup)[0]!r} listed twice (give a label)",
            key="designs",
        )
    for i, d in enumerate(f.designs):
        unit.check_design(d.name, key=f"designs.{i}.name")

    # The grid: cartesian product of [grid] lists and of sample.n when it is a list.
    grid: dict[str, list[Any]] = dict(f.grid)
    if isinstance(f.sample.n, list):
        if "sample.n" in grid:
            raise UserInputError(
                "config key 'grid.sample.n': sample.n is already a list", key="grid.sample.n"
            )
        grid["sample.n"] = list(f.sample.n)
    for gk, vals in grid.items():
        if not isinstance(vals, list) or len(vals) == 0:
            raise UserInputError(f"config key 'grid.{gk}': must be a non-empty list", key=f"grid.{gk}")
        head = gk.split(".")[0]
        if head not in ("world", "unit", "sample", "designs") or len(gk.split(".")) < 2:
            raise UserInputError(
                f"config key 'grid.{gk}': grid keys must start with world., unit., sample.n "
                "or designs.<label>.",
                key=f"grid.{gk}",
            )
        if head == "sample" and gk != "sample.n":
            raise UserInputError(f"config key 'grid.{gk}': only sample.n can be swept", key=f"grid.{gk}")
        if head == "designs" and (len(gk.split(".")) < 3 or gk.split(".")[1] not in keys):
            raise UserInputError(
                f"config key 'grid.{gk}': expected designs.<label>.<param> with label in "
                f"{keys}",
                key=f"grid.{gk}",
            )

    n_conditions = 1
    for gk, vals in grid.items():
        n_conditions *= len(vals)
        if n_conditions > MAX_CONDITIONS:
            raise UserInputError(
                f"config key 'grid.{gk}': the grid has more than {MAX_CONDITIONS} conditions",
                key=f"grid.{gk}",
            )

    if ensemble is not None:
        n_conditions *= len(points)
        if n_conditions > MAX_CONDITIONS:
            raise UserInputError(
                f"config key 'world.ensemble.worlds': worlds x grid exceed {MAX_CONDITIONS} "
                "conditions", key="world.ensemble.worlds")
        if ensemble.recalibrate and not hasattr(unit, "calibrate_world"):
            raise UserInputError(
                f"config key 'world.ensemble.recalibrate': unit {f.experiment.unit!r} has no "
                "table calibration; set it to false", key="world.ensemble.recalibrate")
    base_n = f.sample.n if isinstance(f.sample.n, int) else f.sample.n[0]
    names = list(grid)
    conditions: list[Condition] = []
    world_models: dict[str, Any] = {}
    worlds = list(enumerate(points)) if ensemble is not None else [(None, {})]
    combos = [(w, combo) for w in worlds
              for combo in itertools.product(*(grid[k] for k in names))]
    for idx, ((w_index, w_point), combo) in enumerate(combos):
        overrides = dict(zip(names, combo, strict=True))
        world = copy.deepcopy(f.world)
        if w_index is not None:
            for key, val in w_point.items():
                set_world_key(world, key, val)
            overrides = {"ensemble.world": w_index, **w_point, **overrides}
        unit_params = copy.deepcopy(f.unit)
        dparams = {d.key: copy.deepcopy(d.params) for d in f.designs}
        n = base_n
        for gk, val in overrides.items():
            if gk == "ensemble.world" or (w_index is not None and gk in w_point):
                continue
            parts = gk.split(".")
            try:
                if parts[0] == "world":
                    _set_dotted(world, parts[1:], val)
                elif parts[0] == "unit":
                    _set_dotted(unit_params, parts[1:], val)
                elif parts[0] == "designs":
                    _set_dotted(dparams[parts[1]], parts[2:], val)
                else:
                    if not isinstance(val, int) or isinstance(val, bool) or val < 1:
                        raise UserInputError(
                            f"config key 'grid.sample.n': sample sizes must be positive "
                            f"integers, got {val!r}",
                            key="grid.sample.n",
                        )
                    n = val
            except KeyError as exc:
                raise UserInputError(
                    f"config key 'grid.{gk}': {exc.args[0]!r} is not a table", key=f"grid.{gk}"
                ) from exc
        where = f"(grid condition {overrides})" if overrides else ""
        try:
            wmodel = unit.validate_world(world)
        except ValidationError as exc:
            raise _grid_or(exc, "world", overrides, where, world) from None
        try:
            pmodel = unit.validate_params(unit_params)
        except ValidationError as exc:
            raise _grid_or(exc, "unit", overrides, where, unit_params) from None
        for i, d in enumerate(f.designs):
            try:
                unit.validate_design_params(d.name, dparams[d.key])
            except ValidationError as exc:
                raise _grid_or(exc, f"designs.{i}.params", overrides, where, dparams[d.key],
                               grid_prefix=f"designs.{d.key}") from None
        size = unit.population_size(wmodel)
        if n > size:
            key = "grid.sample.n" if "sample.n" in overrides else "sample.n"
            raise UserInputError(
                f"config key {key!r}: n = {n} is larger than the population size {size} "
                f"{where}".rstrip(),
                key=key,
            )
        label = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "baseline"
        cond = Condition(idx, label, overrides, world, unit_params, dparams, n)
        world_models[cond.world_hash] = wmodel
        conditions.append(cond)
    _check_result_size(f, unit, wmodel, pmodel, len(conditions))

    science = {
        "experiment": f.experiment.model_dump(exclude={"chunk_size"}),
        "world": f.world,
        "unit": f.unit,
        "designs": [d.model_dump() for d in f.designs],
        "sample": f.sample.model_dump(),
        "grid": f.grid,
        "stopping": f.stopping.model_dump() if f.stopping else None,
        **({"ensemble": ensemble.model_dump()} if ensemble is not None else {}),
    }
    return Experiment(
        file=f,
        conditions=tuple(conditions),
        designs=tuple(keys),
        design_names={d.key: d.name for d in f.designs},
        config_hash=stable_hash(science),
        raw=raw,
        ensemble=ensemble,
        ensemble_points=tuple(points),
    )


def set_world_key(world: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted world key; ``assumptions.<name>`` keeps the dots of the name."""
    if key.startswith("assumptions."):
        world.setdefault("assumptions", {})[key.split(".", 1)[1]] = value
    else:
        try:
            _set_dotted(world, key.split("."), value)
        except KeyError as exc:
            raise UserInputError(f"config key 'world.ensemble.vary': {key!r}: {exc.args[0]!r} "
                                 "is not a table", key="world.ensemble.vary") from exc


def _ensemble(data: Any) -> tuple[Any, list[dict[str, float]]]:
    """The validated [world.ensemble] table and its design points (None, [] if absent)."""
    if data is None:
        return None, []
    from sim_refugee.ensemble.spec import EnsembleSpec, design_points

    try:
        spec = EnsembleSpec.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, "world.ensemble", data=data) from None
    return spec, design_points(spec)


def _check_result_size(f: ExperimentFile, unit: Any, world: Any, params: Any,
                       n_conditions: int) -> None:
    """Refuse a run whose results could not be held in memory (``MAX_RESULT_VALUES``)."""
    from sim_refugee.engine.units import STAGES, STATISTICS

    lay = unit.layout(world, params)
    per_rep = (len(lay.model_terms) * len(STATISTICS) + len(lay.models) + len(lay.claims)
               + len(lay.scalars) + len(STAGES) + 2)
    reps, key = f.experiment.replications, "experiment.replications"
    if f.stopping is not None:
        reps, key = f.stopping.max_replications, "stopping.max_replications"
    total = reps * n_conditions * f.experiment.populations * len(f.designs) * per_rep
    if total > MAX_RESULT_VALUES:
        raise UserInputError(
            f"config key {key!r}: {reps} replications x {n_conditions} condition(s) x "
            f"{f.experiment.populations} population(s) x {len(f.designs)} design(s) x "
            f"{per_rep} values per replication = {total:,} values, more than the "
            f"{MAX_RESULT_VALUES:,} a run may hold; use fewer replications, conditions or "
            "designs, or split the experiment",
            key=key,
        )


def _grid_or(
    exc: ValidationError,
    section: str,
    overrides: dict[str, Any],
    where: str,
    data: Any = None,
    grid_prefix: str | None = None,
) -> UserInputError:
    """Name the grid key if a grid override caused the error, else the section key."""
    loc = ".".join(str(p) for p in exc.errors()[0].get("loc", ()))
    gp = grid_prefix or section
    for gk in overrides:
        if gk == f"{gp}.{loc}" or gk.startswith(f"{gp}.{loc}.") or f"{gp}.{loc}".startswith(gk):
            return pydantic_error(exc, f"grid.{gp}", where, data)
    return pydantic_error(exc, section, where, data)
