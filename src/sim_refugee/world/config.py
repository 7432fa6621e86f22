"""WorldConfig: everything that defines a synthetic population (besides the seed)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from sim_refugee.targets import paper_margins, resolve_assumptions
from sim_refugee.validation import MAX_POPULATION_SIZE, MIN_WORLD_SIZE, StrictModel, validate_model
from sim_refugee.world.reach import ReachParams


class WorldConfig(StrictModel):
    """A world condition.

    size: population size (estimates of refugees in China range 20,000-400,000);
        between ``MIN_WORLD_SIZE`` (1,000) and ``MAX_POPULATION_SIZE`` (2,000,000).
    effects: "paper" (Table 7 signs and magnitudes) or "null" (the experiential
        variables foodaid, camp, arrest, trafficking, death have no effect on distress).
    calibration: "sample" (expected sample margins under the paper design hit the
        documented margins; the paper's margins are sample margins), "population"
        (population margins hit them), or "none" (intercepts left at their start values).
    selection: reachability odds ratios of the paper design used by sample calibration
        (the paper design defaults to the same values when it is drawn on this world).
    assumptions: overrides of named assumptions (targets/assumptions.yaml) by name.
    targets: overrides of documented margins (targets/paper.yaml) by name, e.g. to
        calibrate the population to external margins.
    calibration_tol: largest accepted |expected margin - target| (proportion).
    calibration_n: the sample size whose expected paper-design margins are calibrated
        (1,346, the paper's; matters through without-replacement depletion of the most
        reachable people); None = the n << catchment limit (also used when the
        population has fewer than 2n reachable people).
    """

    model_config = ConfigDict(frozen=True)

    size: int = Field(100_000, ge=MIN_WORLD_SIZE, le=MAX_POPULATION_SIZE)
    effects: Literal["paper", "null"] = "paper"
    calibration: Literal["sample", "population", "none"] = "sample"
    selection: ReachParams = ReachParams()
    assumptions: dict[str, Any] = Field(default_factory=dict)
    targets: dict[str, float] = Field(default_factory=dict)
    calibration_tol: float = Field(0.001, gt=0, lt=0.05)
    calibration_n: int | None = Field(1346, gt=0)

    @field_validator("assumptions")
    @classmethod
    def _known_assumptions(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            if key.startswith("reach."):
                raise ValueError(
                    f"assumption {key!r}: set the selection strength with "
                    f"selection.{key.split('.', 1)[1]} instead"
                )
        values = resolve_assumptions(v)  # raises, naming the unknown or malformed key
        for key in v:
            if key.endswith(".shares"):
                shares = values[key]
                if min(shares) < 0 or abs(sum(shares) - 1.0) > 1e-6:
                    raise ValueError(f"assumption {key!r} must be non-negative shares summing to 1")
            elif ".share" in key and not 0.0 <= values[key] <= 1.0:
                raise ValueError(f"assumption {key!r} must be a share in [0, 1]")
        return v

    @field_validator("targets")
    @classmethod
    def _known_targets(cls, v: dict[str, float]) -> dict[str, float]:
        known = set(paper_margins()["name"])
        for key, val in v.items():
            if key not in known:
                raise ValueError(f"unknown target {key!r}; known: {', '.join(sorted(known))}")
            if key != "median_age" and not 0.0 < val < 1.0:
                raise ValueError(f"target {key!r} must be a proportion in (0, 1), got {val}")
        return v

    def resolved_assumptions(self) -> dict[str, Any]:
        """Every assumption's value in this world (defaults with the overrides)."""
        return resolve_assumptions(self.assumptions)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, where: str = "world") -> WorldConfig:
        """Validate ``data``; bad input becomes a UserInputError naming the key."""
        return validate_model(cls, data or {}, prefix=where)
