"""Plan configs: an engine experiment config (several candidate ``[[designs]]``) plus a
``[plan]`` table: the targets, the searched parameter and its range, the cost model of
each design, the selection scenarios, the solver's budget.

Each (design, scenario) pair becomes a one-design tipping config whose direction is the
searched integer parameter (``tipping.config.validate_tipping`` checks it exactly as
``sim-refugee tipping`` would, and every probe as a grid condition of ``run``); errors
are renamed to the ``plan.*`` keys the user wrote.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from sim_refugee.engine.config import stable_hash
from sim_refugee.errors import UserInputError
from sim_refugee.io import read_toml
from sim_refugee.plan.costs import CostModel, resolved_costs
from sim_refugee.search.rootfind import SolverSettings
from sim_refugee.search.targets import TargetEntry
from sim_refugee.tipping.config import TippingConfig, _designs_list, _label, validate_tipping
from sim_refugee.validation import SafeName, StrictModel, validate_model

#: Planner defaults: 80% power, coverage of 95% intervals at least 0.93.
DEFAULT_POWER = 0.8
DEFAULT_COVERAGE = 0.93
MAX_SCENARIOS = 100
BASE = "base"


class SearchRange(StrictModel):
    """[plan.search] (and [plan.search_by_design.<label>]): the integer parameter searched
    (sample.n, or designs.<label>.<count> such as n_interviewers) and its range."""

    parameter: str = Field(default="sample.n", min_length=1)
    lower: int = Field(ge=1)
    upper: int = Field(ge=2)


class Scenario(StrictModel):
    """[[plan.scenarios]]: a selection scenario (or world) the plan must survive:
    ``set`` maps dotted keys (world.<key>, unit.<key>, designs.<label>.<key>) to values;
    a designs.<label> key applies to that design only."""

    name: SafeName
    set: dict[str, Any] = Field(default_factory=dict)


class PlanSection(StrictModel):
    """[plan]: see the module docstring and docs/PLAN.md."""

    designs: list[SafeName] | None = Field(default=None, min_length=1)
    share: float = Field(default=DEFAULT_POWER, gt=0, lt=1)
    coverage_level: float = Field(default=DEFAULT_COVERAGE, gt=0, lt=1)
    targets: list[TargetEntry] = Field(min_length=1, max_length=100)
    search: SearchRange
    search_by_design: dict[str, SearchRange] = Field(default_factory=dict)
    costs: dict[str, CostModel] = Field(default_factory=dict)
    scenarios: list[Scenario] = Field(default_factory=list, max_length=MAX_SCENARIOS)
    check_replications: int | None = Field(default=None, ge=2, le=1_000_000)
    conservative: bool = True
    solver: SolverSettings = Field(default_factory=SolverSettings)


@dataclass
class Cell:
    """One (design, scenario): its tipping config (None if it repeats an earlier cell's)."""

    design: str
    design_name: str
    scenario: str
    cfg: TippingConfig
    same_as: int | None  # index of an identical earlier cell


@dataclass
class PlanConfig:
    """A validated plan config."""

    section: PlanSection
    raw: dict[str, Any]
    designs: list[str]
    design_names: dict[str, str]
    scenarios: list[str]
    cells: list[Cell]
    costs: dict[str, CostModel]
    ranges: dict[str, SearchRange]
    config_hash: str
    source: str = ""

    @property
    def check_replications(self) -> int:
        """Replications of the check at the planned value (default: confirm_replications)."""
        s = self.section
        return s.check_replications or max(s.solver.confirm_replications, s.solver.batch)


def load_plan(path: str | Path) -> PlanConfig:
    """Load and fully validate a plan config file."""
    cfg = validate_plan(read_toml(path, "config file"))
    cfg.source = str(path)
    return cfg


def _rename(exc: UserInputError, where: str) -> UserInputError:
    msg = (str(exc).replace("tipping.direction.parameter", "plan.search.parameter")
           .replace("tipping.direction", "plan.search").replace("tipping.targets", "plan.targets")
           .replace("tipping.solver", "plan.solver").replace("tipping.", "plan."))
    key = (exc.key or "").replace("tipping.direction", "plan.search").replace("tipping.", "plan.")
    return UserInputError(f"{msg} ({where})", key=key or None)


def _apply(raw: dict[str, Any], label: str, labels: list[str], sc: Scenario, i: int) -> None:
    """Write scenario ``sc``'s keys into ``raw`` for design ``label`` (in place)."""
    for dotted, value in sc.set.items():
        key = f"plan.scenarios.{i}.set.{dotted}"
        parts = dotted.split(".")
        if not all(parts) or parts[0] not in ("world", "unit", "designs") or len(parts) < 2:
            raise UserInputError(f"config key {key!r}: expected world.<key>, unit.<key> or "
                                 "designs.<label>.<key>", key=key)
        if parts[0] == "designs":
            if len(parts) < 3 or parts[1] not in labels:
                raise UserInputError(f"config key {key!r}: {parts[1]!r} is not a design label "
                                     f"of this config ({', '.join(labels)})", key=key)
            if parts[1] != label:
                continue
            d = next(d for d in raw["designs"] if _label(d) == label)
            node = d.setdefault("params", {})
            path = parts[2:]
        else:
            node = raw.setdefault(parts[0], {})
            path = parts[1:]
        for p in path[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise UserInputError(f"config key {key!r}: {p!r} is not a table", key=key)
        node[path[-1]] = copy.deepcopy(value)


def validate_plan(raw: dict[str, Any]) -> PlanConfig:
    """Validate a parsed plan config (everything is checked before anything runs)."""
    raw = copy.deepcopy(raw)
    if "plan" not in raw:
        raise UserInputError("config key 'plan': required table is missing (a plan config "
                             "needs [plan] with targets and a search range)", key="plan")
    sec: PlanSection = validate_model(PlanSection, raw["plan"], "plan")
    if "designs" not in raw:
        raise UserInputError("config key 'designs': a plan config lists its candidate designs",
                             key="designs")
    entries = _designs_list(raw["designs"])
    labels = [_label(d) for d in entries]
    names = {_label(d): d.get("name") for d in entries}
    designs = list(sec.designs) if sec.designs is not None else labels
    for i, d in enumerate(designs):
        if d not in labels:
            raise UserInputError(f"config key 'plan.designs.{i}': {d!r} is not a design label "
                                 f"of this config ({', '.join(labels)})", key=f"plan.designs.{i}")
    for where in ("costs", "search_by_design"):
        for k in getattr(sec, where):
            if k not in designs:
                raise UserInputError(f"config key 'plan.{where}.{k}': {k!r} is not a planned "
                                     f"design ({', '.join(designs)})", key=f"plan.{where}.{k}")
    seen: set[str] = set()
    for i, sc in enumerate(sec.scenarios):
        if sc.name in seen or sc.name == BASE and len(sec.scenarios) > 1:
            raise UserInputError(f"config key 'plan.scenarios.{i}.name': {sc.name!r} is listed "
                                 "twice", key=f"plan.scenarios.{i}.name")
        seen.add(sc.name)
    scenarios = sec.scenarios or [Scenario(name=BASE)]
    ranges = {d: sec.search_by_design.get(d, sec.search) for d in designs}
    for d, r in ranges.items():
        key = f"plan.search_by_design.{d}" if d in sec.search_by_design else "plan.search"
        if r.upper <= r.lower:
            raise UserInputError(f"config key '{key}.upper': need lower < upper, got "
                                 f"[{r.lower}, {r.upper}]", key=f"{key}.upper")
    targets = [t.model_dump(exclude_none=True) for t in sec.targets]
    base = {k: v for k, v in raw.items() if k != "plan"}
    cells: list[Cell] = []
    hashes: dict[str, int] = {}
    for d in designs:
        for i, sc in enumerate(scenarios):
            r = copy.deepcopy(base)
            r["designs"] = [copy.deepcopy(e) for e in entries if _label(e) == d]
            _apply(r, d, labels, sc, i)
            rng = ranges[d]
            r["tipping"] = {"design": d, "share": sec.share, "coverage_level": sec.coverage_level,
                            "targets": targets,
                            "direction": {"parameter": rng.parameter, "lower": rng.lower,
                                          "upper": rng.upper},
                            "solver": sec.solver.model_dump(exclude_unset=True)}
            try:
                cfg = validate_tipping(r, allow_rmse=True)
            except UserInputError as exc:
                raise _rename(exc, f"design {d!r}, scenario {sc.name!r}") from None
            if not cfg.direction.integer:
                key = ("plan.search_by_design." + d if d in sec.search_by_design
                       else "plan.search") + ".parameter"
                raise UserInputError(f"config key {key!r}: {rng.parameter!r} is not an integer "
                                     "parameter (plan searches n or a count: sites, "
                                     "interviewers, coupons, waves)", key=key)
            h = stable_hash(r)
            cells.append(Cell(d, str(names[d]), sc.name, cfg, hashes.get(h)))
            hashes.setdefault(h, len(cells) - 1)
    costs = {d: resolved_costs(str(names[d]), sec.costs.get(d)) for d in designs}
    return PlanConfig(section=sec, raw=raw, designs=designs, design_names=names,
                      scenarios=[s.name for s in scenarios], cells=cells, costs=costs,
                      ranges=ranges, config_hash=stable_hash(raw))


def finite(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
