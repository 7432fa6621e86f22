"""Tipping configs: an engine experiment config plus a ``[tipping]`` table.

The file is an ordinary experiment config (``[experiment]``, ``[world]``, ``[unit]``,
``[[designs]]``, ``[sample]``, ``[backend]``), validated by the engine's own
``validate_experiment`` (same keys, same errors), with four differences: it has a
``[tipping]`` table; replications are the solver's business (``[tipping.solver]``), so
``experiment.replications`` is refused; there is no ``[grid]`` or ``[stopping]``
(the direction and ``[tipping.map]`` replace the grid); one population and one sample
size (make ``sample.n`` the direction or the map parameter to vary it).

A probe point (map row, grid index k) becomes an engine ``Condition`` by applying the
direction's parameter values (and the map value) as one-value grid keys, so every probe
is validated exactly as a grid condition of ``sim-refugee run`` would be.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from sim_refugee.engine.config import Condition, Experiment, stable_hash, validate_experiment
from sim_refugee.engine.units import get_unit
from sim_refugee.errors import UserInputError
from sim_refugee.io import read_toml
from sim_refugee.search.rootfind import GridSpace, IntegerSpace, SolverSettings
from sim_refugee.search.targets import (
    DEFAULT_LEVEL,
    DEFAULT_SHARE,
    Target,
    TargetEntry,
    resolve_targets,
)
from sim_refugee.validation import SafeName, StrictModel, validate_model

#: Most values of a map axis (rows of the 2-D mode).
MAX_MAP_VALUES = 1000
#: Most targets in one config.
MAX_TARGETS = 1000
_INT_ERRORS = {"int_type", "int_from_float", "int_parsing"}


class DirectionSection(StrictModel):
    """[tipping.direction]: one parameter (value = the parameter), or a ray.

    A ray: value t moves ``parameters`` together from ``origin`` along ``step``:
    origin + t * step (scale "linear") or origin * exp(t * step) (scale "log", for odds
    ratios: t is then a log-odds strength). lower/upper: the range of t (of the
    parameter itself for a single parameter).
    """

    parameter: str | None = Field(default=None, min_length=1)
    parameters: list[str] | None = Field(default=None, min_length=1, max_length=100)
    origin: list[float] | None = None
    step: list[float] | None = None
    scale: Literal["linear", "log"] | None = None
    name: SafeName | None = None
    lower: float
    upper: float

    @model_validator(mode="after")
    def _shape(self) -> DirectionSection:
        if (self.parameter is None) == (self.parameters is None):
            raise ValueError("give either 'parameter' (one) or 'parameters' (a ray)")
        if self.parameter is not None:
            extra = [k for k in ("origin", "step", "scale", "name") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)}: only for a ray ('parameters')")
        else:
            n = len(self.parameters or [])
            if self.origin is None or self.step is None:
                raise ValueError("a ray needs 'origin' and 'step' (one number per parameter)")
            if len(self.origin) != n or len(self.step) != n:
                raise ValueError(f"'origin' and 'step' need {n} numbers each (one per parameter)")
            if len(set(self.parameters or [])) != n:
                raise ValueError("'parameters' lists a parameter twice")
            if all(s == 0 for s in self.step):
                raise ValueError("'step' is all zeros: the ray does not move")
            if self.scale == "log" and any(o <= 0 for o in self.origin):
                raise ValueError("scale 'log' needs a positive origin")
        if not self.lower < self.upper:
            raise ValueError(f"need lower < upper, got lower = {self.lower}, upper = {self.upper}")
        return self


class MapSection(StrictModel):
    """[tipping.map]: the second parameter of the 2-D mode and its grid of values."""

    parameter: str = Field(min_length=1)
    values: list[float] = Field(min_length=2, max_length=MAX_MAP_VALUES)


class TippingSection(StrictModel):
    """[tipping]: which design, which targets, along which direction, how precisely."""

    design: SafeName | None = None
    share: float = Field(default=DEFAULT_SHARE, gt=0, lt=1)
    coverage_level: float = Field(default=DEFAULT_LEVEL, gt=0, lt=1)
    targets: list[TargetEntry] = Field(min_length=1, max_length=MAX_TARGETS)
    direction: DirectionSection
    map: MapSection | None = None
    solver: SolverSettings = Field(default_factory=SolverSettings)


@dataclass(frozen=True)
class Direction:
    """A resolved direction: t -> {parameter: value}."""

    label: str
    parameters: tuple[str, ...]
    origin: tuple[float, ...]
    step: tuple[float, ...]
    scale: str  # "identity" (one parameter), "linear" or "log"
    lower: float
    upper: float
    integer: bool

    @property
    def is_ray(self) -> bool:
        return self.scale != "identity"

    def point(self, t: float) -> dict[str, float | int]:
        """The parameter values at strength t."""
        if not self.is_ray:
            return {self.parameters[0]: int(round(t)) if self.integer else float(t)}
        if self.scale == "log":
            return {p: o * math.exp(t * s)
                    for p, o, s in zip(self.parameters, self.origin, self.step, strict=True)}
        return {p: o + t * s for p, o, s in zip(self.parameters, self.origin, self.step, strict=True)}


@dataclass
class TippingConfig:
    """A validated tipping config (see module docstring)."""

    experiment: Experiment
    section: TippingSection
    design: str
    direction: Direction
    map_parameter: str | None
    map_values: tuple[float | int, ...]
    targets: list[Target]
    space: GridSpace | IntegerSpace
    config_hash: str
    raw: dict[str, Any]
    source: str = ""
    _conditions: dict[tuple[int, int], Condition] = field(default_factory=dict, repr=False)

    @property
    def solver(self) -> SolverSettings:
        return self.section.solver

    @property
    def rows(self) -> int:
        """Map rows (1 in the 1-D mode)."""
        return max(1, len(self.map_values))

    def overrides(self, row: int, k: int) -> dict[str, float | int]:
        """Grid-style overrides of probe point (row, k)."""
        out = self.direction.point(self.space.value(k))
        if self.map_parameter is not None:
            out[self.map_parameter] = self.map_values[row]
        return out

    def condition(self, row: int, k: int) -> Condition:
        """The engine condition of probe point (row, k), validated like a grid condition."""
        key = (row, k)
        if key not in self._conditions:
            self._conditions[key] = _condition(self.raw, self.overrides(row, k),
                                               self.map_parameter)
        return self._conditions[key]


def _base_raw(raw: dict[str, Any]) -> dict[str, Any]:
    """The engine part of a tipping file, with the checks that differ from ``run``."""
    base = copy.deepcopy(raw)
    base.pop("tipping", None)
    for k in ("grid", "stopping"):
        if k in base:
            raise UserInputError(
                f"config key {k!r}: a tipping config has no [{k}] table (the direction and "
                "[tipping.map] say what varies; [tipping.solver] how many replications)", key=k)
    ex = base.get("experiment")
    if isinstance(ex, dict):
        if "replications" in ex:
            raise UserInputError(
                "config key 'experiment.replications': a tipping config spends replications "
                "as the search needs them; set the budget in [tipping.solver] "
                "(batch, max_replications, confirm_replications)", key="experiment.replications")
        if ex.get("populations", 1) != 1:
            raise UserInputError(
                "config key 'experiment.populations': tipping runs on one population",
                key="experiment.populations")
        ex["replications"] = 1  # placeholder for the engine's validation only
    sample = base.get("sample")
    if isinstance(sample, dict) and isinstance(sample.get("n"), list):
        raise UserInputError(
            "config key 'sample.n': one sample size in a tipping config (make sample.n the "
            "direction or the map parameter to vary it)", key="sample.n")
    return base


def _condition(raw: dict[str, Any], overrides: dict[str, Any],
               map_parameter: str | None = None) -> Condition:
    """Validate the base config with ``overrides`` as one-value grid keys; an error
    names tipping.map.values when the map value caused it, else tipping.direction."""
    base = _base_raw(raw)
    base["grid"] = {k: [v] for k, v in overrides.items()}
    shown = ", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}"
                      for k, v in overrides.items())
    try:
        exp = validate_experiment(base)
    except UserInputError as exc:
        bad = (exc.key or "").removeprefix("grid.")
        key = "tipping.direction"
        if map_parameter is not None and (bad == map_parameter
                                          or bad.startswith(map_parameter + ".")):
            key = "tipping.map.values"
        msg = re.sub(r" \(grid condition \{.*?\}\)", "", str(exc)).replace("'grid.", "'")
        raise UserInputError(f"config key {key!r} (at {shown}): {msg}", key=key) from None
    return exp.conditions[0]


def _check_path(param: str, key: str, designs: tuple[str, ...], design: str) -> None:
    parts = param.split(".")
    ok = (param == "sample.n"
          or (parts[0] in ("world", "unit") and len(parts) >= 2 and all(parts))
          or (parts[0] == "designs" and len(parts) >= 3 and all(parts)))
    if not ok:
        raise UserInputError(
            f"config key {key!r}: {param!r} is not a parameter; expected world.<key>, "
            "unit.<key>, designs.<label>.<key> or sample.n", key=key)
    if parts[0] == "designs" and parts[1] != design:
        where = "is not a design of this config" if parts[1] not in designs else \
            f"is not the sampled design {design!r} (tipping.design)"
        raise UserInputError(f"config key {key!r}: design label {parts[1]!r} in {param!r} "
                             f"{where}", key=key)


def _set_dotted(d: dict[str, Any], path: list[str], value: Any) -> None:
    for p in path[:-1]:
        nxt = d.get(p)
        if not isinstance(nxt, dict):
            nxt = d[p] = {}
        d = nxt
    d[path[-1]] = value


def _is_integer(exp: Experiment, param: str, design: str) -> bool:
    """True if the parameter is an integer field (a non-integral value is refused as
    not an integer by its model); sample.n always is."""
    if param == "sample.n":
        return True
    unit = get_unit(exp.unit_name)
    cond = exp.conditions[0]
    parts = param.split(".")
    probe = 0.123456789
    try:
        if parts[0] == "world":
            world = copy.deepcopy(cond.world)
            _set_dotted(world, parts[1:], probe)
            unit.validate_world(world)
        elif parts[0] == "unit":
            params = copy.deepcopy(cond.unit_params)
            _set_dotted(params, parts[1:], probe)
            unit.validate_params(params)
        else:
            dp = copy.deepcopy(cond.design_params[design])
            _set_dotted(dp, parts[2:], probe)
            unit.validate_design_params(exp.design_names[design], dp)
    except ValidationError as exc:
        return any(e.get("type") in _INT_ERRORS for e in exc.errors())
    return False


def load_tipping(path: str | Path) -> TippingConfig:
    """Load and fully validate a tipping config file."""
    raw = read_toml(path, "config file")
    cfg = validate_tipping(raw)
    cfg.source = str(path)
    return cfg


def validate_tipping(raw: dict[str, Any], allow_rmse: bool = False) -> TippingConfig:
    """Validate a parsed tipping config (everything is checked before anything runs).
    ``allow_rmse``: accept rmse targets (the planner's; the tipping solver searches
    shares only)."""
    raw = copy.deepcopy(raw)
    if "tipping" not in raw:
        raise UserInputError("config key 'tipping': required table is missing (a tipping "
                             "config needs [tipping] with targets and a direction)", key="tipping")
    sec: TippingSection = validate_model(TippingSection, raw["tipping"], "tipping")
    exp = validate_experiment(_base_raw(raw))
    designs = exp.designs
    if sec.design is None:
        if len(designs) > 1:
            raise UserInputError(
                f"config key 'tipping.design': the config lists {len(designs)} designs "
                f"({', '.join(designs)}); say which one is sampled", key="tipping.design")
        design = designs[0]
    else:
        if sec.design not in designs:
            raise UserInputError(
                f"config key 'tipping.design': {sec.design!r} is not a design label of this "
                f"config ({', '.join(designs)})", key="tipping.design")
        design = sec.design
    # only the sampled design is run: drop the others
    raw["designs"] = [d for d in _designs_list(raw["designs"]) if _label(d) == design]
    exp = validate_experiment(_base_raw(raw))

    d = sec.direction
    params = [d.parameter] if d.parameter is not None else list(d.parameters or [])
    key = "tipping.direction.parameter" if d.parameter is not None else "tipping.direction.parameters"
    for i, p in enumerate(params):
        _check_path(p, key if d.parameter is not None else f"{key}.{i}", designs, design)
    integer = [_is_integer(exp, p, design) for p in params]
    if d.parameter is None and any(integer):
        bad = params[integer.index(True)]
        raise UserInputError(f"config key {key!r}: {bad!r} is an integer parameter; a ray "
                             "moves real-valued parameters (give an integer parameter as "
                             "'parameter', alone)", key=key)
    is_int = d.parameter is not None and integer[0]
    if is_int and not (float(d.lower).is_integer() and float(d.upper).is_integer()):
        raise UserInputError(f"config key 'tipping.direction.lower': {params[0]!r} is an "
                             "integer parameter; lower and upper must be integers",
                             key="tipping.direction.lower")
    label = (d.parameter if d.parameter is not None
             else f"ray:{d.name or '+'.join(p.rsplit('.', 1)[-1] for p in params)}")
    direction = Direction(
        label=label, parameters=tuple(params), origin=tuple(d.origin or ()),
        step=tuple(d.step or ()),
        scale=(d.scale or "linear") if d.parameter is None else "identity",
        lower=float(d.lower), upper=float(d.upper), integer=is_int,
    )
    if is_int:
        space: GridSpace | IntegerSpace = IntegerSpace(int(d.lower), int(d.upper))
    else:
        space = GridSpace(float(d.lower), float(d.upper), sec.solver.depth)

    map_param: str | None = None
    map_values: tuple[float | int, ...] = ()
    if sec.map is not None:
        map_param = sec.map.parameter
        _check_path(map_param, "tipping.map.parameter", designs, design)
        if map_param in params:
            raise UserInputError("config key 'tipping.map.parameter': the map parameter is also "
                                 "a direction parameter", key="tipping.map.parameter")
        vals: list[float | int] = list(sec.map.values)
        if _is_integer(exp, map_param, design):
            if not all(float(v).is_integer() for v in vals):
                raise UserInputError(f"config key 'tipping.map.values': {map_param!r} is an "
                                     "integer parameter; give integers", key="tipping.map.values")
            vals = [int(v) for v in vals]
        if len(set(vals)) != len(vals):
            raise UserInputError("config key 'tipping.map.values': a value is listed twice",
                                 key="tipping.map.values")
        map_values = tuple(vals)

    unit = get_unit(exp.unit_name)
    cond = exp.conditions[0]
    lay = unit.layout(unit.validate_world(cond.world), unit.validate_params(cond.unit_params))
    targets = resolve_targets(sec.targets, lay.claims, lay.labels, sec.share, sec.coverage_level)
    for i, t in enumerate(targets):
        if t.kind == "rmse" and not allow_rmse:
            raise UserInputError(
                f"config key 'tipping.targets.{i}.rmse': RMSE targets are for `sim-refugee "
                "plan`; the tipping solver searches shares (claim, term, coverage)",
                key=f"tipping.targets.{i}.rmse")

    cfg = TippingConfig(
        experiment=exp, section=sec, design=design, direction=direction, map_parameter=map_param,
        map_values=map_values, targets=targets, space=space,
        config_hash=stable_hash({"base": exp.config_hash, "tipping": sec.model_dump(),
                                 "design": design}),
        raw=raw,
    )
    # every row at both ends of the direction is a valid condition (names the key if not)
    for row in range(cfg.rows):
        for k in (0, space.size):
            cfg.condition(row, k)
    return cfg


def _designs_list(v: Any) -> list[dict[str, Any]]:
    if isinstance(v, dict):  # [designs.<name>] tables (the engine accepts both forms)
        return [{"name": k, **(d if isinstance(d, dict) else {"params": d})} for k, d in v.items()]
    return list(v)


def _label(d: dict[str, Any]) -> str:
    return d.get("label") or d["name"]
